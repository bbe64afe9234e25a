import { describe, expect, it } from 'vitest';
import { ASSISTANT_LAYOUT, FULL_MIN, LAYOUTS, planLayout, type LayoutPlan } from './layout.js';

/** Lines a plan uses: header, optional strip and account line, body, bottom line. */
const height = (p: LayoutPlan): number => 1 + (p.strip ? 1 : 0) + p.bodyHeight + (p.accountLine ? 1 : 0) + 1;

describe('planLayout', () => {
  const sizes = [
    [80, 23],
    [100, 30],
    [FULL_MIN.columns, FULL_MIN.rows - 1],
    [200, 60],
  ] as const;

  for (const layout of LAYOUTS) {
    for (const [columns, rows] of sizes) {
      it(`layout ${layout} fills ${columns}x${rows} exactly`, () => {
        const p = planLayout({ columns, rows, layout, symbols: 3, focus: undefined });
        expect(height(p)).toBe(rows);
        expect(p.columns.reduce((w, c) => w + c.width, 0)).toBe(columns);
        for (const c of p.columns) expect(c.panels.reduce((h, x) => h + x.height, 0)).toBe(p.bodyHeight);
      });
    }
  }

  it('is compact at 80x24 and full from about 140x40', () => {
    expect(planLayout({ columns: 80, rows: 23, layout: 1, symbols: 2, focus: undefined }).name).toBe('compact');
    expect(planLayout({ columns: 139, rows: 45, layout: 1, symbols: 2, focus: undefined }).name).toBe('compact');
    expect(planLayout({ columns: 140, rows: 39, layout: 1, symbols: 2, focus: undefined }).name).toBe('full');
  });

  it('compact: the focused order form and account take the book and chart places', () => {
    const ids = (focus: 'entry' | 'account' | undefined) => planLayout({ columns: 80, rows: 23, layout: 1, symbols: 2, focus }).columns.map((c) => c.panels[0]!.id);
    expect(ids(undefined)).toEqual(['chart', 'book']);
    expect(ids('entry')).toEqual(['chart', 'entry']);
    expect(ids('account')).toEqual(['account', 'book']);
  });

  it('has the AI panel in the full dashboard and in its own layout, where Tab reaches it', () => {
    const ids = (p: LayoutPlan) => p.columns.flatMap((c) => c.panels.map((x) => x.id));
    const full = planLayout({ columns: 150, rows: 41, layout: 1, symbols: 2, focus: undefined });
    expect(full.columns[0]!.panels.map((x) => x.id)).toEqual(['watch', 'trades', 'ai']);
    expect(full.focusable).toContain('ai');
    const small = planLayout({ columns: 80, rows: 23, layout: ASSISTANT_LAYOUT, symbols: 2, focus: undefined });
    expect([ids(small), small.focusable]).toEqual([['ai'], ['ai']]);
    expect(ids(planLayout({ columns: 120, rows: 30, layout: ASSISTANT_LAYOUT, symbols: 2, focus: undefined }))).toEqual(['ai', 'watch', 'trades']);
  });
});

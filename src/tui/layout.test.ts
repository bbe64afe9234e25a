import { describe, expect, it } from 'vitest';
import { FULL_MIN, planLayout, STRATEGIES_LAYOUT, SYSTEM_LAYOUT, type LayoutPlan } from './layout.js';

/** Lines a plan uses: header, optional strip and account line, body, bottom line. */
const height = (p: LayoutPlan): number => 1 + (p.strip ? 1 : 0) + p.bodyHeight + (p.accountLine ? 1 : 0) + 1;

describe('planLayout', () => {
  const sizes = [
    [80, 23],
    [100, 30],
    [FULL_MIN.columns, FULL_MIN.rows - 1],
    [200, 60],
  ] as const;

  for (const layout of [1, 2, 3, 4, STRATEGIES_LAYOUT, SYSTEM_LAYOUT]) {
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
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_HELP } from '../commands.js';
import type { ReplaySession } from '../replay-session.js';
import { renderTui, until } from '../testing/harness.js';
import { GENERATED, replayed } from '../testing/sessions.js';
import { Help, HELP_KEYS } from './Help.js';

let session: ReplaySession;
beforeAll(async () => {
  session = await replayed(GENERATED);
}, 120_000);
afterAll(async () => {
  await session?.close();
});

/** The Help panel's lines without its border, wherever it is in the frame. */
function helpBody(frame: string): string[] {
  const lines = frame.split('\n');
  const top = lines.findIndex((l) => /^╔═ Help /.test(l));
  const bottom = lines.findIndex((l, i) => i > top && l.startsWith('╚'));
  return lines.slice(top + 1, bottom).map((l) => l.slice(1, -1).trimEnd());
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every key binding on a line, its keys then its description; every command, unwrapped. */
function expectEverything(lines: string[]): void {
  for (const [k, v] of HELP_KEYS) {
    const binding = new RegExp(`(^|  )${escape(k)} +${escape(v)}( |$)`);
    expect(lines.filter((l) => binding.test(l)), `${k}: ${v}`).toHaveLength(1);
  }
  const text = lines.map((l) => l.trim()).join(' ');
  for (const c of COMMAND_HELP) expect(text).toContain(c);
  expect(text).not.toMatch(/more lines? in a taller terminal/);
}

describe('Help overlay', () => {
  it('shows every key binding and command in an 80x24 terminal', async () => {
    const r = renderTui(session.source, undefined, { columns: 80, rows: 24 });
    await until(r, (f) => f.includes('Tab: next panel'), 'the compact layout');
    r.write('?');
    const f = await until(r, (x) => x.includes('Commands (after /)'), 'the help');
    for (const l of f.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
    const lines = helpBody(f);
    expect(lines).toHaveLength(17);
    expectEverything(lines);
    // Two columns: the global keys on the left, the focused panel's on the right.
    expect(lines[0]).toMatch(/^Tab {7}next panel \(Shift-Tab: back\) {2}↑ ↓ {6}select: symbol, order, field$/);
    r.unmount();
  });

  it('spaces it out in a taller terminal, with the footer', async () => {
    const r = renderTui(session.source, <Help width={130} height={40} />);
    const lines = helpBody(await until(r, (f) => f.includes('Commands (after /)'), 'the help'));
    expectEverything(lines);
    for (const c of COMMAND_HELP) expect(lines).toContain(`  ${c}`);
    expect(lines[lines.indexOf('Commands (after /)') - 1]).toBe('');
    expect(lines.some((l) => l.includes('NO_COLOR=1 turns colour off'))).toBe(true);
    r.unmount();
  });

  it('lists one binding a line where two columns do not fit', async () => {
    const r = renderTui(session.source, <Help width={60} height={40} />);
    const lines = helpBody(await until(r, (f) => f.includes('Commands (after /)'), 'the help'));
    for (const [k] of HELP_KEYS) expect(lines.filter((l) => l.startsWith(`${k}  `)), k).toHaveLength(1);
    expect(lines[0]).toMatch(/^Tab {7}next panel \(Shift-Tab: back\)$/);
    // The layouts' names wrap under their description rather than being cut.
    const at = lines.findIndex((l) => l.startsWith('1 … 8'));
    expect(`${lines[at]} ${lines[at + 1]!.trim()}`).toMatch(/^1 … 8 +dashboard · market · account · log · strategies · system · AI · alerts$/);
    expect(lines.some((l) => l.includes('more line'))).toBe(false);
    r.unmount();
  });

  it('below 80x24 draws only the lines that fit, each whole, and says what is left out', async () => {
    const r = renderTui(session.source, <Help width={80} height={14} />);
    const lines = helpBody(await until(r, (f) => f.includes('Help'), 'the help'));
    expect(lines).toHaveLength(12);
    expect(lines[0]).toMatch(/^Tab +next panel/);
    expect(lines[11]).toMatch(/^… \d+ more lines? in a taller terminal$/);
    r.unmount();
  });
});

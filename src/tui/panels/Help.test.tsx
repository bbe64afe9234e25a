import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_HELP } from '../commands.js';
import type { ReplaySession } from '../replay-session.js';
import { renderTui, until } from '../testing/harness.js';
import { GENERATED, replayed } from '../testing/sessions.js';
import { Help } from './Help.js';

let session: ReplaySession;
beforeAll(async () => {
  session = await replayed(GENERATED);
}, 120_000);
afterAll(async () => {
  await session?.close();
});

/** The panel's lines without the border. */
const body = (frame: string): string[] => frame.split('\n').slice(1, -1).map((l) => l.slice(1, -1).trimEnd());

describe('Help overlay', () => {
  it('lists every key and command when the terminal is tall enough', async () => {
    const r = renderTui(session.source, <Help width={130} height={40} />);
    const lines = body(await until(r, (f) => f.includes('Commands (after /)'), 'the help'));
    for (const c of COMMAND_HELP) expect(lines).toContain(`  ${c}`);
    expect(lines.some((l) => l.startsWith('n x r') && l.includes('strategies: new · stop the selected · resume a paused one'))).toBe(true);
    r.unmount();
  });

  it('at 80x24 draws only the lines that fit, each whole, and says what is left out', async () => {
    const r = renderTui(session.source, <Help width={80} height={21} />);
    const lines = body(await until(r, (f) => f.includes('Help'), 'the help'));
    expect(lines).toHaveLength(19);
    // Line by line as written (an overfull box would draw lines over each other).
    expect(lines[0]).toMatch(/^Tab \/ Shift-Tab {2}next \/ previous panel/);
    expect(lines.findIndex((l) => l.startsWith('n x r'))).toBeGreaterThan(0);
    expect(lines[18]).toMatch(/^… \d+ more lines? in a taller terminal$/);
    r.unmount();
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { ReplaySession } from './replay-session.js';
import { fmtPnl } from './format.js';
import { KEYS, renderTui, tick, until, type Rendered } from './testing/harness.js';
import { GENERATED } from './testing/sessions.js';

let session: ReplaySession | undefined;
afterEach(async () => {
  await session?.close();
  session = undefined;
});

/** Types text as separate keys, letting the app render between them like a person typing. */
async function type(r: Rendered, text: string): Promise<void> {
  for (const ch of text) {
    r.write(ch);
    await tick(5);
  }
}

async function keys(r: Rendered, ...list: string[]): Promise<void> {
  for (const k of list) {
    r.write(k);
    await tick(5);
  }
}

const focusedTitle = (frame: string): string | undefined => /╔═ ([^═]+?) [═]/.exec(frame)?.[1];

describe('strategies and backtests from the keyboard (80x24, a real engine replaying a recording)', () => {
  it('starts a grid with typed params, shows its fills and PnL as the replay trades, stops it, and backtests', async () => {
    session = await ReplaySession.open({ file: GENERATED, speed: 'max' });
    const s = session;
    const r = renderTui(s.source, undefined, { columns: 80, rows: 24 });
    await until(r, (f) => f.includes('BTCUSDT'), 'the dashboard');
    r.write('5');
    await until(r, (f) => focusedTitle(f) === 'Strategies (0 live)', 'the strategies layout, list focused');
    expect(r.lastFrame()).toContain('Backtest');

    // n: the form; → four times: grid; ↓ to spacing; its digits are text, not layout keys.
    await keys(r, 'n', KEYS.right, KEYS.right, KEYS.right, KEYS.right);
    await until(r, (f) => f.includes('new ‹grid›'), 'grid in the form');
    await keys(r, KEYS.down, KEYS.down, KEYS.down, KEYS.down, KEYS.backspace, KEYS.backspace, KEYS.backspace);
    await type(r, '0.03');
    await until(r, (f) => f.includes('spacing=‹0.03›'), 'spacing typed');
    expect(focusedTitle(r.lastFrame())).toBe('Strategies (0 live)');
    r.write(KEYS.enter);
    await until(r, (f) => /▸grid\s+BTCUSDT\s+levels=5 spacing=0…\s+running\s+0\s/.test(f), 'the grid listed');

    // The replay trades: the grid's own fills and PnL, as the engine counts them.
    s.start();
    await s.done;
    await s.node.kernel.settled();
    const [g] = s.source.strategies.list();
    expect(g!.fills).toBeGreaterThan(0);
    const row = await until(r, (f) => new RegExp(`▸grid.*running\\s+${g!.fills}\\s`).test(f), 'fills shown');
    expect(row).toMatch(new RegExp(`running\\s+${g!.fills}\\s+${fmtPnl(g!.position.realizedPnl).replace('+', '\\+')}\\s+${fmtPnl(g!.position.unrealizedPnl!).replace('+', '\\+')}`));

    // x, then y: stopped; its open orders stay on the book.
    const open = g!.openOrders;
    await keys(r, 'x');
    await until(r, (f) => f.includes('stop grid-btcusdt?'), 'asks');
    await keys(r, 'y');
    await until(r, (f) => f.includes('Strategies (0 live)') && /▸grid.*stopped/.test(f), 'stopped');
    expect(s.source.openOrders().filter((o) => o.clientOrderId.startsWith('grid-btcusdt_'))).toHaveLength(open);

    // Tab: the launcher. Params fast=2 slow=3 on the session's recording; Enter runs it.
    await keys(r, KEYS.tab);
    await until(r, (f) => focusedTitle(f) === 'Backtest', 'launcher focused');
    await keys(r, KEYS.down, KEYS.down, KEYS.down, KEYS.down, KEYS.down, KEYS.backspace, KEYS.backspace, '2', KEYS.down, KEYS.backspace, KEYS.backspace, '3');
    await until(r, (f) => f.includes('fast=2 slow=‹3›'), 'params typed');
    r.write(KEYS.enter);
    const done = await until(r, (f) => f.includes('✓ done'), 'the backtest', 120_000);
    expect(done).toContain('trades 1 · fills 2');
    expect(done).toContain('equity 10,000.00 → 9,982.72 USDT');
    // Esc hands the keys back: 6 is the system layout again.
    await keys(r, KEYS.escape, '6');
    const sys = await until(r, (f) => f.includes('System'), 'the system layout');
    expect(sys).toContain('strategies    none live');
    r.unmount();
  }, 180_000);

  it('runs /strategy and /backtest from the command line', async () => {
    session = await ReplaySession.open({ file: GENERATED, speed: 'max' });
    const r = renderTui(session.source, undefined, { columns: 80, rows: 24 });
    await until(r, (f) => f.includes('BTCUSDT'), 'the dashboard');
    r.write('/');
    await tick();
    await type(r, 'strategy start dca btcusdt every=1');
    r.write(KEYS.enter);
    const f = await until(r, (x) => /▸dca\s+BTCUSDT\s+every=1 amount=50\s+running/.test(x), 'dca listed');
    expect(f).toContain('✓ strategy dca-btcusdt started: dca on BTCUSDT 1m (every=1 amount=50)');
    r.write('/');
    await tick();
    await type(r, 'strategy start nope');
    r.write(KEYS.enter);
    await until(r, (x) => x.includes('✗ strategy nope: unknown strategy "nope"'), 'refusal in the log line');
    r.write('/');
    await tick();
    await type(r, `backtest sma-cross fast=2 slow=3 data ${GENERATED}`);
    r.write(KEYS.enter);
    const bt = await until(r, (x) => x.includes('✓ done'), 'the backtest', 120_000);
    expect(focusedTitle(bt)).toBe('Backtest');
    expect(bt).toContain('trades 1 · fills 2');
    r.unmount();
  }, 180_000);
});

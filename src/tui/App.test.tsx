import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from './App.js';
import type { ReplaySession } from './replay-session.js';
import { columnText, KEYS, renderTui, tick, until, type Rendered } from './testing/harness.js';
import { GENERATED, replayed } from './testing/sessions.js';

let session: ReplaySession;
beforeAll(async () => {
  session = await replayed(GENERATED);
}, 120_000);
afterAll(async () => {
  await session?.close();
});

/** The app at 150x42 (the full layout), ready for keys. */
async function full(): Promise<Rendered> {
  const r = renderTui(session.source, undefined, { columns: 150, rows: 42 });
  await until(r, (f) => f.includes('Order entry') && f.includes('╔═ Watchlist'), 'full layout');
  return r;
}

/** Types text as separate keys, letting the app render between them like a person typing. */
async function type(r: Rendered, text: string): Promise<void> {
  for (const ch of text) {
    r.write(ch);
    await tick(5);
  }
}

/** The right column of the full layout at 150 columns: the order book over the order form. */
const rightColumn = (frame: string): string => columnText(frame, 150 - 32, 32);

const focusedTitle = (frame: string): string | undefined => /╔═ ([^═]+?) [═]/.exec(frame)?.[1];

/** Rows of the Log panel (layout 4) that tell of order `id` in `status`, the bottom line left out. */
const logRowsOf = (frame: string, id: number, status: string): string[] =>
  frame.split('\n').filter((l) => /^[│║]/.test(l) && new RegExp(`order ${id} .* ${status}\\b`).test(l));

/** Rows of the Log panel (layout 4) that mention `text`, the bottom line left out. */
const refusalRows = (frame: string, text: string): string[] => frame.split('\n').filter((l) => /^[│║]/.test(l) && l.includes(text));

/** Types `text` on the `/` command line and presses Enter. */
async function command(r: Rendered, text: string): Promise<void> {
  r.write('/');
  await until(r, (f) => f.includes(' > '), 'command line');
  await type(r, text);
  r.write(KEYS.enter);
}

/** Focuses Order entry with b, types `qty` into the default BTCUSDT ticket and sends it. */
async function sendFormQty(r: Rendered, qty: string): Promise<void> {
  r.write('b');
  await until(r, (f) => focusedTitle(f) === 'Order entry BTCUSDT', 'entry focused');
  await type(r, qty);
  await until(r, (f) => f.includes(`qty   ${qty}`), 'qty typed');
  r.write(KEYS.enter);
}

/**
 * Runs a later command (`symbol NOPEUSDT`, refused with a log line of its own) and opens the Log panel once
 * that line is there: by then an earlier order's refusal has long finished logging.
 */
async function logAfterMarker(r: Rendered): Promise<string> {
  await command(r, 'symbol NOPEUSDT');
  r.write('4');
  return until(r, (x) => x.includes('Log (') && x.includes('NOPEUSDT is not in'), 'the log panel');
}

describe('App', () => {
  it('moves the focus with Tab and Shift-Tab, highlighting the focused panel', async () => {
    const r = await full();
    expect(focusedTitle(r.lastFrame())).toBe('Watchlist');
    r.write(KEYS.tab);
    await until(r, (f) => focusedTitle(f) === 'BTCUSDT 1m · candles', 'chart focused');
    r.write(KEYS.tab);
    await until(r, (f) => focusedTitle(f)?.startsWith('[Open orders') === true, 'account focused');
    r.write(KEYS.shiftTab);
    await until(r, (f) => focusedTitle(f) === 'BTCUSDT 1m · candles', 'back to the chart');
    r.unmount();
  });

  it('shows an order refused by the exchange filters inline, with Binance code and message', async () => {
    const r = await full();
    await sendFormQty(r, '0.000001');
    const f = await until(r, (x) => x.includes('✗ -1013'), 'rejection');
    expect(rightColumn(f)).toContain('✗ -1013 Filter failure: LOT_SIZE');
    expect(session.source.openOrders()).toHaveLength(0);
    r.unmount();
  });

  it('places an order typed in the form and shows it in open orders', async () => {
    const r = await full();
    r.write('b');
    await until(r, (f) => focusedTitle(f) === 'Order entry BTCUSDT', 'entry focused');
    await type(r, '0.001');
    r.write(KEYS.down);
    await tick();
    for (let i = 0; i < 12; i++) r.write(KEYS.backspace);
    await type(r, '50000');
    await until(r, (f) => f.includes('price 50000'), 'price typed');
    expect(r.lastFrame()).toContain('≈ 50.00 USDT');
    r.write(KEYS.enter);
    const f = await until(r, (x) => x.includes('Open orders (1)'), 'order placed');
    expect(rightColumn(f)).toMatch(/✓ order \d+ BUY 0\.00100 BTCUSDT LIMIT @ 50,000\.00 NEW/);
    // The form shows the result; the log has the order once, from its event.
    const id = session.source.openOrders()[0]!.orderId;
    r.write(KEYS.tab);
    await until(r, (x) => focusedTitle(x) !== 'Order entry BTCUSDT', 'focus off the form');
    r.write('4');
    const log = await until(r, (x) => x.includes('Log (') && logRowsOf(x, id, 'NEW').length > 0, 'order on the log');
    expect(logRowsOf(log, id, 'NEW')).toHaveLength(1);
    await session.source.cancelAll();
    r.write('1');
    await until(r, (x) => x.includes('Open orders (0)'), 'cleaned up');
    r.unmount();
  });

  it('applies keys that arrive in one chunk (a paste, a fast typist) in order', async () => {
    const r = await full();
    r.write('b0.001');
    await until(r, (f) => f.includes('qty   0.001'), 'qty from the chunk');
    r.write(KEYS.down);
    await tick();
    r.write(`${KEYS.backspace.repeat(12)}50000${KEYS.enter}`);
    const f = await until(r, (x) => x.includes('Open orders (1)'), 'order placed');
    expect(rightColumn(f)).toMatch(/✓ order \d+ BUY 0\.00100 BTCUSDT LIMIT @ 50,000\.00 NEW/);
    await session.source.cancelAll();
    await until(r, (x) => x.includes('Open orders (0)'), 'cleaned up');
    r.unmount();
  });

  it('/buy places an order that shows in open orders; c in the focused account panel cancels it', async () => {
    const r = await full();
    await command(r, 'buy 0.001 btcusdt limit 50000');
    let f = await until(r, (x) => x.includes('[Open orders (1)]'), 'order listed');
    const order = session.source.openOrders()[0]!;
    expect(f).toContain(`${order.orderId} BTCUSDT BUY  0.00100 @ 50,000.00  LIMIT GTC`);
    await until(r, (x) => x.split('\n').at(-1)!.includes(`order ${order.orderId} BUY 0.00100 BTCUSDT LIMIT @ 50,000.00 NEW`), 'the order in the log line');
    r.write(KEYS.tab);
    r.write(KEYS.tab);
    await until(r, (x) => focusedTitle(x)?.startsWith('[Open orders') === true, 'account focused');
    r.write('c');
    f = await until(r, (x) => x.includes('[Open orders (0)]'), 'canceled');
    expect(f).toContain(`order ${order.orderId} BUY 0.00100 BTCUSDT LIMIT @ 50,000.00 CANCELED`);
    r.unmount();
  });

  it('an order placed and canceled with / is on the log once each, not once as the result and again as the event', async () => {
    const r = await full();
    await command(r, 'buy 0.001 btcusdt limit 50000');
    await until(r, (x) => x.includes('[Open orders (1)]'), 'order listed');
    const id = session.source.openOrders()[0]!.orderId;
    r.write('4');
    await until(r, (x) => x.includes('Log (') && logRowsOf(x, id, 'NEW').length > 0, 'order on the log');
    // A later command's event on the log: the placing command has long finished by then.
    await command(r, `cancel ${id}`);
    const f = await until(r, (x) => logRowsOf(x, id, 'CANCELED').length > 0, 'cancel on the log');
    expect(logRowsOf(f, id, 'NEW')).toEqual([expect.stringContaining(`order ${id} BUY 0.00100 BTCUSDT LIMIT @ 50,000.00 NEW`)]);
    expect(logRowsOf(f, id, 'CANCELED')).toEqual([expect.stringContaining(`order ${id} BUY 0.00100 BTCUSDT LIMIT @ 50,000.00 CANCELED`)]);
    r.unmount();
  });

  it('a command the engine refuses is reported, not swallowed, and on the log once', async () => {
    const r = await full();
    await command(r, 'sell 0.00001 btcusdt limit 50000');
    // 0.00001 BTC at 50,000 is 0.50 USDT, under the 5 USDT minimum notional.
    await until(r, (x) => x.split('\n').at(-1)!.includes('Filter failure: NOTIONAL'), 'refusal');
    const f = await logAfterMarker(r);
    expect(refusalRows(f, 'NOTIONAL')).toEqual([expect.stringContaining('BTCUSDT order refused: -1013 Filter failure: NOTIONAL')]);
    r.unmount();
  });

  it('a refusal before the engine (no event of its own) is still reported once by the command', async () => {
    const r = await full();
    await command(r, 'buy 0.0010000001 btcusdt limit 50000');
    await until(r, (x) => x.split('\n').at(-1)!.includes('✗ -1111'), 'refusal');
    r.write('4');
    const f = await until(r, (x) => x.includes('Log (') && refusalRows(x, '-1111').length > 0, 'the log panel');
    expect(refusalRows(f, '-1111')).toHaveLength(1);
    r.unmount();
  });

  it('an order the form sends and the engine refuses is on the log once', async () => {
    const r = await full();
    await sendFormQty(r, '0.000001');
    await until(r, (x) => x.includes('✗ -1013'), 'rejection');
    r.write(KEYS.tab);
    await until(r, (x) => focusedTitle(x) !== 'Order entry BTCUSDT', 'focus off the form');
    const f = await logAfterMarker(r);
    expect(refusalRows(f, 'LOT_SIZE')).toEqual([expect.stringContaining('BTCUSDT order refused: -1013 Filter failure: LOT_SIZE')]);
    r.unmount();
  });

  it('switches the chart interval with i and with /interval', async () => {
    const r = await full();
    r.write('i');
    await until(r, (f) => f.includes('BTCUSDT 5m · candles') && f.includes('1m [5m] 15m'), '5m');
    await command(r, 'interval 1h');
    await until(r, (f) => f.includes('BTCUSDT 1h · candles'), '1h');
    r.unmount();
  });

  it('opens the help overlay with ? and closes it with any key', async () => {
    const r = await full();
    r.write('?');
    const f = await until(r, (x) => x.includes('Commands (after /)'), 'help');
    expect(f).toContain('next panel (Shift-Tab: back)');
    expect(f).not.toContain('Order entry');
    r.write('x');
    await until(r, (x) => x.includes('Order entry') && !x.includes('Commands (after /)'), 'help closed');
    r.unmount();
  });

  it('switches layouts with the number keys', async () => {
    const r = await full();
    r.write('3');
    let f = await until(r, (x) => x.includes('Positions') && x.includes('Balances') && x.includes('─ Fills'), 'account layout');
    expect(f).toContain('Open orders (');
    r.write('4');
    f = await until(r, (x) => x.includes('Log ('), 'log layout');
    r.write('2');
    f = await until(r, (x) => x.includes('Order book BTCUSDT') && !x.includes('Order entry'), 'market layout');
    r.write('1');
    await until(r, (x) => x.includes('Order entry'), 'dashboard');
    r.unmount();
  });

  it('fits 80x24 in the compact layout and follows a resize', async () => {
    const r = renderTui(session.source, undefined, { columns: 80, rows: 24 });
    const f = await until(r, (x) => x.includes('Tab: next panel') && x.split('\n').every((l) => l.length <= 80), 'compact layout');
    const lines = f.split('\n');
    expect(lines).toHaveLength(23);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(lines[1]).toContain('▸BTCUSDT');
    expect(f).toContain('BTCUSDT 1m · candles');
    expect(f).toContain('Order book BTCUSDT');
    expect(f).toContain('Orders 0');
    r.write('b');
    await until(r, (x) => x.includes('Order entry BTCUSDT') && !x.includes('Order book'), 'form in the book place');
    r.resize(150, 42);
    await until(r, (x) => x.includes('Order book BTCUSDT') && x.includes('Order entry BTCUSDT') && x.split('\n').length === 41, 'full after resize');
    r.unmount();
  });

  it('q quits', async () => {
    let quit = 0;
    const r = renderTui(session.source, <App onQuit={() => quit++} />, { columns: 150, rows: 42 });
    await until(r, (f) => f.includes('Order entry'), 'app');
    r.write('q');
    await tick(100);
    expect(quit).toBe(1);
    r.unmount();
  });
});

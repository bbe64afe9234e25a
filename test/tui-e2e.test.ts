import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BIN, ROOT, tempDir } from './helpers/cli.js';
import { startFakeBinance, type FakeBinance } from './helpers/fake-binance.js';
import { createFakeRest, type FakeRestState } from './helpers/fake-binance-rest.js';
import { requireTmux, startTmux, type TmuxSession } from './helpers/tmux.js';

/**
 * The dashboard as a trader runs it: the built binary in a real terminal (tmux), on a fake
 * Binance that streams BTCUSDT trades, best bid/ask, diff depth and the 24 h ticker. Keys go in
 * with `tmux send-keys`, and every assertion is on the screen text `tmux capture-pane` reads.
 */

// Fails here, with the reason, rather than skipping: nothing else covers the real terminal.
requireTmux();

let fake: FakeBinance;
let state: FakeRestState;
let dir: ReturnType<typeof tempDir>;
let tui: TmuxSession | undefined;
let pump: { stop(): void } | undefined;

/** The prices the fake's trades cycle through. */
const PRICES = ['60012.50', '60013.10', '60011.90', '60012.40'];

beforeAll(async () => {
  const rest = createFakeRest();
  state = rest.state;
  fake = await startFakeBinance({ rest: rest.handler });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  dir = tempDir('qtrade-tui-e2e-');
  state.depth.set('BTCUSDT', {
    lastUpdateId: 100,
    bids: [
      ['60012.00', '0.50000000'],
      ['60011.50', '1.03000000'],
      ['60010.00', '2.11800000'],
    ],
    asks: [
      ['60012.70', '0.41200000'],
      ['60013.00', '0.73100000'],
      ['60015.00', '0.05000000'],
    ],
  });
  const now = Date.now();
  state.trades.set('BTCUSDT', [{ a: 7, p: '60012.40000000', q: '0.01000000', f: 7, l: 7, T: now - 1000, m: false, M: true }]);
});
afterEach(() => {
  pump?.stop();
  pump = undefined;
  tui?.kill();
  tui = undefined;
  dir.cleanup();
});

/** Streams a quiet BTCUSDT market, four times a second, with exchange times from now. */
function startMarket(): { stop(): void } {
  let id = 8;
  let u = 101;
  const tick = (): void => {
    const T = Date.now();
    const p = PRICES[id % PRICES.length]!;
    fake.send('btcusdt@aggTrade', { e: 'aggTrade', E: T + 1, s: 'BTCUSDT', a: id, p, q: '0.02000000', f: id, l: id, T, m: id % 3 === 0, M: true });
    fake.send('btcusdt@bookTicker', { u, s: 'BTCUSDT', b: '60012.00000000', B: '0.50000000', a: '60012.70000000', A: '0.41200000' });
    fake.send('btcusdt@depth@100ms', { e: 'depthUpdate', E: T + 1, s: 'BTCUSDT', U: u, u, b: [['60011.50000000', (1 + (id % 5) / 10).toFixed(8)]], a: [['60013.00000000', '0.73100000']] });
    if (id % 4 === 0) fake.send('btcusdt@miniTicker', { e: '24hrMiniTicker', E: T + 1, s: 'BTCUSDT', c: p, o: '58950.00000000', h: '60100.00000000', l: '58800.00000000', v: '1234.50000000', q: '74000000.00000000' });
    id++;
    u++;
  };
  const timer = setInterval(tick, 250);
  return { stop: () => clearInterval(timer) };
}

/** `qtrade tui` in a terminal of this size, fed by the fake once it subscribed. */
async function openTui(columns: number, rows: number): Promise<TmuxSession> {
  tui = startTmux({
    command: [process.execPath, BIN, '--data-dir', dir.dir, 'tui', '--symbols', 'btcusdt'],
    columns,
    rows,
    cwd: ROOT,
    env: { NO_COLOR: '1', QTRADE_BINANCE_REST_URL: fake.restUrl, QTRADE_BINANCE_WS_URL: fake.wsUrl, HTTPS_PROXY: '', https_proxy: '', QTRADE_PROXY: '' },
  });
  // Startup (Node, Ink, the store, exchangeInfo) is slow on a loaded machine.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await fake.waitForSubscriber('btcusdt@depth@100ms', 500).then(
      () => true,
      () => false,
    );
    if (ready) break;
    const status = tui.exitStatus();
    if (status !== undefined || Date.now() > deadline) {
      throw new Error(`qtrade tui ${status === undefined ? 'did not subscribe to the feed within 30 s' : `exited with status ${status}`}; last screen:\n${tui.capture()}`);
    }
  }
  pump = startMarket();
  return tui;
}

/** Quits with `q`: exit status 0, off the alternate screen, cursor shown again. */
async function quit(t: TmuxSession): Promise<void> {
  t.keys('q');
  expect(await t.waitForExit(20_000)).toBe(0);
  expect(t.alternateScreen()).toBe(false);
  expect(t.cursorVisible()).toBe(true);
}

const line = (screen: string, re: RegExp): string | undefined => screen.split('\n').find((l) => re.test(l));

describe('qtrade tui in a real terminal (tmux, fake Binance)', () => {
  it('140x40: live prices; a limit order through the order form shows in open orders, `c` cancels it; `q` quits cleanly', async () => {
    const t = await openTui(140, 40);
    let screen = await t.waitFor(/▸BTCUSDT\s+60,01[123]\.\d0/, 'the live price in the watchlist', 30_000);
    // The diffs move the 60,011.50 bid off the snapshot's 1.03000: the book follows the stream.
    screen = await t.waitFor((s) => s.includes('spread 0.70') && /60,011\.50 1\.[0-4]0000/.test(s) && s.includes('● binance'), 'the live order book and the feed badge');
    expect(t.alternateScreen()).toBe(true);
    expect(t.cursorVisible()).toBe(false);
    expect(screen).toMatch(/^ qtrade\s+PAPER\s+● binance/);
    expect(line(screen, /60,012\.70\s+0\.41200/)).toBeDefined();
    expect(screen).toContain('Open orders (0)');

    // b opens the form on the buy side with the price preset to the last trade.
    t.keys('b');
    screen = await t.waitFor(/╔═ Order entry BTCUSDT/, 'the focused order form');
    expect(screen).toMatch(/BUY\s+LIMIT GTC/);
    expect(screen).toMatch(/price 60,?01[123]\.\d/);
    t.type('0.01');
    t.keys('Down', ...Array<string>(10).fill('BSpace'));
    t.type('30000');
    screen = await t.waitFor((s) => /qty\s+0\.01 BTC/.test(s) && /price 30000▏ USDT/.test(s), 'quantity and price typed in');
    expect(screen).toContain('≈ 300.00 USDT');
    t.keys('Enter');

    screen = await t.waitFor('Open orders (1)', 'the order in the open orders panel');
    expect(line(screen, /▸\s+1 BTCUSDT BUY\s+0\.01000 @ 30,000\.00\s+LIMIT GTC\s+0\.00000\/0\.01000/)).toBeDefined();
    screen = await t.waitFor('✓ order 1 BUY 0.01000 BTCUSDT', 'the form reporting the placed order');
    expect(screen).toMatch(/LIMIT @ 30,000\.00 NEW/);

    // Shift-Tab from the form focuses the account panel; c cancels the selected order.
    t.keys('BTab');
    await t.waitFor(/╔═ \[Open orders \(1\)\]/, 'the account panel focused');
    t.keys('c');
    screen = await t.waitFor((s) => s.includes('Open orders (0)') && s.includes('✓ order 1 CANCELED'), 'the order canceled');
    expect(screen).toContain('no open orders');
    expect(line(screen, /1 BTCUSDT BUY\s+0\.01000 @ 30,000\.00/)).toBeUndefined();
    expect(screen).toMatch(/order 1 BUY 0\.01000 BTCUSDT LIMIT @ 30,000\.00 CANCELED/);

    await quit(t);
  });

  it('80x24: the compact layout (header, watch strip, chart, book, account line)', async () => {
    const t = await openTui(80, 24);
    const screen = await t.waitFor((s) => /▸BTCUSDT 60,01[123]\.\d0/.test(s) && s.includes('spread 0.70'), 'the compact dashboard with live data', 30_000);
    const rows = screen.split('\n');
    expect(rows[0]).toMatch(/^ qtrade\s+PAPER\s+● binance.*\? q$/);
    expect(rows[1]).toMatch(/^▸BTCUSDT 60,01[123]\.\d0/);
    expect(rows[2]).toMatch(/^┌─ BTCUSDT 1m .*┐┌─ Order book BTCUSDT ─+┐$/);
    expect(rows.every((r) => [...r].length <= 80)).toBe(true);
    expect(screen).toMatch(/^ Orders 0 · USDT 10,000\.00 free\s+Tab: next panel$/m);
    await quit(t);
  });
});

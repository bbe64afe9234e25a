import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DaemonClient, DaemonRequestError } from '../src/client/daemon-client.js';
import { TokenStore } from '../src/server/tokens.js';
import { DaemonSource } from '../src/tui/daemon-source.js';
import type { AlertsEvent } from '../src/tui/sources/alerts.js';
import { renderTui, until, type Rendered } from '../src/tui/testing/harness.js';
import { ROOT } from './helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './helpers/daemon.js';
import { callTools, say, startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.js';

/**
 * `qtrade tui --connect`: the dashboard as a client of a real daemon (in this process, its feed on
 * the fake Binance), rendered whole with ink-testing-library. Everything it shows comes over the
 * daemon's WebSocket and REST API; orders go to the daemon's account.
 */

const T = Date.now() - 60_000;
const BOOK: { lastUpdateId: number; bids: Array<[string, string]>; asks: Array<[string, string]> } = {
  lastUpdateId: 100,
  bids: [
    ['59990.00', '0.50000000'],
    ['59980.00', '1.00000000'],
  ],
  asks: [
    ['60000.00', '0.50000000'],
    ['60010.00', '1.00000000'],
  ],
};

/** A daemon whose BTCUSDT book is synced (so it takes orders) and which has seen one trade. */
async function readyDaemon(opts: Parameters<typeof startTestDaemon>[0] = {}): Promise<TestDaemon> {
  const d = await startTestDaemon(opts);
  d.rest.depth.set('BTCUSDT', BOOK);
  await d.fake.waitForSubscriber('btcusdt@depth@100ms', 10_000);
  d.fake.send('btcusdt@depth@100ms', { e: 'depthUpdate', E: T - 500, s: 'BTCUSDT', U: 101, u: 101, b: [], a: [] });
  d.trade({ id: 7, time: T, price: '59995.00000000' });
  const node = d.daemon.node;
  await d.fake.waitFor(() => node.kernel.orderBook('BTCUSDT')?.status === 'synced' && node.market.get('BTCUSDT')?.lastTrade?.id === 7, 'synced book and first trade', 10_000);
  return d;
}

const headerOf = (frame: string): string => frame.split('\n')[0] ?? '';
const FAST = { initialMs: 100, maxMs: 400 };

describe('the TUI attached to a daemon', () => {
  let d: TestDaemon;
  let again: TestDaemon | undefined;
  let source: DaemonSource | undefined;
  let r: Rendered | undefined;

  beforeAll(async () => {
    d = await readyDaemon();
  }, 60_000);
  afterAll(async () => {
    r?.unmount();
    source?.close();
    await again?.close();
    await d?.close();
  });

  it('shows the feed, trades through the daemon, follows orders placed elsewhere, and rides out the daemon going away', async () => {
    source = await DaemonSource.open({ url: d.url, backoff: FAST });
    expect(source.info).toMatchObject({ venue: 'paper', feed: `daemon ${d.url}`, replay: false });
    r = renderTui(source, undefined, { columns: 150, rows: 42 });
    await until(r, (f) => headerOf(f).includes(`● daemon ${d.url}`), 'attached');

    // The snapshot: the trade the daemon saw before we attached, at the instrument's scale.
    await until(r, (f) => f.includes('59,995.00'), 'the earlier trade from REST');
    // The stream: a new trade on the daemon's feed.
    d.trade({ id: 8, time: T + 1_000, price: '61837.63000000', qty: '0.02000000' });
    await until(r, (f) => f.includes('61,837.63'), 'the streamed trade');
    expect(source.market('BTCUSDT')?.lastTrade).toMatchObject({ id: 8, price: 6183763, qty: 2000000 });
    expect(source.book('BTCUSDT', 5)).toMatchObject({ status: 'synced', bids: [{ price: 5999000 }, { price: 5998000 }], asks: [{ price: 6000000 }, { price: 6001000 }] });

    // An order placed through the source is the daemon's order.
    const placed = await source.place({ symbol: 'BTCUSDT', side: 'BUY', qty: '0.001', limit: '50000' });
    expect(placed.order).toMatchObject({ symbol: 'BTCUSDT', status: 'NEW', price: 5000000, origQty: 100000 });
    expect(d.daemon.node.trading.openOrders().map((o) => o.orderId)).toEqual([placed.order.orderId]);
    expect(source.openOrders().map((o) => o.orderId)).toEqual([placed.order.orderId]);
    await until(r, (f) => f.includes('Open orders (1)'), 'the order in open orders');
    // 10,000 USDT less the 50 USDT locked, exactly.
    expect(source.balances()).toEqual([{ asset: 'USDT', free: 9_950n * 10n ** 16n, locked: 50n * 10n ** 16n }]);

    const canceled = await source.cancel('BTCUSDT', placed.order.orderId);
    expect(canceled.status).toBe('CANCELED');
    expect(d.daemon.node.trading.openOrders()).toEqual([]);
    await until(r, (f) => f.includes('Open orders (0)'), 'the order gone');

    // Another client (the CLI's way in) places an order: the private stream brings it.
    const cli = new DaemonClient({ url: d.url });
    const other = await cli.post<{ order: { orderId: number } }>('/api/qtrade/orders', { symbol: 'BTCUSDT', side: 'BUY', qty: '0.001', limit: '59000' });
    await until(r, (f) => f.includes('Open orders (1)') && f.includes(`order ${other.order.orderId} BUY 0.00100 BTCUSDT LIMIT @ 59,000.00 NEW`), 'the order placed elsewhere');
    // A trade through its price fills it on the daemon; the fill, position and balances follow.
    d.trade({ id: 9, time: T + 2_000, price: '58900.00000000', qty: '0.01000000' });
    await until(r, (f) => f.includes('Open orders (0)') && f.includes(`fill ${other.order.orderId} BUY 0.00100 @ 59,000.00 BTCUSDT (maker)`), 'the fill');
    expect(source.fills(10).map((f) => f.orderId)).toEqual([other.order.orderId]);
    expect(source.positions()).toEqual(d.daemon.node.trading.positions(d.daemon.node.market.lastPrices()));
    expect(source.balances()).toEqual(d.daemon.node.trading.balances());

    // The daemon goes away: the header counts down to the next attempt, the data stays.
    const port = d.daemon.port;
    await d.daemon.stop('test: daemon goes away');
    await until(r, (f) => /reconnecting \(attempt \d+, next in \d+s\)/.test(headerOf(f)), 'reconnecting in the header');
    expect(r.lastFrame()).toContain('58,900.00');
    expect(source.market('BTCUSDT')?.lastTrade?.id).toBe(9);
    expect(source.fills(10)).toHaveLength(1);

    // It comes back (same data dir and port): the source resyncs and streams again.
    again = await startTestDaemon({ dataDir: d.dataDir, port });
    await until(r, (f) => headerOf(f).includes(`● daemon ${d.url}`), 'attached again', 20_000);
    again.trade({ id: 10, time: T + 3_000, price: '60123.45000000' });
    await until(r, (f) => f.includes('60,123.45'), 'a trade from the restarted daemon');
    expect(source.fills(10).map((f) => f.orderId)).toEqual([other.order.orderId]);
  });

  it('refuses symbols the daemon does not stream, naming what it does', async () => {
    await expect(DaemonSource.open({ url: (again ?? d).url, symbols: ['ETHUSDT'] })).rejects.toThrow(/does not stream ETHUSDT \(its feed carries BTCUSDT\)/);
  });
});

describe('a daemon with tokens', () => {
  let d: TestDaemon;
  let source: DaemonSource | undefined;
  afterEach(() => source?.close());
  afterAll(async () => {
    await d?.close();
  });

  it('attaches with a read token, and without one says what to do', async () => {
    d = await readyDaemon();
    const issued = new TokenStore(d.dataDir).create({ scope: 'read', name: 'tui' });
    const err = await DaemonSource.open({ url: d.url }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DaemonRequestError);
    expect(err).toMatchObject({ status: 401, exitCode: 2 });
    expect((err as DaemonRequestError).hint).toContain('qtrade config set daemon.token');

    source = await DaemonSource.open({ url: d.url, token: issued.token });
    const r = renderTui(source, undefined, { columns: 150, rows: 42 });
    try {
      await until(r, (f) => headerOf(f).includes(`● daemon ${d.url}`) && f.includes('59,995.00'), 'attached with the token');
      // Read scope: placing is the daemon's refusal, shown, not a crash.
      await expect(source.place({ symbol: 'BTCUSDT', side: 'BUY', qty: '0.001', limit: '50000' })).rejects.toMatchObject({ status: 403 });
      expect(d.daemon.node.trading.openOrders()).toEqual([]);
    } finally {
      r.unmount();
    }
  });
});

describe("the dashboard's strategies, system, alerts and assistant are the daemon's", () => {
  const KEY = 'sk-tui-connect-5e1f';
  const RECORDING = path.join(ROOT, 'fixtures', 'recordings', 'generated-btcusdt-aggtrades.jsonl.gz');
  let d: TestDaemon;
  let ai: FakeOpenAI;
  let source: DaemonSource;
  const saved = { ...process.env };

  beforeAll(async () => {
    ai = await startFakeOpenAI();
    d = await readyDaemon();
    // The daemon reads its ai.* settings from its environment on each question.
    Object.assign(process.env, { QTRADE_AI_BASE_URL: ai.url, DEEPSEEK_API_KEY: KEY, QTRADE_DATA_DIR: d.dataDir });
    source = await DaemonSource.open({ url: d.url, backoff: FAST });
    await until({ lastFrame: () => source.feed().state?.state ?? '' }, (s) => s === 'open', 'attached');
  }, 60_000);
  afterAll(async () => {
    source?.close();
    await d?.close();
    await ai?.close();
    for (const k of ['QTRADE_AI_BASE_URL', 'DEEPSEEK_API_KEY', 'QTRADE_DATA_DIR']) if (saved[k] === undefined) delete process.env[k];
    Object.assign(process.env, saved);
  });

  it('starts and stops a live strategy on the daemon, and backtests there', { timeout: 180_000 }, async () => {
    const started = await source.strategies.start({ strategy: 'dca', symbol: 'BTCUSDT', params: { every: 2, amount: '100' }, id: 'dca-tui' });
    expect(started).toMatchObject({ id: 'dca-tui', strategy: 'dca', symbol: 'BTCUSDT', status: 'running', orders: 0, position: { qty: 0n, quoteAsset: 'USDT' } });
    expect(d.daemon.ctx.strategies!.get('dca-tui')?.status).toBe('running');
    expect(source.strategies.list().map((s) => [s.id, s.status])).toEqual([['dca-tui', 'running']]);
    const stopped = await source.strategies.stop('dca-tui');
    expect(stopped.status).toBe('stopped');
    expect(d.daemon.ctx.strategies!.get('dca-tui')?.status).toBe('stopped');
    await expect(source.strategies.start({ strategy: 'sma-crosss', symbol: 'BTCUSDT' })).rejects.toThrow(/sma-crosss/);

    expect(source.strategies.backtestData()).toEqual([{ data: 'store', kind: 'store', label: "the daemon's store (1m candles)" }]);
    const progress: number[] = [];
    const report = await source.strategies.backtest({ strategy: 'sma-cross', data: RECORDING, params: { fast: 2, slow: 5 } }, (p) => progress.push(p));
    expect(report).toMatchObject({ strategy: 'sma-cross', symbol: 'BTCUSDT', interval: '1m', model: 'exact', quoteAsset: 'USDT' });
    expect(report.candles).toBeGreaterThan(0);
    expect(report.equity.start).toBe(10_000n * 10n ** 16n);
    expect(report.equity.curve.at(-1)!.equity).toBe(report.equity.end);
    expect(progress.at(-1)).toBe(1);
    await expect(source.strategies.backtest({ strategy: 'dca', data: path.join(d.dataDir, 'nope.csv') }, () => {})).rejects.toThrow(/no such data file on the daemon host/);
  });

  it("shows the daemon's health, counters and streams in the System view", async () => {
    await source.system.refresh();
    const v = source.system.status();
    expect(v.engine).toBe('daemon');
    expect(v.modules.find((m) => m.name === 'daemon link')).toMatchObject({ health: 'ok' });
    expect(v.modules.find((m) => m.name === 'store')).toMatchObject({ health: 'ok' });
    expect(v.counters.find((c) => c.name === 'trades')?.value).toBe(d.daemon.node.kernel.stats().trades);
    expect(v.clients?.count).toBeGreaterThanOrEqual(1);
    expect(v.feed.streams).toEqual([{ symbol: 'BTCUSDT', channels: d.daemon.node.channels(), lastTradeTime: T, book: 'synced' }]);
    expect(v.uptimeMs).toBeGreaterThanOrEqual(0);
  });

  it("adds an alert on the daemon and hears it fire over the daemon's alerts stream", async () => {
    const events: AlertsEvent[] = [];
    const off = source.alerts.subscribe((e) => events.push(e));
    const added = await source.alerts.add({ symbol: 'BTCUSDT', condition: 'price > 61000' });
    expect(added).toMatchObject({ symbol: 'BTCUSDT', condition: 'price > 61000', status: 'active', fired: 0 });
    expect(source.alerts.list().map((a) => a.id)).toEqual([added.id]);
    d.trade({ id: 20, time: T + 5_000, price: '61500.00000000' });
    await until({ lastFrame: () => String(events.filter((e) => e.kind === 'fired').length) }, (n) => n === '1', 'the firing');
    const fired = events.find((e) => e.kind === 'fired');
    expect(fired).toMatchObject({ kind: 'fired', firing: { alertId: added.id, n: 1, symbol: 'BTCUSDT', time: T + 5_000 } });
    expect(source.alerts.history().map((f) => f.alertId)).toEqual([added.id]);
    await until({ lastFrame: () => String(source.alerts.list()[0]?.fired) }, (n) => n === '1', 'the count read again');
    await source.alerts.remove(added.id);
    expect(source.alerts.list()).toEqual([]);
    // This daemon has no webhook: an alert that should go there says so in the log (a tui one said nothing).
    expect(events.filter((e) => e.kind === 'notice')).toEqual([]);
    const hooked = await source.alerts.add({ symbol: 'BTCUSDT', condition: 'price > 70000', notify: 'tui,webhook' });
    expect(events.filter((e) => e.kind === 'notice')).toEqual([{ kind: 'notice', level: 'warn', message: expect.stringMatching(/^no webhook configured: .*restart the daemon/) }]);
    await source.alerts.remove(hooked.id);
    off();
  });

  it("asks the daemon's assistant; its proposal is approved into an order on the daemon", async () => {
    ai.script(
      callTools({ name: 'propose_order', arguments: JSON.stringify({ symbol: 'BTCUSDT', side: 'BUY', qty: '0.01', rationale: 'ask 60000.00' }), id: 'p' }),
      say(['Proposed ', 'a buy.']),
    );
    const seen: string[] = [];
    const reply = await source.assistant.ask('buy 0.01 BTC', { onEvent: (e) => seen.push(e.type) });
    expect(reply).toMatchObject({ text: 'Proposed a buy.', calls: 2, proposals: [{ status: 'pending', source: 'daemon' }] });
    expect(seen).toEqual(['tool_call', 'tool_result', 'text', 'text']);
    expect(source.assistant.status()).toEqual({ ready: true, model: reply.model });
    const id = reply.proposals[0]!.id;
    expect(source.assistant.proposals().map((p) => [p.id, p.status])).toEqual([[id, 'pending']]);
    // The conversation goes with the next question (the daemon keeps none).
    ai.script(say('Still here.'));
    await source.assistant.ask('and now?');
    expect((ai.requests.at(-1)!.body.messages as Array<{ role: string; content: string }>).filter((m) => m.role !== 'system').map((m) => m.content)).toEqual(['buy 0.01 BTC', 'Proposed a buy.', 'and now?']);

    const approved = await source.assistant.approve(id);
    expect(approved.order).toMatchObject({ symbol: 'BTCUSDT', side: 'BUY', status: 'FILLED' });
    expect(d.daemon.node.trading.orders().map((o) => o.orderId)).toContain(approved.order.orderId);
    expect(source.fills(10).map((f) => f.orderId)).toContain(approved.order.orderId);
    expect(source.assistant.proposals().find((p) => p.id === id)?.status).toBe('approved');
    expect(JSON.stringify(d.logs)).not.toContain(KEY);
  });
});

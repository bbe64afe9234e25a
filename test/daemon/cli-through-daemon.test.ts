import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../../src/server/tokens.js';
import { runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

/**
 * The trading commands with a daemon running for the data dir: the real binary talks to an
 * in-process daemon whose feed is a fake Binance. Every command is also run embedded, on a data dir
 * of its own against the same fake Binance's REST, and the two must print the same bytes and exit
 * the same way; only what the daemon's live feed adds (a resting order filled by a later trade)
 * has no embedded twin.
 */

/** Time of the last BTCUSDT trade before the tests: embedded orders take it from REST, the daemon from its feed. */
const T = Date.UTC(2024, 7, 8, 12, 0, 0);
const BOOK = {
  lastUpdateId: 100,
  bids: [
    ['59990.00', '0.50000000'],
    ['59980.00', '1.00000000'],
  ] as [string, string][],
  asks: [
    ['60000.00', '0.00500000'],
    ['60010.00', '0.20000000'],
    ['60020.00', '1.00000000'],
  ] as [string, string][],
};

type Row = Record<string, unknown>;
const json = <R = Row>(s: string): R => JSON.parse(s) as R;

let d: TestDaemon;
let daemonDir: { dir: string; cleanup: () => void };
let embeddedDir: { dir: string; cleanup: () => void };

/** No daemon settings from the environment running the tests. */
const CLEAN_ENV = { QTRADE_CONNECT: undefined, QTRADE_TOKEN: undefined, QTRADE_DATA_DIR: undefined, QTRADE_STORE: undefined };

function qt(dir: string, args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runCli(['--data-dir', dir, ...args], {
    env: { ...CLEAN_ENV, QTRADE_BINANCE_REST_URL: d.fake.restUrl, QTRADE_BINANCE_WS_URL: d.fake.wsUrl, ...env },
    timeoutMs: 60_000,
  });
}

const viaDaemon = (args: string[], env?: Record<string, string | undefined>) => qt(daemonDir.dir, args, env);
const embedded = (args: string[]) => qt(embeddedDir.dir, args);

/** Runs the command both ways; they must agree on exit code, stdout and stderr. Returns the daemon's run. */
async function same(args: string[]): Promise<CliResult> {
  const [e, r] = await Promise.all([embedded(args), viaDaemon(args)]);
  expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }, `qtrade ${args.join(' ')}`).toEqual({ code: e.code, stdout: e.stdout, stderr: e.stderr });
  return r;
}

/**
 * Both ways, --json: equal field by field once `withoutTimes` dropped the times of cancels, halts
 * and resumes, which embedded mode takes from the local clock and the daemon from the exchange.
 */
async function sameJson<R = Row>(args: string[], withoutTimes: (v: R) => unknown): Promise<{ embedded: R; daemon: R; code: number | null }> {
  const [e, r] = await Promise.all([embedded(args), viaDaemon(args)]);
  expect(r.code, `qtrade ${args.join(' ')}: ${r.stderr}`).toBe(e.code);
  expect(r.stderr).toBe(e.stderr);
  const [ej, rj] = [json<R>(e.stdout), json<R>(r.stdout)];
  expect(withoutTimes(rj), `qtrade ${args.join(' ')}`).toEqual(withoutTimes(ej));
  return { embedded: ej, daemon: rj, code: r.code };
}

const noTransactTime = ({ transactTime: _t, ...rest }: Row): Row => rest;
const noSince = ({ since: _s, ...rest }: Row): Row => rest;

beforeAll(async () => {
  daemonDir = tempDir('qtrade-via-daemon-');
  embeddedDir = tempDir('qtrade-embedded-');
  d = await startTestDaemon({ dataDir: daemonDir.dir });
  // Embedded commands fetch the book and the last trade from REST at order time ...
  d.rest.depth.set('BTCUSDT', BOOK);
  d.rest.trades.set('BTCUSDT', [{ a: 7, p: '59995.00000000', q: '0.01000000', f: 7, l: 7, T, m: false, M: true }]);
  // ... the daemon keeps its book from diff depth plus that snapshot, and its last trade from the feed.
  await d.fake.waitForSubscriber('btcusdt@depth@100ms', 10_000);
  d.fake.send('btcusdt@depth@100ms', { e: 'depthUpdate', E: T - 500, s: 'BTCUSDT', U: 101, u: 101, b: [], a: [] });
  d.trade({ id: 7, time: T, price: '59995.00000000' });
  const node = d.daemon.node;
  await d.fake.waitFor(() => node.kernel.orderBook('BTCUSDT')?.status === 'synced' && node.market.get('BTCUSDT')?.lastTrade?.id === 7, 'synced book and first trade', 10_000);
}, 60_000);

afterAll(async () => {
  await d?.close();
  daemonDir?.cleanup();
  embeddedDir?.cleanup();
});

describe('trading commands through a running daemon', () => {
  it('a market order walks the live book; balances, fills, positions, PnL and orders print as embedded', async () => {
    const placed = await same(['order', 'buy', 'btcusdt', '0.01', '--json']);
    expect(placed.code).toBe(0);
    expect(json(placed.stdout)).toMatchObject({ orderId: 1, status: 'FILLED', transactTime: T, cummulativeQuoteQty: '600.05000000', fills: [{ price: '60000.00000000' }, { price: '60010.00000000' }] });
    // The daemon placed it: its account has it, and no lock was taken here.
    expect(d.daemon.node.trading.orders().map((o) => o.status)).toEqual(['FILLED']);

    for (const args of [['balance'], ['fills'], ['fills', '--json'], ['positions'], ['positions', '--json'], ['pnl'], ['pnl', '--json'], ['orders', '--json'], ['orders', '--open']]) {
      await same(args);
    }
    const pos = json<Row[]>((await viaDaemon(['positions', '--json'])).stdout);
    expect(pos).toEqual([expect.objectContaining({ symbol: 'BTCUSDT', qty: '0.00999000', markPrice: '59995.00000000', unrealizedPnl: '-0.69995000' })]);
  }, 600_000);

  it('a resting limit shows in `orders --open`; cancel carries the exchange time; refusals exit 3 or 2 alike', async () => {
    const rest = await same(['order', 'buy', 'BTCUSDT', '0.01', '--limit', '59000']);
    expect(rest.stdout).toMatch(/^\s*2\s+2024-08-08 12:00\s+BTCUSDT\s+BUY\s+LIMIT\s+59000\.00\s+-\s+0\.01000\s+0\.00000\s+NEW\s+paper_2$/m);
    await same(['orders', '--open', '--json']);
    await same(['balance', '--json']);

    // Embedded cancels carry the local clock; the daemon's the exchange time it has reached.
    const c = await sameJson(['cancel', '2', '--json'], noTransactTime);
    expect(c.daemon).toMatchObject({ orderId: 2, status: 'CANCELED', transactTime: T });
    await same(['balance']);

    const again = await same(['cancel', '2', '--json']);
    expect(again.code).toBe(3);
    expect(json(again.stdout)).toEqual({ code: -2011, msg: 'Unknown order sent.' });

    const lot = await same(['order', 'buy', 'BTCUSDT', '0.000001', '--limit', '59000', '--json']);
    expect(lot.code).toBe(3);
    expect(json(lot.stdout)).toEqual({ code: -1013, msg: 'Filter failure: LOT_SIZE' });
    expect(lot.stderr).toContain('error: Filter failure: LOT_SIZE');
    expect((await same(['order', 'buy', 'BTCUSDT', '0.000000001'])).code).toBe(3);
    expect((await same(['order', 'buy', 'BTCUSDT', '1', '--limit', '59000', '--json'])).code).toBe(3);

    const unknown = await same(['orders', '--symbol', 'BTCUSD']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('error: unknown symbol "BTCUSD"');
    expect(unknown.stderr).toContain('hint: did you mean');
    expect((await same(['order', 'buy', 'BTCUSDT', '0.01', '--type', 'ICEBERG'])).code).toBe(2);

    const dup1 = await same(['order', 'buy', 'BTCUSDT', '0.001', '--limit', '59500', '--client-id', 'grid-1', '--json']);
    const dup2 = await same(['order', 'buy', 'BTCUSDT', '0.001', '--limit', '59500', '--client-id', 'grid-1', '--json']);
    expect(dup2.stderr).toContain('client order id grid-1 already names order');
    expect(dup2.stdout).toBe(dup1.stdout);
    await sameJson(['cancel', '--client-id', 'grid-1', '--json'], noTransactTime);
    const all = await sameJson<Row[]>(['orders', '--json'], (list) => list.map(({ updateTime: _u, ...rest }) => rest));
    expect(all.daemon.map((o) => [o.status, o.updateTime])).toEqual([
      ['FILLED', T],
      ['CANCELED', T],
      ['CANCELED', T],
    ]);
    await same(['orders']);
  }, 600_000);

  it('risk show, set, halt and resume', async () => {
    const set = await same(['risk', 'set', 'maxOrderNotional', '500']);
    expect(set.stdout).toMatch(/^global\s+maxOrderNotional\s+500$/m);
    await same(['risk', 'set', 'maxPositionQty', '0.5', '--symbol', 'btcusdt', '--json']);
    expect((await same(['risk', 'set', 'maxPositionQty', '0.5'])).code).toBe(2);
    expect((await same(['risk', 'set', 'maxOpenOrders', 'many'])).code).toBe(2);

    const risky = await same(['order', 'buy', 'BTCUSDT', '0.01', '--limit', '59000']);
    expect(risky.code).toBe(3);
    expect(risky.stderr).toContain('error: order notional 590.00 USDT exceeds max 500.00 USDT (rule maxOrderNotional, global)');
    expect(risky.stderr).toContain('hint: split the order');
    await same(['order', 'buy', 'BTCUSDT', '0.01', '--limit', '59000', '--json']);

    expect((await same(['order', 'buy', 'BTCUSDT', '0.008', '--limit', '59000'])).code).toBe(0);
    await same(['risk', 'show']);
    await same(['risk', 'show', '--json']);

    const halt = await same(['risk', 'halt', '--reason', 'desk closed']);
    expect(halt.stdout).toMatch(/^HALTED: desk closed; canceled 1 open order$/m);
    const shown = await sameJson(['risk', 'show', '--json'], noSince);
    expect(shown.daemon).toMatchObject({ state: 'HALTED', reason: 'desk closed', since: T });

    const blocked = await same(['order', 'buy', 'BTCUSDT', '0.001', '--json']);
    expect(blocked.code).toBe(3);
    expect(json(blocked.stdout)).toEqual({ code: -31001, msg: 'trading halted: desk closed (rule halted)' });
    expect(blocked.stderr).toContain('hint: trading is halted: `qtrade risk resume` to trade again');

    expect((await same(['risk', 'resume'])).stdout).toBe('ACTIVE (was HALTED)\n');
    // From here on `since` is the resume's time: the local clock embedded, the exchange's in the daemon.
    expect((await sameJson(['risk', 'resume', '--json'], noSince)).daemon).toMatchObject({ state: 'ACTIVE', previous: 'ACTIVE', since: T });
    expect((await sameJson(['risk', 'halt', '--reason', 'again', '--json'], noSince)).daemon).toMatchObject({ state: 'HALTED', canceled: [] });
    expect((await sameJson(['risk', 'resume', '--json'], noSince)).daemon).toMatchObject({ state: 'ACTIVE', previous: 'HALTED' });
    await sameJson(['risk', 'set', 'maxOrderNotional', 'off', '--json'], noSince);
    const cleared = await sameJson(['risk', 'set', 'maxPositionQty', 'off', '--symbol', 'BTCUSDT', '--json'], noSince);
    expect(cleared.daemon.limits).toEqual([]);
  }, 600_000);

  it('paper reset starts both accounts afresh', async () => {
    await same(['paper', 'reset', '--balance', '5000USDT', '--balance', '0.5btc', '--json']);
    await same(['paper', 'reset']);
    await same(['orders', '--json']);
    await same(['fills']);
    await same(['balance']);
  }, 300_000);

  it("a resting limit is filled by a trade the daemon's feed prints through it", async () => {
    const placed = json(
      (await viaDaemon(['order', 'buy', 'BTCUSDT', '0.01', '--limit', '59990', '--client-id', 'rest-1', '--json'])).stdout,
    );
    expect(placed).toMatchObject({ orderId: 1, status: 'NEW', price: '59990.00000000', fills: [] });
    d.trade({ id: 8, time: T + 60_000, price: '59985.00000000', qty: '0.05000000', buyerMaker: true });
    await d.fake.waitFor(() => d.daemon.node.trading.openOrders().length === 0, 'the resting order to fill', 10_000);

    const orders = json<Row[]>((await viaDaemon(['orders', '--json'])).stdout);
    expect(orders).toEqual([expect.objectContaining({ orderId: 1, clientOrderId: 'rest-1', status: 'FILLED', executedQty: '0.01000000', updateTime: T + 60_000 })]);
    const fills = json<Row[]>((await viaDaemon(['fills', '--json'])).stdout);
    expect(fills).toEqual([expect.objectContaining({ orderId: 1, price: '59990.00000000', qty: '0.01000000', isMaker: true, time: T + 60_000 })]);
    // Marked to the daemon's own last trade: 0.00999 × 59985 − 599.90 = −0.649850.
    const pos = json<Row[]>((await viaDaemon(['positions', '--json'])).stdout);
    expect(pos).toEqual([expect.objectContaining({ symbol: 'BTCUSDT', qty: '0.00999000', cost: '599.90000000', markPrice: '59985.00000000', unrealizedPnl: '-0.64985000' })]);
    const human = await viaDaemon(['fills']);
    expect(human.stdout).toMatch(/^\s*\d+\s+2024-08-08 12:01\s+BTCUSDT\s+BUY\s+59990\.00\s+0\.01000\s+599\.90000000\s+0\.00001000 BTC\s+maker\s+1$/m);
  }, 300_000);

  it('with tokens, a command needs one of the right scope (exit 2 otherwise)', async () => {
    const tokens = new TokenStore(daemonDir.dir);
    const read = tokens.create({ scope: 'read', name: 'cli-read' }).token!;
    const trade = tokens.create({ scope: 'trade', name: 'cli-trade' }).token!;

    const none = await viaDaemon(['balance']);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/^error: Invalid API-key, IP, or permissions for action/);
    expect(none.stderr).toContain('hint: give the daemon a token: qtrade config set daemon.token');

    const ok = await viaDaemon(['balance', '--json'], { QTRADE_TOKEN: read });
    expect(ok.code).toBe(0);
    expect(json(ok.stdout)).toEqual({ balances: [expect.objectContaining({ asset: 'BTC' }), expect.objectContaining({ asset: 'USDT' })] });

    const refused = await viaDaemon(['order', 'buy', 'BTCUSDT', '0.001'], { QTRADE_TOKEN: read });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('this needs a token with scope trade');
    expect(d.daemon.node.trading.orders()).toHaveLength(1);

    const halt = await viaDaemon(['risk', 'halt'], { QTRADE_TOKEN: trade });
    expect(halt.code).toBe(2);
    expect(halt.stderr).toContain('this needs a token with scope admin');
    expect((await viaDaemon(['order', 'sell', 'BTCUSDT', '0.001', '--json'], { QTRADE_TOKEN: trade })).code).toBe(0);
  }, 300_000);

  it('exits 4 with a clear message when the daemon named by --connect does not answer', async () => {
    const r = await qt(embeddedDir.dir, ['--connect', 'http://127.0.0.1:1', 'balance']);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: the qtrade daemon at http:\/\/127\.0\.0\.1:1 did not answer \(.+\)$/m);
    expect(r.stderr).toContain('hint: is it running?');
    const order = await qt(embeddedDir.dir, ['order', 'buy', 'BTCUSDT', '0.001', '--json'], { QTRADE_CONNECT: 'http://127.0.0.1:1' });
    expect(order.code).toBe(4);
  }, 60_000);
});

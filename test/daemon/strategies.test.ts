import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempDir } from '../helpers/cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

/**
 * Live strategies and backtest jobs through the daemon's HTTP API and the `qtrade strategy`
 * commands (the built binary: `npm run build` first), against an in-process daemon on a fake
 * Binance, restarted on the same data dir.
 */

const RECORDING = path.join(ROOT, 'fixtures', 'recordings', 'generated-btcusdt-aggtrades.jsonl.gz');
const T0 = Date.UTC(2024, 7, 8, 12, 0, 0);
const { dir, cleanup } = tempDir('qtrade-daemon-strategies-');
let d: TestDaemon;
let tradeId = 1;

beforeAll(async () => {
  d = await startTestDaemon({ dataDir: dir, logLevel: 'silent' });
});
afterAll(async () => {
  await d?.close();
  cleanup();
});

/** What the tests read of the answers. */
interface LiveJson {
  id: string;
  status: string;
  state: { n?: number };
  nextOrder: number;
  orders: number;
  fills: number;
  position: { qty: string };
}
interface JobJson {
  id: string;
  status: string;
  progress: number;
  result?: { metrics: Record<string, unknown>; equity: { start: string; curve: unknown[] } };
  error?: { message: string };
}

async function api<T = Record<string, unknown>>(method: string, p: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${d.url}${p}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as T };
}

/** A deep book around 60000 (the fake's REST snapshot, synced by one diff), so market orders fill. */
async function syncBook(): Promise<void> {
  d.rest.depth.set('BTCUSDT', { lastUpdateId: 100, bids: [['59999.99', '50.00']], asks: [['60000.01', '50.00']] });
  d.fake.send('btcusdt@depth@100ms', { e: 'depthUpdate', E: T0, s: 'BTCUSDT', U: 101, u: 101, b: [], a: [] });
  await d.fake.waitFor(() => d.daemon.node.kernel.orderBook('BTCUSDT')?.status === 'synced', 'a synced book', 10_000);
}

/** One trade a second into each of `n` minutes from minute `from` (each closes the minute before). */
function minutes(from: number, n: number): void {
  for (let i = 0; i < n; i++) d.trade({ id: tradeId++, time: T0 + (from + i) * 60_000 + 1_000, price: '60000.00' });
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 1200; i++) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const live = async (id: string): Promise<LiveJson> => (await api<LiveJson>('GET', `/api/qtrade/strategies?id=${id}`)).json;

describe('live strategies over HTTP', () => {
  it('starts, trades, lists, survives a daemon restart with its state, and stops', { timeout: 120_000 }, async () => {
    await syncBook();
    const bad = await api('POST', '/api/qtrade/strategies', { strategy: 'sma-crosss', symbol: 'BTCUSDT' });
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe(-1100);
    expect(bad.json.msg).toContain('unknown strategy "sma-crosss"');
    const badParam = await api('POST', '/api/qtrade/strategies', { strategy: 'dca', symbol: 'BTCUSDT', params: { evry: 2 } });
    expect(badParam.status).toBe(400);
    expect(badParam.json.msg).toContain('has no param "evry"');
    expect((await api('POST', '/api/qtrade/strategies', { strategy: 'dca', symbol: 'BTCUSDT', colour: 'red' })).status).toBe(400);
    expect((await api('POST', '/api/qtrade/strategies', { symbol: 'BTCUSDT' })).json).toEqual({ code: -1102, msg: "Mandatory parameter 'strategy' was not sent, was empty/null, or malformed." });

    const started = await api('POST', '/api/qtrade/strategies', { strategy: 'dca', symbol: 'BTCUSDT', params: { every: 2, amount: '100' }, id: 'dca-live' });
    expect(started.status).toBe(200);
    expect(started.json).toMatchObject({ id: 'dca-live', strategy: 'dca', symbol: 'BTCUSDT', interval: '1m', params: { every: 2, amount: 100 }, status: 'running', orders: 0, fills: 0, error: null });

    minutes(0, 6); // minute 0 is incomplete; 1..4 close: buys on candles 1 and 3
    const after = await until(() => live('dca-live'), (s) => s.fills === 2 && s.state.n === 4, 'two fills');
    expect(after).toMatchObject({ status: 'running', state: { n: 4 }, nextOrder: 3, orders: 2, openOrders: 0 });
    expect(after.position).toMatchObject({ baseAsset: 'BTC', quoteAsset: 'USDT', realizedPnl: '0.00000000', mark: '60000.00' });
    expect(Number(after.position.qty)).toBeGreaterThan(0.003);
    const list = (await api<Array<{ id: string }>>('GET', '/api/qtrade/strategies')).json;
    expect(list.map((s) => s.id)).toEqual(['dca-live']);
    const orders = (await api<Array<{ clientOrderId: string }>>('GET', '/api/v3/allOrders?symbol=BTCUSDT')).json;
    expect(orders.map((o) => o.clientOrderId)).toEqual(['dca-live_1', 'dca-live_2']);

    // Restart on the same data dir: the strategy comes back running with its state and numbering.
    await d.close();
    d = await startTestDaemon({ dataDir: dir, logLevel: 'silent' });
    const back = await live('dca-live');
    expect(back).toMatchObject({ status: 'running', state: { n: 4 }, nextOrder: 3, orders: 2, fills: 2 });
    expect(back.position.qty).toBe(after.position.qty);
    await syncBook();
    minutes(10, 3); // minute 10 incomplete; 11 closes: n = 5, a buy numbered 3
    const more = await until(() => live('dca-live'), (s) => s.fills === 3, 'the third fill');
    expect(more).toMatchObject({ state: { n: 5 }, nextOrder: 4 });
    expect((await api<Array<{ clientOrderId: string }>>('GET', '/api/v3/allOrders?symbol=BTCUSDT')).json.map((o) => o.clientOrderId)).toEqual(['dca-live_1', 'dca-live_2', 'dca-live_3']);

    const stopped = await api('DELETE', '/api/qtrade/strategies?id=dca-live');
    expect(stopped.status).toBe(200);
    expect(stopped.json).toMatchObject({ id: 'dca-live', status: 'stopped', fills: 3 });
    expect((await api('DELETE', '/api/qtrade/strategies?id=dca-live')).status).toBe(404);
    // Stopped is not restored.
    await d.close();
    d = await startTestDaemon({ dataDir: dir, logLevel: 'silent' });
    expect((await api('GET', '/api/qtrade/strategies')).json).toEqual([]);
  });
});

describe('backtest jobs over HTTP', () => {
  it('runs on a worker thread to done with the metrics `qtrade backtest --json` prints', { timeout: 180_000 }, async () => {
    const args = { strategy: 'sma-cross', data: RECORDING, params: { fast: 2, slow: 5 }, slippage: 1 };
    const [submitted, cli] = await Promise.all([
      api<JobJson>('POST', '/api/qtrade/backtests', args),
      runCli(['--data-dir', dir, 'backtest', '--strategy', 'sma-cross', '--data', RECORDING, '--param', 'fast=2', '--param', 'slow=5', '--slippage', '1', '--json'], { timeoutMs: 150_000 }),
    ]);
    expect(submitted.status).toBe(202);
    expect(submitted.json).toMatchObject({ id: expect.stringMatching(/^bt-[0-9a-f]{10}$/), status: expect.stringMatching(/^(queued|running)$/) });
    expect(cli.code).toBe(0);
    const expected = JSON.parse(cli.stdout) as { metrics: Record<string, unknown>; fills: unknown[]; candles: number };
    const job = await until(() => api<JobJson>('GET', `/api/qtrade/backtests?id=${submitted.json.id}`).then((r) => r.json), (j) => j.status === 'done' || j.status === 'failed', 'the job to finish');
    expect(job.error).toBeUndefined();
    expect(job).toMatchObject({ status: 'done', progress: 1, request: { strategy: 'sma-cross', interval: '1m', params: { fast: 2, slow: 5 }, data: RECORDING } });
    expect(job.result!.metrics).toEqual(expected.metrics);
    expect(job.result).toMatchObject({ strategy: 'sma-cross', symbol: 'BTCUSDT', source: 'recording', model: 'exact', candles: expected.candles, fills: expected.fills.length, trades: expected.metrics.trades, status: 'running', error: null });
    expect(job.result!.equity.start).toBe('10000.00000000');
    expect(job.result!.equity.curve.length).toBeGreaterThan(2);

    const jobs = (await api<Array<Record<string, unknown>>>('GET', '/api/qtrade/backtests')).json;
    expect(jobs[0]).toMatchObject({ id: submitted.json.id, status: 'done', summary: { trades: expected.metrics.trades } });
    expect(jobs[0]!.result).toBeUndefined();
  });

  it('refuses bad input at once and reports a job that fails', { timeout: 120_000 }, async () => {
    const bad = await api('POST', '/api/qtrade/backtests', { strategy: 'sma-cross', data: RECORDING, params: { fast: 9, slow: 5 } });
    expect(bad.status).toBe(400);
    expect(bad.json.msg).toContain('fast (9) must be below slow (5)');
    expect((await api('POST', '/api/qtrade/backtests', { strategy: 'sma-cross' })).json.msg).toContain('which symbol?');
    expect((await api('POST', '/api/qtrade/backtests', { strategy: 'dca', data: path.join(dir, 'nope.csv') })).json.msg).toContain('no such data file on the daemon host');
    expect((await api('POST', '/api/qtrade/backtests', { strategy: 'dca', symbol: 'BTCUSDT', from: 'yesterday' })).status).toBe(400);
    expect((await api('GET', '/api/qtrade/backtests?id=bt-nope')).status).toBe(404);

    const junk = path.join(dir, 'junk.csv');
    fs.writeFileSync(junk, 'this is not market data\n');
    const sub = await api<JobJson>('POST', '/api/qtrade/backtests', { strategy: 'dca', symbol: 'BTCUSDT', data: junk });
    expect(sub.status).toBe(202);
    const job = await until(() => api<JobJson>('GET', `/api/qtrade/backtests?id=${sub.json.id}`).then((r) => r.json), (j) => j.status === 'done' || j.status === 'failed', 'the job to finish');
    expect(job.status).toBe('failed');
    expect(job.error!.message).toMatch(/\S/);
    expect(job.result).toBeUndefined();
  });
});

describe('qtrade strategy (the binary) against the daemon', () => {
  const qtrade = (...args: string[]) => runCli(['--data-dir', dir, ...args], { cwd: dir, timeoutMs: 90_000 });

  // The binary loads the whole CLI per run: seconds each on a busy machine, so runs that do not
  // depend on each other go in parallel and the tests allow minutes.
  it('starts, shows, and stops a live strategy; bad input exits 2', { timeout: 240_000 }, async () => {
    const [start, human] = await Promise.all([
      qtrade('strategy', 'start', 'dca', '--symbol', 'btcusdt', '--param', 'every=5', '--id', 'cli-dca', '--json'),
      qtrade('strategy', 'start', 'ema-cross', '--symbol', 'BTCUSDT', '--param', 'fast=3', '--param', 'slow=9'),
    ]);
    expect(start.stderr).toBe('');
    expect(start.code).toBe(0);
    expect(JSON.parse(start.stdout)).toMatchObject({ id: 'cli-dca', strategy: 'dca', symbol: 'BTCUSDT', params: { every: 5, amount: 50 }, status: 'running' });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`started ema-cross-btcusdt: ema-cross on BTCUSDT 1m (fast=3 slow=9 size=0.95) in the daemon at ${d.url}`);

    const [list, status, dup, unknown] = await Promise.all([
      qtrade('strategy', 'list'),
      qtrade('strategy', 'status', '--json'),
      qtrade('strategy', 'start', 'dca', '--symbol', 'BTCUSDT', '--id', 'cli-dca'),
      qtrade('strategy', 'start', 'nope', '--symbol', 'BTCUSDT'),
    ]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^sma-cross — /m);
    expect(list.stdout).toContain(`live strategies in the daemon at ${d.url}`);
    expect(list.stdout).toMatch(/^\s+cli-dca\s+dca\s+BTCUSDT\s+1m\s+running\s+0\s+0\s+0 BTC\s+0\.00 USDT\s+0\.00 USDT$/m);
    expect((JSON.parse(status.stdout) as Array<{ id: string }>).map((s) => s.id).sort()).toEqual(['cli-dca', 'ema-cross-btcusdt']);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain('a live strategy with id "cli-dca" exists already');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown strategy "nope"');

    const [stop, stopEma] = await Promise.all([qtrade('strategy', 'stop', 'cli-dca'), qtrade('strategy', 'stop', 'ema-cross-btcusdt', '--json')]);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain('stopped cli-dca: 0 orders, 0 fills, position 0 BTC, realized 0.00 USDT');
    expect(JSON.parse(stopEma.stdout)).toMatchObject({ id: 'ema-cross-btcusdt', status: 'stopped' });
    const again = await qtrade('strategy', 'stop', 'cli-dca');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('No live strategy with id "cli-dca"');
  });

  it('needs a running daemon for start and stop', { timeout: 120_000 }, async () => {
    const other = tempDir('qtrade-no-daemon-');
    try {
      const [r, list] = await Promise.all([
        runCli(['--data-dir', other.dir, 'strategy', 'start', 'dca', '--symbol', 'BTCUSDT'], { env: { QTRADE_CONNECT: undefined }, timeoutMs: 60_000 }),
        runCli(['--data-dir', other.dir, 'strategy', 'list'], { timeoutMs: 60_000 }),
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('live strategies run in the qtrade daemon, and none is running');
      expect(r.stderr).toContain('`qtrade daemon`');
      expect(list.code).toBe(0);
      expect(list.stdout).toContain('run one live: qtrade strategy start NAME --symbol BTCUSDT');
    } finally {
      other.cleanup();
    }
  });
});

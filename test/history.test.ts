import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { renderProgress } from '../src/commands/progress.js';
import type { Candle } from '../src/engine/candles/types.js';
import { BinanceRest } from '../src/engine/market/binance/rest-client.js';
import { addSpan, downloadKlines, historyStateKey, importFile, missingSpans } from '../src/engine/market/history.js';
import { PostgresStore } from '../src/engine/store/postgres.js';
import { SqliteStore } from '../src/engine/store/sqlite.js';
import type { Store } from '../src/engine/store/types.js';
import { BIN, ROOT, runCli, tempDir } from './helpers/cli.js';
import { createFakeRest, type FakeRestState, type RawKline } from './helpers/fake-binance-rest.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1);
const N = 2500;

/** Decimal text of a raw at `scale`, written out by hand so the test does not lean on fixed.ts. */
function dec(raw: bigint, scale: number, pad = 8): string {
  const s = raw.toString().padStart(scale + 1, '0');
  const frac = s.slice(s.length - scale).padEnd(pad, '0');
  return `${s.slice(0, s.length - scale)}.${frac}`;
}

/**
 * BTCUSDT in the fixture: tick 0.01 (price scale 2); quantities are read at Binance's wire
 * precision (scale 8), quote volumes at 2 + 8. `qs` lets the import tests pin a 2/5 instrument.
 */
const QS = 8;
function expectedCandle(i: number, qs = QS): Candle {
  const open = 4_200_000 + i;
  const q = 10n ** BigInt(qs - 5);
  return {
    symbol: 'BTCUSDT',
    interval: '1m',
    priceScale: 2,
    qtyScale: qs,
    openTime: T0 + i * MIN,
    closeTime: T0 + i * MIN + MIN - 1,
    open,
    high: open + 250,
    low: open - 130,
    close: open + 7,
    volume: (1_234_567n + BigInt(i)) * q,
    // Beyond 2^63 on purpose: the store must keep it exact.
    quoteVolume: (12_345_678_901_234_567_890_123n + BigInt(i)) * q,
    trades: 100 + i,
    takerBuyVolume: (600_000n + BigInt(i)) * q,
    takerBuyQuoteVolume: (2_500_000_000_000n + BigInt(i)) * q,
    firstTradeId: -1,
    lastTradeId: -1,
    closed: true,
  };
}

function rawKline(c: Candle): RawKline {
  return [
    c.openTime,
    dec(BigInt(c.open), 2),
    dec(BigInt(c.high), 2),
    dec(BigInt(c.low), 2),
    dec(BigInt(c.close), 2),
    dec(c.volume, c.qtyScale),
    c.closeTime,
    dec(c.quoteVolume, c.priceScale + c.qtyScale),
    c.trades,
    dec(c.takerBuyVolume, c.qtyScale),
    dec(c.takerBuyQuoteVolume, c.priceScale + c.qtyScale),
    '0',
  ];
}

const EXPECTED = Array.from({ length: N }, (_, i) => expectedCandle(i));
/** The same candles read with a 2/5 instrument (import tests pin one). */
const EXPECTED5 = Array.from({ length: 1440 }, (_, i) => expectedCandle(i, 5));
const BTC25 = { symbol: 'BTCUSDT', baseAsset: 'BTC', quoteAsset: 'USDT', priceScale: 2, qtyScale: 5, tickSize: '0.01', stepSize: '0.00001', status: 'TRADING' };

interface Server {
  url: string;
  state: FakeRestState;
  /** When set, a klines request waits for this before it is answered. */
  gate?: (n: number) => Promise<void> | undefined;
  close(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const fake = createFakeRest();
  fake.state.setKlines('BTCUSDT', '1m', EXPECTED.map(rawKline));
  let klinesSeen = 0;
  const srv: Partial<Server> = { state: fake.state };
  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.url?.startsWith('/api/v3/klines')) {
        const wait = srv.gate?.(++klinesSeen);
        if (wait) await wait;
      }
      if (!(await fake.handler(req, res, ''))) {
        res.writeHead(404).end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  srv.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  srv.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return srv as Server;
}

const klineCalls = (s: FakeRestState) => s.log.filter((e) => e.path === '/api/v3/klines');

describe('downloadKlines through BinanceRest and a local Binance', () => {
  let server: Server;
  let dir: { dir: string; cleanup: () => void };
  let store: Store;
  let rest: BinanceRest;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());
  beforeEach(async () => {
    dir = tempDir('qtrade-history-');
    store = new SqliteStore(path.join(dir.dir, 'q.db'));
    await store.migrate();
    rest = new BinanceRest({ baseUrl: server.url, net: {} });
    server.state.log.length = 0;
    server.gate = undefined;
  });
  afterEach(async () => {
    await store.close();
    dir.cleanup();
  });

  const all = { symbol: 'BTCUSDT', interval: '1m' as const };

  it('pages 1000 at a time, oldest first, and stores every value exactly', async () => {
    const seen: number[] = [];
    const r = await downloadKlines({ rest, store, symbol: 'btcusdt', interval: '1m', from: T0, to: T0 + N * MIN, onProgress: (p) => seen.push(p.done / p.total) });
    const calls = klineCalls(server.state);
    expect(calls.map((c) => [Number(c.query.startTime), c.query.limit])).toEqual([
      [T0, '1000'],
      [T0 + 1000 * MIN, '1000'],
      [T0 + 2000 * MIN, '1000'],
    ]);
    expect(r).toMatchObject({ symbol: 'BTCUSDT', pages: 3, candles: N, first: T0, last: T0 + (N - 1) * MIN, interrupted: false, upToDate: false });
    expect(await store.candles(all)).toEqual(EXPECTED);
    expect(seen).toHaveLength(3);
    expect(seen[seen.length - 1]).toBe(1);
  });

  it('re-running a finished range makes no REST call and writes nothing', async () => {
    await downloadKlines({ rest, store, ...all, from: T0, to: T0 + N * MIN });
    server.state.log.length = 0;
    const again = await downloadKlines({ rest, store, ...all, from: T0 + 10 * MIN, to: T0 + 900 * MIN });
    expect(again).toMatchObject({ upToDate: true, pages: 0, candles: 0 });
    expect(klineCalls(server.state)).toHaveLength(0);
    expect(await store.candles(all)).toHaveLength(N);
  });

  it('resumes after an interruption where it stopped, without duplicates and with fewer calls', async () => {
    const controller = new AbortController();
    const first = await downloadKlines({
      rest,
      store,
      ...all,
      from: T0,
      to: T0 + N * MIN,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.pages === 2) controller.abort();
      },
    });
    expect(first).toMatchObject({ interrupted: true, pages: 2, candles: 2000 });
    expect(await store.candles(all)).toEqual(EXPECTED.slice(0, 2000));
    expect(JSON.parse((await store.getState(historyStateKey('BTCUSDT', '1m')))!)).toEqual({ v: 1, covered: [[T0, T0 + 2000 * MIN - 1]] });

    server.state.log.length = 0;
    const second = await downloadKlines({ rest, store, ...all, from: T0, to: T0 + N * MIN });
    expect(klineCalls(server.state).map((c) => Number(c.query.startTime))).toEqual([T0 + 2000 * MIN]);
    expect(second).toMatchObject({ interrupted: false, pages: 1, candles: 500 });
    expect(await store.candles(all)).toEqual(EXPECTED);
  });

  it('fetches only the part of an overlapping range it does not have', async () => {
    await downloadKlines({ rest, store, ...all, from: T0, to: T0 + 500 * MIN });
    server.state.log.length = 0;
    await downloadKlines({ rest, store, ...all, from: T0 + 200 * MIN, to: T0 + 1200 * MIN });
    expect(klineCalls(server.state).map((c) => [Number(c.query.startTime), Number(c.query.endTime)])).toEqual([[T0 + 500 * MIN, T0 + 1200 * MIN - 1]]);
    expect(await store.candles(all)).toEqual(EXPECTED.slice(0, 1200));
  });

  it('treats the time before a listing as done and never stores a candle that is still open', async () => {
    // serverTime in the middle of candle 1500: it and later ones are still open.
    const serverTime = T0 + 1500 * MIN + 30_000;
    const r = await downloadKlines({ rest, store, ...all, from: T0 - 86_400_000, to: T0 + 3000 * MIN, serverTime });
    expect(r.candles).toBe(1500);
    expect(await store.lastCandle('BTCUSDT', '1m')).toEqual(EXPECTED[1499]);

    server.state.log.length = 0;
    const later = await downloadKlines({ rest, store, ...all, from: T0 - 86_400_000, to: T0 + 3000 * MIN, serverTime: T0 + 5000 * MIN });
    // A full page cannot tell whether more follows: one more (empty) page settles it.
    expect(klineCalls(server.state).map((c) => Number(c.query.startTime))).toEqual([T0 + 1500 * MIN, T0 + 2500 * MIN]);
    expect(later.candles).toBe(1000);
    expect(await store.candles(all)).toEqual(EXPECTED);

    // Settled up to `to` (nothing after candle 2499 exists, and never will): no call next time.
    server.state.log.length = 0;
    const done = await downloadKlines({ rest, store, ...all, from: T0 - 86_400_000, to: T0 + 3000 * MIN, serverTime: T0 + 5000 * MIN });
    expect(done.upToDate).toBe(true);
    expect(klineCalls(server.state)).toHaveLength(0);
  });

  it('downloads into PostgreSQL with the same exact values', async () => {
    const pgStore = new PostgresStore({
      connectionString: process.env.QTRADE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test',
      schema: `qtrade_test_hist_${process.pid}_${Math.random().toString(36).slice(2, 8)}`,
    });
    try {
      await pgStore.migrate();
      const r = await downloadKlines({ rest, store: pgStore, ...all, from: T0, to: T0 + 1500 * MIN });
      expect(r.candles).toBe(1500);
      expect(await pgStore.candles(all)).toEqual(EXPECTED.slice(0, 1500));
      server.state.log.length = 0;
      expect((await downloadKlines({ rest, store: pgStore, ...all, from: T0, to: T0 + 1500 * MIN })).upToDate).toBe(true);
      expect(klineCalls(server.state)).toHaveLength(0);
    } finally {
      await pgStore.dropSchema().catch(() => {});
      await pgStore.close();
    }
  });

  it('rejects an empty range', async () => {
    await expect(downloadKlines({ rest, store, ...all, from: T0, to: T0 })).rejects.toMatchObject({ code: 'USAGE' });
  });
});

describe('coverage spans', () => {
  it('merges touching spans and finds the gaps', () => {
    let s = addSpan([], [10, 19]);
    s = addSpan(s, [30, 39]);
    s = addSpan(s, [20, 25]);
    expect(s).toEqual([
      [10, 25],
      [30, 39],
    ]);
    expect(missingSpans(s, 0, 50)).toEqual([
      [0, 9],
      [26, 29],
      [40, 50],
    ]);
    expect(missingSpans(s, 12, 24)).toEqual([]);
    expect(missingSpans([], 5, 6)).toEqual([[5, 6]]);
  });
});

describe('importFile', () => {
  let dir: { dir: string; cleanup: () => void };
  let store: Store;
  beforeEach(async () => {
    dir = tempDir('qtrade-import-');
    store = new SqliteStore(path.join(dir.dir, 'q.db'));
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    dir.cleanup();
  });

  const csv = (rows: RawKline[], unit: 'ms' | 'us' = 'ms') =>
    rows.map((r) => (unit === 'us' ? [r[0] * 1000, ...r.slice(1, 6), r[6] * 1000 + 999, ...r.slice(7)] : r).join(',')).join('\n') + '\n';

  it('loads a klines zip exactly, idempotently', async () => {
    const file = path.join(dir.dir, 'BTCUSDT-1m-2024-01-01.zip');
    fs.writeFileSync(file, zipSync({ 'BTCUSDT-1m-2024-01-01.csv': strToU8(csv(EXPECTED5.map(rawKline))) }));
    // The store's instrument decides the scales the file is read at.
    await store.upsertInstruments([BTC25]);
    const r = await importFile(file, store, { batchSize: 500 });
    expect(r).toMatchObject({ kind: 'klines', symbol: 'BTCUSDT', interval: '1m', candles: 1440, first: T0, last: T0 + 1439 * MIN });
    await importFile(file, store);
    expect(await store.candles({ symbol: 'BTCUSDT', interval: '1m' })).toEqual(EXPECTED5);
  });

  it('stores microsecond klines (2025+ spot files) in milliseconds', async () => {
    const file = path.join(dir.dir, 'BTCUSDT-1m-2025-01-01.csv');
    fs.writeFileSync(file, csv(EXPECTED5.slice(0, 3).map(rawKline), 'us'));
    const r = await importFile(file, store, { instrument: BTC25 });
    expect(r.candles).toBe(3);
    expect(await store.candles({ symbol: 'BTCUSDT', interval: '1m' })).toEqual(EXPECTED5.slice(0, 3));
  });

  it('synthesizes 1m candles from an aggTrades file', async () => {
    const file = path.join(dir.dir, 'BTCUSDT-aggTrades-2024-01-01.csv');
    // agg_id,price,qty,first_id,last_id,time,is_buyer_maker,is_best_match
    const t = T0;
    fs.writeFileSync(
      file,
      [
        `1,42000.10,0.50000,10,11,${t + 1_000},false,true`,
        `2,42001.00,0.25000,12,12,${t + 30_000},true,true`,
        `3,41999.90,1.00000,13,15,${t + 59_999},false,true`,
        `4,42002.00,0.10000,16,16,${t + 2 * MIN + 5},true,true`,
      ].join('\n') + '\n',
    );
    const r = await importFile(file, store, { instrument: BTC25 });
    expect(r).toMatchObject({ kind: 'aggTrades', symbol: 'BTCUSDT', trades: 4, candles: 3 });
    const got = await store.candles({ symbol: 'BTCUSDT', interval: '1m' });
    expect(got).toHaveLength(3);
    const [m0, m1, m2] = got;
    expect(m0).toMatchObject({ openTime: t, closeTime: t + MIN - 1, open: 4_200_010, high: 4_200_100, low: 4_199_990, close: 4_199_990, volume: 175_000n, trades: 6, firstTradeId: 10, lastTradeId: 15, closed: true });
    // Σ price × qty at scale 2 + 5: 42000.10×0.5 + 42001.00×0.25 + 41999.90×1 = 73499.8 + ... exact.
    expect(m0!.quoteVolume).toBe(4_200_010n * 50_000n + 4_200_100n * 25_000n + 4_199_990n * 100_000n);
    expect(m0!.takerBuyVolume).toBe(150_000n);
    expect(m1).toMatchObject({ openTime: t + MIN, open: 4_199_990, close: 4_199_990, volume: 0n, trades: 0, firstTradeId: -1 });
    expect(m2).toMatchObject({ openTime: t + 2 * MIN, open: 4_200_200, volume: 10_000n, trades: 1 });
  });
});

describe('helpers of the command', () => {
  it('renders a bounded progress bar', () => {
    expect(renderProgress('BTCUSDT 1m', 0.5, '10 pages', 60)).toBe(`BTCUSDT 1m [${'#'.repeat(16)}${'.'.repeat(16)}]  50% 10 pages`);
    expect(renderProgress('x', 2, '', 40)).toContain('100%');
    expect(renderProgress('a very long label', 0.1, 'detail', 20).length).toBeLessThan(20);
  });
});

describe('qtrade history (built CLI)', () => {
  let server: Server;
  let dir: { dir: string; cleanup: () => void };
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    dir = tempDir('qtrade-history-cli-');
    server.state.log.length = 0;
    server.gate = undefined;
  });
  afterEach(() => dir.cleanup());

  const env = () => ({ QTRADE_DATA_DIR: dir.dir, QTRADE_BINANCE_REST_URL: server.url, QTRADE_STORE: `sqlite:${path.join(dir.dir, 'h.db')}` });

  it('downloads a range, prints a JSON summary, and skips it the second time', async () => {
    const args = ['history', 'download', 'BTCUSDT', '--from', '2024-01-01', '--to', '2024-01-01T20:00', '--json'];
    const r = await runCli(args, { env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ symbol: 'BTCUSDT', interval: '1m', candles: 1200, pages: 2, firstIso: '2024-01-01T00:00:00.000Z', lastIso: '2024-01-01T19:59:00.000Z', interrupted: false });
    const again = await runCli(args.slice(0, -1), { env: env() });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already in the store/);
    expect(klineCalls(server.state)).toHaveLength(2);
    expect(server.state.log.filter((e) => e.path === '/api/v3/exchangeInfo')).toHaveLength(2);
  });

  it('refuses an unknown symbol and a bad date with exit 2 and a hint', async () => {
    const sym = await runCli(['history', 'download', 'BTCUSTD', '--from', '2024-01-01'], { env: env() });
    expect(sym.code).toBe(2);
    expect(sym.stderr).toMatch(/unknown symbol "BTCUSTD"[\s\S]*did you mean BTCUSDT/);
    const date = await runCli(['history', 'download', 'BTCUSDT', '--from', '2024-02-30'], { env: env() });
    expect(date.code).toBe(2);
    expect(date.stderr).toMatch(/--from "2024-02-30" is not a date or time\nhint: /);
  });

  it('stops after the current page on Ctrl-C, exits 130, and resumes on the next run', async () => {
    let release!: () => void;
    let arrived!: () => void;
    const secondArrived = new Promise<void>((r) => (arrived = r));
    server.gate = (n) => {
      if (n !== 2) return undefined;
      arrived();
      return new Promise<void>((r) => (release = r));
    };
    const child = spawn(process.execPath, [BIN, 'history', 'download', 'BTCUSDT', '--from', '2024-01-01', '--to', '2024-01-03'], {
      cwd: ROOT,
      env: { ...process.env, ...env(), HTTPS_PROXY: '', https_proxy: '', QTRADE_PROXY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let noticed!: () => void;
    const stopping = new Promise<void>((r) => (noticed = r));
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.includes('stopping after the current page')) noticed();
    });
    const exited = new Promise<number | null>((r) => child.on('close', r));
    await secondArrived;
    child.kill('SIGINT');
    // Answer the page in flight only once the command has seen the Ctrl-C.
    await stopping;
    release();
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/run the same command again to resume/);
    expect(stdout).toMatch(/2000 candles written from 2 pages/);

    server.gate = undefined;
    server.state.log.length = 0;
    const resumed = await runCli(['history', 'download', 'BTCUSDT', '--from', '2024-01-01', '--to', '2024-01-03', '--json'], { env: env() });
    expect(resumed.code).toBe(0);
    expect(klineCalls(server.state).map((c) => Number(c.query.startTime))).toEqual([T0 + 2000 * MIN]);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ candles: 500 });
  });

  it('imports files and reports each', async () => {
    const file = path.join(dir.dir, 'BTCUSDT-1m-2024-01-01.csv');
    fs.writeFileSync(file, EXPECTED.slice(0, 10).map((c) => rawKline(c).join(',')).join('\n'));
    const r = await runCli(['history', 'import', file, '--json'], { env: env() });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject([{ kind: 'klines', symbol: 'BTCUSDT', candles: 10, firstIso: '2024-01-01T00:00:00.000Z' }]);
    const missing = await runCli(['history', 'import', path.join(dir.dir, 'nope.zip')], { env: env() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file/);
  });
});

describe('importFile on a recording', () => {
  it('stores exactly the candles a replay of it stores: the joined and the cut-off minutes are left out', async () => {
    const rec = path.join(ROOT, 'fixtures/recordings/generated-btcusdt-aggtrades.jsonl.gz');
    const { dir, cleanup } = tempDir();
    try {
      const replayed = await runCli(['--data-dir', dir, '--store', `sqlite:${dir}/replay.db`, 'replay', rec, '--speed', 'max', '--json']);
      expect(replayed.code).toBe(0);
      const fromReplay = new SqliteStore(path.join(dir, 'replay.db'));
      const imported = new SqliteStore(path.join(dir, 'import.db'));
      await fromReplay.migrate();
      await imported.migrate();
      try {
        const r = await importFile(rec, imported);
        expect(r.incomplete).toBe(2);
        const want = await fromReplay.candles({ symbol: 'BTCUSDT', interval: '1m' });
        expect(want.length).toBeGreaterThan(5);
        expect(await imported.candles({ symbol: 'BTCUSDT', interval: '1m' })).toEqual(want);
        expect(r.candles).toBe(want.length);
      } finally {
        await fromReplay.close();
        await imported.close();
      }
    } finally {
      cleanup();
    }
  });
});

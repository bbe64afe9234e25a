import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Candle } from '../candles/types.js';
import { StoreError, UsageError } from '../errors.js';
import type { Instrument } from '../market/types.js';
import { openStore, parseStoreUrl } from './open.js';
import { PostgresStore, maskUrl } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { EventRecord, Store } from './types.js';
import { PG_URL, dropSchemas, requirePostgres, uniqueSchema } from '../../../test/helpers/pg.js';

const nextSchema = (): string => uniqueSchema('qtrade_test');

function candle(openTime: number, over: Partial<Candle> = {}): Candle {
  return {
    symbol: 'BTCUSDT',
    interval: '1m',
    priceScale: 2,
    qtyScale: 5,
    openTime,
    closeTime: openTime + 59_999,
    open: 6_183_763,
    high: 6_190_000,
    low: 6_180_001,
    close: 6_185_512,
    volume: 12_345_678n,
    quoteVolume: 763_412_345_678_901n,
    trades: 1234,
    takerBuyVolume: 6_000_000n,
    takerBuyQuoteVolume: 371_000_000_000_000n,
    firstTradeId: 3_000_000_000,
    lastTradeId: 3_000_001_233,
    closed: true,
    ...over,
  };
}

const T0 = Date.UTC(2024, 0, 1);
const ev = (seq: number, tag = 'a'): EventRecord => ({ seq, time: T0 + seq, kind: seq % 2 ? 'accepted' : 'ledger', body: `{"seq":${seq},"tag":"${tag}"}` });
const MIN = 60_000;
const series = (n: number, over: Partial<Candle> = {}): Candle[] => Array.from({ length: n }, (_, i) => candle(T0 + i * MIN, { ...over, close: 6_000_000 + i }));

const instrument: Instrument = {
  symbol: 'BTCUSDT',
  baseAsset: 'BTC',
  quoteAsset: 'USDT',
  priceScale: 2,
  qtyScale: 5,
  tickSize: '0.01000000',
  stepSize: '0.00001000',
  status: 'TRADING',
};

interface Backend {
  name: string;
  /** A fresh, migrated store; `chunkSize` forces multi-statement batches on PostgreSQL. */
  make(opts?: { chunkSize?: number }): Promise<Store>;
  /** A second, independent handle (its own connection) on the same database as `s`. */
  another(s: Store): Promise<Store>;
  cleanup(): Promise<void>;
}

const tmpDirs: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'qtrade-store-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

function sqliteBackend(): Backend {
  const open: Store[] = [];
  return {
    name: 'sqlite',
    async make() {
      const s = new SqliteStore(path.join(tmpDir(), 'q.db'));
      await s.migrate();
      open.push(s);
      return s;
    },
    async another(s) {
      const b = new SqliteStore((s as SqliteStore).file);
      await b.migrate();
      open.push(b);
      return b;
    },
    async cleanup() {
      for (const s of open.splice(0)) await s.close();
    },
  };
}

function postgresBackend(): Backend {
  const open: PostgresStore[] = [];
  return {
    name: 'postgres',
    async make(opts = {}) {
      const s = new PostgresStore({ connectionString: PG_URL, schema: nextSchema(), ...opts });
      open.push(s);
      await s.migrate();
      return s;
    },
    async another(s) {
      const b = new PostgresStore({ connectionString: PG_URL, schema: (s as PostgresStore).schema });
      await b.migrate();
      // Closed before its twin: dropping the schema twice is harmless.
      open.unshift(b);
      return b;
    },
    async cleanup() {
      for (const s of open.splice(0)) {
        await s.close();
        await dropSchemas([s.schema]);
      }
    },
  };
}



describe.each([
  { backend: sqliteBackend(), needs: async () => {} },
  { backend: postgresBackend(), needs: requirePostgres },
])('Store contract: $backend.name', ({ backend, needs }) => {
  let store: Store;
  beforeAll(needs);
  beforeEach(async () => {
    store = await backend.make();
  });
  afterEach(() => backend.cleanup());

  it('reports its kind and migrates idempotently', async () => {
    expect(store.kind).toBe(backend.name);
    await store.migrate();
    await store.migrate();
    await store.upsertCandles([candle(T0)]);
    expect(await store.candles({ symbol: 'BTCUSDT', interval: '1m' })).toHaveLength(1);
  });

  it('upserts idempotently: the same batch twice gives no duplicates, and updated values win', async () => {
    const batch = series(5);
    await store.upsertCandles(batch);
    await store.upsertCandles(batch);
    expect(await store.candles({ symbol: 'BTCUSDT', interval: '1m' })).toEqual(batch);

    const updated = batch.map((c, i) => (i % 2 ? { ...c, close: c.close + 100, volume: c.volume + 1n, closed: false } : c));
    await store.upsertCandles(updated);
    expect(await store.candles({ symbol: 'BTCUSDT', interval: '1m' })).toEqual(updated);
  });

  it('keeps the last of duplicate candles inside one batch', async () => {
    const first = candle(T0, { close: 1, closed: false });
    const last = candle(T0, { close: 2 });
    await store.upsertCandles([first, candle(T0 + MIN), last]);
    const got = await store.candles({ symbol: 'BTCUSDT', interval: '1m' });
    expect(got).toHaveLength(2);
    expect(got[0]).toEqual(last);
  });

  it('round-trips every field exactly, including volumes beyond 2^63 and the scales', async () => {
    const huge = candle(T0, {
      symbol: 'SHIBUSDT',
      priceScale: 8,
      qtyScale: 2,
      open: 2_345,
      high: 2_400,
      low: 2_300,
      close: 2_399,
      volume: 2n ** 64n + 7n,
      quoteVolume: 123_456_789_012_345_678_901_234_567_890n,
      takerBuyVolume: 2n ** 63n,
      takerBuyQuoteVolume: 10n ** 30n + 1n,
      trades: 0,
      firstTradeId: -1,
      lastTradeId: -1,
      closed: false,
    });
    const bigIds = candle(T0, { interval: '1w', openTime: T0, closeTime: T0 + 7 * 86_400_000 - 1, open: Number.MAX_SAFE_INTEGER, firstTradeId: 2 ** 52, lastTradeId: 2 ** 53 - 1 });
    await store.upsertCandles([huge, bigIds]);
    const [got] = await store.candles({ symbol: 'SHIBUSDT', interval: '1m' });
    expect(got).toEqual(huge);
    expect(typeof got!.volume).toBe('bigint');
    expect(typeof got!.quoteVolume).toBe('bigint');
    expect(got!.quoteVolume).toBe(123_456_789_012_345_678_901_234_567_890n);
    expect(got!.priceScale).toBe(8);
    expect(got!.qtyScale).toBe(2);
    expect(await store.lastCandle('BTCUSDT', '1w')).toEqual(bigIds);
  });

  it('answers range queries: from/to inclusive, limit counts from `from`, or takes the latest without it', async () => {
    const all = series(10);
    await store.upsertCandles(all);
    await store.upsertCandles([candle(T0 + MIN, { symbol: 'ETHUSDT' }), candle(T0 + MIN, { interval: '5m' })]);
    const q = { symbol: 'BTCUSDT', interval: '1m' as const };
    expect(await store.candles(q)).toEqual(all);
    expect(await store.candles({ ...q, from: T0 + 2 * MIN, to: T0 + 4 * MIN })).toEqual(all.slice(2, 5));
    expect(await store.candles({ ...q, from: T0 + 2 * MIN + 1 })).toEqual(all.slice(3));
    expect(await store.candles({ ...q, to: T0 + MIN })).toEqual(all.slice(0, 2));
    expect(await store.candles({ ...q, from: T0 + 3 * MIN, limit: 2 })).toEqual(all.slice(3, 5));
    expect(await store.candles({ ...q, limit: 3 })).toEqual(all.slice(7));
    expect(await store.candles({ ...q, to: T0 + 5 * MIN, limit: 2 })).toEqual(all.slice(4, 6));
    expect(await store.candles({ ...q, limit: 0 })).toEqual([]);
    expect(await store.candles({ ...q, from: T0 + 100 * MIN })).toEqual([]);
    expect(await store.candles({ symbol: 'ETHUSDT', interval: '1m' })).toHaveLength(1);
    expect(await store.candles({ symbol: 'BTCUSDT', interval: '5m' })).toHaveLength(1);
  });

  it('gives the last candle per symbol and interval', async () => {
    expect(await store.lastCandle('BTCUSDT', '1m')).toBeUndefined();
    const all = series(4);
    await store.upsertCandles([all[3]!, all[0]!, all[2]!]);
    await store.upsertCandles([candle(T0 + 99 * MIN, { symbol: 'ETHUSDT' })]);
    expect(await store.lastCandle('BTCUSDT', '1m')).toEqual(all[3]);
    expect(await store.lastCandle('BTCUSDT', '5m')).toBeUndefined();
  });

  it('round-trips instruments and updates them in place', async () => {
    const eth: Instrument = { ...instrument, symbol: 'ETHUSDT', baseAsset: 'ETH', priceScale: 2, qtyScale: 4, stepSize: '0.00010000' };
    await store.upsertInstruments([eth, instrument]);
    expect(await store.instruments()).toEqual([instrument, eth]);
    await store.upsertInstruments([{ ...instrument, status: 'BREAK' }]);
    expect(await store.instruments()).toEqual([{ ...instrument, status: 'BREAK' }, eth]);
  });

  it('gets and sets state', async () => {
    expect(await store.getState('history:BTCUSDT')).toBeUndefined();
    await store.setState('history:BTCUSDT', '{"next":1}');
    await store.setState('other', '');
    await store.setState('history:BTCUSDT', '{"next":2}');
    expect(await store.getState('history:BTCUSDT')).toBe('{"next":2}');
    expect(await store.getState('other')).toBe('');
  });

  it('writes nothing of a batch that fails midway', async () => {
    const s = await backend.make({ chunkSize: 2 });
    const before = candle(T0);
    await s.upsertCandles([before]);
    // A fractional raw is refused by the database (STRICT INTEGER / BIGINT) on the 4th row,
    // after rows 1-3 (and, on PostgreSQL, a whole first statement) were already written.
    const batch = [candle(T0 + MIN), { ...before, close: 1 }, candle(T0 + 2 * MIN), candle(T0 + 3 * MIN, { open: 1.5 }), candle(T0 + 4 * MIN)];
    await expect(s.upsertCandles(batch)).rejects.toBeInstanceOf(StoreError);
    expect(await s.candles({ symbol: 'BTCUSDT', interval: '1m' })).toEqual([before]);
    // The store is still usable after the rollback.
    await s.upsertCandles([candle(T0 + MIN)]);
    expect(await s.candles({ symbol: 'BTCUSDT', interval: '1m' })).toHaveLength(2);
  });

  it('refuses to be used after close', async () => {
    const s = await backend.make();
    await s.close();
    await expect(s.getState('x')).rejects.toBeInstanceOf(StoreError);
    await expect(s.appendEvents('x', [ev(1)])).rejects.toBeInstanceOf(StoreError);
  });

  describe('event log', () => {
    it('appends, reads oldest first, pages by seq and tracks the last seq per stream', async () => {
      expect(await store.lastSeq('paper:a')).toBe(0);
      expect(await store.readEvents('paper:a')).toEqual([]);
      const a = Array.from({ length: 25 }, (_, i) => ev(i + 1));
      await store.appendEvents('paper:a', a.slice(0, 10));
      await store.appendEvents('paper:a', a.slice(10, 11));
      await store.appendEvents('paper:a', a.slice(11));
      await store.appendEvents('paper:b', [ev(1, 'b')]);
      await store.appendEvents('paper:a', []);
      expect(await store.lastSeq('paper:a')).toBe(25);
      expect(await store.lastSeq('paper:b')).toBe(1);
      expect(await store.readEvents('paper:a')).toEqual(a);
      expect(await store.readEvents('paper:a', 11, 5)).toEqual(a.slice(10, 15));
      expect(await store.readEvents('paper:a', 24, 100)).toEqual(a.slice(23));
      expect(await store.readEvents('paper:a', 26)).toEqual([]);
      expect(await store.readEvents('paper:a', 1, 0)).toEqual([]);
      expect(await store.readEvents('paper:b')).toEqual([ev(1, 'b')]);
      // Paging through the whole log gives it back exactly.
      const paged: EventRecord[] = [];
      for (let from = 1; ; ) {
        const page = await store.readEvents('paper:a', from, 7);
        if (page.length === 0) break;
        paged.push(...page);
        from = page[page.length - 1]!.seq + 1;
      }
      expect(paged).toEqual(a);
    });

    it('keeps bodies verbatim and times beyond 2^32', async () => {
      const body = JSON.stringify({ note: 'ünïcødé ✓ "quoted" \\ back\nslash', big: (2n ** 100n).toString(), pad: 'x'.repeat(20_000) });
      const e = { seq: 1, time: 2 ** 52 + 3, kind: 'accepted', body };
      await store.appendEvents('s', [e]);
      expect(await store.readEvents('s')).toEqual([e]);
    });

    it('refuses an append that does not continue the stream, and writes nothing of it', async () => {
      await store.appendEvents('s', [ev(1), ev(2)]);
      for (const bad of [[ev(2)], [ev(4)], [ev(1)], [ev(3), ev(4), ev(2)]]) {
        const err = await store.appendEvents('s', bad).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err, JSON.stringify(bad.map((e) => e.seq))).toBeInstanceOf(StoreError);
        expect(['STORE_SEQ_CONFLICT', 'STORE_SEQ']).toContain((err as StoreError).code);
      }
      await expect(store.appendEvents('s', [ev(3), ev(5)])).rejects.toMatchObject({ code: 'STORE_SEQ' });
      await expect(store.appendEvents('s', [ev(0)])).rejects.toMatchObject({ code: 'STORE_SEQ' });
      const err = await store.appendEvents('s', [ev(2), ev(3)]).then(
        () => undefined,
        (e: unknown) => e as StoreError,
      );
      expect(err).toMatchObject({ code: 'STORE_SEQ_CONFLICT' });
      expect(err!.message).toMatch(/seq 2.*ends at 2/);
      expect(err!.hint).toMatch(/only one qtrade process/);
      expect(await store.readEvents('s')).toEqual([ev(1), ev(2)]);
      await store.appendEvents('s', [ev(3)]);
      expect(await store.lastSeq('s')).toBe(3);
    });

    it('lets exactly one of two writers racing for the same seqs win, through separate connections', async () => {
      const other = await backend.another(store);
      for (let round = 0; round < 5; round++) {
        const next = (await store.lastSeq('race')) + 1;
        const mine = [ev(next, 'mine'), ev(next + 1, 'mine')];
        const theirs = [ev(next, 'theirs'), ev(next + 1, 'theirs'), ev(next + 2, 'theirs')];
        const [x, y] = await Promise.allSettled([store.appendEvents('race', mine), other.appendEvents('race', theirs)]);
        const won = [x, y].filter((r) => r.status === 'fulfilled');
        expect(won).toHaveLength(1);
        const lost = [x, y].find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(lost.reason).toMatchObject({ code: 'STORE_SEQ_CONFLICT' });
        const got = await other.readEvents('race', next);
        expect(got).toEqual(x.status === 'fulfilled' ? mine : theirs);
      }
      const all = await store.readEvents('race');
      expect(all.map((e) => e.seq)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
    });

    it('appends a large batch in one transaction (multi-statement on PostgreSQL)', async () => {
      const s = await backend.make({ chunkSize: 3 });
      // 75: two full multi-row statements and a remainder on SQLite, 25 statements on PostgreSQL.
      const batch = Array.from({ length: 75 }, (_, i) => ev(i + 1));
      await s.appendEvents('big', batch);
      expect(await s.readEvents('big')).toEqual(batch);
      await expect(s.appendEvents('big', [{ ...ev(76), time: 1.5 }])).rejects.toMatchObject({ code: 'STORE_VALUE' });
      if (backend.name === 'postgres') {
        // A later chunk the server refuses (NUL is not valid in PostgreSQL text) rolls back the earlier ones.
        const bad = Array.from({ length: 10 }, (_, i) => ev(i + 76));
        bad[7] = { ...bad[7]!, body: 'nul \u0000 byte' };
        await expect(s.appendEvents('big', bad)).rejects.toBeInstanceOf(StoreError);
      }
      expect(await s.lastSeq('big')).toBe(75);
    });
  });
});

describe('SQLite specifics', () => {
  it('reopens a file and reads back what it wrote, in WAL mode', async () => {
    const file = path.join(tmpDir(), 'nested', 'deeper', 'qtrade.db');
    const a = await openStore(`sqlite:${file}`);
    const batch = series(3, { quoteVolume: 2n ** 70n });
    await a.upsertCandles(batch);
    await a.upsertInstruments([instrument]);
    await a.setState('k', 'v');
    await a.close();

    const b = await openStore(`sqlite:${file}`);
    try {
      expect(b.kind).toBe('sqlite');
      expect(await b.candles({ symbol: 'BTCUSDT', interval: '1m' })).toEqual(batch);
      expect(await b.instruments()).toEqual([instrument]);
      expect(await b.getState('k')).toBe('v');
    } finally {
      await b.close();
    }
    expect(fs.readFileSync(file).subarray(18, 20)).toEqual(Buffer.from([2, 2])); // WAL file format
  });

  it('opens sqlite::memory: and sqlite:///abs paths', async () => {
    const m = await openStore('sqlite::memory:');
    await m.setState('a', 'b');
    expect(await m.getState('a')).toBe('b');
    await m.close();
    const dir = tmpDir();
    expect(parseStoreUrl(`sqlite://${dir}/x.db`)).toEqual({ kind: 'sqlite', file: `${dir}/x.db` });
  });

  it('upgrades a version-1 file (candles only) to the event log, keeping its data', async () => {
    const file = path.join(tmpDir(), 'v1.db');
    const s = await openStore(`sqlite:${file}`);
    await s.upsertCandles([candle(T0)]);
    await s.close();
    const { default: Database } = await import('better-sqlite3');
    const raw = new Database(file);
    raw.exec('DROP TABLE events; UPDATE schema_version SET version = 1');
    raw.close();
    const b = await openStore(`sqlite:${file}`);
    try {
      expect(await b.candles({ symbol: 'BTCUSDT', interval: '1m' })).toEqual([candle(T0)]);
      await b.appendEvents('s', [ev(1)]);
      expect(await b.readEvents('s')).toEqual([ev(1)]);
    } finally {
      await b.close();
    }
    const check = new Database(file);
    expect(check.prepare('SELECT version FROM schema_version').get()).toEqual({ version: 2 });
    check.close();
  });

  it('refuses a database whose schema is newer than this code', async () => {
    const file = path.join(tmpDir(), 'future.db');
    const s = await openStore(`sqlite:${file}`);
    await s.close();
    const { default: Database } = await import('better-sqlite3');
    const raw = new Database(file);
    raw.prepare('UPDATE schema_version SET version = 99').run();
    raw.close();
    await expect(openStore(`sqlite:${file}`)).rejects.toMatchObject({ code: 'STORE_SCHEMA' });
  });
});

describe('openStore URLs and errors', () => {
  it('rejects bad URLs with a usage error and a hint', async () => {
    for (const url of ['mysql://x', 'sqlite:', 'sqlite://host/file.db', '', 'postgres://u:pw@[bad/x']) {
      const err = await openStore(url).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, url).toBeInstanceOf(UsageError);
      expect((err as UsageError).hint).toMatch(/sqlite:/);
      expect((err as Error).message).not.toContain(':pw@');
    }
  });

  it('masks passwords in URLs', () => {
    expect(maskUrl('postgres://bob:s3cret@db:5432/q')).toBe('postgres://bob:***@db:5432/q');
    expect(maskUrl('postgres://bob@db/q')).toBe('postgres://bob@db/q');
    expect(maskUrl('postgres://bob:s3cret@[bad/q')).toBe('postgres://bob:***@[bad/q');
  });

  it('names host and port but never the password when it cannot connect', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const err = await openStore('postgres://alice:Sup3rS3cretPw@127.0.0.1:1/qdb').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreError);
    const e = err as StoreError;
    expect(e.code).toBe('STORE_CONNECT');
    expect(e.message).toContain('127.0.0.1:1');
    expect(e.message).toContain('qdb');
    expect(`${e.message} ${e.hint} ${String((e.cause as Error | undefined)?.stack)}`).not.toContain('Sup3rS3cretPw');
  });
});

describe('PostgreSQL specifics', () => {
  beforeAll(requirePostgres);
  const schemas: string[] = [];
  afterAll(() => dropSchemas(schemas));

  it('opens postgres:// and postgresql:// URLs into the ?schema= it names, and reopens', async () => {
    const schema = nextSchema();
    schemas.push(schema);
    const url = new URL(PG_URL);
    url.searchParams.set('schema', schema);
    const a = await openStore(url.toString());
    expect(a.kind).toBe('postgres');
    expect((a as PostgresStore).schema).toBe(schema);
    await a.upsertCandles(series(2, { quoteVolume: 2n ** 80n }));
    await a.close();
    url.protocol = 'postgresql:';
    const b = await openStore(url.toString());
    try {
      expect(await b.candles({ symbol: 'BTCUSDT', interval: '1m' })).toEqual(series(2, { quoteVolume: 2n ** 80n }));
    } finally {
      await b.close();
    }
  });

  it('migrates safely when two processes start at once', async () => {
    const schema = nextSchema();
    schemas.push(schema);
    const a = new PostgresStore({ connectionString: PG_URL, schema });
    const b = new PostgresStore({ connectionString: PG_URL, schema });
    try {
      await Promise.all([a.migrate(), b.migrate()]);
      await a.setState('k', '1');
      expect(await b.getState('k')).toBe('1');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('masks the password when the server refuses the database', async () => {
    const url = new URL(PG_URL);
    url.password = 'Hunter2Secret';
    url.pathname = `/${uniqueSchema("qtrade_no_such_db")}`;
    const err = await openStore(url.toString()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreError);
    const e = err as StoreError;
    expect(e.code).toBe('STORE_CONNECT');
    expect(e.message).toContain(`${url.hostname}:${url.port || 5432}`);
    expect(e.hint).toMatch(/createdb|database/);
    expect(`${e.message} ${e.hint} ${String((e.cause as Error | undefined)?.stack)}`).not.toContain('Hunter2Secret');
  });

  it('rejects a schema name that is not a plain identifier', () => {
    expect(() => new PostgresStore({ connectionString: PG_URL, schema: 'x"; DROP TABLE y; --' })).toThrow(UsageError);
  });
});

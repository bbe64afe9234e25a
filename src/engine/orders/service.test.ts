import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../bus.js';
import { StoreError } from '../errors.js';
import { parseFixed } from '../fixed.js';
import { LocalOrderBook } from '../market/orderbook.js';
import type { Trade } from '../market/types.js';
import { PostgresStore } from '../store/postgres.js';
import { SqliteStore } from '../store/sqlite.js';
import type { EventRecord, Store } from '../store/types.js';
import { parseAmount } from './amounts.js';
import { bundledMarket } from './bundled-filters.js';
import { encodeEventV2 } from './event-codec.js';
import { decodeEvent, encodeEvent, type OrderEvent } from './events.js';
import { PaperEngine } from './paper-engine.js';
import { LOG_FORMAT, OrderService, accountConfigKey, accountStream, parseBalanceSpec, type OrderServiceOptions } from './service.js';
import type { OrderRequest } from './types.js';
import { PG_URL, dropSchemas, requirePostgres, uniqueSchema } from '../../../test/helpers/pg.js';


const { instruments, filters } = bundledMarket();
const btc = instruments.get('BTCUSDT');
const P = (s: string): number => parseFixed(s, btc.priceScale);
const Q = (s: string): number => parseFixed(s, btc.qtyScale);
const A = parseAmount;
const T0 = Date.parse('2024-08-08T12:00:00Z');
const INITIAL = { USDT: A('1000000'), BTC: A('10') };

function book(mid: number, id: number): LocalOrderBook {
  const b = new LocalOrderBook('BTCUSDT');
  const asks = [];
  const bids = [];
  for (let i = 0; i < 10; i++) {
    asks.push({ price: mid + 1 + i * 100, qty: Q('0.5') });
    bids.push({ price: mid - 1 - i * 100, qty: Q('0.5') });
  }
  b.applySnapshot({ symbol: 'BTCUSDT', lastUpdateId: id, asks, bids });
  return b;
}

let tradeId = 1;
function trade(price: number, qty: string, time: number, buyerMaker = false): Trade {
  const id = tradeId++;
  return { symbol: 'BTCUSDT', id, price, qty: Q(qty), firstId: id, lastId: id, time, buyerMaker };
}

const limit = (side: 'BUY' | 'SELL', price: string, qty: string, clientOrderId?: string): OrderRequest => ({
  symbol: 'BTCUSDT',
  side,
  type: 'LIMIT',
  timeInForce: 'GTC',
  price: P(price),
  qty: Q(qty),
  ...(clientOrderId === undefined ? {} : { clientOrderId }),
});
const market = (side: 'BUY' | 'SELL', qty: string, clientOrderId?: string): OrderRequest => ({
  symbol: 'BTCUSDT',
  side,
  type: 'MARKET',
  qty: Q(qty),
  ...(clientOrderId === undefined ? {} : { clientOrderId }),
});

/**
 * A real store that also records what it has committed, and can fail one append after
 * committing it (a lost COMMIT acknowledgement, which no local server can produce on demand).
 */
class ProbeStore implements Store {
  readonly committed = new Map<string, number>();
  loseNextAck = false;
  constructor(readonly inner: Store) {}
  get kind(): 'sqlite' | 'postgres' {
    return this.inner.kind;
  }
  migrate = () => this.inner.migrate();
  upsertCandles: Store['upsertCandles'] = (c) => this.inner.upsertCandles(c);
  candles: Store['candles'] = (q) => this.inner.candles(q);
  lastCandle: Store['lastCandle'] = (s, i) => this.inner.lastCandle(s, i);
  upsertInstruments: Store['upsertInstruments'] = (l) => this.inner.upsertInstruments(l);
  instruments: Store['instruments'] = () => this.inner.instruments();
  getState: Store['getState'] = (k) => this.inner.getState(k);
  setState: Store['setState'] = (k, v) => this.inner.setState(k, v);
  readEvents: Store['readEvents'] = (s, f, l) => this.inner.readEvents(s, f, l);
  lastSeq: Store['lastSeq'] = (s) => this.inner.lastSeq(s);
  close = () => this.inner.close();
  async appendEvents(stream: string, events: ReadonlyArray<EventRecord>): Promise<void> {
    await this.inner.appendEvents(stream, events);
    if (events.length) this.committed.set(stream, events[events.length - 1]!.seq);
    if (this.loseNextAck) {
      this.loseNextAck = false;
      throw new StoreError('STORE_FAILED', 'connection lost while committing (injected after the commit)');
    }
  }
}

interface Backend {
  name: 'sqlite' | 'postgres';
  make(): Promise<Store>;
  /** A second, independent handle on the same database: what a restarted process opens. */
  reopen(s: Store): Promise<Store>;
  /** Takes the database's write lock from another connection until the returned function runs. */
  blockWrites(s: Store): Promise<() => Promise<void>>;
  cleanup(): Promise<void>;
}

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

function sqliteBackend(): Backend {
  const open: Store[] = [];
  const track = async (s: SqliteStore): Promise<Store> => {
    await s.migrate();
    open.push(s);
    return s;
  };
  return {
    name: 'sqlite',
    make() {
      const d = fs.mkdtempSync(path.join(os.tmpdir(), 'qtrade-orders-'));
      tmpDirs.push(d);
      return track(new SqliteStore(path.join(d, 'q.db'), { busyTimeoutMs: 100 }));
    },
    reopen: (s) => track(new SqliteStore((s as SqliteStore).file, { busyTimeoutMs: 100 })),
    async blockWrites(s) {
      const raw = new Database((s as SqliteStore).file);
      raw.exec('BEGIN IMMEDIATE');
      return async () => {
        raw.exec('COMMIT');
        raw.close();
      };
    },
    async cleanup() {
      for (const s of open.splice(0)) await s.close();
    },
  };
}

function postgresBackend(): Backend {
  const open: PostgresStore[] = [];
  const url = new URL(PG_URL);
  url.searchParams.set('options', '-c lock_timeout=200');
  const track = async (s: PostgresStore): Promise<Store> => {
    await s.migrate();
    open.push(s);
    return s;
  };
  return {
    name: 'postgres',
    make: () => track(new PostgresStore({ connectionString: url.toString(), schema: uniqueSchema('qtrade_svc') })),
    reopen: (s) => track(new PostgresStore({ connectionString: url.toString(), schema: (s as PostgresStore).schema })),
    async blockWrites(s) {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query('BEGIN');
      await c.query(`LOCK TABLE "${(s as PostgresStore).schema}".events IN EXCLUSIVE MODE`);
      return async () => {
        await c.query('COMMIT');
        await c.end();
      };
    },
    async cleanup() {
      const schemas = new Set(open.map((s) => s.schema));
      for (const s of open.splice(0)) await s.close();
      await dropSchemas(schemas);
    },
  };
}


async function logOf(store: Store, stream: string): Promise<OrderEvent[]> {
  const rows = await store.readEvents(stream);
  return rows.map((r) => decodeEvent(r.body));
}

/** The pure engine rebuilt from the stored log: what the service's memory must equal. */
async function pureSnapshot(store: Store, svc: OrderService): Promise<unknown> {
  const events = await logOf(store, svc.stream);
  return PaperEngine.fromEvents({ instruments: instruments.all(), filters, initialBalances: { ...svc.initialBalances } }, events).snapshot();
}

describe.each([
  { backend: sqliteBackend(), needs: async () => {} },
  { backend: postgresBackend(), needs: requirePostgres },
])('OrderService on $backend.name', ({ backend, needs }) => {
  beforeAll(needs);
  afterEach(() => backend.cleanup());

  async function open(store: Store, over: Partial<OrderServiceOptions> = {}): Promise<OrderService> {
    const svc = await OrderService.open({ store, instruments, filters, initialBalances: INITIAL, ...over });
    svc.onBook('BTCUSDT', book(P('60000'), 1));
    return svc;
  }

  it('stamps the log format in the account config and refuses a log written in a newer format', async () => {
    const store = await backend.make();
    await (await open(store)).close();
    const cfg = JSON.parse((await store.getState(accountConfigKey('default')))!) as { format: number };
    expect(cfg.format).toBe(LOG_FORMAT);
    await store.setState(accountConfigKey('default'), JSON.stringify({ ...cfg, format: LOG_FORMAT + 1 }));
    const err = await OrderService.open({ store, instruments, filters }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('STORE_NEWER_FORMAT');
    expect((err as StoreError).message).toContain(`log format ${LOG_FORMAT + 1}; this one reads up to ${LOG_FORMAT}`);
  });

  it('continues a log an older qtrade wrote in format 2: replays it exactly, stamps the new format, appends in format 3', async () => {
    const store = await backend.make();
    // What a format-2 qtrade leaves: its config stamp and every row as a JSON object.
    const engine = new PaperEngine({ instruments: instruments.all(), filters, initialBalances: INITIAL });
    engine.onBook(book(P('60000'), 1));
    const old = [
      ...engine.submit(limit('BUY', '59990', '0.2', 'old-1'), T0 + 1).events,
      ...engine.submit(limit('SELL', '60010', '0.1', 'old-2'), T0 + 2).events,
      ...engine.submit(market('BUY', '0.05'), T0 + 3).events,
      ...engine.onTrade(trade(P('59980'), '0.1', T0 + 4)),
    ];
    const initialBalances = Object.fromEntries(Object.entries(INITIAL).map(([k, v]) => [k, v.toString()]));
    await store.setState(accountConfigKey('default'), JSON.stringify({ generation: 1, format: 2, initialBalances }));
    await store.appendEvents(accountStream('default', 1), old.map((ev) => ({ seq: ev.seq, time: ev.time, kind: ev.kind, body: encodeEventV2(ev) })));

    const svc = await open(store);
    expect(svc.snapshot()).toEqual(engine.snapshot());
    const cfg = JSON.parse((await store.getState(accountConfigKey('default')))!) as { format: number };
    expect(cfg.format).toBe(LOG_FORMAT);
    const r = await svc.submit(limit('SELL', '60020', '0.1', 'new-1'), T0 + 5);
    expect(r.ok).toBe(true);
    expect(svc.order({ clientOrderId: 'old-1' })?.status).toBe('PARTIALLY_FILLED');
    const rows = await store.readEvents(svc.stream);
    expect(rows.slice(0, old.length).every((row) => row.body.startsWith('{'))).toBe(true);
    expect(rows.slice(old.length).every((row) => row.body.startsWith('['))).toBe(true);
    await svc.close();
    // Restarted: the mixed log rebuilds the acked state, and a duplicate clientOrderId from either part is recognised.
    const again = await open(await backend.reopen(store));
    expect(again.snapshot()).toEqual(svc.snapshot());
    expect((await again.submit(limit('BUY', '59990', '0.2', 'old-1'), T0 + 6)).duplicate).toBe(true);
    expect((await again.submit(limit('SELL', '60020', '0.1', 'new-1'), T0 + 6)).duplicate).toBe(true);
    await again.close();
  });

  it('acks and publishes only after the events are committed, in seq order; a reopened service equals the acked state', async () => {
    const store = new ProbeStore(await backend.make());
    const bus = new Bus();
    const svc = await open(store, { bus });
    const stream = svc.stream;
    expect(stream).toBe(accountStream('default', 1));
    const published: number[] = [];
    const early: string[] = [];
    bus.subscribe('order.event', (ev) => {
      published.push(ev.seq);
      if ((store.committed.get(stream) ?? 0) < ev.seq) early.push(`published ${ev.seq} before commit`);
    });
    const fills: number[] = [];
    bus.subscribe('fill', (f) => fills.push(f.tradeId));
    const updates: string[] = [];
    bus.subscribe('order.update', (o) => updates.push(`${o.orderId}:${o.status}`));

    const acks: Array<Promise<unknown>> = [];
    const ack = <T extends { events: OrderEvent[] } | OrderEvent[]>(p: Promise<T>): void => {
      acks.push(
        p.then((r) => {
          const events = Array.isArray(r) ? r : r.events;
          const last = events.length ? events[events.length - 1]!.seq : 0;
          if ((store.committed.get(stream) ?? 0) < last) early.push(`acked ${last} before commit`);
        }),
      );
    };
    let t = T0;
    ack(svc.onTrade(trade(P('60000'), '0.01', ++t)));
    for (let i = 0; i < 60; i++) {
      ack(svc.submit(limit('BUY', String(59_990 - (i % 7) * 5), '0.01', `b${i}`), ++t));
      ack(svc.submit(limit('SELL', String(60_010 + (i % 5) * 5), '0.01', `s${i}`), ++t));
      if (i % 4 === 0) ack(svc.submit(market(i % 8 ? 'BUY' : 'SELL', '0.02'), ++t));
      if (i % 6 === 5) ack(svc.cancel('BTCUSDT', { clientOrderId: `b${i - 3}` }, ++t));
      if (i % 10 === 9) ack(svc.onTrade(trade(P(i % 20 === 9 ? '59970' : '60030'), '0.05', ++t)));
    }
    await Promise.all(acks);
    expect(early).toEqual([]);
    const last = await store.lastSeq(stream);
    expect(published).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(fills.length).toBeGreaterThan(10);
    expect(updates).toContain('1:NEW');
    expect(updates.some((u) => u.endsWith(':FILLED'))).toBe(true);
    expect(svc.durableSeq).toBe(last);
    const stats = svc.stats();
    expect(stats.batches).toBeLessThan(stats.calls);
    expect(stats.events).toBe(last);

    // "Crash": the process goes away without closing anything; a new one opens the same database.
    const acked = svc.snapshot();
    const again = await open(await backend.reopen(store.inner));
    expect(again.snapshot()).toEqual(acked);
    expect(await pureSnapshot(store, again)).toEqual(acked);
    expect(again.durableSeq).toBe(last);
  });

  it('keeps clientOrderId idempotent within a batch and across a restart', async () => {
    const store = await backend.make();
    const svc = await open(store);
    const [a, b] = await Promise.all([svc.submit(limit('BUY', '59000', '0.1', 'mine-1'), T0), svc.submit(limit('BUY', '58000', '0.2', 'mine-1'), T0 + 1)]);
    expect(a.ok && !a.duplicate).toBe(true);
    expect(b.duplicate).toBe(true);
    expect(b.order?.orderId).toBe(a.order!.orderId);
    const seq = await store.lastSeq(svc.stream);

    const again = await open(await backend.reopen(store));
    const c = await again.submit(market('SELL', '0.5', 'mine-1'), T0 + 2);
    expect(c).toMatchObject({ ok: true, duplicate: true, events: [] });
    expect(c.order).toMatchObject({ orderId: a.order!.orderId, price: P('59000') });
    expect(c.order?.origQty).toBe(Q('0.1'));
    expect(await store.lastSeq(again.stream)).toBe(seq);
    // A new id still places a new order, numbered after the restored ones.
    const d = await again.submit(limit('BUY', '59000', '0.1', 'mine-2'), T0 + 3);
    expect(d.order!.orderId).toBe(a.order!.orderId + 1);
  });

  it('rejects every call of a batch whose write fails, and rebuilds memory to equal the log', async () => {
    const store = await backend.make();
    const bus = new Bus();
    const seen: number[] = [];
    bus.subscribe('order.event', (ev) => seen.push(ev.seq));
    const svc = await open(store, { bus });
    await svc.submit(limit('BUY', '59000', '0.1', 'ok-1'), T0);
    const before = svc.snapshot();
    const seq = await store.lastSeq(svc.stream);

    const unblock = await backend.blockWrites(store);
    let blocked = true;
    try {
      const results = await Promise.allSettled([
        svc.submit(limit('BUY', '59500', '0.1', 'lost-1'), T0 + 1),
        svc.submit(market('BUY', '0.3', 'lost-2'), T0 + 2),
        svc.cancel('BTCUSDT', { clientOrderId: 'ok-1' }, T0 + 3),
      ]);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(StoreError);
      }
      await svc.settled();
      // Memory was rebuilt from the log: none of the failed calls left a trace.
      expect(svc.snapshot()).toEqual(before);
      expect(await pureSnapshot(store, svc)).toEqual(svc.snapshot());
      expect(svc.order({ clientOrderId: 'lost-1' })).toBeUndefined();
      expect(svc.order({ clientOrderId: 'ok-1' })?.status).toBe('NEW');
      expect(svc.stats().recoveries).toBe(1);
      expect(seen).toEqual(Array.from({ length: seq }, (_, i) => i + 1));

      await unblock();
      blocked = false;
    } finally {
      if (blocked) await unblock();
    }
    const r = await svc.submit(limit('BUY', '59500', '0.1', 'lost-1'), T0 + 4);
    expect(r.ok && !r.duplicate).toBe(true);
    const log = await logOf(store, svc.stream);
    expect(log.map((e) => e.seq)).toEqual(Array.from({ length: log.length }, (_, i) => i + 1));
    expect(await pureSnapshot(store, svc)).toEqual(svc.snapshot());
  });

  it('follows the log when a commit succeeded but its acknowledgement was lost', async () => {
    const store = new ProbeStore(await backend.make());
    const svc = await open(store);
    store.loseNextAck = true;
    const results = await Promise.allSettled([svc.submit(limit('BUY', '59000', '0.1', 'x-1'), T0), svc.submit(limit('SELL', '61000', '0.1', 'x-2'), T0 + 1)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await svc.settled();
    // The log has them, so memory has them, and a retry with the same clientOrderId is answered from it.
    expect(await pureSnapshot(store, svc)).toEqual(svc.snapshot());
    const retry = await svc.submit(limit('BUY', '59000', '0.1', 'x-1'), T0 + 2);
    expect(retry.duplicate).toBe(true);
    expect(svc.openOrders().map((o) => o.clientOrderId)).toEqual(['x-1', 'x-2']);
  });

  it('keeps seq contiguous under concurrent clients, batching their calls into fewer transactions', async () => {
    const store = await backend.make();
    const svc = await open(store);
    let t = T0;
    const results: OrderEvent[][] = [];
    const client = async (c: number): Promise<void> => {
      for (let i = 0; i < 40; i++) {
        const side = (i + c) % 2 ? 'BUY' : 'SELL';
        const px = side === 'BUY' ? 59_950 + ((i * 7 + c) % 40) : 60_050 - ((i * 7 + c) % 40);
        const r = await (i % 9 === 8 ? svc.submit(market(side, '0.01'), ++t) : svc.submit(limit(side, String(px), '0.01', `c${c}-${i}`), ++t));
        results.push(r.events);
        if (i % 5 === 4) results.push(await svc.onTrade(trade(P(String(59_950 + ((i * 13) % 100))), '0.03', ++t)));
        if (i % 7 === 6) results.push((await svc.cancel('BTCUSDT', { clientOrderId: `c${c}-${i - 2}` }, ++t)).events);
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, c) => client(c)));
    const rows = await store.readEvents(svc.stream);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1));
    // Every acknowledged event is stored exactly as it was returned, once.
    const returned = results.flat();
    expect(returned.length).toBe(rows.length);
    for (const ev of returned) expect(rows[ev.seq - 1]!.body).toBe(encodeEvent(ev));
    const stats = svc.stats();
    expect(stats.batches).toBeLessThan(stats.calls);
    expect(stats.maxBatchEvents).toBeGreaterThan(4);
    expect(await pureSnapshot(store, svc)).toEqual(svc.snapshot());
  });

  it('with only fills and rejections listened to, publishes every fill and engine rejection of the calls', async () => {
    const store = await backend.make();
    const bus = new Bus();
    const fills: number[] = [];
    const rejected: string[] = [];
    bus.subscribe('fill', (f) => fills.push(f.tradeId));
    bus.subscribe('order.rejected', (r) => rejected.push(`${r.clientOrderId}:${r.code}`));
    const svc = await open(store, { bus });
    let t = T0;
    const calls: Array<Promise<{ events: OrderEvent[] } | OrderEvent[]>> = [svc.onTrade(trade(P('60000'), '0.01', ++t))];
    for (let i = 0; i < 30; i++) {
      calls.push(svc.submit(limit('BUY', String(59_990 - (i % 7) * 5), '0.01', `b${i}`), ++t));
      // Off the tick size: the engine rejects it (-1013), a 'rejected' event in the log.
      if (i % 5 === 0) calls.push(svc.submit({ ...limit('SELL', '60010', '0.01', `bad${i}`), price: P('60010') + 0.5 }, ++t));
      if (i % 3 === 0) calls.push(svc.submit(market(i % 2 ? 'BUY' : 'SELL', '0.02'), ++t));
      if (i % 10 === 9) calls.push(svc.onTrade(trade(P('59970'), '0.05', ++t)));
    }
    const events = (await Promise.all(calls)).flatMap((r) => (Array.isArray(r) ? r : r.events));
    const wantFills = events.flatMap((ev) => (ev.kind === 'fill' ? [ev.fill.tradeId] : []));
    const wantRejected = events.flatMap((ev) => (ev.kind === 'rejected' ? [`${ev.clientOrderId}:${ev.code}`] : []));
    expect(wantFills.length).toBeGreaterThan(10);
    expect(wantRejected).toHaveLength(6);
    expect(fills).toEqual(wantFills);
    expect(rejected).toEqual(wantRejected);
  });

  it('lets a pre-trade hook refuse orders before the engine, naming the rule', async () => {
    const store = await backend.make();
    const bus = new Bus();
    const rejected: unknown[] = [];
    bus.subscribe('order.rejected', (r) => rejected.push(r));
    const views: number[] = [];
    const svc = await open(store, {
      bus,
      preTrade: (req, view) => {
        views.push(view.openOrders().length);
        return (req.qty ?? 0) > Q('1') ? { code: -2010, msg: 'order qty 2.00000000 BTC exceeds max 1.00000000', rule: 'maxOrderQty' } : undefined;
      },
    });
    const ok = await svc.submit(limit('BUY', '59000', '0.5', 'small'), T0);
    const seq = await store.lastSeq(svc.stream);
    const no = await svc.submit(limit('BUY', '59000', '2', 'big'), T0 + 1);
    expect(no).toMatchObject({ ok: false, rule: 'maxOrderQty', rejection: { code: -2010 }, events: [] });
    expect(await store.lastSeq(svc.stream)).toBe(seq);
    expect(rejected).toEqual([{ symbol: 'BTCUSDT', clientOrderId: 'big', code: -2010, msg: 'order qty 2.00000000 BTC exceeds max 1.00000000', rule: 'maxOrderQty', time: T0 + 1 }]);
    // A known clientOrderId is answered without asking the hook again.
    const dup = await svc.submit(limit('BUY', '59000', '5', 'small'), T0 + 2);
    expect(dup).toMatchObject({ duplicate: true, order: { orderId: ok.order!.orderId } });
    expect(views).toEqual([0, 1]);
    // Cancel-replace: the cancel stands, the vetoed replacement does not reach the engine.
    const cr = await svc.cancelReplace({ symbol: 'BTCUSDT', cancel: { clientOrderId: 'small' }, order: limit('BUY', '59000', '3', 'bigger') }, T0 + 3);
    expect(cr).toMatchObject({ ok: false, rule: 'maxOrderQty', rejection: { code: -2021 }, cancel: { ok: true } });
    expect(svc.order({ clientOrderId: 'small' })?.status).toBe('CANCELED');
    expect(svc.order({ clientOrderId: 'bigger' })).toBeUndefined();
    expect(await pureSnapshot(store, svc)).toEqual(svc.snapshot());
  });

  it('resets to a fresh generation with new balances, keeping the old log', async () => {
    const store = await backend.make();
    const svc = await open(store);
    await svc.submit(limit('BUY', '59000', '0.1'), T0);
    await svc.submit(market('BUY', '0.1'), T0 + 1);
    const oldStream = svc.stream;
    const oldLen = await store.lastSeq(oldStream);
    const { asset, amount } = parseBalanceSpec('10000USDT');
    await svc.reset({ balances: { [asset]: amount } });
    expect(svc.generation).toBe(2);
    expect(svc.stream).toBe(accountStream('default', 2));
    expect(svc.balances()).toEqual([{ asset: 'USDT', free: A('10000'), locked: 0n }]);
    expect(svc.openOrders()).toEqual([]);
    const r = await svc.submit(limit('BUY', '59000', '0.1'), T0 + 2);
    expect(r.order?.orderId).toBe(1);
    expect(await store.lastSeq(oldStream)).toBe(oldLen);

    const again = await open(await backend.reopen(store));
    expect(again.generation).toBe(2);
    expect(again.initialBalances).toEqual({ USDT: A('10000') });
    expect(again.snapshot()).toEqual(svc.snapshot());
  });

  it('refuses a second writer through the seq check, which then rebuilds from the log', async () => {
    const store = await backend.make();
    const a = await open(store);
    const b = await open(await backend.reopen(store));
    await a.submit(limit('BUY', '59000', '0.1', 'from-a'), T0);
    await expect(b.submit(limit('BUY', '59000', '0.1', 'from-b'), T0 + 1)).rejects.toMatchObject({ code: 'STORE_SEQ_CONFLICT' });
    await b.settled();
    expect(b.order({ clientOrderId: 'from-a' })).toBeDefined();
    expect(b.order({ clientOrderId: 'from-b' })).toBeUndefined();
    expect(b.snapshot()).toEqual(a.snapshot());
  });
});

describe('parseBalanceSpec', () => {
  it('reads AMOUNT ASSET, with a separator when the asset has digits', () => {
    expect(parseBalanceSpec('10000USDT')).toEqual({ asset: 'USDT', amount: A('10000') });
    expect(parseBalanceSpec('0.5 btc')).toEqual({ asset: 'BTC', amount: A('0.5') });
    expect(parseBalanceSpec('100:1INCH')).toEqual({ asset: '1INCH', amount: A('100') });
    expect(parseBalanceSpec('100 1inch')).toEqual({ asset: '1INCH', amount: A('100') });
    for (const bad of ['USDT', '-5USDT', '1.2.3USDT', '', '1e5USDT']) expect(() => parseBalanceSpec(bad), bad).toThrow(/AMOUNT ASSET/);
  });
});

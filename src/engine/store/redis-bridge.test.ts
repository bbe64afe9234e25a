import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deletePrefix, REDIS_URL, startRedisRelay, uniquePrefix } from '../../../test/helpers/redis-bus.js';
import type { Candle } from '../candles/types.js';
import { SimClock } from '../clock.js';
import { VenueError } from '../errors.js';
import { createKernel } from '../kernel.js';
import { Instruments } from '../market/instruments.js';
import { LocalOrderBook } from '../market/orderbook.js';
import { decodeMarketEvent } from '../market/redis/codec.js';
import { busKeys } from '../market/redis/keys.js';
import type { Channel, MarketEvent, MarketSink, MarketVenue } from '../market/source.js';
import type { Instrument } from '../market/types.js';
import { RedisMarketPublisher, type PublisherStats } from './redis-bridge.js';

const BTC: Instrument = { symbol: 'BTCUSDT', baseAsset: 'BTC', quoteAsset: 'USDT', priceScale: 2, qtyScale: 5, tickSize: '0.01', stepSize: '0.00001', status: 'TRADING' };

function trade(id: number, symbol = 'BTCUSDT', time = 1_700_000_000_000 + id): MarketEvent {
  return { kind: 'trade', trade: { symbol, id, price: 4_200_000 + id, qty: 1_000 + id, firstId: id, lastId: id, time, buyerMaker: id % 2 === 0 } };
}

let redis: Redis;
const prefixes: string[] = [];
const open: RedisMarketPublisher[] = [];

function prefix(name: string): string {
  const p = uniquePrefix(name);
  prefixes.push(p);
  return p;
}

function publisher(opts: ConstructorParameters<typeof RedisMarketPublisher>[0]): RedisMarketPublisher {
  const p = new RedisMarketPublisher({ redis: { retryStrategy: () => 50 }, ...opts });
  open.push(p);
  return p;
}

async function streamEvents(key: string): Promise<MarketEvent[]> {
  const entries = (await redis.call('XRANGE', [key, '-', '+'])) as Array<[string, string[]]>;
  return entries.map(([, f]) => decodeMarketEvent(f[1]!));
}

beforeAll(() => {
  redis = new Redis(REDIS_URL, { protocol: 2 });
});
afterEach(async () => {
  for (const p of open.splice(0)) await p.close(100);
});
afterAll(async () => {
  for (const p of prefixes) await deletePrefix(p);
  redis.disconnect();
});

describe('RedisMarketPublisher', () => {
  it('appends every event to its symbol stream in order, exactly, and records the scales', async () => {
    const keyPrefix = prefix('order');
    const pub = publisher({ url: REDIS_URL, keyPrefix, instruments: new Instruments([BTC]) });
    await pub.connect();
    const events: MarketEvent[] = [
      trade(1),
      { kind: 'bookTicker', top: { symbol: 'BTCUSDT', updateId: 7, bid: { price: 1, qty: 2 }, ask: { price: 3, qty: 4 } } },
      trade(2),
      trade(1, 'ETHUSDT'),
      { kind: 'miniTicker', ticker: { symbol: 'BTCUSDT', time: 5, open: 1, high: 2, low: 1, close: 2, volume: 2n ** 70n, quoteVolume: 3n } },
    ];
    for (const ev of events) pub.publish(ev);
    await pub.flushed();
    const keys = busKeys(keyPrefix);
    expect(await streamEvents(keys.stream('BTCUSDT'))).toStrictEqual([events[0], events[1], events[2], events[4]]);
    expect(await streamEvents(keys.stream('ETHUSDT'))).toStrictEqual([events[3]]);
    expect(JSON.parse((await redis.get(keys.meta('BTCUSDT')))!)).toEqual({ priceScale: 2, qtyScale: 5 });
    expect(await redis.get(keys.meta('ETHUSDT'))).toBeNull(); // not in the instruments given
    expect(pub.stats()).toMatchObject({ published: 5, failed: 0, dropped: 0, buffered: 0, connected: true });
    await pub.ping();
  });

  it('sends a burst as a few pipelines, and trims each stream to about maxLen', async () => {
    const keyPrefix = prefix('burst');
    const pub = publisher({ url: REDIS_URL, keyPrefix, maxLen: 1_000, batchSize: 2_000 });
    await pub.connect();
    for (let i = 1; i <= 10_000; i++) pub.publish(trade(i));
    await pub.flushed();
    const s = pub.stats();
    expect(s.published).toBe(10_000);
    // 10 000 synchronous taps: one pipeline per 2 000, not one round trip per event.
    expect(s.batches).toBeLessThanOrEqual(6);
    const len = Number(await redis.call('XLEN', [busKeys(keyPrefix).stream('BTCUSDT')]));
    expect(len).toBeGreaterThanOrEqual(1_000);
    expect(len).toBeLessThan(2_000); // approximate trimming: whole nodes at a time, but bounded
    const last = await streamEvents(busKeys(keyPrefix).stream('BTCUSDT'));
    expect(last.at(-1)).toStrictEqual(trade(10_000));
  });

  it('puts a checkpoint of the mirrored book on the stream every N diffs, and keeps the latest in the depth key', async () => {
    const keyPrefix = prefix('book');
    const pub = publisher({ url: REDIS_URL, keyPrefix, checkpointEvery: 3 });
    await pub.connect();
    const snap: MarketEvent = { kind: 'depthSnapshot', snapshot: { symbol: 'BTCUSDT', lastUpdateId: 10, bids: [{ price: 100, qty: 1 }], asks: [{ price: 105, qty: 2 }] } };
    const diff = (U: number, u: number, bid: number, qty: number): MarketEvent => ({ kind: 'depth', diff: { symbol: 'BTCUSDT', eventTime: u, firstUpdateId: U, lastUpdateId: u, bids: [{ price: bid, qty }], asks: [] } });
    const diffs = [diff(5, 9, 1, 1), diff(10, 11, 101, 3), diff(12, 12, 100, 0), diff(13, 14, 99, 5), diff(15, 15, 98, 1)];
    pub.publish(snap);
    for (const d of diffs) pub.publish(d);
    await pub.flushed();
    const keys = busKeys(keyPrefix);
    const got = await streamEvents(keys.stream('BTCUSDT'));
    // The first diff is stale for the book; the third applied one (u=14) is followed by a checkpoint.
    const book = new LocalOrderBook('BTCUSDT');
    book.applySnapshot((snap as Extract<MarketEvent, { kind: 'depthSnapshot' }>).snapshot);
    for (const d of diffs.slice(0, 4)) book.applyDiff((d as Extract<MarketEvent, { kind: 'depth' }>).diff);
    const checkpoint: MarketEvent = { kind: 'depthSnapshot', snapshot: { symbol: 'BTCUSDT', lastUpdateId: 14, bids: book.levels('bid', 10), asks: book.levels('ask', 10) } };
    expect(checkpoint.snapshot.bids).toEqual([{ price: 101, qty: 3 }, { price: 99, qty: 5 }]);
    expect(got).toStrictEqual([snap, ...diffs.slice(0, 4), checkpoint, diffs[4]]);
    expect(decodeMarketEvent((await redis.get(keys.depth('BTCUSDT')))!)).toStrictEqual(checkpoint);
  });

  it('never throws into the engine when Redis is unreachable: counts, reports, bounds its buffer', async () => {
    const reports: Array<{ level: string; message: string; stats: PublisherStats }> = [];
    const pub = publisher({ url: 'redis://127.0.0.1:1', keyPrefix: prefix('down'), maxBuffered: 100, connectTimeoutMs: 300, report: (level, message, stats) => reports.push({ level, message, stats }) });
    const err = await pub.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VenueError);
    expect((err as VenueError).message).toMatch(/Redis at redis:\/\/127\.0\.0\.1:1 is unreachable/);
    for (let i = 1; i <= 250; i++) expect(() => pub.publish(trade(i))).not.toThrow();
    expect(pub.stats()).toMatchObject({ published: 0, buffered: 100, dropped: 150, connected: false });
    await expect(pub.ping()).rejects.toThrow(/Redis bus redis:\/\/127\.0\.0\.1:1 is/);
    const warns = reports.filter((r) => r.level === 'warn');
    expect(warns.map((r) => r.message)).toEqual([expect.stringMatching(/unreachable: .*ECONNREFUSED.*buffering/), expect.stringMatching(/buffer full \(100\), dropping the oldest/)]);
    await pub.close(100); // does not wait for a Redis that is not there
  });

  it('as a kernel tap on an unreachable Redis, leaves the engine running as if it were not there', async () => {
    const pub = publisher({ url: 'redis://127.0.0.1:1', keyPrefix: prefix('tap'), maxBuffered: 10, connectTimeoutMs: 200 });
    await pub.connect().catch(() => undefined);
    let sink: MarketSink | undefined;
    const venue: MarketVenue = {
      name: 'push',
      start: async (_s: string[], _c: Channel[], k: MarketSink) => void (sink = k),
      subscribe: async () => {},
      unsubscribe: async () => {},
      aggTradesFrom: async () => [],
      requestDepthSnapshot: () => {},
      stop: async () => {},
    };
    const kernel = createKernel({ clock: new SimClock(), venue, instruments: new Instruments([BTC]), tap: (ev) => pub.publish(ev) });
    const closed: Candle[] = [];
    const errors: string[] = [];
    kernel.bus.subscribe('candle.closed', (c) => closed.push(c));
    kernel.bus.subscribe('feed.error', (e) => errors.push(e.message));
    await kernel.start(['BTCUSDT'], ['aggTrade']);
    const t0 = Date.UTC(2024, 0, 1, 0, 0, 5);
    for (let i = 1; i <= 30; i++) sink!.event(trade(i, 'BTCUSDT', t0 + (i - 1) * 10_000), 0);
    await kernel.settled();
    // Minutes 0 (joined: incomplete) to 4 (still open): 1, 2 and 3 close with their six trades each.
    expect(closed.map((c) => [c.openTime - t0 + 5_000, c.trades])).toEqual([[60_000, 6], [120_000, 6], [180_000, 6]]);
    expect(errors).toEqual([]);
    expect(kernel.stats()).toMatchObject({ trades: 30, orderErrors: 0, storeErrors: 0 });
    expect(pub.stats()).toMatchObject({ published: 0, buffered: 10, dropped: 20, connected: false });
    await kernel.stop();
  });

  it('sends what it buffered during an outage once Redis is back, in order', async () => {
    const relay = await startRedisRelay();
    try {
      const keyPrefix = prefix('outage');
      const reports: string[] = [];
      const pub = publisher({ url: relay.url, keyPrefix, report: (level, message) => reports.push(`${level}: ${message}`) });
      await pub.connect();
      for (let i = 1; i <= 100; i++) pub.publish(trade(i));
      await pub.flushed();
      relay.cut({ refuse: true });
      await waitFor(() => !pub.stats().connected, 'publisher notices the outage');
      for (let i = 101; i <= 300; i++) pub.publish(trade(i));
      expect(pub.stats()).toMatchObject({ published: 100, buffered: 200 });
      relay.restore();
      await waitFor(() => pub.stats().published === 300, 'buffered events sent after reconnect');
      const ids = (await streamEvents(busKeys(keyPrefix).stream('BTCUSDT'))).map((e) => (e.kind === 'trade' ? e.trade.id : -1));
      expect(ids).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      expect(reports[0]).toMatch(/^warn: Redis bus .* unreachable/);
      expect(reports.at(-1)).toMatch(/^info: Redis bus reconnected; sending 200 buffered commands/);
    } finally {
      await relay.close();
    }
  });

  it('counts commands Redis refuses and goes on with the rest', async () => {
    const keyPrefix = prefix('refused');
    const keys = busKeys(keyPrefix);
    await redis.set(keys.stream('BTCUSDT'), 'not a stream');
    const reports: string[] = [];
    const pub = publisher({ url: REDIS_URL, keyPrefix, report: (_l, m) => reports.push(m) });
    await pub.connect();
    pub.publish(trade(1));
    pub.publish(trade(1, 'ETHUSDT'));
    await pub.flushed();
    expect(pub.stats()).toMatchObject({ published: 1, failed: 1, buffered: 0 });
    expect(reports).toEqual([expect.stringMatching(/refused market events: WRONGTYPE/)]);
    expect(await streamEvents(keys.stream('ETHUSDT'))).toStrictEqual([trade(1, 'ETHUSDT')]);
  });
});

async function waitFor(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

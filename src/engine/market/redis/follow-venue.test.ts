import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deletePrefix, REDIS_URL, startRedisRelay, uniquePrefix } from '../../../../test/helpers/redis-bus.js';
import type { FeedState } from '../../bus.js';
import type { Candle } from '../../candles/types.js';
import { SimClock } from '../../clock.js';
import { VenueError } from '../../errors.js';
import { createKernel } from '../../kernel.js';
import { RedisMarketPublisher } from '../../store/redis-bridge.js';
import { Instruments } from '../instruments.js';
import { LocalOrderBook, OrderBookSync } from '../orderbook.js';
import type { Channel, DepthDiff, MarketEvent, MarketSink } from '../source.js';
import type { Instrument, Trade } from '../types.js';
import { RedisFollowVenue, type RedisFollowVenueOptions } from './follow-venue.js';

const BTC: Instrument = { symbol: 'BTCUSDT', baseAsset: 'BTC', quoteAsset: 'USDT', priceScale: 2, qtyScale: 5, tickSize: '0.01', stepSize: '0.00001', status: 'TRADING' };
const ETH: Instrument = { ...BTC, symbol: 'ETHUSDT', baseAsset: 'ETH' };
const instruments = new Instruments([BTC, ETH]);
const T0 = Date.UTC(2024, 0, 1, 23, 54, 0);
const ALL: Channel[] = ['aggTrade', 'kline_1m', 'bookTicker', 'miniTicker', 'depth'];

function trade(id: number, time: number, symbol = 'BTCUSDT', price = 4_200_000 + id): Trade {
  return { symbol, id, price, qty: 1_000 + id, firstId: id * 2, lastId: id * 2 + 1, time, buyerMaker: id % 3 === 0 };
}
const tradeEv = (t: Trade): MarketEvent => ({ kind: 'trade', trade: t });

class Recorder implements MarketSink {
  events: MarketEvent[] = [];
  states: FeedState[] = [];
  errors: string[] = [];
  onEvent: ((ev: MarketEvent) => void) | undefined;
  event(ev: MarketEvent): void {
    this.events.push(ev);
    this.onEvent?.(ev);
  }
  state(s: FeedState): void {
    this.states.push(s);
  }
  error(message: string): void {
    this.errors.push(message);
  }
  tradeIds(symbol = 'BTCUSDT'): number[] {
    return this.events.flatMap((e) => (e.kind === 'trade' && e.trade.symbol === symbol ? [e.trade.id] : []));
  }
}

let redis: Redis;
const prefixes: string[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

function setup(name: string): { keyPrefix: string; leader: RedisMarketPublisher; follow: (opts?: Partial<RedisFollowVenueOptions>) => RedisFollowVenue } {
  const keyPrefix = uniquePrefix(name);
  prefixes.push(keyPrefix);
  const leader = new RedisMarketPublisher({ url: REDIS_URL, keyPrefix, instruments, checkpointEvery: 5 });
  cleanups.push(() => leader.close(100));
  return {
    keyPrefix,
    leader,
    follow: (opts = {}) => {
      const v = new RedisFollowVenue({ url: REDIS_URL, keyPrefix, instruments, redis: { retryStrategy: () => 50 }, ...opts });
      cleanups.push(() => v.stop());
      return v;
    },
  };
}

async function publish(pub: RedisMarketPublisher, events: MarketEvent[]): Promise<void> {
  await pub.connect();
  for (const ev of events) pub.publish(ev);
  await pub.flushed();
}

async function waitFor(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(() => {
  redis = new Redis(REDIS_URL, { protocol: 2 });
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  for (const p of prefixes) await deletePrefix(p);
  redis.disconnect();
});

describe('RedisFollowVenue', () => {
  it('delivers what the leader publishes after it started, in order, on the channels asked for', async () => {
    const { leader, follow } = setup('live');
    await publish(leader, [tradeEv(trade(1, T0)), tradeEv(trade(2, T0 + 1))]);
    const venue = follow();
    const sink = new Recorder();
    await venue.start(['btcusdt'], ['aggTrade', 'bookTicker'], sink);
    const top: MarketEvent = { kind: 'bookTicker', top: { symbol: 'BTCUSDT', updateId: 9, bid: { price: 1, qty: 2 }, ask: { price: 3, qty: 4 } } };
    const kline: MarketEvent = { kind: 'kline', candle: { symbol: 'BTCUSDT', interval: '1m', priceScale: 2, qtyScale: 5, openTime: T0, closeTime: T0 + 59_999, open: 1, high: 1, low: 1, close: 1, volume: 0n, quoteVolume: 0n, trades: 0, takerBuyVolume: 0n, takerBuyQuoteVolume: 0n, firstTradeId: -1, lastTradeId: -1, closed: true } };
    const ticker: MarketEvent = { kind: 'miniTicker', ticker: { symbol: 'BTCUSDT', time: T0, open: 1, high: 1, low: 1, close: 1, volume: 1n, quoteVolume: 1n } };
    const later = [tradeEv(trade(3, T0 + 2)), kline, top, ticker, tradeEv(trade(4, T0 + 3))];
    await publish(leader, later);
    await waitFor(() => sink.events.length >= 3, 'three events');
    expect(sink.events).toStrictEqual([later[0], top, later[4]]);
    expect(sink.states.map((s) => s.state)).toEqual(['connecting', 'open']);
    expect(sink.errors).toEqual([]);
  });

  it('with backfill, starts at the last trade before the newest trade’s minute, so that minute is whole', async () => {
    const { leader, follow } = setup('backfill');
    const trades = [trade(1, T0 + 10_000), trade(2, T0 + 50_000), trade(3, T0 + 65_000), trade(4, T0 + 90_000)];
    await publish(leader, trades.map(tradeEv));
    const sink = new Recorder();
    await follow({ backfill: () => true }).start(['BTCUSDT'], ALL, sink);
    await waitFor(() => sink.events.length >= 3, 'backfilled trades');
    expect(sink.tradeIds()).toEqual([2, 3, 4]);

    const off = new Recorder();
    await follow({ backfill: () => false }).start(['BTCUSDT'], ALL, off);
    await publish(leader, [tradeEv(trade(5, T0 + 95_000))]);
    await waitFor(() => off.events.length >= 1, 'the next live trade');
    expect(off.tradeIds()).toEqual([5]);
  });

  it('fills a trade gap from the stream when the ids are there, and answers [] when they are not', async () => {
    const { leader, follow } = setup('gaps');
    await publish(leader, Array.from({ length: 10 }, (_, i) => tradeEv(trade(i + 1, T0 + i))));
    const venue = follow();
    const sink = new Recorder();
    await venue.start(['BTCUSDT'], ALL, sink);
    expect((await venue.aggTradesFrom('btcusdt', 3, 4)).map((t) => t.id)).toEqual([3, 4, 5, 6]);
    expect(await venue.aggTradesFrom('BTCUSDT', 3, 4)).toStrictEqual([3, 4, 5, 6].map((i) => trade(i, T0 + i - 1)));
    expect(await venue.aggTradesFrom('BTCUSDT', 9, 100)).toStrictEqual([trade(9, T0 + 8), trade(10, T0 + 9)]);
    // A leader restart leaves 11..14 unpublished: nothing to fill them with.
    await publish(leader, [tradeEv(trade(15, T0 + 20)), tradeEv(trade(16, T0 + 21))]);
    await waitFor(() => sink.events.length >= 2, 'trades after the hole');
    expect(await venue.aggTradesFrom('BTCUSDT', 11, 4)).toEqual([]);
    expect(await venue.aggTradesFrom('ETHUSDT', 1, 4)).toEqual([]);
  });

  it('marks the minutes of an unfillable gap incomplete and closes the others exactly as the leader did', async () => {
    const { leader, follow } = setup('kernel');
    const venue = follow();
    const kernel = createKernel({ clock: new SimClock(), venue, instruments });
    const closed: Candle[] = [];
    const incomplete: number[] = [];
    kernel.bus.subscribe('candle.closed', (c) => closed.push(c));
    kernel.bus.subscribe('candle.incomplete', (c) => incomplete.push(c.openTime));
    await kernel.start(['BTCUSDT'], ['aggTrade']);
    // Minutes 23:54 (joined), 23:55, 23:56 (hole: ids 15, 16 never published), 23:57, 23:58.
    const trades: Trade[] = [];
    let id = 1;
    for (let m = 0; m < 5; m++) {
      for (let k = 0; k < 6; k++, id++) {
        if (id === 15 || id === 16) continue;
        trades.push(trade(id, T0 + m * 60_000 + k * 9_000, 'BTCUSDT', 4_200_000 + ((id * 37) % 500)));
      }
    }
    await publish(leader, trades.map(tradeEv));
    await waitFor(() => closed.length + incomplete.length >= 4, 'four closed minutes');
    await kernel.settled();
    expect(incomplete).toEqual([T0, T0 + 120_000]);
    expect(closed.map((c) => c.openTime)).toEqual([T0 + 60_000, T0 + 180_000]);
    const minute1 = trades.filter((t) => t.time >= T0 + 60_000 && t.time < T0 + 120_000);
    expect(closed[0]).toMatchObject({ open: minute1[0]!.price, close: minute1.at(-1)!.price, trades: 12, firstTradeId: minute1[0]!.firstId, lastTradeId: minute1.at(-1)!.lastId });
    expect(kernel.stats()).toMatchObject({ gaps: 1, missingTrades: 2 });
    await kernel.stop();
  });

  it('answers a depth snapshot request with the book exactly at the last diff it delivered', async () => {
    const { leader, follow } = setup('depth');
    let u = 100;
    const diff = (n: number): MarketEvent => {
      const d: DepthDiff = { symbol: 'BTCUSDT', eventTime: T0 + n, firstUpdateId: u + 1, lastUpdateId: u + 2, bids: [{ price: 1_000 - (n % 7), qty: n % 4 }], asks: [{ price: 1_010 + (n % 5), qty: (n * 3) % 5 }] };
      u += 2;
      return { kind: 'depth', diff: d };
    };
    const snapshot: MarketEvent = { kind: 'depthSnapshot', snapshot: { symbol: 'BTCUSDT', lastUpdateId: 100, bids: [{ price: 999, qty: 5 }, { price: 990, qty: 1 }], asks: [{ price: 1_011, qty: 2 }] } };
    const expected = new LocalOrderBook('BTCUSDT');
    const all: MarketEvent[] = [snapshot, ...Array.from({ length: 12 }, (_, i) => diff(i))];
    await publish(leader, all); // checkpoints after diffs 5 and 10 (checkpointEvery 5)
    const venue = follow();
    const sink = new Recorder();
    const sync = new OrderBookSync({ symbol: 'BTCUSDT', request: () => venue.requestDepthSnapshot('BTCUSDT') });
    sink.onEvent = (ev) => {
      if (ev.kind === 'depth') sync.onDiff(ev.diff);
      if (ev.kind === 'depthSnapshot') sync.onSnapshot(ev.snapshot);
    };
    await venue.start(['BTCUSDT'], ALL, sink);
    const more = Array.from({ length: 3 }, (_, i) => diff(20 + i));
    await publish(leader, more);
    await waitFor(() => sync.book.status === 'synced', 'the follower book synced');
    expected.applySnapshot((snapshot as Extract<MarketEvent, { kind: 'depthSnapshot' }>).snapshot);
    for (const ev of [...all.slice(1), ...more]) expected.applyDiff((ev as Extract<MarketEvent, { kind: 'depth' }>).diff);
    expect(sync.book.lastUpdateId).toBe(expected.lastUpdateId);
    expect(sync.book.levels('bid', 100)).toEqual(expected.levels('bid', 100));
    expect(sync.book.levels('ask', 100)).toEqual(expected.levels('ask', 100));
    // Only the three live diffs and the answer reached the sink, not the history read for the book;
    // the answer is at the last diff delivered before it.
    const kinds = sink.events.map((e) => e.kind);
    expect(kinds.filter((k) => k === 'depth')).toHaveLength(3);
    const at = kinds.indexOf('depthSnapshot');
    expect(kinds.lastIndexOf('depthSnapshot')).toBe(at);
    const before = sink.events[at - 1] as Extract<MarketEvent, { kind: 'depth' }>;
    expect((sink.events[at] as Extract<MarketEvent, { kind: 'depthSnapshot' }>).snapshot.lastUpdateId).toBe(before.diff.lastUpdateId);
    expect(sync.requests).toBe(1);
  });

  it('with no usable checkpoint in reach, answers the request with the next one on the stream', async () => {
    const { leader, follow } = setup('depth-wait');
    const pub = new RedisMarketPublisher({ url: REDIS_URL, keyPrefix: leader.keys.prefix, checkpointEvery: 1_000 });
    cleanups.push(() => pub.close(100));
    let u = 10;
    const diff = (): MarketEvent => ({ kind: 'depth', diff: { symbol: 'BTCUSDT', eventTime: T0 + u, firstUpdateId: u + 1, lastUpdateId: ++u, bids: [{ price: 500 + (u % 3), qty: u }], asks: [] } });
    await publish(pub, [{ kind: 'depthSnapshot', snapshot: { symbol: 'BTCUSDT', lastUpdateId: 10, bids: [], asks: [{ price: 600, qty: 1 }] } }, ...Array.from({ length: 10 }, diff)]);
    const venue = follow({ maxScan: 3 }); // the snapshot is out of reach; the depth key is too old
    const sink = new Recorder();
    const sync = new OrderBookSync({ symbol: 'BTCUSDT', request: () => venue.requestDepthSnapshot('BTCUSDT') });
    sink.onEvent = (ev) => {
      if (ev.kind === 'depth') sync.onDiff(ev.diff);
      if (ev.kind === 'depthSnapshot') sync.onSnapshot(ev.snapshot);
    };
    await venue.start(['BTCUSDT'], ALL, sink);
    await publish(pub, [diff(), diff()]);
    await waitFor(() => sink.events.length >= 2, 'live diffs');
    await new Promise((r) => setTimeout(r, 50));
    expect(sync.book.status).toBe('awaiting-snapshot');
    // The leader's next REST snapshot, as its kernel would tap it.
    await publish(pub, [diff(), { kind: 'depthSnapshot', snapshot: { symbol: 'BTCUSDT', lastUpdateId: u, bids: [{ price: 1, qty: 1 }], asks: [{ price: 2, qty: 2 }] } }, diff()]);
    await waitFor(() => sync.book.status === 'synced', 'synced from the next snapshot');
    expect(sync.book.levels('ask', 5)).toEqual([{ price: 2, qty: 2 }]);
    expect(sync.book.lastUpdateId).toBe(u);
  });

  it('follows symbols added at runtime and stops delivering removed ones', async () => {
    const { leader, follow } = setup('subs');
    const venue = follow();
    const sink = new Recorder();
    await venue.start(['BTCUSDT'], ALL, sink);
    await publish(leader, [tradeEv(trade(1, T0)), tradeEv(trade(1, T0, 'ETHUSDT'))]);
    await waitFor(() => sink.events.length >= 1, 'BTC trade');
    await venue.subscribe(['ethusdt']);
    await publish(leader, [tradeEv(trade(2, T0 + 1, 'ETHUSDT'))]);
    await waitFor(() => sink.tradeIds('ETHUSDT').length >= 1, 'ETH trade after subscribe');
    await venue.unsubscribe(['BTCUSDT']);
    await publish(leader, [tradeEv(trade(2, T0 + 2)), tradeEv(trade(3, T0 + 3, 'ETHUSDT'))]);
    await waitFor(() => sink.tradeIds('ETHUSDT').length >= 2, 'next ETH trade');
    expect(sink.tradeIds('BTCUSDT')).toEqual([1]);
    expect(sink.tradeIds('ETHUSDT')).toEqual([2, 3]);
  });

  it('survives Redis going away: reports reconnecting, then goes on after the last entry it read', async () => {
    const { leader, keyPrefix } = setup('reconnect');
    const relay = await startRedisRelay();
    cleanups.push(() => relay.close());
    const venue = new RedisFollowVenue({ url: relay.url, keyPrefix, instruments, redis: { retryStrategy: () => 100 } });
    cleanups.push(() => venue.stop());
    const sink = new Recorder();
    await venue.start(['BTCUSDT'], ALL, sink);
    await publish(leader, [tradeEv(trade(1, T0))]);
    await waitFor(() => sink.events.length >= 1, 'first trade');
    relay.cut({ refuse: true });
    await waitFor(() => sink.states.some((s) => s.state === 'reconnecting'), 'reconnecting reported');
    await publish(leader, Array.from({ length: 50 }, (_, i) => tradeEv(trade(i + 2, T0 + i + 1))));
    relay.restore();
    await waitFor(() => sink.events.length >= 51, 'trades published during the outage');
    expect(sink.tradeIds()).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    expect(sink.states.at(-1)).toMatchObject({ state: 'open', attempt: 0 });
    const reconnecting = sink.states.find((s) => s.state === 'reconnecting')!;
    expect(reconnecting.attempt).toBeGreaterThanOrEqual(1);
    expect(reconnecting.nextInMs).toBeGreaterThanOrEqual(0);
  });

  it('refuses to follow a symbol the leader encodes at other scales', async () => {
    const { leader, follow } = setup('scales');
    await publish(leader, [tradeEv(trade(1, T0))]);
    const other = new Instruments([{ ...BTC, priceScale: 8 }]);
    const err = await follow({ instruments: other })
      .start(['BTCUSDT'], ALL, new Recorder())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VenueError);
    expect((err as VenueError).message).toBe('the leader publishes BTCUSDT at 2 price / 5 quantity decimals, this daemon knows it at 8 / 5');
  });

  it('reports an unreadable entry and goes on', async () => {
    const { leader, follow } = setup('garbage');
    const venue = follow();
    const sink = new Recorder();
    await venue.start(['BTCUSDT'], ALL, sink);
    await redis.call('XADD', [venue.keys.stream('BTCUSDT'), '*', 'e', '["t","BTCUSDT",1.5]']);
    await publish(leader, [tradeEv(trade(1, T0))]);
    await waitFor(() => sink.events.length >= 1, 'the good trade');
    expect(sink.errors).toEqual([expect.stringMatching(/^unreadable entry \d+-\d+ on .*md:BTCUSDT: bus entry "t": id is not an exact integer: 1.5$/)]);
  });
});

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeBinance, type FakeBinance, type FakeBinanceOptions } from '../../../../test/helpers/fake-binance.js';
import type { FeedState } from '../../bus.js';
import { VenueError } from '../../errors.js';
import { Instruments, type ExchangeInfo } from '../instruments.js';
import type { MarketEvent, MarketSink } from '../source.js';
import { BinanceWsFeed, type BinanceWsFeedOptions } from './ws-client.js';

const info = JSON.parse(readFileSync(new URL('../../../../fixtures/binance/exchangeInfo.json', import.meta.url), 'utf8')) as ExchangeInfo;
const instruments = Instruments.fromExchangeInfo(info);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fake(opts?: FakeBinanceOptions): Promise<FakeBinance> {
  const f = await startFakeBinance(opts);
  cleanups.push(() => f.close());
  return f;
}

function feed(server: FakeBinance, opts: Partial<BinanceWsFeedOptions> = {}): BinanceWsFeed {
  const f = new BinanceWsFeed({
    baseUrl: server.wsUrl,
    net: {},
    instruments,
    backoff: { initialMs: 10, maxMs: 50 },
    controlIntervalMs: 30,
    ...opts,
  });
  cleanups.push(() => f.stop());
  return f;
}

interface Collected extends MarketSink {
  events: MarketEvent[];
  recvTimes: number[];
  raws: string[];
  states: FeedState[];
  errors: Array<{ message: string; detail?: string }>;
  tradeIds(): number[];
}

function collector(): Collected {
  const c: Collected = {
    events: [],
    recvTimes: [],
    raws: [],
    states: [],
    errors: [],
    event(ev, recvTime) {
      c.events.push(ev);
      c.recvTimes.push(recvTime);
    },
    raw(text) {
      c.raws.push(text);
    },
    state(s) {
      c.states.push({ ...s });
    },
    error(message, detail) {
      c.errors.push({ message, detail });
    },
    tradeIds() {
      return c.events.flatMap((e) => (e.kind === 'trade' ? [e.trade.id] : []));
    },
  };
  return c;
}

const trade = (id: number, symbol = 'BTCUSDT') => ({
  e: 'trade',
  E: 1723161255343 + id,
  s: symbol,
  t: id,
  p: '61837.63000000',
  q: '0.02000000',
  T: 1723161255342 + id,
  m: id % 2 === 0,
  M: true,
});

describe('BinanceWsFeed', () => {
  it('connects to combined streams and delivers raw text and decoded events', async () => {
    const server = await fake();
    const sink = collector();
    const f = feed(server, { now: () => 42 });
    await f.start(['btcusdt@trade', 'btcusdt@bookTicker'], sink);

    expect(server.connections).toHaveLength(1);
    expect(server.connections[0]!.url).toBe('/stream?streams=btcusdt@trade/btcusdt@bookTicker');
    expect(sink.states.map((s) => s.state)).toEqual(['connecting', 'open']);

    server.send('btcusdt@trade', trade(7));
    server.send('btcusdt@bookTicker', { u: 50093239212, s: 'BTCUSDT', b: '61837.63000000', B: '3.78826000', a: '61837.64000000', A: '1.54698000' });
    await server.waitFor(() => sink.events.length === 2, 'two events');

    expect(sink.events[0]).toEqual({
      kind: 'trade',
      trade: { symbol: 'BTCUSDT', id: 7, price: 6183763, qty: 2 * 10 ** (instruments.get('BTCUSDT').qtyScale - 2), firstId: 7, lastId: 7, time: 1723161255349, buyerMaker: false },
    });
    expect(sink.events[1]).toMatchObject({ kind: 'bookTicker', top: { updateId: 50093239212, bid: { price: 6183763 } } });
    expect(sink.raws[0]).toBe(JSON.stringify({ stream: 'btcusdt@trade', data: trade(7) }));
    expect(sink.recvTimes).toEqual([42, 42]);
    expect(sink.errors).toEqual([]);
  });

  it('reports malformed frames through sink.error and keeps going', async () => {
    const server = await fake();
    const sink = collector();
    await feed(server).start(['btcusdt@trade'], sink);
    const conn = server.connections[0]!;

    server.sendRaw('{"stream":"btcusdt@trade","data":{"e":"tra');
    server.sendRaw(JSON.stringify({ stream: 'btcusdt@trade', data: { ...trade(1), p: 61837.63 } }));
    server.sendRaw(JSON.stringify({ stream: 'btcusdt@trade', data: trade(2, 'BTCUSTD') }));
    server.sendRaw('\u0000\u0001 binary-ish garbage');
    server.send('btcusdt@trade', trade(3));
    await server.waitFor(() => sink.events.length === 1, 'the good frame');

    expect(sink.tradeIds()).toEqual([3]);
    expect(sink.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/not valid JSON/),
      expect.stringMatching(/field "p" must be a decimal string/),
      expect.stringMatching(/unknown symbol "BTCUSTD".*did you mean BTCUSDT/),
      expect.stringMatching(/not valid JSON/),
    ]);
    expect(sink.errors[1]!.detail).toContain('61837.63');
    expect(sink.raws).toHaveLength(5);
    expect(server.connections).toEqual([conn]);
  });

  it('keeps running when the sink throws', async () => {
    const server = await fake();
    const sink = collector();
    let n = 0;
    const throwing: MarketSink = {
      ...sink,
      event(ev, t) {
        if (++n === 1) throw new Error('consumer bug');
        sink.event(ev, t);
      },
    };
    await feed(server).start(['btcusdt@trade'], throwing);
    server.send('btcusdt@trade', trade(1));
    server.send('btcusdt@trade', trade(2));
    await server.waitFor(() => sink.events.length === 1, 'second event');
    expect(sink.tradeIds()).toEqual([2]);
    expect(sink.errors[0]!.message).toMatch(/market sink failed: consumer bug/);
  });

  it('sends runtime SUBSCRIBE/UNSUBSCRIBE with ids, paced at least controlIntervalMs apart', async () => {
    const server = await fake();
    const sink = collector();
    const f = feed(server, { controlIntervalMs: 80 });
    await f.start(['btcusdt@trade'], sink);
    const conn = server.connections[0]!;

    await f.subscribe(['ethusdt@trade']);
    expect(conn.streams.has('ethusdt@trade')).toBe(true);
    server.send('ethusdt@trade', trade(11, 'ETHUSDT'));
    await server.waitFor(() => sink.events.length === 1, 'ETH trade');
    expect(sink.events[0]).toMatchObject({ trade: { symbol: 'ETHUSDT', id: 11 } });

    await Promise.all([f.subscribe(['btcusdt@bookTicker']), f.unsubscribe(['btcusdt@trade'])]);
    expect([...conn.streams].sort()).toEqual(['btcusdt@bookTicker', 'ethusdt@trade']);
    expect(f.streams().sort()).toEqual(['btcusdt@bookTicker', 'ethusdt@trade']);

    const msgs = conn.control.map((m) => ({ method: m.method, params: m.params }));
    expect(msgs).toEqual([
      { method: 'SUBSCRIBE', params: ['ethusdt@trade'] },
      { method: 'SUBSCRIBE', params: ['btcusdt@bookTicker'] },
      { method: 'UNSUBSCRIBE', params: ['btcusdt@trade'] },
    ]);
    const ids = conn.control.map((m) => m.id);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(typeof id).toBe('number');
    for (let i = 1; i < conn.control.length; i++) {
      // Arrival gaps can be a hair shorter than send gaps; 10 % slack.
      expect(conn.control[i]!.time - conn.control[i - 1]!.time).toBeGreaterThanOrEqual(72);
    }
  });

  it('coalesces a burst of subscribes and stays under 5 messages a second', async () => {
    const server = await fake({ maxIncomingPerSecond: 5 });
    const sink = collector();
    const f = feed(server, { controlIntervalMs: 100 });
    await f.start(['btcusdt@trade'], sink);
    const syms = ['ethusdt', 'bnbusdt', 'solusdt', 'xrpusdt', 'dogeusdt', 'adausdt', 'ethbtc', 'luncusdt'];
    await Promise.all(syms.map((s) => f.subscribe([`${s}@trade`])));
    const conn = server.connections[0]!;
    expect(conn.streams.size).toBe(9);
    expect(conn.control.length).toBeLessThanOrEqual(2);
    expect(conn.closeCode).toBeUndefined();
    expect(server.history).toHaveLength(1);
  });

  it('drops a stream the server refuses and reports it', async () => {
    const server = await fake({ invalidStreams: (s) => s.startsWith('nosuch') });
    const sink = collector();
    const f = feed(server);
    await f.start(['btcusdt@trade'], sink);
    await f.subscribe(['nosuchcoin@trade']);
    expect(sink.errors[0]!.message).toMatch(/Binance refused SUBSCRIBE nosuchcoin@trade: Invalid request: invalid stream name/);
    expect(f.streams()).toEqual(['btcusdt@trade']);
    // No retry storm: one SUBSCRIBE only.
    await new Promise((r) => setTimeout(r, 100));
    expect(server.connections[0]!.control).toHaveLength(1);
  });

  it('answers server pings with the same payload and never pings on its own', async () => {
    const server = await fake();
    const sink = collector();
    await feed(server).start(['btcusdt@trade'], sink);
    expect(await server.ping('binance-ping-123')).toEqual(['binance-ping-123']);
    expect(await server.ping('')).toEqual(['']);
    await new Promise((r) => setTimeout(r, 100));
    const conn = server.connections[0]!;
    expect(conn.pings).toEqual([]);
    expect(conn.pongs.map((p) => p.payload)).toEqual(['binance-ping-123', '']);
    expect(conn.control).toEqual([]);
  });

  it('treats a silent link as dead and reconnects; pings alone keep it alive', async () => {
    // Pongs count against Binance's 5 messages/s; this test pings faster than Binance does.
    const server = await fake({ maxIncomingPerSecond: 100 });
    const sink = collector();
    const f = feed(server, { silenceTimeoutMs: 120 });
    await f.start(['btcusdt@trade'], sink);

    // Pings but no data for 3× the timeout: still the same connection.
    for (let i = 0; i < 12; i++) {
      await server.ping();
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(sink.states.filter((s) => s.state === 'reconnecting')).toEqual([]);
    expect(server.history).toHaveLength(1);

    server.silence(true);
    await server.waitFor(() => sink.states.some((s) => s.state === 'reconnecting'), 'reconnecting');
    expect(sink.states.find((s) => s.state === 'reconnecting')!.reason).toMatch(/no frame or ping for 120 ms/);
    server.silence(false);
    await server.waitFor(() => server.connectionCount === 1 && sink.states.at(-1)?.state === 'open', 'reconnected');
    expect(server.history.length).toBeGreaterThanOrEqual(2);
    server.send('btcusdt@trade', trade(5));
    await server.waitFor(() => sink.events.length === 1, 'frame after reconnect');
  });

  it('reconnects after drops with growing backoff and re-requests every stream, runtime ones included', async () => {
    const server = await fake();
    const sink = collector();
    const f = feed(server, { backoff: { initialMs: 20, maxMs: 80 }, random: () => 1 });
    await f.start(['btcusdt@trade'], sink);
    await f.subscribe(['ethusdt@trade']);

    server.refuse(451);
    server.dropAll();
    await server.waitFor(() => sink.states.filter((s) => s.state === 'reconnecting').length >= 5, 'five reconnect attempts');
    const retries = sink.states.filter((s) => s.state === 'reconnecting').slice(0, 5);
    expect(retries.map((s) => [s.attempt, s.nextInMs])).toEqual([
      [1, 20],
      [2, 40],
      [3, 80],
      [4, 80],
      [5, 80],
    ]);
    expect(retries[1]!.reason).toMatch(/HTTP 451.*proxy/);
    expect(sink.states.filter((s) => s.state === 'connecting').map((s) => s.attempt).slice(0, 3)).toEqual([0, 1, 2]);

    server.refuse(false);
    await server.waitFor(() => server.connectionCount === 1, 'reconnected');
    const conn = server.connections[0]!;
    expect(conn.url).toBe('/stream?streams=btcusdt@trade/ethusdt@trade');
    server.send('ethusdt@trade', trade(9, 'ETHUSDT'));
    await server.waitFor(() => sink.events.length === 1, 'ETH frame after reconnect');

    // A healthy connection resets the attempt count.
    server.dropAll();
    await server.waitFor(() => server.connectionCount === 1 && server.history.length >= 3, 'second reconnect');
    const last = sink.states.filter((s) => s.state === 'reconnecting').at(-1)!;
    expect([last.attempt, last.nextInMs]).toEqual([1, 20]);
  });

  it('uses full jitter: the delay is random() × the cap', async () => {
    const server = await fake();
    const sink = collector();
    const f = feed(server, { backoff: { initialMs: 100, maxMs: 1000 }, random: () => 0.25 });
    await f.start(['btcusdt@trade'], sink);
    server.dropAll();
    await server.waitFor(() => sink.states.some((s) => s.state === 'reconnecting'), 'reconnecting');
    expect(sink.states.find((s) => s.state === 'reconnecting')!.nextInMs).toBe(25);
  });

  it('rotates before the lifetime limit without losing a frame', async () => {
    const server = await fake();
    const sink = collector();
    const f = feed(server, { maxLifetimeMs: 250 });
    await f.start(['btcusdt@trade'], sink);

    let id = 0;
    const pump = setInterval(() => {
      for (let k = 0; k < 5; k++) server.send('btcusdt@trade', trade(++id));
    }, 3);
    cleanups.push(() => clearInterval(pump));
    await server.waitFor(() => server.history.length >= 4 && server.history[2]!.closedAt !== undefined, 'three rotations', 5000);
    clearInterval(pump);
    const lastId = id;
    await server.waitFor(() => sink.tradeIds().includes(lastId), 'the last frame');

    const got = new Set(sink.tradeIds());
    const missing: number[] = [];
    for (let i = 1; i <= lastId; i++) if (!got.has(i)) missing.push(i);
    expect(missing).toEqual([]);
    // Rotations are seamless: never reported as reconnecting; old sockets closed by us (1000).
    expect(sink.states.filter((s) => s.state === 'reconnecting')).toEqual([]);
    expect(sink.states.filter((s) => s.reason?.includes('rotated')).length).toBeGreaterThanOrEqual(3);
    expect(server.history.slice(0, 3).map((c) => c.closeCode)).toEqual([1000, 1000, 1000]);
    expect(server.connectionCount).toBeLessThanOrEqual(2);
  });

  it.each(['event', 'payload'] as const)('rotates early on serverShutdown (%s shape)', async (shape) => {
    const server = await fake();
    const sink = collector();
    const f = feed(server);
    await f.start(['btcusdt@trade', 'btcusdt@bookTicker'], sink);
    const first = server.connections[0]!;
    server.serverShutdown({ shape });
    await server.waitFor(() => server.history.length === 2, 'a second connection');
    const second = server.history[1]!;
    expect(second.url).toBe(first.url);
    // Switch-over waits for data on the new connection: until then both stay open.
    await new Promise((r) => setTimeout(r, 50));
    expect(first.closedAt).toBeUndefined();
    expect(server.connectionCount).toBe(2);
    server.send('btcusdt@trade', trade(1));
    await server.waitFor(() => first.closedAt !== undefined, 'old connection closed');
    expect(first.closeCode).toBe(1000);
    server.send('btcusdt@trade', trade(2));
    await server.waitFor(() => sink.tradeIds().includes(2), 'frame on the new connection');
    expect(new Set(sink.tradeIds())).toEqual(new Set([1, 2]));
    expect(sink.errors).toEqual([]);
  });

  it('re-subscribes a stream added while a rotation is under way on both sockets', async () => {
    const server = await fake();
    const sink = collector();
    const f = feed(server);
    await f.start(['btcusdt@trade'], sink);
    server.serverShutdown();
    await server.waitFor(() => server.connectionCount === 2, 'overlap');
    await f.subscribe(['ethusdt@trade']);
    for (const c of server.connections) expect(c.streams.has('ethusdt@trade')).toBe(true);
    server.send('ethusdt@trade', trade(1, 'ETHUSDT'));
    await server.waitFor(() => server.connectionCount === 1, 'switch-over');
    expect(server.connections[0]!.streams).toEqual(new Set(['btcusdt@trade', 'ethusdt@trade']));
  });

  it('survives a replay with duplicates and dropped connections, losing only what was sent while away', async () => {
    const server = await fake();
    const sink = collector();
    const f = feed(server, { backoff: { initialMs: 5, maxMs: 20 } });
    await f.start(['btcusdt@trade'], sink);
    const frames = Array.from({ length: 20_000 }, (_, i) => ({ stream: 'btcusdt@trade', data: trade(i + 1) }));
    const stats = await server.replay(frames, { duplicateEvery: 1000, dropConnectionEvery: 5000, lostPerDrop: 3 });
    expect(stats).toMatchObject({ sent: 20_000 - 9, duplicated: 20, drops: 3 });
    await server.waitFor(() => sink.tradeIds().at(-1) === 20_000, 'the last frame', 10_000);

    const lost = new Set(stats.lost.map((i) => i + 1));
    expect(lost).toEqual(new Set([5001, 5002, 5003, 10001, 10002, 10003, 15001, 15002, 15003]));
    const ids = sink.tradeIds();
    expect(ids.length).toBe(20_000 - 9 + 20);
    const got = new Set(ids);
    for (let id = 1; id <= 20_000; id++) expect(got.has(id)).toBe(!lost.has(id));
    expect(sink.states.filter((s) => s.state === 'reconnecting')).toHaveLength(3);
  });

  it('spreads more than 1024 streams over several connections', async () => {
    const server = await fake();
    const sink = collector();
    const streams = Array.from({ length: 1030 }, (_, i) => `sym${String(i).padStart(4, '0')}usdt@trade`);
    const f = feed(server, { controlIntervalMs: 20 });
    await f.start(streams, sink);
    expect(server.connectionCount).toBe(2);
    // Streams beyond the URL budget go out as SUBSCRIBE batches after connecting.
    await server.waitFor(() => server.connections.reduce((n, c) => n + c.streams.size, 0) === 1030, 'all streams subscribed');
    const sizes = server.connections.map((c) => c.streams.size).sort((a, b) => b - a);
    expect(sizes).toEqual([1024, 6]);
    const big = server.connections.find((c) => c.streams.size === 1024)!;
    expect(big.url.length).toBeLessThanOrEqual(8000);
    expect(big.control.length).toBeGreaterThan(0);
    for (const m of big.control) expect((m.params as string[]).length).toBeLessThanOrEqual(200);
    expect(f.connectionStates().map((s) => [s.state, s.streams])).toEqual([
      ['open', 1024],
      ['open', 6],
    ]);

    await f.subscribe(['btcusdt@trade']);
    const small = server.connections.find((c) => c.streams.size < 1024)!;
    expect(small.streams.has('btcusdt@trade')).toBe(true);
    server.send('btcusdt@trade', trade(1));
    await server.waitFor(() => sink.events.length === 1, 'frame on the second connection');
  });

  it('closes a connection whose last stream is unsubscribed', async () => {
    const server = await fake();
    const sink = collector();
    const f = feed(server);
    await f.start(['btcusdt@trade'], sink);
    await f.unsubscribe(['btcusdt@trade']);
    await server.waitFor(() => server.connectionCount === 0, 'connection closed');
    expect(sink.states.at(-1)).toMatchObject({ state: 'closed', reason: 'no streams left' });
    await f.subscribe(['ethusdt@trade']);
    expect(server.connections[0]!.url).toBe('/stream?streams=ethusdt@trade');
  });

  it('stop() before the first connection rejects start with a VenueError', async () => {
    const server = await fake();
    server.refuse(503);
    const sink = collector();
    const f = feed(server);
    const started = f.start(['btcusdt@trade'], sink);
    await server.waitFor(() => server.connectAttempts >= 2, 'retries');
    await f.stop();
    await expect(started).rejects.toBeInstanceOf(VenueError);
    expect(sink.states.at(-1)?.state).toBe('closed');
    // A request already on the wire when stop() ran may still arrive; none may follow it.
    await new Promise((r) => setTimeout(r, 30));
    const attempts = server.connectAttempts;
    await new Promise((r) => setTimeout(r, 80));
    expect(server.connectAttempts).toBe(attempts);
  });

  it('rejects a base URL that is not ws:// or wss://', () => {
    expect(() => new BinanceWsFeed({ baseUrl: 'https://api.binance.com', net: {}, instruments })).toThrow(/ws:\/\/ or wss:\/\//);
  });
});

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startConnectProxy } from '../../../../test/helpers/connect-proxy.js';
import { createFakeRest, type FakeRestState, type RawAggTrade, type RawKline, type RawDepth, type RestHandler } from '../../../../test/helpers/fake-binance-rest.js';
import { ParseError, UsageError, VenueError } from '../../errors.js';
import { Instruments, wireInstrument, type ExchangeInfo } from '../instruments.js';
import { BinanceRest, depthWeight, type BinanceRestOptions } from './rest-client.js';

const fixtures = new URL('../../../../fixtures/binance/', import.meta.url);
const info = JSON.parse(readFileSync(new URL('exchangeInfo.json', fixtures), 'utf8')) as ExchangeInfo;

/** The real REST depth snapshot from the depth fixture. */
const realDepth = ((): RawDepth => {
  const text = gunzipSync(readFileSync(new URL('depth-btcusdt-2024-08-08.jsonl.gz', fixtures))).toString('utf8');
  const line = text.split('\n').find((l) => l.includes('"rest":'))!;
  return (JSON.parse(line) as { body: RawDepth }).body;
})();

async function serve(handler: RestHandler): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      void Promise.resolve(handler(req, res, body)).then((handled) => {
        if (!handled) res.writeHead(404).end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function trades(from: number, n: number, t0: number): RawAggTrade[] {
  return Array.from({ length: n }, (_, i) => ({
    a: from + i,
    p: `${61800 + (i % 50)}.${String(i % 100).padStart(2, '0')}000000`,
    q: `0.${String(100 + (i % 900)).padStart(5, '0')}000`,
    f: 3735683259 + 2 * i,
    l: 3735683259 + 2 * i + 1,
    T: t0 + i * 37,
    m: i % 3 === 0,
    M: true,
  }));
}

function klineRows(start: number, n: number): RawKline[] {
  return Array.from({ length: n }, (_, i) => {
    const open = start + i * 60_000;
    return [open, '61837.63000000', '61850.00000000', '61800.01000000', '61820.50000000', '12.34567000', open + 59_999, '763220.12345670', 1234 + i, '6.00000000', '370800.00000000', '0'];
  });
}

// A virtual wall clock shared by the fake server and the client: sleeping advances it.
let t = 0;
let sleeps: number[] = [];
const now = (): number => t;
const sleep = async (ms: number): Promise<void> => {
  sleeps.push(ms);
  t += ms;
};

let server: Server;
let base: string;
let state: FakeRestState;
let fake: ReturnType<typeof createFakeRest>;
const instruments = new Instruments([...Instruments.fromExchangeInfo(info).all(), wireInstrument('NOPEUSDT')]);

beforeAll(async () => {
  const s = await serve((req, res, body) => fake.handler(req, res, body));
  server = s.server;
  base = s.url;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  t = Date.UTC(2024, 7, 8, 23, 58, 10);
  sleeps = [];
  fake = createFakeRest({ now });
  state = fake.state;
  state.trades.set('BTCUSDT', trades(1000, 2500, Date.UTC(2024, 7, 8, 23, 0)));
  state.setKlines('BTCUSDT', '1m', klineRows(Date.UTC(2024, 7, 7), 2500));
  state.depth.set('BTCUSDT', realDepth);
});

function client(extra: Partial<BinanceRestOptions> = {}): BinanceRest {
  return new BinanceRest({ baseUrl: base, net: {}, instruments, sleep, now, ...extra });
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('BinanceRest decoding', () => {
  it('time, ping and exchangeInfo', async () => {
    const weights: number[] = [];
    const c = client({ onWeight: (w) => weights.push(w) });
    expect(await c.time()).toBe(t);
    await c.ping();
    const ex = await c.exchangeInfo();
    expect(ex.symbols.map((s) => s.symbol)).toContain('BTCUSDT');
    expect(ex.serverTime).toBe(t);
    expect(weights).toEqual([1, 2, 22]);
    expect(c.usedWeight).toBe(22);
    expect(state.log.map((l) => l.path)).toEqual(['/api/v3/time', '/api/v3/ping', '/api/v3/exchangeInfo']);
  });

  it('aggTrades into exact raws at the symbol scales', async () => {
    const c = client();
    const list = await c.aggTrades({ symbol: 'btcusdt', fromId: 1001, limit: 3 });
    expect(state.log[0]!.query).toEqual({ symbol: 'BTCUSDT', fromId: '1001', limit: '3' });
    expect(list).toEqual([
      { symbol: 'BTCUSDT', id: 1001, price: 6180101, qty: 101000, firstId: 3735683261, lastId: 3735683262, time: Date.UTC(2024, 7, 8, 23) + 37, buyerMaker: false },
      { symbol: 'BTCUSDT', id: 1002, price: 6180202, qty: 102000, firstId: 3735683263, lastId: 3735683264, time: Date.UTC(2024, 7, 8, 23) + 74, buyerMaker: false },
      { symbol: 'BTCUSDT', id: 1003, price: 6180303, qty: 103000, firstId: 3735683265, lastId: 3735683266, time: Date.UTC(2024, 7, 8, 23) + 111, buyerMaker: true },
    ]);
    // Binance's defaults: 500 most recent without bounds; from startTime forward with one.
    const recent = await c.aggTrades({ symbol: 'BTCUSDT' });
    expect(recent).toHaveLength(500);
    expect(recent[499]!.id).toBe(3499);
    const fromTime = await c.aggTrades({ symbol: 'BTCUSDT', startTime: Date.UTC(2024, 7, 8, 23) + 37 * 10, limit: 2 });
    expect(fromTime.map((x) => x.id)).toEqual([1010, 1011]);
  });

  it('pages aggTrades by id until Binance runs out or the bound is reached', async () => {
    const c = client();
    const pages: number[][] = [];
    for await (const page of c.aggTradesPages({ symbol: 'BTCUSDT', fromId: 1200 })) pages.push(page.map((x) => x.id));
    expect(pages.map((p) => p.length)).toEqual([1000, 1000, 300]);
    expect(pages.flat()).toEqual(Array.from({ length: 2300 }, (_, i) => 1200 + i));
    expect(state.log.map((l) => l.query.fromId)).toEqual(['1200', '2200', '3200']);

    state.log.length = 0;
    const bounded: number[] = [];
    for await (const page of c.aggTradesPages({ symbol: 'BTCUSDT', fromId: 1000, toId: 1149, limit: 100 })) bounded.push(...page.map((x) => x.id));
    expect(bounded).toEqual(Array.from({ length: 150 }, (_, i) => 1000 + i));
    expect(state.log).toHaveLength(2);
  });

  it('klines: all 12 columns exact, trade ids −1, historical klines closed, the current one open', async () => {
    const c = client();
    const [k] = await c.klines({ symbol: 'BTCUSDT', interval: '1m', startTime: Date.UTC(2024, 7, 7), limit: 1 });
    expect(k).toEqual({
      symbol: 'BTCUSDT',
      interval: '1m',
      priceScale: 2,
      qtyScale: 8,
      openTime: Date.UTC(2024, 7, 7),
      closeTime: Date.UTC(2024, 7, 7) + 59_999,
      open: 6183763,
      high: 6185000,
      low: 6180001,
      close: 6182050,
      volume: 1234567000n,
      quoteVolume: 7632201234567000n,
      trades: 1234,
      takerBuyVolume: 600000000n,
      takerBuyQuoteVolume: 3708000000000000n,
      firstTradeId: -1,
      lastTradeId: -1,
      closed: true,
    });
    // A kline still open by the server's clock (the reply's Date header).
    const open = Math.floor(Date.now() / 60_000) * 60_000 + 60_000;
    state.setKlines('ETHUSDT', '1m', [[open, '2500.01000000', '2501.00000000', '2499.00000000', '2500.50000000', '1.23450000', open + 59_999, '3086.87370000', 7, '0.00000000', '0.00000000', '0']]);
    const [current] = await c.klines({ symbol: 'ETHUSDT', interval: '1m' });
    expect(current!.closed).toBe(false);
  });

  it('pages klines by open time', async () => {
    const c = client();
    const start = Date.UTC(2024, 7, 7);
    const got: number[] = [];
    for await (const page of c.klinesPages({ symbol: 'BTCUSDT', interval: '1m', startTime: start })) got.push(...page.map((x) => x.openTime));
    expect(got).toHaveLength(2500);
    expect(got[2499]).toBe(start + 2499 * 60_000);
    expect(new Set(got).size).toBe(2500);
    expect(state.log.map((l) => l.query.startTime)).toEqual([String(start), String(start + 1000 * 60_000), String(start + 2000 * 60_000)]);
  });

  it('depth: the real snapshot, weight by limit', async () => {
    const c = client();
    const d = await c.depth('BTCUSDT');
    expect(d.lastUpdateId).toBe(50093239218);
    expect(d.bids).toHaveLength(1000);
    expect(d.bids[0]).toEqual({ price: 6183763, qty: 378826000 });
    expect(d.asks[0]!.price).toBe(6183764);
    const small = await c.depth('BTCUSDT', 100);
    expect(small.asks).toHaveLength(100);
    expect(state.log.map((l) => [l.query.limit, l.weight])).toEqual([['1000', 50], ['100', 5]]);
    expect([depthWeight(100), depthWeight(101), depthWeight(500), depthWeight(1000), depthWeight(5000)]).toEqual([5, 25, 25, 50, 250]);
  });

  it('loads exchangeInfo once when no instruments are given', async () => {
    const c = new BinanceRest({ baseUrl: base, net: {}, sleep, now });
    const [a, b] = await Promise.all([c.aggTrades({ symbol: 'BTCUSDT', fromId: 1000, limit: 1 }), c.depth('BTCUSDT', 5)]);
    expect(a[0]!.price).toBe(6180000);
    expect(b.bids).toHaveLength(5);
    expect(state.log.filter((l) => l.path === '/api/v3/exchangeInfo')).toHaveLength(1);
    await expect(c.depth('BTCUSTD')).rejects.toThrow(UsageError);
  });

  it('refuses bad arguments before sending', async () => {
    const c = client();
    await expect(c.klines({ symbol: 'BTCUSDT', interval: '1m', limit: 1001 })).rejects.toThrow(/1\.\.1000/);
    await expect(c.klines({ symbol: 'BTCUSDT', interval: '7m' as never })).rejects.toThrow(/interval/);
    expect(state.log).toHaveLength(0);
  });
});

describe('BinanceRest pacing and failures', () => {
  it('waits for the next minute instead of exceeding the weight limit', async () => {
    fake = createFakeRest({ now, weightLimit: 120 });
    fake.state.depth.set('BTCUSDT', realDepth);
    state = fake.state;
    const c = client({ weightLimit: 120 });
    for (let i = 0; i < 5; i++) await c.depth('BTCUSDT', 1000); // weight 50 each: two per minute
    expect(state.log.map((l) => l.status)).toEqual([200, 200, 200, 200, 200]);
    expect(sleeps).toEqual([50_000, 60_000]);
    const minutes = state.log.map((l) => Math.floor(l.time / 60_000) - Math.floor(state.log[0]!.time / 60_000));
    expect(minutes).toEqual([0, 0, 1, 1, 2]);
  });

  it('counts weight used by others on the same IP (the header), not only its own', async () => {
    const c = client({ weightLimit: 100 });
    await c.depth('BTCUSDT', 1000); // 50
    state.usedWeight += 45; // another program on this IP
    await c.time(); // header now says 96
    expect(c.usedWeight).toBe(96);
    await c.depth('BTCUSDT', 5); // 96 + 5 > 100: wait for the minute
    expect(sleeps).toHaveLength(1);
    expect(state.log[2]!.time % 60_000).toBe(0);
  });

  it('honours 429 Retry-After and retries', async () => {
    state.forced.push({ status: 429, retryAfter: 7, body: { code: -1003, msg: 'Too much request weight used.' } });
    const c = client();
    expect(await c.time()).toBe(t);
    expect(sleeps).toEqual([7000]);
    expect(state.log).toHaveLength(2);
    expect(state.log[1]!.time - state.log[0]!.time).toBe(7000);
  });

  it('gives up after bounded 429s', async () => {
    for (let i = 0; i < 3; i++) state.forced.push({ status: 429, retryAfter: 1, body: { code: -1003, msg: 'Too much request weight used.' } });
    const err = await failure(client({ maxRetries: 2 }).time());
    expect(err).toBeInstanceOf(VenueError);
    expect((err as VenueError).status).toBe(429);
    expect((err as VenueError).code).toBe('BINANCE_-1003');
    expect(state.log).toHaveLength(3);
  });

  it('418: BANNED at once, no retry, and no request at all until the ban is over', async () => {
    state.forced.push({ status: 418, retryAfter: 120, body: { code: -1003, msg: 'Way too much request weight used; IP banned.' } });
    const c = client();
    const err = await failure(c.time());
    expect(err).toBeInstanceOf(VenueError);
    expect((err as VenueError).code).toBe('BANNED');
    expect((err as VenueError).status).toBe(418);
    expect(err.message).toContain('120 s');
    expect((err as VenueError).hint).toMatch(/wait 120 s/);
    expect(sleeps).toEqual([]);
    expect(state.log).toHaveLength(1);

    await expect(c.time()).rejects.toMatchObject({ code: 'BANNED' });
    expect(state.log).toHaveLength(1);
    t += 121_000;
    expect(await c.time()).toBe(t);
    expect(state.log).toHaveLength(2);
  });

  it('a client that ignored a 429 would be banned by the fake: ours never is', async () => {
    fake = createFakeRest({ now, weightLimit: 10 });
    state = fake.state;
    const c = client({ weightLimit: 6000 }); // thinks it has room: only the 429s hold it back
    for (let i = 0; i < 25; i++) await c.time();
    expect(state.log.filter((l) => l.status === 418)).toHaveLength(0);
    expect(state.log.filter((l) => l.status === 429).length).toBeGreaterThan(0);
    expect(state.log.filter((l) => l.status === 200)).toHaveLength(25);
  });

  it('retries 5xx with exponential backoff, then fails with VenueError', async () => {
    state.forced.push({ status: 503, body: '' });
    const c = client();
    expect(await c.time()).toBe(t);
    expect(sleeps).toEqual([500]);

    sleeps = [];
    state.log.length = 0;
    for (let i = 0; i < 4; i++) state.forced.push({ status: 500, body: { code: -1000, msg: 'An unknown error occurred while processing the request.' } });
    const err = await failure(c.time());
    expect(err).toBeInstanceOf(VenueError);
    expect((err as VenueError).status).toBe(500);
    expect((err as VenueError).code).toBe('BINANCE_-1000');
    expect(sleeps).toEqual([500, 1000, 2000]);
    expect(state.log).toHaveLength(4);

    for (let i = 0; i < 4; i++) state.forced.push({ status: 502, body: '<html>bad gateway</html>' });
    await expect(c.time()).rejects.toMatchObject({ code: 'SERVER', status: 502 });
  });

  it('retries network errors, then fails with VenueError NETWORK', async () => {
    state.forced.push({ destroy: true });
    const c = client();
    expect(await c.time()).toBe(t);
    expect(sleeps).toEqual([500]);
    for (let i = 0; i < 3; i++) state.forced.push({ destroy: true });
    await expect(client({ maxRetries: 2 }).time()).rejects.toMatchObject({ code: 'NETWORK' });

    const dead = new BinanceRest({ baseUrl: 'http://127.0.0.1:9', net: {}, sleep, now, maxRetries: 1 });
    await expect(dead.time()).rejects.toBeInstanceOf(VenueError);
  });

  it('maps Binance error bodies to BINANCE_<code> with the HTTP status', async () => {
    const c = client();
    const err = await failure(c.depth('NOPEUSDT'));
    expect(err).toBeInstanceOf(VenueError);
    expect(err).toMatchObject({ code: 'BINANCE_-1121', status: 400 });
    expect(err.message).toContain('Invalid symbol.');
    expect((err as VenueError).hint).toMatch(/symbol/);
    await expect(c.get('/api/v3/klines', { symbol: 'BTCUSDT', interval: '1m', limit: 'x' })).rejects.toMatchObject({ code: 'BINANCE_-1100', status: 400 });
    await expect(c.get('/api/v3/klines', { symbol: 'BTCUSDT', interval: '7m' })).rejects.toMatchObject({ code: 'BINANCE_-1120' });
    await expect(c.get('/api/v3/klines', { interval: '1m' })).rejects.toMatchObject({ code: 'BINANCE_-1102' });
    expect(sleeps).toEqual([]);
  });

  it('malformed bodies are ParseErrors, not retried', async () => {
    const c = client();
    state.forced.push({ body: '<html>maintenance</html>' });
    await expect(c.time()).rejects.toBeInstanceOf(ParseError);
    state.forced.push({ body: [{ a: 1, p: 61000, q: '1', f: 1, l: 1, T: 1, m: true }] });
    await expect(c.aggTrades({ symbol: 'BTCUSDT' })).rejects.toThrow(/aggTrades\[0\]\.p: expected a string/);
    state.forced.push({ body: [[1, '1.00', '1.00', '1.00', '1.00', '1.0', 2, '1', 1, '1']] });
    await expect(c.klines({ symbol: 'BTCUSDT', interval: '1m' })).rejects.toThrow(/expected 12 columns/);
    state.forced.push({ body: { lastUpdateId: 5, bids: [['61000.001', '1']], asks: [] } });
    await expect(c.depth('BTCUSDT')).rejects.toThrow(/more than 2 decimals/);
    state.forced.push({ body: { symbols: 'all' } });
    await expect(c.exchangeInfo()).rejects.toThrow(ParseError);
    state.forced.push({ body: { serverTime: '1' } });
    await expect(c.time()).rejects.toThrow(/serverTime: expected an integer/);
    expect(sleeps).toEqual([]);
    expect(state.log).toHaveLength(6);
  });
});

describe('BinanceRest through a CONNECT proxy', () => {
  it('tunnels every request through net.proxy, and bypasses it for NO_PROXY hosts', async () => {
    const proxy = await startConnectProxy();
    try {
      const port = Number(new URL(base).port);
      const c = client({ net: { proxy: proxy.url } });
      expect(await c.time()).toBe(t);
      expect((await c.depth('BTCUSDT', 5)).bids).toHaveLength(5);
      expect(proxy.tunnels.length).toBeGreaterThanOrEqual(1);
      expect(proxy.tunnels.every((x) => x.host === '127.0.0.1' && x.port === port)).toBe(true);
      expect(state.log).toHaveLength(2);

      const tunnels = proxy.tunnels.length;
      const direct = client({ net: { proxy: proxy.url, noProxy: '127.0.0.1' } });
      expect(await direct.time()).toBe(t);
      expect(proxy.tunnels.length).toBe(tunnels);
      expect(state.log).toHaveLength(3);
    } finally {
      await proxy.close();
    }
  });
});

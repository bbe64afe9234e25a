import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, type ClientOptions } from 'ws';
import { parseFixed } from '../../src/engine/fixed.js';
import { formatAmount } from '../../src/engine/orders/amounts.js';
import { fillJson, positionJson } from '../../src/engine/orders/binance-json.js';
import { Counters } from '../../src/server/counters.js';
import { TokenAuthenticator, TokenStore } from '../../src/server/tokens.js';
import type { DaemonContext } from '../../src/server/types.js';
import { attachStreams, type StreamServer, type StreamServerOptions } from '../../src/server/ws.js';
import { tempDir } from '../helpers/cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

/**
 * The daemon's WebSocket streams through real sockets: Binance's stream names, payloads and control
 * messages against a daemon fed by the fake Binance; private order/fill/position/risk streams after
 * paper orders; refusals, malformed frames, slow consumers, pings and shutdown on side servers that
 * attach the same stream server to the daemon's context with small limits.
 */

const M0 = Date.UTC(2024, 0, 1, 0, 0);
const M1 = M0 + 60_000;
const M2 = M1 + 60_000;

let d: TestDaemon;
const open: Client[] = [];

beforeAll(async () => {
  d = await startTestDaemon({ logLevel: 'silent' });
});
afterAll(async () => {
  for (const c of open) c.ws.terminate();
  await d?.close();
});

type Msg = Record<string, unknown> & { stream?: string; data?: Record<string, unknown>; id?: unknown; result?: unknown; error?: { code: number; msg: string } };

async function until(pred: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

class Client {
  readonly msgs: Msg[] = [];
  closed: { code: number; reason: string } | undefined;
  private nextId = 1;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.msgs.push(JSON.parse(data.toString('utf8')) as Msg));
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString('utf8') }));
    ws.on('error', () => {});
  }

  /** The first message from index `from` on that matches. */
  async next(pred: (m: Msg) => boolean, what: string, from = 0): Promise<Msg> {
    let found: Msg | undefined;
    await until(() => (found = this.msgs.slice(from).find(pred)) !== undefined, what);
    return found!;
  }

  /** Sends a control message and resolves with its reply. */
  async request(method: string, params?: unknown, id: unknown = `r${this.nextId++}`): Promise<Msg> {
    this.ws.send(JSON.stringify(params === undefined ? { method, id } : { method, params, id }));
    return this.next((m) => m.id === id && ('result' in m || 'error' in m), `reply to ${method} ${String(id)}`);
  }

  /** Sends raw text (or a binary frame) and resolves with the next error reply. */
  async bad(frame: string | Buffer): Promise<Msg> {
    const from = this.msgs.length;
    this.ws.send(frame, { binary: Buffer.isBuffer(frame) });
    return this.next((m) => 'error' in m, 'an error reply', from);
  }

  closedWith(): Promise<{ code: number; reason: string }> {
    return until(() => this.closed !== undefined, 'close').then(() => this.closed!);
  }
}

async function connect(base: string, path: string, opts: ClientOptions = {}): Promise<Client> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}${path}`, opts);
  const c = new Client(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
  open.push(c);
  return c;
}

/** An upgrade the server must refuse: its HTTP status and `{code, msg}` body. */
async function refusal(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: { code: number; msg: string } }> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}${path}`, { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`${path} was accepted`));
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { code: number; msg: string } }));
    });
    ws.once('error', () => {});
  });
}

/** Another HTTP server with the stream server attached to the daemon's context (own counters, options, auth). */
async function sideServer(opts: StreamServerOptions, override: Partial<DaemonContext> = {}): Promise<{ url: string; streams: StreamServer; counters: Counters; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const counters = new Counters();
  const streams = attachStreams(server, { ...d.daemon.ctx, counters, ...override }, opts);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    streams,
    counters,
    close: async () => {
      await streams.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let nextTradeId = 1;
function trade(time: number, price: string, qty = '0.01000000', buyerMaker = false): number {
  const id = nextTradeId++;
  d.trade({ id, time, price, qty, buyerMaker });
  return id;
}

describe('market streams', () => {
  it('a raw stream /ws/<name> delivers aggTrades in Binance shape with the trade time as E', async () => {
    const c = await connect(d.url, '/ws/btcusdt@aggTrade');
    const T = M0 + 5_000;
    const id = trade(T, '42000.10');
    const m = await c.next((x) => x.e === 'aggTrade', 'aggTrade');
    expect(Object.keys(m)).toEqual(['e', 'E', 's', 'a', 'p', 'q', 'f', 'l', 'T', 'm', 'M']);
    expect(m).toEqual({ e: 'aggTrade', E: T, s: 'BTCUSDT', a: id, p: '42000.10000000', q: '0.01000000', f: id, l: id, T, m: false, M: true });
    expect(d.daemon.ctx.counters).toBeInstanceOf(Counters);
    expect((d.daemon.ctx.counters as Counters).clients).toBeGreaterThanOrEqual(1);
    c.ws.close();
    await c.closedWith();
  });

  it('/stream wraps trades and 1m klines as {"stream","data"}, partial then closed', async () => {
    const c = await connect(d.url, '/stream?streams=btcusdt@trade/btcusdt@kline_1m');
    const t2 = M1 + 1_000;
    const id2 = trade(t2, '42001.00', '0.02000000');
    const k = await c.next((m) => m.stream === 'btcusdt@kline_1m', 'kline');
    expect(Object.keys(k)).toEqual(['stream', 'data']);
    const kline = { t: M1, T: M1 + 59_999, s: 'BTCUSDT', i: '1m', f: id2, L: id2, o: '42001.00000000', c: '42001.00000000', h: '42001.00000000', l: '42001.00000000', v: '0.02000000', n: 1, q: '840.02000000', V: '0.02000000', Q: '840.02000000', B: '0' };
    expect(k.data).toEqual({ e: 'kline', E: t2, s: 'BTCUSDT', k: { ...kline, x: false } });
    expect((await c.next((m) => m.stream === 'btcusdt@trade', 'trade')).data).toEqual({ e: 'trade', E: t2, s: 'BTCUSDT', t: id2, p: '42001.00000000', q: '0.02000000', T: t2, m: false, M: true });

    // The next minute's first trade closes M1: the final kline, the new minute's, then the trade.
    const from = c.msgs.length;
    const t3 = M2 + 1_000;
    const id3 = trade(t3, '42002.00');
    await until(() => c.msgs.length >= from + 3, 'three messages');
    const after = c.msgs.slice(from, from + 3);
    expect(after.map((m) => [m.stream, (m.data!.k as { t?: number; x?: boolean } | undefined)?.x])).toEqual([
      ['btcusdt@kline_1m', true],
      ['btcusdt@kline_1m', false],
      ['btcusdt@trade', undefined],
    ]);
    expect(after[0]!.data).toEqual({ e: 'kline', E: t3, s: 'BTCUSDT', k: { ...kline, x: true } });
    expect(after[1]!.data!.k).toMatchObject({ t: M2, f: id3, L: id3, o: '42002.00000000', n: 1, x: false });
    c.ws.close();
  });

  it('SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS and the combined property, with Binance replies', async () => {
    const c = await connect(d.url, '/ws');
    expect(await c.request('SUBSCRIBE', ['btcusdt@bookTicker', 'BTCUSDT@miniticker'], 1)).toEqual({ result: null, id: 1 });
    expect(await c.request('LIST_SUBSCRIPTIONS', undefined, 2)).toEqual({ result: ['btcusdt@bookTicker', 'btcusdt@miniTicker'], id: 2 });
    d.fake.send('btcusdt@bookTicker', { u: 400900217, s: 'BTCUSDT', b: '42000.00', B: '1.5', a: '42000.01', A: '0.25' });
    expect(await c.next((m) => m.u === 400900217, 'bookTicker')).toEqual({ u: 400900217, s: 'BTCUSDT', b: '42000.00000000', B: '1.50000000', a: '42000.01000000', A: '0.25000000' });
    const E = M2 + 2_000;
    d.fake.send('btcusdt@miniTicker', { e: '24hrMiniTicker', E, s: 'BTCUSDT', c: '42002.00', o: '41000.00', h: '43000.00', l: '40000.00', v: '100.5', q: '4200000.25' });
    expect(await c.next((m) => m.e === '24hrMiniTicker', 'miniTicker')).toEqual({
      e: '24hrMiniTicker',
      E,
      s: 'BTCUSDT',
      c: '42002.00000000',
      o: '41000.00000000',
      h: '43000.00000000',
      l: '40000.00000000',
      v: '100.50000000',
      q: '4200000.25000000',
    });
    expect(await c.request('UNSUBSCRIBE', ['btcusdt@miniTicker', 'btcusdt@aggTrade'], 'a3')).toEqual({ result: null, id: 'a3' });
    expect(await c.request('LIST_SUBSCRIPTIONS', [], null)).toEqual({ result: ['btcusdt@bookTicker'], id: null });
    expect(await c.request('GET_PROPERTY', ['combined'], 5)).toEqual({ result: false, id: 5 });
    expect(await c.request('SET_PROPERTY', ['combined', true], 6)).toEqual({ result: null, id: 6 });
    expect(await c.request('GET_PROPERTY', ['combined'], 7)).toEqual({ result: true, id: 7 });
    d.fake.send('btcusdt@bookTicker', { u: 400900218, s: 'BTCUSDT', b: '42000.00', B: '1.4', a: '42000.01', A: '0.25' });
    expect((await c.next((m) => m.stream === 'btcusdt@bookTicker', 'wrapped bookTicker')).data).toMatchObject({ u: 400900218, B: '1.40000000' });
    c.ws.close();
  });

  it('diff depth from the local book (U continues from the last u sent) and partial depth snapshots', async () => {
    const node = d.daemon.node;
    const c = await connect(d.url, '/stream?streams=btcusdt@depth@100ms/btcusdt@depth5');
    d.rest.depth.set('BTCUSDT', { lastUpdateId: 100, bids: [['42000.00', '1.00'], ['41990.00', '2.00']], asks: [['42010.00', '0.50'], ['42020.00', '3.00']] });
    d.fake.send('btcusdt@depth@100ms', { e: 'depthUpdate', E: M2 + 2_500, s: 'BTCUSDT', U: 101, u: 102, b: [['41995.00', '0.30']], a: [] });
    await until(() => node.kernel.orderBook('BTCUSDT')?.status === 'synced', 'a synced book', 10_000);
    const first = await c.next((m) => m.stream === 'btcusdt@depth@100ms', 'first depthUpdate');
    // Subscribed before the book synced: the first diff carries the whole book.
    expect(first.data).toEqual({
      e: 'depthUpdate',
      E: node.clock.now(),
      s: 'BTCUSDT',
      U: 102,
      u: 102,
      b: [['42000.00000000', '1.00000000'], ['41995.00000000', '0.30000000'], ['41990.00000000', '2.00000000']],
      a: [['42010.00000000', '0.50000000'], ['42020.00000000', '3.00000000']],
    });
    expect((await c.next((m) => m.stream === 'btcusdt@depth5', 'depth5')).data).toEqual({
      lastUpdateId: 102,
      bids: [['42000.00000000', '1.00000000'], ['41995.00000000', '0.30000000'], ['41990.00000000', '2.00000000']],
      asks: [['42010.00000000', '0.50000000'], ['42020.00000000', '3.00000000']],
    });
    const from = c.msgs.length;
    d.fake.send('btcusdt@depth@100ms', { e: 'depthUpdate', E: M2 + 2_600, s: 'BTCUSDT', U: 103, u: 104, b: [['42000.00', '0']], a: [['42015.00', '1.00']] });
    const diff = await c.next((m) => m.stream === 'btcusdt@depth@100ms', 'second depthUpdate', from);
    expect(diff.data).toEqual({ e: 'depthUpdate', E: node.clock.now(), s: 'BTCUSDT', U: 103, u: 104, b: [['42000.00000000', '0.00000000']], a: [['42015.00000000', '1.00000000']] });
    expect((await c.next((m) => m.stream === 'btcusdt@depth5', 'depth5', from)).data).toMatchObject({ lastUpdateId: 104, bids: [['41995.00000000', '0.30000000'], ['41990.00000000', '2.00000000']] });
    c.ws.close();
  });
});

describe('private streams', () => {
  it('orders (executionReport), fills, positions and risk after paper orders placed through the node', async () => {
    const node = d.daemon.node;
    const inst = node.instruments.get('BTCUSDT');
    const c = await connect(d.url, '/stream?streams=orders/fills/positions/risk');
    expect(await c.request('LIST_SUBSCRIPTIONS', undefined, 1)).toEqual({ result: ['orders', 'fills', 'positions', 'risk'], id: 1 });
    const qty = parseFixed('0.001', inst.qtyScale);

    const limit = await node.placeOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty, price: parseFixed('41000', inst.priceScale), clientOrderId: 'ws-limit' });
    const isFor = (orderId: number, x: string) => (m: Msg) => m.stream === 'orders' && m.data!.i === orderId && m.data!.x === x;
    const newReport = await c.next(isFor(limit.order.orderId, 'NEW'), 'NEW report');
    expect(newReport.data).toMatchObject({ e: 'executionReport', E: limit.order.time, s: 'BTCUSDT', c: 'ws-limit', S: 'BUY', o: 'LIMIT', f: 'GTC', q: '0.00100000', p: '41000.00000000', X: 'NEW', z: '0.00000000', t: -1, w: true, O: limit.order.time, W: limit.order.time });

    const market = await node.placeOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', qty });
    expect(market.fills).toHaveLength(1);
    const f = market.fills[0]!;
    await c.next(isFor(market.order.orderId, 'NEW'), 'market NEW report');
    const tradeReport = await c.next(isFor(market.order.orderId, 'TRADE'), 'TRADE report');
    expect(tradeReport.data).toMatchObject({
      E: f.time,
      o: 'MARKET',
      X: 'FILLED',
      l: '0.00100000',
      z: '0.00100000',
      L: '42010.00000000',
      n: formatAmount(f.commission),
      N: f.commissionAsset,
      t: f.tradeId,
      w: false,
      m: false,
      Z: '42.01000000',
      Y: '42.01000000',
    });
    const fill = await c.next((m) => m.stream === 'fills', 'fill');
    expect(fill.data).toEqual({ e: 'fill', E: f.time, ...fillJson(f, inst) });
    expect(fill.data).toMatchObject({ price: '42010.00000000', qty: '0.00100000', quoteQty: '42.01000000', isBuyer: true, isMaker: false });
    const positions = await c.next((m) => m.stream === 'positions', 'positions');
    expect(positions.data).toEqual({ e: 'positions', E: f.time, positions: JSON.parse(JSON.stringify(node.trading.positions(node.market.lastPrices()).map(positionJson))) as unknown });
    expect((positions.data!.positions as Array<{ symbol: string }>).map((p) => p.symbol)).toEqual(['BTCUSDT']);

    // A halt cancels the resting order: its CANCELED report and the risk transition both arrive.
    const now = node.clock.now();
    await node.trading.halt('ws test', now);
    const canceled = await c.next(isFor(limit.order.orderId, 'CANCELED'), 'CANCELED report');
    expect(canceled.data).toMatchObject({ X: 'CANCELED', C: 'ws-limit', c: 'ws-limit', z: '0.00000000', w: false, T: now });
    expect((await c.next((m) => m.stream === 'risk', 'risk state')).data).toEqual({ e: 'riskState', E: now, state: 'HALTED', previous: 'ACTIVE', reason: 'ws test' });
    await node.trading.resume(now, 'ws test done');
    await c.next((m) => m.stream === 'risk' && m.data!.state === 'ACTIVE', 'risk resumed');
    c.ws.close();
  });

  it('alerts: every firing on the bus, with the id, condition and message the CLI shows', async () => {
    const node = d.daemon.node;
    const c = await connect(d.url, '/ws/alerts');
    const firing = { id: 'f-ws-1', alertId: 'a-ws', n: 1, symbol: 'BTCUSDT', condition: 'price > 42000', time: node.clock.now(), message: 'BTCUSDT price 42010 > 42000', notify: ['tui' as const] };
    node.bus.publish('alert.fired', firing);
    const got = await c.next((m) => m.e === 'alertFired', 'alertFired');
    expect(got).toEqual({ e: 'alertFired', E: firing.time, ...firing });
    c.ws.close();
  });
});

describe('refusals and malformed frames', () => {
  it('answers every bad frame with an error reply and keeps the connection', async () => {
    const c = await connect(d.url, '/ws');
    const counters = d.daemon.ctx.counters as Counters;
    const before = counters.requests.get('WS invalid')?.get(400) ?? 0;
    expect(await c.bad('not json')).toMatchObject({ error: { code: 3, msg: expect.stringMatching(/^Invalid JSON: /) as unknown }, id: null });
    expect(await c.bad(Buffer.from('{"method":"LIST_SUBSCRIPTIONS","id":1}'))).toMatchObject({ error: { code: 3, msg: expect.stringMatching(/binary frames/) as unknown } });
    expect(await c.bad('["SUBSCRIBE"]')).toMatchObject({ error: { code: 2 }, id: null });
    expect(await c.bad('{"method":"SUBSCRIBE","params":["btcusdt@aggTrade"],"id":{}}')).toMatchObject({ error: { code: 2, msg: expect.stringMatching(/request ID/) as unknown }, id: null });
    expect(await c.bad('{"params":[],"id":4}')).toEqual({ error: { code: 2, msg: 'Invalid request: missing field `method`' }, id: 4 });
    expect(await c.bad('{"method":"FOO","id":5}')).toMatchObject({ error: { code: 2, msg: expect.stringMatching(/unknown variant "FOO", expected one of `SUBSCRIBE`/) as unknown }, id: 5 });
    const subscribeError = async (params: unknown, msg: RegExp): Promise<void> => {
      const r = await c.request('SUBSCRIBE', params);
      expect(r.error, JSON.stringify(params)).toMatchObject({ code: 2, msg: expect.stringMatching(msg) as unknown });
    };
    await subscribeError('btcusdt@trade', /params must be an array/);
    await subscribeError([], /needs params/);
    await subscribeError([42], /stream names are non-empty strings/);
    await subscribeError(['nope'], /not a stream name/);
    await subscribeError(['btcusdt@kline_5m'], /only 1m klines/);
    await subscribeError(['btcusdt@kline_7m'], /unknown kline interval/);
    await subscribeError(['ethusdt@aggTrade'], /not on this daemon's feed/);
    await subscribeError(['nosuchusdt@aggTrade'], /unknown symbol/);
    await subscribeError(['btcusdt@ticker'], /unsupported stream/);
    await subscribeError(Array.from({ length: 1025 }, () => 'btcusdt@trade'), /too many parameters/);
    // One bad name in a request changes nothing.
    await subscribeError(['btcusdt@trade', 'btcusdt@nope'], /unsupported stream/);
    expect((await c.request('SET_PROPERTY', ['colour', true])).error).toEqual({ code: 0, msg: 'Unknown property' });
    expect((await c.request('SET_PROPERTY', ['combined', 'yes'])).error).toEqual({ code: 1, msg: 'Invalid value type: expected Boolean' });
    expect(await c.bad(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: 9, pad: 'x'.repeat(70 * 1024) }))).toMatchObject({ error: { code: 2, msg: expect.stringMatching(/over the 65536-byte limit/) as unknown }, id: null });
    expect(await c.request('LIST_SUBSCRIPTIONS')).toMatchObject({ result: [] });
    expect((counters.requests.get('WS invalid')?.get(400) ?? 0) - before).toBeGreaterThanOrEqual(7);
    expect(counters.requests.get('WS SUBSCRIBE')?.get(400)).toBeGreaterThanOrEqual(11);

    // Beyond ws's hard limit the frame is not even read: close 1009, and the daemon carries on.
    const huge = await connect(d.url, '/ws');
    huge.ws.send('x'.repeat(2 * 1024 * 1024));
    expect((await huge.closedWith()).code).toBe(1009);
    expect(await c.request('LIST_SUBSCRIPTIONS', undefined, 'alive')).toEqual({ result: [], id: 'alive' });
    c.ws.close();
  });

  it('refuses bad upgrades with an HTTP status and {code, msg}', async () => {
    expect(await refusal(d.url, '/nope')).toMatchObject({ status: 404, body: { code: -1020 } });
    expect(await refusal(d.url, '/ws/btcusdt@nope')).toMatchObject({ status: 400, body: { code: -1100, msg: expect.stringMatching(/unsupported stream/) as unknown } });
    expect(await refusal(d.url, '/stream?streams=btcusdt@trade/ethusdt@trade')).toMatchObject({ status: 400, body: { msg: expect.stringMatching(/ethusdt is not on this daemon's feed/) as unknown } });
    expect(await refusal(d.url, '/ws?timeUnit=MICROSECOND')).toMatchObject({ status: 400, body: { msg: expect.stringMatching(/milliseconds/) as unknown } });
  });

  it('limits streams per connection', async () => {
    const side = await sideServer({ maxStreams: 2 });
    try {
      const c = await connect(side.url, '/ws');
      expect((await c.request('SUBSCRIBE', ['btcusdt@trade', 'btcusdt@aggTrade', 'btcusdt@bookTicker'])).error).toMatchObject({ code: 2, msg: expect.stringMatching(/at most 2/) as unknown });
      expect((await c.request('SUBSCRIBE', ['btcusdt@trade', 'btcusdt@aggTrade'])).result).toBeNull();
      // Already subscribed: no new stream, so no error.
      expect((await c.request('SUBSCRIBE', ['btcusdt@trade'])).result).toBeNull();
      expect((await c.request('SUBSCRIBE', ['btcusdt@bookTicker'])).error).toMatchObject({ code: 2 });
      expect((await c.request('LIST_SUBSCRIPTIONS')).result).toEqual(['btcusdt@trade', 'btcusdt@aggTrade']);
      expect(await refusal(side.url, '/stream?streams=btcusdt@trade/btcusdt@aggTrade/btcusdt@bookTicker')).toMatchObject({ status: 400 });
    } finally {
      await side.close();
    }
  });
});

describe('authentication', () => {
  it('refuses unauthenticated upgrades once tokens exist, and keeps private streams to the scope they need', async () => {
    const tmp = tempDir('qtrade-ws-auth-');
    const tokens = new TokenStore(tmp.dir);
    const side = await sideServer({ privateScope: 'trade' }, { auth: new TokenAuthenticator(tokens) });
    try {
      // No tokens: loopback clients are open.
      (await connect(side.url, '/ws/orders')).ws.close();
      const read = tokens.create({ scope: 'read', name: 'reader' }).token!;
      const trader = tokens.create({ scope: 'trade', name: 'trader' }).token!;
      expect(await refusal(side.url, '/ws/btcusdt@aggTrade')).toEqual({ status: 401, body: { code: -2015, msg: 'Invalid API-key, IP, or permissions for action: a token is required.' } });
      expect(await refusal(side.url, '/ws?token=qt_nope')).toMatchObject({ status: 401, body: { code: -2015, msg: expect.stringMatching(/unknown token/) as unknown } });
      expect(await refusal(side.url, '/ws', { authorization: `Basic ${read}` })).toMatchObject({ status: 401 });
      expect(await refusal(side.url, '/ws/orders', { authorization: `Bearer ${read}` })).toMatchObject({ status: 403, body: { code: -2015, msg: expect.stringMatching(/scope trade/) as unknown } });
      expect(side.counters.requests.get('WS upgrade')?.get(401)).toBe(3);

      const r = await connect(side.url, '/ws/btcusdt@aggTrade', { headers: { authorization: `Bearer ${read}` } });
      expect((await r.request('SUBSCRIBE', ['orders'])).error).toEqual({ code: 2, msg: 'Invalid request: stream "orders" needs a token with scope trade (this connection has read)' });
      expect((await r.request('LIST_SUBSCRIPTIONS')).result).toEqual(['btcusdt@aggTrade']);
      const t = await connect(side.url, `/ws?token=${encodeURIComponent(trader)}`);
      expect((await t.request('SUBSCRIBE', ['orders', 'fills', 'positions', 'risk'])).result).toBeNull();
      r.ws.close();
      t.ws.close();
    } finally {
      await side.close();
      tmp.cleanup();
    }
  });
});

describe('liveness and shutdown', () => {
  it('pings clients and terminates the ones that do not answer', async () => {
    const side = await sideServer({ pingIntervalMs: 40 });
    try {
      const good = await connect(side.url, '/ws');
      const mute = await connect(side.url, '/ws', { autoPong: false });
      expect(side.streams.clients()).toBe(2);
      expect(side.counters.clients).toBe(2);
      expect((await mute.closedWith()).code).toBe(1006);
      expect(side.streams.stats().pongTimeouts).toBe(1);
      expect(side.counters.dropped.get('pong timeout')).toBe(1);
      expect(good.closed).toBeUndefined();
      expect(await good.request('LIST_SUBSCRIPTIONS', undefined, 1)).toEqual({ result: [], id: 1 });
    } finally {
      await side.close();
    }
  });

  it('close() says 1001 "daemon stopping" to every client and refuses new ones', async () => {
    const side = await sideServer({});
    const a = await connect(side.url, '/ws/btcusdt@aggTrade');
    const b = await connect(side.url, '/stream');
    await side.streams.close();
    expect(await a.closedWith()).toEqual({ code: 1001, reason: 'daemon stopping' });
    expect(await b.closedWith()).toEqual({ code: 1001, reason: 'daemon stopping' });
    expect(side.streams.clients()).toBe(0);
    expect(side.counters.clients).toBe(0);
    await side.close();
  });
});

describe('shared frames', () => {
  it('clients that change streams or framing between two flushes get what they listened to at each message, replies in place', async () => {
    // After the first flush the next one is due in 10 minutes: everything below queues, and close()
    // writes it out. Groups of clients with the same streams share frames; these clients move
    // between groups while frames are queued.
    const side = await sideServer({ flushIntervalMs: 600_000 });
    const node = d.daemon.node;
    const id0 = 20_000_000;
    const publish = (id: number): void => void node.bus.publish('trade', { symbol: 'BTCUSDT', id, price: 4_200_000, qty: 1_000, firstId: id, lastId: id, time: M2 + 20_000, buyerMaker: false });
    const sent = (): number => side.streams.stats().sent;
    /** Sends a control message and waits until the server has queued its reply. */
    const control = async (c: Client, msg: object): Promise<void> => {
      const before = sent();
      c.ws.send(JSON.stringify(msg));
      await until(() => sent() > before, 'the reply queued');
    };
    const seen = (c: Client): string[] =>
      c.msgs.map((m) => {
        if ('id' in m) return `reply ${String(m.id)}`;
        const data = (m.data ?? m) as { e: string; a?: number; t?: number };
        return `${m.stream === undefined ? '' : `${m.stream} `}${data.e} ${(data.a ?? data.t)! - id0}`;
      });
    const a = await connect(side.url, '/ws/btcusdt@aggTrade');
    const b = await connect(side.url, '/ws/btcusdt@aggTrade');
    const c = await connect(side.url, '/ws');
    try {
      publish(id0);
      await until(() => a.msgs.length === 1 && b.msgs.length === 1, 'the first trade, flushed at once');
      publish(id0 + 1);
      await control(a, { method: 'LIST_SUBSCRIPTIONS', id: 'list' });
      await control(b, { method: 'SUBSCRIBE', params: ['btcusdt@trade'], id: 1 });
      await control(c, { method: 'SUBSCRIBE', params: ['btcusdt@aggTrade'], id: 1 });
      publish(id0 + 2);
      await control(b, { method: 'SET_PROPERTY', params: ['combined', true], id: 2 });
      publish(id0 + 3);
      await control(b, { method: 'UNSUBSCRIBE', params: ['btcusdt@aggTrade'], id: 3 });
      await control(c, { method: 'UNSUBSCRIBE', params: ['btcusdt@aggTrade'], id: 2 });
      publish(id0 + 4);
      // Nothing since the first flush has been written yet.
      expect([a.msgs.length, b.msgs.length, c.msgs.length]).toEqual([1, 1, 0]);
      await side.streams.close();
      for (const x of [a, b, c]) expect(await x.closedWith()).toEqual({ code: 1001, reason: 'daemon stopping' });
      expect(seen(a)).toEqual(['aggTrade 0', 'aggTrade 1', 'reply list', 'aggTrade 2', 'aggTrade 3', 'aggTrade 4']);
      expect(seen(b)).toEqual([
        'aggTrade 0',
        'aggTrade 1',
        'reply 1',
        'aggTrade 2',
        'trade 2',
        'reply 2',
        'btcusdt@aggTrade aggTrade 3',
        'btcusdt@trade trade 3',
        'reply 3',
        'btcusdt@trade trade 4',
      ]);
      expect(seen(c)).toEqual(['reply 1', 'aggTrade 2', 'aggTrade 3', 'reply 2']);
    } finally {
      await side.close();
    }
  });
});

describe('slow consumers', () => {
  it('closes a client that does not read with 1008 and the bytes buffered, while a reader gets every message in order', async () => {
    const limit = 1024 * 1024;
    const side = await sideServer({ maxBufferedBytes: limit });
    const node = d.daemon.node;
    try {
      const fast = await connect(side.url, '/ws/btcusdt@aggTrade');
      const slow = await connect(side.url, '/ws/btcusdt@aggTrade');
      slow.ws.pause();
      const first = 10_000_000;
      let id = first;
      // Straight onto the bus, a few hundred per event-loop turn, until the slow client is cut off
      // (the kernel's socket buffers take several MB before the server's own buffer grows).
      while (side.streams.stats().slow === 0 && id < first + 400_000) {
        for (let i = 0; i < 300; i++, id++) node.bus.publish('trade', { symbol: 'BTCUSDT', id, price: 4_200_000, qty: 1_000, firstId: id, lastId: id, time: M2 + 10_000, buyerMaker: false });
        await new Promise((r) => setImmediate(r));
      }
      expect(side.streams.stats().slow).toBe(1);
      expect(side.counters.dropped.get('slow')).toBe(1);
      const last = id - 1;
      await until(() => fast.msgs.length === last - first + 1, 'every trade at the fast client', 20_000);
      expect(fast.msgs.every((m, i) => m.a === first + i)).toBe(true);
      expect(fast.closed).toBeUndefined();
      slow.ws.resume();
      const closed = await slow.closedWith();
      expect(closed.code).toBe(1008);
      expect(closed.reason).toMatch(/^slow consumer: \d+ bytes buffered$/);
      expect(Number(/(\d+) bytes/.exec(closed.reason)![1])).toBeGreaterThan(limit);
      // What it did get is a gapless prefix of the stream.
      expect(slow.msgs.every((m, i) => m.a === first + i)).toBe(true);
      expect(side.streams.clients()).toBe(1);
    } finally {
      await side.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

/**
 * The daemon's Binance-compatible /api/v3 over real HTTP: market data from the fake Binance feed
 * (trades, mini ticker, book ticker, diff depth), then paper orders placed, queried and canceled.
 * No tokens exist, so loopback callers are open (signed routes need no signature then).
 */

let d: TestDaemon;

const M0 = Date.UTC(2024, 0, 1, 0, 0); // a 5m-aligned minute
const M1 = M0 + 60_000;
const TJ = M0 - 30_000; // the feed joins in the minute before M0, which therefore is never stored
const T1 = M0 + 5_000;
const T2 = M0 + 6_000;
const T3 = M1 + 1_000; // the latest event time: orders placed after it carry it
const TICKER_E = M0 + 7_000;

interface Answer {
  status: number;
  body: unknown;
}

async function api(method: 'GET' | 'POST' | 'DELETE', path: string, params: Record<string, string> = {}): Promise<Answer> {
  const q = new URLSearchParams(params).toString();
  const res =
    method === 'POST'
      ? await fetch(`${d.url}${path}`, { method, body: q, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      : await fetch(`${d.url}${path}${q ? `?${q}` : ''}`, { method });
  return { status: res.status, body: await res.json() };
}

/** A 200 answer's body. */
async function ok<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'DELETE', path: string, params: Record<string, string> = {}): Promise<T> {
  const r = await api(method, path, params);
  expect(r, `${method} ${path} ${JSON.stringify(params)}`).toMatchObject({ status: 200 });
  return r.body as T;
}

/** A refusal: HTTP status and Binance's {code, msg}. */
async function refused(method: 'GET' | 'POST' | 'DELETE', path: string, params: Record<string, string>, status: number, code: number, msg?: string | RegExp): Promise<void> {
  const r = await api(method, path, params);
  expect(r.status, `${method} ${path} ${JSON.stringify(params)} → ${JSON.stringify(r.body)}`).toBe(status);
  const b = r.body as { code: number; msg: string };
  expect(b.code).toBe(code);
  expect(Object.keys(b).sort()).toEqual(['code', 'msg']);
  if (msg !== undefined) expect(b.msg).toMatch(msg);
}

beforeAll(async () => {
  d = await startTestDaemon({ logLevel: 'silent' });
});
afterAll(async () => {
  await d?.close();
});

describe('Binance market data', () => {
  it('answers ping and time without credentials', async () => {
    expect(await ok('GET', '/api/v3/ping')).toEqual({});
    const before = Date.now();
    const t = await ok<{ serverTime: number }>('GET', '/api/v3/time');
    expect(Object.keys(t)).toEqual(['serverTime']);
    expect(t.serverTime).toBeGreaterThanOrEqual(before);
  });

  it('serves exchangeInfo in Binance shape, filtered by symbol, symbols and permissions', async () => {
    const all = await ok<{ timezone: string; serverTime: number; rateLimits: unknown[]; exchangeFilters: unknown[]; symbols: Array<{ symbol: string; filters: unknown[] }> }>('GET', '/api/v3/exchangeInfo');
    expect(Object.keys(all)).toEqual(['timezone', 'serverTime', 'rateLimits', 'exchangeFilters', 'symbols']);
    expect(all.timezone).toBe('UTC');
    expect(all.symbols.map((s) => s.symbol)).toEqual(d.daemon.node.exchangeSymbols.map((s) => s.symbol));
    const one = await ok<typeof all>('GET', '/api/v3/exchangeInfo', { symbol: 'BTCUSDT' });
    expect(one.symbols).toHaveLength(1);
    expect(one.symbols[0]).toMatchObject({ symbol: 'BTCUSDT', baseAsset: 'BTC', quoteAsset: 'USDT', status: 'TRADING' });
    expect(one.symbols[0]!.filters).toContainEqual({ filterType: 'LOT_SIZE', minQty: '0.00001000', maxQty: '9000.00000000', stepSize: '0.00001000' });
    const two = await ok<typeof all>('GET', '/api/v3/exchangeInfo', { symbols: '["ETHUSDT","BTCUSDT"]' });
    expect(two.symbols.map((s) => s.symbol)).toEqual(['ETHUSDT', 'BTCUSDT']);
    expect((await ok<typeof all>('GET', '/api/v3/exchangeInfo', { permissions: 'SPOT' })).symbols).toHaveLength(all.symbols.length);
    expect((await ok<typeof all>('GET', '/api/v3/exchangeInfo', { permissions: '["LEVERAGED"]' })).symbols).toEqual([]);
    await refused('GET', '/api/v3/exchangeInfo', { symbol: 'NOPEUSDT' }, 400, -1121, 'Invalid symbol.');
    await refused('GET', '/api/v3/exchangeInfo', { symbol: 'BTCUSDT', symbols: '["BTCUSDT"]' }, 400, -1128);
    await refused('GET', '/api/v3/exchangeInfo', { symbols: 'BTCUSDT' }, 400, -1100, /symbols/);
  });

  it('says market data is not there yet (409, -1001) before the feed delivered it', async () => {
    await refused('GET', '/api/v3/depth', { symbol: 'BTCUSDT' }, 409, -1001, /order book of BTCUSDT/);
    await refused('GET', '/api/v3/depth', { symbol: 'ETHUSDT' }, 409, -1001, /does not carry ETHUSDT/);
    await refused('GET', '/api/v3/ticker/price', { symbol: 'BTCUSDT' }, 409, -1001, /no trade of BTCUSDT/);
  });

  it('serves trades, tickers, depth and klines from the feed, exactly', async () => {
    const node = d.daemon.node;
    d.rest.depth.set('BTCUSDT', {
      lastUpdateId: 100,
      bids: [['60000.00', '1.00'], ['59990.00', '2.00']],
      asks: [['60010.00', '0.50'], ['60020.00', '3.00']],
    });
    d.trade({ id: 1, time: TJ, price: '59990.00', qty: '0.01' });
    await d.fake.waitFor(() => node.kernel.currentCandle('BTCUSDT') !== undefined, 'the joined minute running', 5_000);
    // The feed joined this minute part-way: its running candle is not Binance's kline, so none is listed.
    expect(await ok('GET', '/api/v3/klines', { symbol: 'BTCUSDT', interval: '1m' })).toEqual([]);
    d.trade({ id: 2, time: T1, price: '60000.00', qty: '0.01' });
    d.trade({ id: 3, time: T2, price: '60010.00', qty: '0.02', buyerMaker: true });
    d.fake.send('btcusdt@miniTicker', { e: '24hrMiniTicker', E: TICKER_E, s: 'BTCUSDT', c: '60010.00', o: '59000.00', h: '61000.00', l: '58000.00', v: '100.5', q: '6000000.25' });
    d.fake.send('btcusdt@bookTicker', { u: 101, s: 'BTCUSDT', b: '60000.00', B: '1.5', a: '60010.00', A: '2.0' });
    d.fake.send('btcusdt@depth@100ms', { e: 'depthUpdate', E: T2, s: 'BTCUSDT', U: 101, u: 102, b: [['59995.00', '0.30']], a: [] });
    d.trade({ id: 4, time: T3, price: '60020.00', qty: '0.01' });
    await d.fake.waitFor(
      () => node.market.get('BTCUSDT')?.lastTrade?.id === 4 && node.market.get('BTCUSDT')?.ticker !== undefined && node.market.get('BTCUSDT')?.top !== undefined && node.kernel.orderBook('BTCUSDT')?.status === 'synced',
      'trades, tickers and a synced book',
      10_000,
    );

    expect(await ok('GET', '/api/v3/ticker/price', { symbol: 'BTCUSDT' })).toEqual({ symbol: 'BTCUSDT', price: '60020.00000000' });
    expect(await ok('GET', '/api/v3/ticker/price')).toEqual([{ symbol: 'BTCUSDT', price: '60020.00000000' }]);
    expect(await ok('GET', '/api/v3/ticker/price', { symbols: '["BTCUSDT"]' })).toEqual([{ symbol: 'BTCUSDT', price: '60020.00000000' }]);
    await refused('GET', '/api/v3/ticker/price', { symbol: 'ETHUSDT' }, 409, -1001, /does not carry ETHUSDT/);

    const window = { openTime: TICKER_E - 86_400_000, closeTime: TICKER_E };
    expect(await ok('GET', '/api/v3/ticker/24hr', { symbol: 'BTCUSDT' })).toEqual({
      symbol: 'BTCUSDT',
      priceChange: '1010.00000000',
      priceChangePercent: '1.712',
      weightedAvgPrice: '59701.49502488',
      lastPrice: '60010.00000000',
      bidPrice: '60000.00000000',
      bidQty: '1.50000000',
      askPrice: '60010.00000000',
      askQty: '2.00000000',
      openPrice: '59000.00000000',
      highPrice: '61000.00000000',
      lowPrice: '58000.00000000',
      volume: '100.50000000',
      quoteVolume: '6000000.25000000',
      ...window,
    });
    expect(await ok('GET', '/api/v3/ticker/24hr', { symbols: '["BTCUSDT"]', type: 'MINI' })).toEqual([
      { symbol: 'BTCUSDT', openPrice: '59000.00000000', highPrice: '61000.00000000', lowPrice: '58000.00000000', lastPrice: '60010.00000000', volume: '100.50000000', quoteVolume: '6000000.25000000', ...window },
    ]);
    expect(await ok<unknown[]>('GET', '/api/v3/ticker/24hr')).toHaveLength(1);
    await refused('GET', '/api/v3/ticker/24hr', { symbol: 'BTCUSDT', type: 'HUGE' }, 400, -1100, /type/);

    expect(await ok('GET', '/api/v3/depth', { symbol: 'BTCUSDT' })).toEqual({
      lastUpdateId: 102,
      bids: [['60000.00000000', '1.00000000'], ['59995.00000000', '0.30000000'], ['59990.00000000', '2.00000000']],
      asks: [['60010.00000000', '0.50000000'], ['60020.00000000', '3.00000000']],
    });
    expect(await ok('GET', '/api/v3/depth', { symbol: 'BTCUSDT', limit: '1' })).toEqual({ lastUpdateId: 102, bids: [['60000.00000000', '1.00000000']], asks: [['60010.00000000', '0.50000000']] });

    // Recent trades are the feed's aggregate trades (here each is one raw trade).
    expect(await ok('GET', '/api/v3/trades', { symbol: 'BTCUSDT', limit: '2' })).toEqual([
      { id: 3, price: '60010.00000000', qty: '0.02000000', quoteQty: '1200.20000000', time: T2, isBuyerMaker: true, isBestMatch: true },
      { id: 4, price: '60020.00000000', qty: '0.01000000', quoteQty: '600.20000000', time: T3, isBuyerMaker: false, isBestMatch: true },
    ]);
    expect(await ok('GET', '/api/v3/aggTrades', { symbol: 'BTCUSDT', fromId: '2', limit: '1' })).toEqual([{ a: 2, p: '60000.00000000', q: '0.01000000', f: 2, l: 2, T: T1, m: false, M: true }]);
    expect((await ok<Array<{ a: number }>>('GET', '/api/v3/aggTrades', { symbol: 'BTCUSDT', startTime: String(T2) })).map((t) => t.a)).toEqual([3, 4]);
    expect((await ok<Array<{ a: number }>>('GET', '/api/v3/aggTrades', { symbol: 'BTCUSDT', endTime: String(T2) })).map((t) => t.a)).toEqual([1, 2, 3]);
    await refused('GET', '/api/v3/aggTrades', { symbol: 'BTCUSDT', fromId: '0' }, 400, -1130, /before id 1/);

    // Minute M0 closed when the M1 trade arrived; it reaches the store asynchronously.
    const k1 = (): Promise<unknown[][]> => ok<unknown[][]>('GET', '/api/v3/klines', { symbol: 'BTCUSDT', interval: '1m' });
    await d.fake.waitFor(() => node.kernel.currentCandle('BTCUSDT')?.openTime === M1, 'minute M1 open', 5_000);
    for (let i = 0; i < 100 && (await k1()).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await k1()).toEqual([
      [M0, '60000.00000000', '60010.00000000', '60000.00000000', '60010.00000000', '0.03000000', M0 + 59_999, '1800.20000000', 2, '0.01000000', '600.00000000', '0'],
      [M1, '60020.00000000', '60020.00000000', '60020.00000000', '60020.00000000', '0.01000000', M1 + 59_999, '600.20000000', 1, '0.01000000', '600.20000000', '0'],
    ]);
    expect(await ok('GET', '/api/v3/klines', { symbol: 'BTCUSDT', interval: '1m', limit: '1' })).toEqual([(await k1())[1]]);
    expect(await ok('GET', '/api/v3/klines', { symbol: 'BTCUSDT', interval: '1m', startTime: String(M0), limit: '1' })).toEqual([(await k1())[0]]);
    expect(await ok('GET', '/api/v3/klines', { symbol: 'BTCUSDT', interval: '1m', endTime: String(M0) })).toEqual([(await k1())[0]]);
    // The running 5m kline: the stored minute plus the running one.
    expect(await ok('GET', '/api/v3/klines', { symbol: 'BTCUSDT', interval: '5m' })).toEqual([
      [M0, '60000.00000000', '60020.00000000', '60000.00000000', '60020.00000000', '0.04000000', M0 + 299_999, '2400.40000000', 3, '0.02000000', '1200.20000000', '0'],
    ]);
  });

  it('refuses bad parameters with 400 {code,msg}', async () => {
    await refused('GET', '/api/v3/klines', { interval: '1m' }, 400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    await refused('GET', '/api/v3/klines', { symbol: 'BTCUSDT' }, 400, -1102, /'interval'/);
    await refused('GET', '/api/v3/klines', { symbol: 'BTCUSDT', interval: '2m' }, 400, -1120, /^Invalid interval\./);
    await refused('GET', '/api/v3/klines', { symbol: 'BTCUSDT', interval: '1M' }, 400, -1120);
    await refused('GET', '/api/v3/klines', { symbol: 'NOPEUSDT', interval: '1m' }, 400, -1121, 'Invalid symbol.');
    await refused('GET', '/api/v3/klines', { symbol: 'BTCUSDT', interval: '1m', limit: 'ten' }, 400, -1100, /'limit'/);
    await refused('GET', '/api/v3/klines', { symbol: 'BTCUSDT', interval: '1m', startTime: '-5' }, 400, -1100, /'startTime'/);
    await refused('GET', '/api/v3/depth', { symbol: 'BTCUSDT', limit: '0' }, 400, -1100, /'limit'/);
    await refused('GET', '/api/v3/trades', {}, 400, -1102, /'symbol'/);
    await refused('GET', '/api/v3/ticker/24hr', { symbol: 'NOPEUSDT' }, 400, -1121);
  });
});

interface OrderBody {
  symbol: string;
  orderId: number;
  clientOrderId: string;
  status: string;
  fills?: Array<Record<string, unknown>>;
  [k: string]: unknown;
}

describe('Binance orders on the paper account', () => {
  const limitBuy = (extra: Record<string, string> = {}) => ({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.001', price: '50000', ...extra });
  let first: OrderBody;
  let acked: OrderBody;

  it('places a resting LIMIT order and answers FULL, ACK or RESULT as asked', async () => {
    first = await ok<OrderBody>('POST', '/api/v3/order', limitBuy({ newClientOrderId: 'rest-1' }));
    expect(first).toEqual({
      symbol: 'BTCUSDT',
      orderId: first.orderId,
      orderListId: -1,
      clientOrderId: 'rest-1',
      transactTime: T3,
      price: '50000.00000000',
      origQty: '0.00100000',
      executedQty: '0.00000000',
      origQuoteOrderQty: '0.00000000',
      cummulativeQuoteQty: '0.00000000',
      status: 'NEW',
      timeInForce: 'GTC',
      type: 'LIMIT',
      side: 'BUY',
      workingTime: T3,
      selfTradePreventionMode: 'NONE',
      fills: [],
    });
    acked = await ok<OrderBody>('POST', '/api/v3/order', limitBuy({ newOrderRespType: 'ACK', price: '49000' }));
    expect(acked).toEqual({ symbol: 'BTCUSDT', orderId: first.orderId + 1, orderListId: -1, clientOrderId: acked.clientOrderId, transactTime: T3 });
    const result = await ok<OrderBody>('POST', '/api/v3/order', limitBuy({ newOrderRespType: 'RESULT', price: '48000.5' }));
    expect(result).toMatchObject({ orderId: first.orderId + 2, status: 'NEW', price: '48000.50000000' });
    expect(result).not.toHaveProperty('fills');
    // The same newClientOrderId again returns the existing order; nothing new is placed.
    const again = await ok<OrderBody>('POST', '/api/v3/order', limitBuy({ newClientOrderId: 'rest-1' }));
    expect(again).toMatchObject({ orderId: first.orderId, status: 'NEW' });
    expect(await ok<unknown[]>('GET', '/api/v3/openOrders', { symbol: 'BTCUSDT' })).toHaveLength(3);
  });

  it('fills a MARKET order against the local book, FULL with its fills', async () => {
    const m = await ok<OrderBody>('POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.001' });
    expect(m).toMatchObject({
      type: 'MARKET',
      status: 'FILLED',
      transactTime: T3,
      origQty: '0.00100000',
      executedQty: '0.00100000',
      cummulativeQuoteQty: '60.01000000',
      fills: [{ price: '60010.00000000', qty: '0.00100000', commission: '0.00000100', commissionAsset: 'BTC', tradeId: 1 }],
    });
    expect(await ok<unknown[]>('GET', '/api/v3/myTrades', { symbol: 'BTCUSDT' })).toEqual([
      {
        symbol: 'BTCUSDT',
        id: 1,
        orderId: m.orderId,
        orderListId: -1,
        price: '60010.00000000',
        qty: '0.00100000',
        quoteQty: '60.01000000',
        commission: '0.00000100',
        commissionAsset: 'BTC',
        time: T3,
        isBuyer: true,
        isMaker: false,
        isBestMatch: true,
      },
    ]);
    expect(await ok<unknown[]>('GET', '/api/v3/myTrades', { symbol: 'BTCUSDT', orderId: String(first.orderId) })).toEqual([]);
    expect(await ok<unknown[]>('GET', '/api/v3/myTrades', { symbol: 'BTCUSDT', fromId: '2' })).toEqual([]);

    const acct = await ok<{ balances: Array<{ asset: string; free: string; locked: string }> } & Record<string, unknown>>('GET', '/api/v3/account');
    expect(acct).toMatchObject({ canTrade: true, canWithdraw: false, canDeposit: false, accountType: 'SPOT', permissions: ['SPOT'], updateTime: T3 });
    // 3 × 0.001 BTC bid at 50000, 49000 and 48000.5 lock 147.0005 USDT; the market buy spent 60.01.
    expect(acct.balances).toEqual(
      expect.arrayContaining([
        { asset: 'BTC', free: '0.00099900', locked: '0.00000000' },
        { asset: 'USDT', free: '9792.98950000', locked: '147.00050000' },
      ]),
    );
  });

  it('queries orders by id or client id; unknown ones are -2013', async () => {
    const byId = await ok<OrderBody>('GET', '/api/v3/order', { symbol: 'BTCUSDT', orderId: String(first.orderId) });
    expect(byId).toMatchObject({ orderId: first.orderId, clientOrderId: 'rest-1', status: 'NEW', time: T3, updateTime: T3, isWorking: true, stopPrice: '0.00000000' });
    expect(await ok('GET', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: 'rest-1' })).toEqual(byId);
    await refused('GET', '/api/v3/order', { symbol: 'BTCUSDT', orderId: '999' }, 400, -2013, 'Order does not exist.');
    await refused('GET', '/api/v3/order', { symbol: 'ETHUSDT', orderId: String(first.orderId) }, 400, -2013);
    await refused('GET', '/api/v3/order', { symbol: 'BTCUSDT' }, 400, -1102, "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!");
    await refused('GET', '/api/v3/order', { symbol: 'BTCUSDT', orderId: 'one' }, 400, -1100, /'orderId'/);
  });

  it('cancels one order, honours cancelRestrictions, then cancels the rest', async () => {
    await refused('DELETE', '/api/v3/order', { symbol: 'BTCUSDT', orderId: String(first.orderId), cancelRestrictions: 'ONLY_PARTIALLY_FILLED' }, 400, -2011, 'Order was not canceled due to cancel restrictions.');
    await refused('DELETE', '/api/v3/order', { symbol: 'BTCUSDT', orderId: String(first.orderId), cancelRestrictions: 'SOMETIMES' }, 400, -1145);
    const c = await ok<OrderBody>('DELETE', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: 'rest-1', newClientOrderId: 'cxl-1', cancelRestrictions: 'ONLY_NEW' });
    expect(c).toMatchObject({ symbol: 'BTCUSDT', origClientOrderId: 'rest-1', clientOrderId: 'cxl-1', orderId: first.orderId, status: 'CANCELED', transactTime: T3, price: '50000.00000000' });
    await refused('DELETE', '/api/v3/order', { symbol: 'BTCUSDT', orderId: String(first.orderId) }, 400, -2011);
    await refused('DELETE', '/api/v3/order', { symbol: 'BTCUSDT' }, 400, -1102);

    const open = await ok<OrderBody[]>('GET', '/api/v3/openOrders');
    expect(open.map((o) => o.orderId)).toEqual([acked.orderId, acked.orderId + 1]);
    const all = await ok<OrderBody[]>('DELETE', '/api/v3/openOrders', { symbol: 'BTCUSDT' });
    expect(all.map((o) => [o.orderId, o.status, o.origClientOrderId])).toEqual([
      [acked.orderId, 'CANCELED', acked.clientOrderId],
      [acked.orderId + 1, 'CANCELED', open[1]!.clientOrderId],
    ]);
    await refused('DELETE', '/api/v3/openOrders', { symbol: 'BTCUSDT' }, 400, -2011, 'Unknown order sent.');
    await refused('DELETE', '/api/v3/openOrders', {}, 400, -1102);
    expect(await ok('GET', '/api/v3/openOrders', { symbol: 'BTCUSDT' })).toEqual([]);
    const acct = await ok<{ balances: Array<{ asset: string; free: string; locked: string }> }>('GET', '/api/v3/account', { omitZeroBalances: 'true' });
    expect(acct.balances).toEqual([
      { asset: 'BTC', free: '0.00099900', locked: '0.00000000' },
      { asset: 'USDT', free: '9939.99000000', locked: '0.00000000' },
    ]);
  });

  it('lists allOrders oldest first with Binance windows', async () => {
    const all = await ok<OrderBody[]>('GET', '/api/v3/allOrders', { symbol: 'BTCUSDT' });
    expect(all.map((o) => [o.orderId, o.type, o.status])).toEqual([
      [first.orderId, 'LIMIT', 'CANCELED'],
      [first.orderId + 1, 'LIMIT', 'CANCELED'],
      [first.orderId + 2, 'LIMIT', 'CANCELED'],
      [first.orderId + 3, 'MARKET', 'FILLED'],
    ]);
    expect((await ok<OrderBody[]>('GET', '/api/v3/allOrders', { symbol: 'BTCUSDT', limit: '2' })).map((o) => o.orderId)).toEqual([first.orderId + 2, first.orderId + 3]);
    expect((await ok<OrderBody[]>('GET', '/api/v3/allOrders', { symbol: 'BTCUSDT', orderId: String(first.orderId + 1), limit: '2' })).map((o) => o.orderId)).toEqual([first.orderId + 1, first.orderId + 2]);
    expect(await ok('GET', '/api/v3/allOrders', { symbol: 'BTCUSDT', endTime: String(T3 - 1) })).toEqual([]);
    await refused('GET', '/api/v3/allOrders', {}, 400, -1102, /'symbol'/);
  });

  it("refuses orders with Binance's codes: filters, balance, precision and parameters", async () => {
    const base = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.001', price: '50000' };
    const cases: Array<[Record<string, string>, number, string | RegExp]> = [
      [{ ...base, quantity: '0.000001' }, -1013, 'Filter failure: LOT_SIZE'],
      [{ ...base, price: '50000.001' }, -1013, 'Filter failure: PRICE_FILTER'],
      [{ ...base, quantity: '0.00001' }, -1013, 'Filter failure: NOTIONAL'],
      [{ ...base, quantity: '1' }, -2010, 'Account has insufficient balance for requested action.'],
      [{ ...base, quantity: '0.000000001' }, -1111, "Parameter 'quantity' has too much precision."],
      [{ ...base, side: 'HOLD' }, -1117, 'Invalid side.'],
      [{ ...base, type: 'ICEBERG' }, -1116, 'Invalid orderType.'],
      [{ ...base, timeInForce: 'DAY' }, -1115, 'Invalid timeInForce.'],
      [{ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.000001' }, -1013, 'Filter failure: LOT_SIZE'],
      [{ ...base, type: 'MARKET', timeInForce: 'GTC', price: '' }, -1106, "Parameter 'timeInForce' sent when not required."],
      [{ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET' }, -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"],
      [{ ...base, newClientOrderId: '' }, -1118, 'New client order ID was empty.'],
      [{ ...base, icebergQty: '0.0005' }, -2010, 'Iceberg orders are not supported for this symbol.'],
      [{ ...base, quantity: 'lots' }, -1100, /quantity "lots" is not a positive decimal number/],
      [{ ...base, newOrderRespType: 'ALL' }, -1100, /'newOrderRespType'/],
      [{ ...base, symbol: 'NOPEUSDT' }, -1121, 'Invalid symbol.'],
      [{ side: 'BUY', type: 'LIMIT' }, -1102, /'symbol'/],
      [{ symbol: 'BTCUSDT', type: 'LIMIT' }, -1102, /'side'/],
    ];
    for (const [params, code, msg] of cases) await refused('POST', '/api/v3/order', params, 400, code, msg);
    expect(await ok<unknown[]>('GET', '/api/v3/allOrders', { symbol: 'BTCUSDT' })).toHaveLength(4);
  });

  it('validates without placing on /api/v3/order/test', async () => {
    expect(await ok('POST', '/api/v3/order/test', { symbol: 'BTCUSDT', side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.0005', price: '70000' })).toEqual({});
    await refused('POST', '/api/v3/order/test', { symbol: 'BTCUSDT', side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.000001', price: '70000' }, 400, -1013, 'Filter failure: LOT_SIZE');
    await refused('POST', '/api/v3/order/test', { symbol: 'BTCUSDT', side: 'SELL', type: 'LIMIT', quantity: '0.001' }, 400, -1102, /'price'/);
    await refused('POST', '/api/v3/order/test', { symbol: 'BTCUSDT', side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.0005', price: '70000', computeCommissionRates: 'true' }, 400, -1106);
    expect(await ok<unknown[]>('GET', '/api/v3/allOrders', { symbol: 'BTCUSDT' })).toHaveLength(4);
    expect(await ok('GET', '/api/v3/openOrders')).toEqual([]);
  });
});

import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../../src/server/tokens.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

/**
 * An unmodified Binance client, ccxt's `binance` class, pointed at the daemon: only its base URLs
 * and options change. Every private call is HMAC-signed by ccxt and verified by the daemon.
 */

let d: TestDaemon;
let apiKey: string;
let apiSecret: string;

const M0 = Date.UTC(2024, 0, 2, 0, 0);
const T = M0 + 10_000;

/** ccxt's binance on the daemon: spot markets only, nothing from /sapi, no currency or margin lookups. */
function client(secret: string): InstanceType<typeof ccxt.binance> {
  const ex = new ccxt.binance({
    apiKey,
    secret,
    enableRateLimit: false,
    timeout: 10_000,
    // With tokens configured the daemon's market data needs a credential too (scope read); Binance
    // accepts X-MBX-APIKEY on public endpoints, so ccxt sends it on every request.
    headers: { 'X-MBX-APIKEY': apiKey },
    options: { fetchMarkets: ['spot'], fetchCurrencies: false, fetchMargins: false, adjustForTimeDifference: false },
  });
  ex.urls['api'] = { ...(ex.urls['api'] as Record<string, string>), public: `${d.url}/api/v3`, private: `${d.url}/api/v3` };
  return ex;
}

beforeAll(async () => {
  d = await startTestDaemon({ logLevel: 'silent' });
  const issued = new TokenStore(d.dataDir).create({ scope: 'trade', apiKey: true, name: 'ccxt' });
  apiKey = issued.apiKey!;
  apiSecret = issued.apiSecret!;

  const node = d.daemon.node;
  d.rest.depth.set('BTCUSDT', { lastUpdateId: 500, bids: [['60000.00', '1.00']], asks: [['60010.00', '0.50'], ['60050.00', '2.00']] });
  d.trade({ id: 1, time: T, price: '60005.00', qty: '0.02' });
  d.fake.send('btcusdt@miniTicker', { e: '24hrMiniTicker', E: T, s: 'BTCUSDT', c: '60005.00', o: '59000.00', h: '61000.00', l: '58000.00', v: '10', q: '600000' });
  d.fake.send('btcusdt@bookTicker', { u: 501, s: 'BTCUSDT', b: '60000.00', B: '1.00', a: '60010.00', A: '0.50' });
  d.fake.send('btcusdt@depth@100ms', { e: 'depthUpdate', E: T, s: 'BTCUSDT', U: 501, u: 501, b: [], a: [] });
  await d.fake.waitFor(
    () => node.market.get('BTCUSDT')?.lastTrade !== undefined && node.market.get('BTCUSDT')?.ticker !== undefined && node.kernel.orderBook('BTCUSDT')?.status === 'synced',
    'a trade, a ticker and a synced book',
    10_000,
  );
});
afterAll(async () => {
  await d?.close();
});

describe('ccxt binance against the daemon', () => {
  it('loads markets, reads market data, trades paper and reads the account back', async () => {
    const ex = client(apiSecret);
    const markets = await ex.loadMarkets();
    expect(markets['BTC/USDT']).toMatchObject({ id: 'BTCUSDT', spot: true, active: true, precision: { amount: 0.00001, price: 0.01 }, limits: { amount: { min: 0.00001 } } });

    const ticker = await ex.fetchTicker('BTC/USDT');
    expect(ticker).toMatchObject({ symbol: 'BTC/USDT', last: 60005, open: 59000, high: 61000, low: 58000, bid: 60000, ask: 60010, baseVolume: 10, quoteVolume: 600000, timestamp: T });

    const book = await ex.fetchOrderBook('BTC/USDT');
    expect(book.bids).toEqual([[60000, 1]]);
    expect(book.asks).toEqual([[60010, 0.5], [60050, 2]]);
    expect(book.nonce).toBe(501);

    const resting = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, 50000);
    expect(resting).toMatchObject({ symbol: 'BTC/USDT', type: 'limit', side: 'buy', price: 50000, amount: 0.001, filled: 0, status: 'open', timestamp: T });
    expect(resting.clientOrderId).toMatch(/^x-/);

    const taker = await ex.createOrder('BTC/USDT', 'market', 'buy', 0.001);
    expect(taker).toMatchObject({ type: 'market', side: 'buy', status: 'closed', filled: 0.001, cost: 60.01, average: 60010 });
    expect(taker.trades).toHaveLength(1);

    const open = await ex.fetchOpenOrders('BTC/USDT');
    expect(open.map((o) => o.id)).toEqual([resting.id]);

    const canceled = await ex.cancelOrder(resting.id!, 'BTC/USDT');
    expect(canceled).toMatchObject({ id: resting.id, status: 'canceled' });
    expect(await ex.fetchOpenOrders('BTC/USDT')).toEqual([]);

    const balance = await ex.fetchBalance();
    // 0.001 BTC bought at 60010 less the 0.1 % taker fee taken in BTC.
    expect(balance['BTC']).toMatchObject({ free: 0.000999, used: 0, total: 0.000999 });
    expect(balance['USDT']).toMatchObject({ free: 9939.99, used: 0, total: 9939.99 });

    const trades = await ex.fetchMyTrades('BTC/USDT');
    expect(trades).toHaveLength(1);
    expect(trades[0]).toMatchObject({ order: taker.id, side: 'buy', price: 60010, amount: 0.001, cost: 60.01, takerOrMaker: 'taker', fee: { cost: 0.000001, currency: 'BTC' }, timestamp: T });
  });

  it('refuses a request signed with the wrong secret (-1022) and places nothing', async () => {
    const ex = client('0'.repeat(64));
    await ex.loadMarkets();
    const before = d.daemon.node.trading.orders().length;
    await expect(ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, 50000)).rejects.toThrow(ccxt.AuthenticationError);
    expect(JSON.parse(String(ex.last_http_response))).toEqual({ code: -1022, msg: 'Signature for this request is not valid.' });
    await expect(ex.fetchBalance()).rejects.toThrow(ccxt.AuthenticationError);
    expect(d.daemon.node.trading.orders()).toHaveLength(before);
  });
});

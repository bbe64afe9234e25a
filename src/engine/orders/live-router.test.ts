import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FakeRestState } from '../../../test/helpers/fake-binance-rest.js';
import { API_KEY, API_SECRET, exchangeInfo, instruments, startLiveVenue, type LiveVenue } from '../../../test/helpers/live-venue.js';
import { QtradeError, VenueError } from '../errors.js';
import { Secret } from '../market/binance/credentials.js';
import { SignedRest } from '../market/binance/signing.js';
import { parseAmount } from './amounts.js';
import { LiveRouter } from './live-router.js';
import { OrderRejectedError } from './rejections.js';

// BTCUSDT: priceScale 2, qtyScale 8.
const px = (s: string) => Math.round(Number(s) * 100);
const qty = (s: string) => Math.round(Number(s) * 1e8);

let venue: LiveVenue;
beforeEach(async () => {
  venue = await startLiveVenue({ balances: { USDT: '10000', BTC: '1' }, marketPrices: { BTCUSDT: '60000.00' } });
});
afterEach(async () => {
  await venue.close();
});

async function rejection(p: Promise<unknown>): Promise<OrderRejectedError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OrderRejectedError);
  return err as OrderRejectedError;
}

describe('LiveRouter', () => {
  it('places a LIMIT order and maps the reply to an Order', async () => {
    const router = venue.router();
    const r = await router.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: qty('0.01'), price: px('50000.00'), clientOrderId: 'my-order-1' });
    expect(r.duplicate).toBe(false);
    expect(r.recovered).toBe(false);
    expect(r.fills).toEqual([]);
    expect(r.order).toMatchObject({
      symbol: 'BTCUSDT',
      clientOrderId: 'my-order-1',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      price: 5_000_000,
      stopPrice: 0,
      origQty: 1_000_000,
      executedQty: 0,
      cumQuote: 0n,
      status: 'NEW',
      isWorking: true,
      lockAsset: 'USDT',
      locked: parseAmount('500'),
    });
    // what went on the wire: exact decimals from the raws, FULL replies
    const sent = venue.account.orders.get(r.order.orderId)!;
    expect(sent.price).toBe(5_000_000_000_000n);
    expect(venue.account.balance('USDT')).toEqual({ free: '9500.00000000', locked: '500.00000000' });
  });

  it('maps a MARKET fill from the FULL reply', async () => {
    const r = await venue.router().submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', qty: qty('0.1') });
    expect(r.order.status).toBe('FILLED');
    expect(r.order.timeInForce).toBeUndefined();
    expect(r.order.executedQty).toBe(10_000_000);
    expect(r.order.cumQuote).toBe(parseAmount('6000'));
    expect(r.order.locked).toBe(0n);
    expect(r.order.clientOrderId).toMatch(/^qt[0-9a-f]{20}$/);
    expect(r.fills).toHaveLength(1);
    expect(r.fills[0]).toMatchObject({ price: 6_000_000, qty: 10_000_000, quoteQty: parseAmount('6000'), commission: 0n, commissionAsset: 'BTC', isMaker: false, side: 'BUY' });
    expect(await venue.router().account()).toEqual(
      expect.arrayContaining([
        { asset: 'BTC', free: parseAmount('1.1'), locked: 0n },
        { asset: 'USDT', free: parseAmount('4000'), locked: 0n },
      ]),
    );
  });

  it('turns Binance filter failures into OrderRejectedError (exit 3) with code and message', async () => {
    const router = venue.router();
    const lot = await rejection(router.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: 123, price: px('50000') }));
    expect(lot.toJSON()).toEqual({ code: -1013, msg: 'Filter failure: LOT_SIZE' });
    expect(lot.exitCode).toBe(3);
    const broke = await rejection(router.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: qty('1'), price: px('50000') }));
    expect(broke.toJSON()).toEqual({ code: -2010, msg: 'Account has insufficient balance for requested action.' });
    // a rule we check before sending (same code and message as Binance's)
    const param = await rejection(router.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', qty: qty('0.01'), price: px('50000') }));
    expect(param.binanceCode).toBe(-1102);
    expect(venue.account.placed).toBe(0);
  });

  it('reports -1121 from Binance for a symbol the venue does not list', async () => {
    await venue.close();
    venue = await startLiveVenue({ exchangeInfo: { ...exchangeInfo, symbols: exchangeInfo.symbols.filter((s) => s.symbol !== 'ETHUSDT') } as unknown as FakeRestState['exchangeInfo'] });
    const err = await rejection(venue.router().submit({ symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', qty: qty('1') }));
    expect(err.toJSON()).toEqual({ code: -1121, msg: 'Invalid symbol.' });
  });

  it('cancels, lists open orders and queries by either id', async () => {
    const router = venue.router();
    const a = await router.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: qty('0.01'), price: px('50000'), clientOrderId: 'a' });
    const b = await router.submit({ symbol: 'BTCUSDT', side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', qty: qty('0.02'), price: px('70000'), clientOrderId: 'b' });
    expect((await router.openOrders('BTCUSDT')).map((o) => o.clientOrderId)).toEqual(['a', 'b']);
    expect((await router.openOrders()).map((o) => o.orderId)).toEqual([a.order.orderId, b.order.orderId]);
    expect((await router.order('BTCUSDT', { clientOrderId: 'b' }))!.lockAsset).toBe('BTC');
    expect((await router.order('BTCUSDT', { clientOrderId: 'b' }))!.locked).toBe(parseAmount('0.02'));

    const canceled = await router.cancel('BTCUSDT', { orderId: a.order.orderId });
    expect(canceled).toMatchObject({ orderId: a.order.orderId, clientOrderId: 'a', status: 'CANCELED', locked: 0n });
    expect((await router.order('BTCUSDT', { orderId: a.order.orderId }))!.status).toBe('CANCELED');
    expect(await router.order('BTCUSDT', { clientOrderId: 'nope' })).toBeUndefined();
    const again = await rejection(router.cancel('BTCUSDT', { orderId: a.order.orderId }));
    expect(again.toJSON()).toEqual({ code: -2011, msg: 'Unknown order sent.' });

    const all = await router.cancelAll('BTCUSDT');
    expect(all.map((o) => [o.clientOrderId, o.status])).toEqual([['b', 'CANCELED']]);
    expect(await router.cancelAll('BTCUSDT')).toEqual([]);
    expect(await router.openOrders('BTCUSDT')).toEqual([]);
    expect(venue.account.balance('USDT')).toEqual({ free: '10000.00000000', locked: '0.00000000' });
  });

  it('returns the existing order for a clientOrderId that is already open (duplicate)', async () => {
    const router = venue.router();
    const req = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: qty('0.01'), price: px('50000'), clientOrderId: 'dup-1' } as const;
    const first = await router.submit(req);
    const second = await router.submit(req);
    expect(second.duplicate).toBe(true);
    expect(second.order.orderId).toBe(first.order.orderId);
    expect(venue.account.placed).toBe(1);
  });
});

describe('LiveRouter idempotency when a reply is lost', () => {
  const limit = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: qty('0.01'), price: px('50000'), clientOrderId: 'lost-1' } as const;

  it('a timeout after the order was placed: queries by clientOrderId and does not place it again', async () => {
    venue.account.lostReplies.push({ method: 'POST', path: '/api/v3/order', mode: 'hang' });
    const router = venue.router({ rest: venue.signed({ timeoutMs: 300 }) });
    const r = await router.submit(limit);
    expect(r.recovered).toBe(true);
    expect(r.order.clientOrderId).toBe('lost-1');
    expect(venue.account.placed).toBe(1);
    const log = venue.state.log.filter((e) => e.path === '/api/v3/order').map((e) => `${e.method} ${e.status}`);
    expect(log).toEqual(['POST -2', 'GET 200']);
  });

  it('a reset connection after a MARKET order filled: still exactly one order', async () => {
    venue.account.lostReplies.push({ method: 'POST', path: '/api/v3/order', mode: 'destroy' });
    const r = await venue.router().submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', qty: qty('0.1'), clientOrderId: 'mkt-1' });
    expect(r.recovered).toBe(true);
    expect(r.order.status).toBe('FILLED');
    expect(venue.account.placed).toBe(1);
    expect(venue.account.balance('BTC').free).toBe('1.10000000');
  });

  it('a request that never reached Binance: not found, so it is sent again, once', async () => {
    venue.state.forced.push({ path: '/api/v3/order', destroy: true });
    const r = await venue.router().submit(limit);
    expect(r.recovered).toBe(true);
    expect(venue.account.placed).toBe(1);
    const log = venue.state.log.filter((e) => e.path === '/api/v3/order').map((e) => `${e.method} ${e.status}`);
    expect(log).toEqual(['POST -1', 'GET 400', 'POST 200']);
  });

  it('gives up after the attempts with a VenueError that says nothing was placed', async () => {
    const drop = { path: '/api/v3/order', destroy: true };
    const notFound = { path: '/api/v3/order', status: 400, body: { code: -2013, msg: 'Order does not exist.' } };
    venue.state.forced.push(drop, notFound, drop, notFound); // POST, GET, POST, GET
    const err = (await venue
      .router({ maxSubmitAttempts: 2 })
      .submit(limit)
      .catch((e: unknown) => e)) as VenueError;
    expect(err).toBeInstanceOf(VenueError);
    expect(err.exitCode).toBe(4);
    expect(err.message).toMatch(/2 attempts; Binance has no order with client id lost-1/);
    expect(err.hint).toMatch(/no order was placed/);
    expect(venue.account.placed).toBe(0);
  });

  it('an unreachable venue is a VenueError (exit 4)', async () => {
    const rest = new SignedRest({ baseUrl: 'http://127.0.0.1:9', net: {}, credentials: { apiKey: API_KEY, apiSecret: new Secret(API_SECRET) }, maxRetries: 0 });
    const router = new LiveRouter({ rest, instruments, unknownOutcomeDelayMs: 0 });
    const err = (await router.account().catch((e: unknown) => e)) as VenueError;
    expect(err).toBeInstanceOf(VenueError);
    expect(err.exitCode).toBe(4);
  });
});

describe('secrets', () => {
  it('appear in no error message, hint, JSON or inspection across failures', async () => {
    const planted = 'ZzTopSecretValue0123456789ZzTopSecretValue0123456789ZzTopSecretVal';
    const apiKey = API_KEY;
    const errors: unknown[] = [];
    const collect = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => void errors.push(e));
    const wrong = new LiveRouter({ rest: venue.signed({ credentials: { apiKey, apiSecret: new Secret(planted) } }), instruments, unknownOutcomeDelayMs: 0 });
    await collect(wrong.account());
    await collect(wrong.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', qty: qty('0.1') }));
    await collect(wrong.cancelAll('BTCUSDT'));
    const good = venue.router({ rest: venue.signed({ timeoutMs: 200, credentials: { apiKey, apiSecret: new Secret(API_SECRET) } }) });
    await collect(good.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: 5, price: 1 }));
    const offline = new LiveRouter({
      rest: new SignedRest({ baseUrl: 'http://127.0.0.1:9', net: {}, credentials: { apiKey, apiSecret: new Secret(planted) }, maxRetries: 0 }),
      instruments,
      unknownOutcomeDelayMs: 0,
      maxSubmitAttempts: 1,
    });
    await collect(offline.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', qty: qty('0.1') }));
    await collect(offline.openOrders());
    expect(errors.length).toBe(6);
    for (const e of errors) {
      expect(e).toBeInstanceOf(QtradeError);
      const q = e as QtradeError;
      const texts = [q.message, q.hint ?? '', JSON.stringify(q), inspect(q, { depth: 10 }), String(q.stack), JSON.stringify(q.cause ?? null), inspect(q.cause, { depth: 10 })];
      for (const t of texts) {
        expect(t).not.toContain(planted);
        expect(t).not.toContain(API_SECRET);
        expect(t).not.toContain(apiKey);
      }
    }
  });
});

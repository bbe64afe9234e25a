import { describe, expect, it } from 'vitest';
import { ParseError } from '../errors.js';
import { parseFixed } from '../fixed.js';
import { parseAmount } from '../orders/amounts.js';
import { bundledMarket } from '../orders/bundled-filters.js';
import type { Fill, OrderRequest, OrderType, Side } from '../orders/types.js';
import { RiskEngine, decodeStatus, encodeStatus } from './engine.js';
import { emptyLimits, setLimit, type RiskLimits } from './limits.js';
import { RISK_CODES, RiskRejectedError } from './rejections.js';
import type { RiskView } from './view.js';

const { instruments } = bundledMarket();
const BTCUSDT = instruments.get('BTCUSDT');
const ETHUSDT = instruments.get('ETHUSDT');
const ETHBTC = instruments.get('ETHBTC');
const P = (s: string): number => parseFixed(s, 2);
const Q = (s: string): number => parseFixed(s, 8);
const A = parseAmount;
const T0 = Date.parse('2024-08-08T12:00:00Z');

function view(over: Partial<RiskView> = {}): RiskView {
  return {
    now: T0,
    instrument: BTCUSDT,
    lastPrice: P('60000'),
    position: 0n,
    openBuyQty: 0,
    openSellQty: 0,
    openOrders: 0,
    openOrdersTotal: 0,
    ...over,
  };
}

function limits(...sets: Array<[string, string, string?]>): RiskLimits {
  let l = emptyLimits();
  for (const [k, v, s] of sets) l = setLimit(l, k, v, s);
  return l;
}

function engine(...sets: Array<[string, string, string?]>): RiskEngine {
  return new RiskEngine({ instruments: instruments.all(), limits: limits(...sets) });
}

function limit(side: Side, qty: string, price: string, symbol = 'BTCUSDT'): OrderRequest {
  return { symbol, side, type: 'LIMIT', timeInForce: 'GTC', qty: Q(qty), price: P(price) };
}

function market(side: Side, qty: string): OrderRequest {
  return { symbol: 'BTCUSDT', side, type: 'MARKET', qty: Q(qty) };
}

function fill(side: Side, qty: string, price: string, time = T0, over: Partial<Fill> = {}): Fill {
  const q = Q(qty);
  const p = P(price);
  return {
    symbol: 'BTCUSDT',
    orderId: 1,
    clientOrderId: 'c',
    tradeId: 1,
    side,
    price: p,
    qty: q,
    quoteQty: BigInt(p) * BigInt(q) * 10n ** 6n,
    commission: 0n,
    commissionAsset: 'USDT',
    isMaker: false,
    time,
    ...over,
  };
}

/** The rejection's message, asserting its code matches its rule. */
function msg(r: ReturnType<RiskEngine['check']>): string | undefined {
  if (r) expect(r.code).toBe(RISK_CODES[r.rule]);
  return r?.msg;
}

describe('maxOrderNotional', () => {
  const e = engine(['maxOrderNotional', '10000', 'BTCUSDT']);

  it('admits at and below the limit, rejects above with the numbers', () => {
    expect(e.check(limit('BUY', '0.2', '50000'), view())).toBeUndefined();
    expect(e.check(limit('BUY', '0.19999', '50000'), view())).toBeUndefined();
    const r = e.check(limit('BUY', '0.20001', '50000'), view());
    expect(r).toEqual({
      code: -31007,
      rule: 'maxOrderNotional',
      symbol: 'BTCUSDT',
      msg: 'order notional 10,000.50 USDT exceeds max 10,000.00 USDT (rule maxOrderNotional, BTCUSDT)',
    });
    expect(msg(e.check(limit('SELL', '1', '52000'), view()))).toBe(
      'order notional 52,000.00 USDT exceeds max 10,000.00 USDT (rule maxOrderNotional, BTCUSDT)',
    );
  });

  it('values a MARKET order at the last trade, a quoteOrderQty order at its amount, a market stop at its stop', () => {
    const last = view({ lastPrice: P('50000.01') });
    expect(e.check(market('BUY', '0.19999'), last)).toBeUndefined();
    expect(msg(e.check(market('BUY', '0.2'), last))).toBe(
      'order notional 10,000.002 USDT at last trade 50,000.01 exceeds max 10,000.00 USDT (rule maxOrderNotional, BTCUSDT)',
    );
    const quote = (a: string): OrderRequest => ({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quoteOrderQty: A(a) });
    expect(e.check(quote('10000'), last)).toBeUndefined();
    expect(msg(e.check(quote('10000.00000001'), last))).toBe(
      'order notional 10,000.00000001 USDT exceeds max 10,000.00 USDT (rule maxOrderNotional, BTCUSDT)',
    );
    const stop = (p: string): OrderRequest => ({ symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_LOSS', qty: Q('0.2'), stopPrice: P(p) });
    expect(e.check(stop('50000'), last)).toBeUndefined();
    expect(msg(e.check(stop('50000.05'), last))).toBe('order notional 10,000.01 USDT exceeds max 10,000.00 USDT (rule maxOrderNotional, BTCUSDT)');
    expect(msg(e.check(market('BUY', '0.1'), view({ lastPrice: undefined })))).toBe(
      'no last trade price for BTCUSDT to value the MARKET order (rule maxOrderNotional, BTCUSDT)',
    );
  });

  it('a global value is every symbol\'s default, in its quote asset; a symbol\'s own value replaces it', () => {
    const g = engine(['maxOrderNotional', '1'], ['maxOrderNotional', '100000', 'BTCUSDT']);
    const eth = (qty: string, price: string): OrderRequest => ({
      symbol: 'ETHBTC',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      qty: Q(qty),
      price: parseFixed(price, 5),
    });
    const v = view({ instrument: ETHBTC, lastPrice: parseFixed('0.05', 5) });
    expect(g.check(eth('20', '0.05'), v)).toBeUndefined();
    expect(msg(g.check(eth('20.002', '0.05'), v))).toBe('order notional 1.0001 BTC exceeds max 1.00 BTC (rule maxOrderNotional, global)');
    expect(g.check(limit('BUY', '1', '60000'), view())).toBeUndefined();
    expect(msg(g.check(limit('BUY', '1.66667', '60000'), view()))).toBe(
      'order notional 100,000.20 USDT exceeds max 100,000.00 USDT (rule maxOrderNotional, BTCUSDT)',
    );
  });
});

describe('maxPositionQty', () => {
  const e = engine(['maxPositionQty', '2', 'BTCUSDT']);
  const long = view({ position: A('1.5'), openBuyQty: Q('0.25') });

  it('counts the position and open BUY orders: at, below, above', () => {
    expect(e.check(limit('BUY', '0.25', '60000'), long)).toBeUndefined();
    expect(e.check(limit('BUY', '0.24999', '60000'), long)).toBeUndefined();
    expect(msg(e.check(limit('BUY', '0.25001', '60000'), long))).toBe(
      'position would reach 2.00001 BTC (now 1.5, open BUY 0.25, order 0.25001), exceeds max 2 BTC (rule maxPositionQty, BTCUSDT)',
    );
  });

  it('applies to the short side with open SELL orders', () => {
    const short = view({ position: A('-1.5'), openSellQty: Q('0.25') });
    expect(e.check(limit('SELL', '0.25', '60000'), short)).toBeUndefined();
    expect(msg(e.check(limit('SELL', '0.25001', '60000'), short))).toBe(
      'position would reach -2.00001 BTC (now -1.5, open SELL 0.25, order 0.25001), exceeds max 2 BTC short (rule maxPositionQty, BTCUSDT)',
    );
  });

  it('never refuses an order that moves an oversized position toward zero', () => {
    expect(e.check(limit('SELL', '3', '60000'), view({ position: A('5') }))).toBeUndefined();
    expect(e.check(limit('BUY', '1', '60000'), view({ position: A('-5') }))).toBeUndefined();
  });

  it('sizes a quoteOrderQty order at the last trade, rounding up', () => {
    const q = (a: string): OrderRequest => ({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quoteOrderQty: A(a) });
    const v = view({ position: A('1.5') });
    expect(e.check(q('30000'), v)).toBeUndefined();
    expect(msg(e.check(q('30000.0000000000000001'), v))).toBe(
      'position would reach 2.0000000000000001 BTC (now 1.5, open BUY 0, order 0.5000000000000001), exceeds max 2 BTC (rule maxPositionQty, BTCUSDT)',
    );
    // With the book's ask below the last trade, the ask bounds what the BUY can get.
    const withAsk = view({ position: A('1.5'), bestAsk: P('59000') });
    expect(e.check(q('29500'), withAsk)).toBeUndefined();
    expect(e.check(q('29500.0000000000000001'), withAsk)?.msg).toBe(
      'position would reach 2.0000000000000001 BTC (now 1.5, open BUY 0, order 0.5000000000000001), exceeds max 2 BTC (rule maxPositionQty, BTCUSDT)',
    );
    expect(e.check(q('30000'), view({ position: A('1.5'), bestAsk: P('61000') }))).toBeUndefined();
    expect(msg(e.check(q('100'), view({ lastPrice: undefined })))).toBe(
      'no last trade price for BTCUSDT to size the quoteOrderQty order (rule maxPositionQty, BTCUSDT)',
    );
  });
});

describe('maxPositionNotional', () => {
  const e = engine(['maxPositionNotional', '100000']);

  it('values the worst-case position at the order price: at, below, above', () => {
    const v = view({ position: A('1') });
    expect(e.check(limit('BUY', '1', '50000'), v)).toBeUndefined();
    expect(e.check(limit('BUY', '0.99999', '50000'), v)).toBeUndefined();
    expect(msg(e.check(limit('BUY', '1', '50000.01'), v))).toBe(
      'position would reach 2 BTC = 100,000.02 USDT at 50,000.01, exceeds max 100,000.00 USDT (rule maxPositionNotional, global)',
    );
    expect(msg(e.check(limit('SELL', '1', '50000.01'), view({ position: A('-1') })))).toBe(
      'position would reach -2 BTC = 100,000.02 USDT at 50,000.01, exceeds max 100,000.00 USDT (rule maxPositionNotional, global)',
    );
    expect(e.check(limit('SELL', '3', '50000'), view({ position: A('3') }))).toBeUndefined();
  });
});

describe('maxOpenOrders', () => {
  const e = engine(['maxOpenOrders', '3', 'BTCUSDT'], ['maxOpenOrders', '10']);

  it('per symbol: at, below, above', () => {
    expect(e.check(limit('BUY', '0.1', '60000'), view({ openOrders: 2, openOrdersTotal: 2 }))).toBeUndefined();
    expect(e.check(limit('BUY', '0.1', '60000'), view({ openOrders: 1, openOrdersTotal: 1 }))).toBeUndefined();
    expect(msg(e.check(limit('BUY', '0.1', '60000'), view({ openOrders: 3, openOrdersTotal: 3 })))).toBe(
      'open orders on BTCUSDT would reach 4, exceeds max 3 (rule maxOpenOrders, BTCUSDT)',
    );
  });

  it('across all symbols', () => {
    expect(e.check(limit('BUY', '0.1', '60000'), view({ openOrders: 0, openOrdersTotal: 9 }))).toBeUndefined();
    expect(msg(e.check(limit('BUY', '0.1', '60000'), view({ openOrders: 0, openOrdersTotal: 10 })))).toBe(
      'open orders would reach 11 across all symbols, exceeds max 10 (rule maxOpenOrders, global)',
    );
  });

  it('orders that cannot rest are not counted; stops are', () => {
    const full = view({ openOrders: 3, openOrdersTotal: 3 });
    expect(e.check(market('BUY', '0.1'), full)).toBeUndefined();
    expect(e.check({ ...limit('BUY', '0.1', '60000'), timeInForce: 'IOC' }, full)).toBeUndefined();
    expect(e.check({ ...limit('BUY', '0.1', '60000'), timeInForce: 'FOK' }, full)).toBeUndefined();
    expect(e.check({ symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_LOSS', qty: Q('0.1'), stopPrice: P('59000') }, full)?.rule).toBe('maxOpenOrders');
  });
});

describe('orderRate (rolling window of event time)', () => {
  it('per symbol: the window slides with view.now, only admitted orders count', () => {
    const e = engine(['orderRate', '3/10s', 'BTCUSDT']);
    const o = limit('BUY', '0.1', '60000');
    expect(e.admit(o, view({ now: T0 }))).toBeUndefined();
    expect(e.admit(o, view({ now: T0 + 1000 }))).toBeUndefined();
    // check() alone records nothing.
    expect(e.check(o, view({ now: T0 + 2000 }))).toBeUndefined();
    expect(e.check(o, view({ now: T0 + 2000 }))).toBeUndefined();
    expect(e.admit(o, view({ now: T0 + 2000 }))).toBeUndefined();
    const r = e.admit(o, view({ now: T0 + 9999 }));
    expect(msg(r)).toBe('orders on BTCUSDT in the last 10s would reach 4, exceeds max 3 per 10s (rule orderRate, BTCUSDT)');
    expect(e.admit(o, view({ now: T0 + 9999 }))?.rule).toBe('orderRate');
    // At T0 + 10s the first order has left the window.
    expect(e.admit(o, view({ now: T0 + 10_000 }))).toBeUndefined();
    expect(e.admit(o, view({ now: T0 + 10_999 }))?.rule).toBe('orderRate');
    expect(e.admit(o, view({ now: T0 + 11_000 }))).toBeUndefined();
    // Other symbols have no limit of their own.
    for (let i = 0; i < 10; i++) expect(e.admit(limit('BUY', '1', '3000', 'ETHUSDT'), view({ instrument: ETHUSDT, now: T0 + 11_000 }))).toBeUndefined();
  });

  it('globally, across symbols', () => {
    const e = engine(['orderRate', '2/1s']);
    expect(e.admit(limit('BUY', '0.1', '60000'), view({ now: T0 }))).toBeUndefined();
    expect(e.admit(limit('BUY', '1', '3000', 'ETHUSDT'), view({ instrument: ETHUSDT, now: T0 + 500 }))).toBeUndefined();
    expect(msg(e.admit(limit('BUY', '0.1', '60000'), view({ now: T0 + 999 })))).toBe(
      'orders in the last 1s would reach 3 across all symbols, exceeds max 2 per 1s (rule orderRate, global)',
    );
    expect(e.admit(limit('BUY', '0.1', '60000'), view({ now: T0 + 1000 }))).toBeUndefined();
  });

  it('applies to reducing orders too', () => {
    const e = engine(['orderRate', '1/1m', 'BTCUSDT']);
    const v = view({ position: A('1') });
    expect(e.admit(limit('SELL', '0.1', '60000'), v)).toBeUndefined();
    expect(e.admit(limit('SELL', '0.1', '60000'), v)?.msg).toBe(
      'orders on BTCUSDT in the last 1m would reach 2, exceeds max 1 per 1m (rule orderRate, BTCUSDT)',
    );
  });
});

describe('priceBandPct (fat finger)', () => {
  const e = engine(['priceBandPct', '5']);

  it('limit prices against the last trade: at, inside, outside on both sides', () => {
    for (const p of ['63000', '62999.99', '57000', '57000.01', '60000']) expect(e.check(limit('BUY', '0.1', p), view()), p).toBeUndefined();
    expect(msg(e.check(limit('BUY', '0.1', '63000.01'), view()))).toBe(
      'price 63,000.01 is 5.01% above last trade 60,000.00, outside the 5% band (rule priceBandPct, global)',
    );
    expect(msg(e.check(limit('SELL', '0.1', '56999.99'), view()))).toBe(
      'price 56,999.99 is 5.01% below last trade 60,000.00, outside the 5% band (rule priceBandPct, global)',
    );
    expect(msg(e.check(limit('SELL', '0.1', '6000'), view()))).toBe(
      'price 6,000.00 is 90.00% below last trade 60,000.00, outside the 5% band (rule priceBandPct, global)',
    );
  });

  it('stop-limits against their stop price; market types are not checked', () => {
    const sl = (stop: string, price: string): OrderRequest => ({
      symbol: 'BTCUSDT',
      side: 'SELL',
      type: 'STOP_LOSS_LIMIT' as OrderType,
      timeInForce: 'GTC',
      qty: Q('0.1'),
      stopPrice: P(stop),
      price: P(price),
    });
    expect(e.check(sl('50000', '47500'), view())).toBeUndefined();
    expect(msg(e.check(sl('50000', '47499.99'), view()))).toBe(
      'price 47,499.99 is 5.01% below stop price 50,000.00, outside the 5% band (rule priceBandPct, global)',
    );
    expect(e.check(market('BUY', '0.1'), view())).toBeUndefined();
  });

  it('a symbol band replaces the global one; no last trade means no check is possible', () => {
    const s = engine(['priceBandPct', '5'], ['priceBandPct', '0.5', 'BTCUSDT']);
    expect(s.check(limit('BUY', '0.1', '60300'), view())).toBeUndefined();
    expect(msg(s.check(limit('BUY', '0.1', '60300.01'), view()))).toBe(
      'price 60,300.01 is 0.51% above last trade 60,000.00, outside the 0.5% band (rule priceBandPct, BTCUSDT)',
    );
    expect(msg(s.check(limit('BUY', '0.1', '60000'), view({ lastPrice: undefined })))).toBe(
      'no last trade for BTCUSDT to check the 0.5% band against (rule priceBandPct, BTCUSDT)',
    );
  });
});

describe('dailyLossLimit', () => {
  it('per symbol: below, at and above; hitting it moves ACTIVE to REDUCING once', () => {
    const e = engine(['dailyLossLimit', '1000', 'BTCUSDT']);
    expect(e.onRealizedPnl('BTCUSDT', A('-999.99'), T0)).toBeUndefined();
    expect(e.check(limit('BUY', '0.1', '60000'), view())).toBeUndefined();
    const change = e.onRealizedPnl('BTCUSDT', A('-0.01'), T0 + 1);
    expect(change).toEqual({
      state: 'REDUCING',
      previous: 'ACTIVE',
      reason: 'realized loss today 1,000.00 USDT reached max 1,000.00 USDT (rule dailyLossLimit, BTCUSDT)',
      time: T0 + 1,
    });
    expect(e.state).toBe('REDUCING');
    expect(e.onRealizedPnl('BTCUSDT', A('-0.01'), T0 + 2)).toBeUndefined();
    // After a same-day resume the rule still admits only reducing orders on BTCUSDT.
    expect(e.resume(T0 + 3)).toEqual({ state: 'ACTIVE', previous: 'REDUCING', reason: 'resumed by operator', time: T0 + 3 });
    expect(msg(e.check(limit('BUY', '0.1', '60000'), view({ now: T0 + 4 })))).toBe(
      'realized loss today 1,000.01 USDT reached max 1,000.00 USDT, only reducing orders until 00:00 UTC (rule dailyLossLimit, BTCUSDT)',
    );
    expect(e.check(limit('SELL', '0.1', '60000'), view({ now: T0 + 4, position: A('0.1') }))).toBeUndefined();
    expect(e.check(limit('BUY', '1', '3000', 'ETHUSDT'), view({ now: T0 + 4, instrument: ETHUSDT }))).toBeUndefined();
    // A further loss while ACTIVE reduces again.
    expect(e.onRealizedPnl('BTCUSDT', A('-1'), T0 + 5)?.state).toBe('REDUCING');
  });

  it('resets at the UTC day boundary of event time', () => {
    const e = engine(['dailyLossLimit', '1000', 'BTCUSDT']);
    const lastMs = Date.parse('2024-08-08T23:59:59.999Z');
    const midnight = Date.parse('2024-08-09T00:00:00.000Z');
    expect(e.onRealizedPnl('BTCUSDT', A('-1500'), lastMs)?.state).toBe('REDUCING');
    e.resume(lastMs);
    expect(e.check(limit('BUY', '0.1', '60000'), view({ now: lastMs }))?.rule).toBe('dailyLossLimit');
    expect(e.realizedToday('BTCUSDT', lastMs)).toBe(A('-1500'));
    expect(e.realizedToday('BTCUSDT', midnight)).toBe(0n);
    expect(e.check(limit('BUY', '0.1', '60000'), view({ now: midnight }))).toBeUndefined();
    // Yesterday's loss is not added to today's.
    expect(e.onRealizedPnl('BTCUSDT', A('-999.99'), midnight + 1)).toBeUndefined();
    expect(e.realizedToday('BTCUSDT', midnight + 1)).toBe(A('-999.99'));
    // A late PnL for yesterday does not touch today.
    expect(e.onRealizedPnl('BTCUSDT', A('-5000'), lastMs)).toBeUndefined();
    expect(e.realizedToday('BTCUSDT', midnight + 1)).toBe(A('-999.99'));
    expect(e.onRealizedPnl('BTCUSDT', A('-0.01'), midnight + 2)?.reason).toBe(
      'realized loss today 1,000.00 USDT reached max 1,000.00 USDT (rule dailyLossLimit, BTCUSDT)',
    );
  });

  it('globally, summed per quote asset', () => {
    const e = engine(['dailyLossLimit', '1000']);
    expect(e.onRealizedPnl('BTCUSDT', A('-600'), T0)).toBeUndefined();
    expect(e.onRealizedPnl('ETHBTC', A('-5000'), T0)?.reason).toBe(
      'realized loss today on BTC symbols 5,000.00 BTC reached max 1,000.00 BTC (rule dailyLossLimit, global)',
    );
    e.resume(T0);
    expect(e.onRealizedPnl('ETHUSDT', A('-399.99'), T0)).toBeUndefined();
    expect(e.check(limit('BUY', '0.1', '60000'), view())).toBeUndefined();
    const c = e.onRealizedPnl('ETHUSDT', A('-0.01'), T0);
    expect(c?.reason).toBe('realized loss today on USDT symbols 1,000.00 USDT reached max 1,000.00 USDT (rule dailyLossLimit, global)');
    e.resume(T0);
    expect(msg(e.check(limit('BUY', '0.1', '60000'), view()))).toBe(
      'realized loss today on USDT symbols 1,000.00 USDT reached max 1,000.00 USDT, only reducing orders until 00:00 UTC (rule dailyLossLimit, global)',
    );
    expect(e.realizedTodayByQuote('USDT', T0)).toBe(A('-1000'));
  });

  it('learns realized PnL from fills by the average-cost method, net of fees', () => {
    const e = engine(['dailyLossLimit', '1000', 'BTCUSDT']);
    expect(e.onFill(fill('BUY', '1', '60000'))).toBeUndefined();
    expect(e.onFill(fill('BUY', '1', '62000'))).toBeUndefined();
    // Average entry 61000: selling 1 at 60000.01 realizes -999.99, minus a 0.01 USDT fee = -1000.
    const c = e.onFill(fill('SELL', '1', '60000.01', T0 + 5, { commission: A('0.01') }));
    expect(e.realizedToday('BTCUSDT', T0 + 5)).toBe(A('-1000'));
    expect(c).toEqual({
      state: 'REDUCING',
      previous: 'ACTIVE',
      reason: 'realized loss today 1,000.00 USDT reached max 1,000.00 USDT (rule dailyLossLimit, BTCUSDT)',
      time: T0 + 5,
    });
    expect(() => e.onFill({ ...fill('BUY', '1', '1'), symbol: 'NOPEUSDT' })).toThrow(RangeError);
  });
});

describe('states', () => {
  it('HALTED rejects everything, reducing orders included', () => {
    const e = engine();
    expect(e.halt('operator: flash crash', T0)).toEqual({ state: 'HALTED', previous: 'ACTIVE', reason: 'operator: flash crash', time: T0 });
    expect(e.check(limit('SELL', '0.1', '60000'), view({ position: A('1') }))).toEqual({
      code: -31001,
      rule: 'halted',
      symbol: 'BTCUSDT',
      msg: 'trading halted: operator: flash crash (rule halted)',
    });
    expect(e.check(market('BUY', '0.1'), view({ instrument: undefined }))?.rule).toBe('halted');
    expect(e.admit({ symbol: 'XYZ', side: 'BUY', type: 'MARKET' }, view())?.rule).toBe('halted');
  });

  it('transitions: halt, resume, reduceOnly; a no-op transition returns undefined', () => {
    const e = engine();
    expect(e.state).toBe('ACTIVE');
    expect(e.resume(T0)).toBeUndefined();
    expect(e.reduceOnly('taking risk off', T0 + 1)).toEqual({ state: 'REDUCING', previous: 'ACTIVE', reason: 'taking risk off', time: T0 + 1 });
    expect(e.reduceOnly('again', T0 + 2)).toBeUndefined();
    expect(e.halt('stop', T0 + 3)).toEqual({ state: 'HALTED', previous: 'REDUCING', reason: 'stop', time: T0 + 3 });
    expect(e.halt('stop again', T0 + 4)).toBeUndefined();
    expect(e.status()).toEqual({ state: 'HALTED', reason: 'stop', since: T0 + 3 });
    expect(e.resume(T0 + 5, 'all clear')).toEqual({ state: 'ACTIVE', previous: 'HALTED', reason: 'all clear', time: T0 + 5 });
    expect(e.check(limit('BUY', '0.1', '60000'), view())).toBeUndefined();
  });

  it('a daily-loss breach while HALTED does not change the state', () => {
    const e = engine(['dailyLossLimit', '10']);
    e.halt('h', T0);
    expect(e.onRealizedPnl('BTCUSDT', A('-100'), T0)).toBeUndefined();
    expect(e.state).toBe('HALTED');
  });

  it('REDUCING admits only orders that reduce the position, counting open orders on the same side', () => {
    const e = engine();
    e.reduceOnly('manual', T0);
    const long = view({ position: A('1.5') });
    expect(e.check(limit('SELL', '1.5', '60000'), long)).toBeUndefined();
    expect(e.check(market('SELL', '0.5'), long)).toBeUndefined();
    expect(e.check(limit('SELL', '1.50001', '60000'), long)).toEqual({
      code: -31002,
      rule: 'reducing',
      symbol: 'BTCUSDT',
      msg: 'state REDUCING (manual): SELL 1.50001 BTC does not reduce position 1.5 BTC with open SELL orders 0 BTC (rule reducing, BTCUSDT)',
    });
    expect(msg(e.check(limit('SELL', '0.6', '60000'), view({ position: A('1.5'), openSellQty: Q('1') })))).toBe(
      'state REDUCING (manual): SELL 0.6 BTC does not reduce position 1.5 BTC with open SELL orders 1 BTC (rule reducing, BTCUSDT)',
    );
    expect(e.check(limit('SELL', '0.5', '60000'), view({ position: A('1.5'), openSellQty: Q('1') }))).toBeUndefined();
    expect(msg(e.check(limit('BUY', '0.1', '60000'), long))).toBe(
      'state REDUCING (manual): BUY 0.1 BTC does not reduce position 1.5 BTC with open BUY orders 0 BTC (rule reducing, BTCUSDT)',
    );
    // Flat: nothing reduces.
    expect(e.check(limit('SELL', '0.1', '60000'), view())?.rule).toBe('reducing');
    expect(e.check(limit('BUY', '0.1', '60000'), view())?.rule).toBe('reducing');
    // Short (sold holdings from before trading): a BUY up to the short reduces.
    const short = view({ position: A('-1') });
    expect(e.check(limit('BUY', '1', '60000'), short)).toBeUndefined();
    expect(e.check(limit('BUY', '1.00001', '60000'), short)?.rule).toBe('reducing');
    expect(e.check({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quoteOrderQty: A('60000') }, short)).toBeUndefined();
    expect(msg(e.check({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quoteOrderQty: A('100') }, view({ position: A('-1'), lastPrice: undefined })))).toBe(
      'state REDUCING (manual): cannot size the BUY order without a last trade price to check it reduces position -1 BTC (rule reducing, BTCUSDT)',
    );
    expect(msg(e.check(limit('BUY', '1', '1', 'NOPE'), view({ instrument: undefined })))).toBe(
      'state REDUCING (manual): NOPE is not a listed symbol, no position to reduce (rule reducing, NOPE)',
    );
  });

  it('other rules still apply to reducing orders', () => {
    const e = engine(['maxOrderNotional', '1000', 'BTCUSDT']);
    e.reduceOnly('manual', T0);
    expect(e.check(limit('SELL', '1', '60000'), view({ position: A('1') }))?.rule).toBe('maxOrderNotional');
  });

  it('starts from a persisted status', () => {
    const e = engine();
    e.halt('maintenance', T0);
    const json = encodeStatus(e.status());
    expect(json).toBe(`{"version":1,"state":"HALTED","reason":"maintenance","since":${T0}}`);
    const restored = new RiskEngine({ status: decodeStatus(json) });
    expect(restored.state).toBe('HALTED');
    expect(restored.check(market('BUY', '1'), view())?.msg).toBe('trading halted: maintenance (rule halted)');
    for (const bad of ['x', '{"version":1,"state":"PAUSED","reason":"","since":0}', '{"version":1,"state":"ACTIVE","since":0}']) {
      expect(() => decodeStatus(bad), bad).toThrow(ParseError);
    }
  });
});

describe('rules compose', () => {
  it('reports the first failing rule in the documented order', () => {
    const e = engine(['maxOrderNotional', '1000'], ['priceBandPct', '1'], ['maxPositionQty', '0.01', 'BTCUSDT'], ['maxOpenOrders', '0']);
    const o = limit('BUY', '1', '70000');
    expect(e.check(o, view())?.rule).toBe('maxOpenOrders');
    e.setLimits(setLimit(e.limits, 'maxOpenOrders', 'off'));
    expect(e.check(o, view())?.rule).toBe('priceBandPct');
    e.setLimits(setLimit(e.limits, 'priceBandPct', 'off'));
    expect(e.check(o, view())?.rule).toBe('maxOrderNotional');
    e.setLimits(setLimit(e.limits, 'maxOrderNotional', 'off'));
    expect(e.check(o, view())?.rule).toBe('maxPositionQty');
    e.setLimits(setLimit(e.limits, 'maxPositionQty', 'off', 'BTCUSDT'));
    expect(e.check(o, view())).toBeUndefined();
  });

  it('a malformed request passes risk untouched (the venue validates it); an unknown symbol too', () => {
    const e = engine(['maxOrderNotional', '1000'], ['maxPositionNotional', '1000']);
    expect(e.check({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: P('60000') }, view())).toBeUndefined();
    expect(e.check(limit('BUY', '100', '1', 'NOPEUSDT'), view({ instrument: undefined }))).toBeUndefined();
  });

  it('RiskRejectedError carries exit code 3, a hint and the {code,msg} JSON', () => {
    const r = engine(['maxOrderNotional', '10000', 'BTCUSDT']).check(limit('BUY', '1', '52000'), view())!;
    const err = new RiskRejectedError(r);
    expect(err.exitCode).toBe(3);
    expect(err.code).toBe('RISK_maxOrderNotional');
    expect(err.message).toBe('order notional 52,000.00 USDT exceeds max 10,000.00 USDT (rule maxOrderNotional, BTCUSDT)');
    expect(err.hint).toBe('split the order, or raise it with `qtrade risk set maxOrderNotional`');
    expect(JSON.stringify(err)).toBe('{"code":-31007,"msg":"order notional 52,000.00 USDT exceeds max 10,000.00 USDT (rule maxOrderNotional, BTCUSDT)"}');
  });
});

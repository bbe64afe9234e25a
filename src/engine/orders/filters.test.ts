import { describe, expect, it } from 'vitest';
import { parseFixed } from '../fixed.js';
import { bundledMarket } from './bundled-filters.js';
import { checkFilters, parseSymbolFilters, type FilterContext, type FilterInput } from './filters.js';
import { parseAmount } from './amounts.js';
import { validateRequest } from './validate.js';

const { instruments, filters } = bundledMarket();
const btc = instruments.get('BTCUSDT');
const f = filters.get('BTCUSDT')!;
const P = (s: string): number => parseFixed(s, btc.priceScale);
const Q = (s: string): number => parseFixed(s, btc.qtyScale);
const ctx = (over: Partial<FilterContext> = {}): FilterContext => ({
  openOrders: 0,
  openAlgoOrders: 0,
  refPrice: () => ({ num: BigInt(P('60000')), den: 1n }),
  ...over,
});
const limit = (over: Partial<FilterInput> = {}): FilterInput => ({
  side: 'BUY',
  type: 'LIMIT',
  qty: Q('0.01'),
  quoteOrderQty: undefined,
  price: P('60000'),
  stopPrice: undefined,
  ...over,
});

describe('parseSymbolFilters', () => {
  it('reads the fixture filters into raws at the instrument scales', () => {
    expect(f.price).toEqual({ min: 1, max: P('1000000'), tick: 1 });
    expect(f.lot).toEqual({ min: Q('0.00001'), max: Q('9000'), step: Q('0.00001') });
    expect(f.marketLot).toEqual({ min: 0, max: Q('83.02258487'), step: 0 });
    expect(f.notional?.min).toBe(parseAmount('5'));
    expect(f.notional?.applyMaxToMarket).toBe(false);
    expect(f.maxNumOrders).toBe(200);
    expect(f.maxNumAlgoOrders).toBe(5);
  });

  it('reads legacy MIN_NOTIONAL and PERCENT_PRICE', () => {
    const g = parseSymbolFilters(
      {
        symbol: 'BTCUSDT',
        status: 'TRADING',
        baseAsset: 'BTC',
        quoteAsset: 'USDT',
        filters: [
          { filterType: 'MIN_NOTIONAL', minNotional: '10.00000000', applyToMarket: false, avgPriceMins: 5 },
          { filterType: 'PERCENT_PRICE', multiplierUp: '1.3000', multiplierDown: '0.7000', avgPriceMins: 5 },
        ],
      },
      btc,
    );
    expect(checkFilters(g, btc, limit({ qty: Q('0.0001') }), ctx())).toEqual({ code: -1013, msg: 'Filter failure: MIN_NOTIONAL' });
    expect(checkFilters(g, btc, { ...limit({ qty: Q('0.0001'), price: undefined }), type: 'MARKET' }, ctx())).toBeUndefined();
    expect(checkFilters(g, btc, limit({ price: P('78000.01') }), ctx())).toEqual({ code: -1013, msg: 'Filter failure: PERCENT_PRICE' });
    expect(checkFilters(g, btc, limit({ price: P('78000') }), ctx())).toBeUndefined();
    expect(checkFilters(g, btc, limit({ price: P('42000') }), ctx())).toBeUndefined();
    expect(checkFilters(g, btc, limit({ price: P('41999.99') }), ctx())).toEqual({ code: -1013, msg: 'Filter failure: PERCENT_PRICE' });
  });
});

describe('checkFilters (Binance codes and messages)', () => {
  const fail = (name: string) => ({ code: -1013, msg: `Filter failure: ${name}` });

  it('passes a plain on-grid order', () => {
    expect(checkFilters(f, btc, limit(), ctx())).toBeUndefined();
  });

  it('PRICE_FILTER: tick, min and max, for price and stopPrice', () => {
    expect(checkFilters(f, btc, limit({ price: P('1000000.01') }), ctx({ refPrice: () => undefined }))).toEqual(fail('PRICE_FILTER'));
    expect(checkFilters(f, btc, limit({ type: 'STOP_LOSS_LIMIT', stopPrice: P('1000000.01') }), ctx())).toEqual(fail('PRICE_FILTER'));
    const eth = instruments.get('ETHBTC');
    const ef = filters.get('ETHBTC')!;
    // ETHBTC's notional has 9 decimals (0.05123 × 0.0123 = 0.000630129): exact, and above minNotional 0.0001.
    const e = { ...limit(), qty: parseFixed('0.0123', 8), price: parseFixed('0.05123', 5) };
    expect(checkFilters(ef, eth, e, ctx({ refPrice: () => undefined }))).toBeUndefined();
    expect(checkFilters(ef, eth, { ...e, qty: parseFixed('0.00123', 8) }, ctx({ refPrice: () => undefined }))).toEqual(fail('LOT_SIZE'));
    expect(checkFilters(ef, eth, { ...e, qty: parseFixed('0.0019', 8) }, ctx({ refPrice: () => undefined }))).toEqual(fail('NOTIONAL'));
  });

  it('PERCENT_PRICE_BY_SIDE against the reference price, exactly at the bounds', () => {
    // BUY: [0.2, 5] × 60000 → [12000, 300000]
    expect(checkFilters(f, btc, limit({ price: P('300000'), qty: Q('0.001') }), ctx())).toBeUndefined();
    expect(checkFilters(f, btc, limit({ price: P('300000.01'), qty: Q('0.001') }), ctx())).toEqual(fail('PERCENT_PRICE_BY_SIDE'));
    expect(checkFilters(f, btc, limit({ price: P('12000') }), ctx())).toBeUndefined();
    expect(checkFilters(f, btc, limit({ price: P('11999.99') }), ctx())).toEqual(fail('PERCENT_PRICE_BY_SIDE'));
    // A volume-weighted reference: (60000×1 + 61000×3) / 4 = 60750 → max 303750.
    const vwap = ctx({ refPrice: () => ({ num: BigInt(P('60000')) * 1n + BigInt(P('61000')) * 3n, den: 4n }) });
    expect(checkFilters(f, btc, limit({ price: P('303750'), qty: Q('0.001') }), vwap)).toBeUndefined();
    expect(checkFilters(f, btc, limit({ price: P('303750.01'), qty: Q('0.001') }), vwap)).toEqual(fail('PERCENT_PRICE_BY_SIDE'));
    // Without a reference the rule cannot be evaluated and is skipped.
    expect(checkFilters(f, btc, limit({ price: P('900000'), qty: Q('0.001') }), ctx({ refPrice: () => undefined }))).toBeUndefined();
  });

  it('LOT_SIZE: min, max and step', () => {
    expect(checkFilters(f, btc, limit({ qty: Q('0.000015') }), ctx())).toEqual(fail('LOT_SIZE'));
    expect(checkFilters(f, btc, limit({ qty: Q('0.000009') }), ctx())).toEqual(fail('LOT_SIZE'));
    expect(checkFilters(f, btc, limit({ qty: Q('9000.00001'), price: P('1') }), ctx({ refPrice: () => undefined }))).toEqual(fail('LOT_SIZE'));
  });

  it('MARKET_LOT_SIZE applies to market orders only', () => {
    const m = { ...limit({ qty: Q('83.02259'), price: undefined }), type: 'MARKET' as const };
    expect(checkFilters(f, btc, m, ctx())).toEqual(fail('MARKET_LOT_SIZE'));
    expect(checkFilters(f, btc, limit({ qty: Q('83.02259') }), ctx())).toBeUndefined();
  });

  it('NOTIONAL: min for limits and (applyMinToMarket) markets at the reference price; max not applied to markets', () => {
    expect(checkFilters(f, btc, limit({ qty: Q('0.00008'), price: P('62499.99') }), ctx())).toEqual(fail('NOTIONAL'));
    expect(checkFilters(f, btc, limit({ qty: Q('0.00008'), price: P('62500') }), ctx())).toBeUndefined();
    const m = { ...limit({ qty: Q('0.00008'), price: undefined }), type: 'MARKET' as const };
    expect(checkFilters(f, btc, m, ctx())).toEqual(fail('NOTIONAL'));
    expect(checkFilters(f, btc, { ...m, qty: Q('0.0001') }, ctx())).toBeUndefined();
    expect(checkFilters(f, btc, { ...m, qty: undefined, quoteOrderQty: parseAmount('4.99999999') }, ctx())).toEqual(fail('NOTIONAL'));
    expect(checkFilters(f, btc, { ...m, qty: undefined, quoteOrderQty: parseAmount('5') }, ctx())).toBeUndefined();
    // maxNotional 9,000,000 applies to limits …
    expect(checkFilters(f, btc, limit({ qty: Q('150.00001'), price: P('60000') }), ctx())).toEqual(fail('NOTIONAL'));
    // … but not to markets (applyMaxToMarket false); MARKET_LOT_SIZE still caps them.
    expect(checkFilters(f, btc, { ...m, qty: Q('80') }, ctx({ refPrice: () => ({ num: BigInt(P('200000')), den: 1n }) }))).toBeUndefined();
  });

  it('MAX_NUM_ORDERS and MAX_NUM_ALGO_ORDERS', () => {
    expect(checkFilters(f, btc, limit(), ctx({ openOrders: 199 }))).toBeUndefined();
    expect(checkFilters(f, btc, limit(), ctx({ openOrders: 200 }))).toEqual(fail('MAX_NUM_ORDERS'));
    const stop = limit({ type: 'STOP_LOSS_LIMIT', stopPrice: P('59000') });
    expect(checkFilters(f, btc, stop, ctx({ openAlgoOrders: 5 }))).toEqual(fail('MAX_NUM_ALGO_ORDERS'));
    expect(checkFilters(f, btc, limit(), ctx({ openAlgoOrders: 5 }))).toBeUndefined();
  });
});

describe('validateRequest (parameter errors)', () => {
  const base = { symbol: 'BTCUSDT', side: 'BUY' as const };
  it('requires and refuses parameters per type like Binance', () => {
    expect(validateRequest({ ...base, type: 'LIMIT', qty: 1, price: 1 })).toEqual({
      code: -1102,
      msg: "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
    });
    expect(validateRequest({ ...base, type: 'MARKET', timeInForce: 'GTC', qty: 1 })).toEqual({
      code: -1106,
      msg: "Parameter 'timeInForce' sent when not required.",
    });
    expect(validateRequest({ ...base, type: 'MARKET' })).toEqual({
      code: -1102,
      msg: "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
    });
    expect(validateRequest({ ...base, type: 'MARKET', qty: 1, price: 5 })).toEqual({ code: -1106, msg: "Parameter 'price' sent when not required." });
    expect(validateRequest({ ...base, type: 'LIMIT_MAKER', qty: 1, price: 5, timeInForce: 'GTC' })?.code).toBe(-1106);
    expect(validateRequest({ ...base, type: 'STOP_LOSS', qty: 1 })?.msg).toContain("'stopPrice'");
    expect(validateRequest({ ...base, type: 'STOP_LOSS_LIMIT', qty: 1, stopPrice: 2, timeInForce: 'GTC' })?.msg).toContain("'price'");
    expect(validateRequest({ ...base, side: 'HOLD' as never, type: 'LIMIT' })).toEqual({ code: -1117, msg: 'Invalid side.' });
    expect(validateRequest({ ...base, type: 'ICEBERG' as never })).toEqual({ code: -1116, msg: 'Invalid orderType.' });
    expect(validateRequest({ ...base, type: 'LIMIT', timeInForce: 'GTD' as never })).toEqual({ code: -1115, msg: 'Invalid timeInForce.' });
    expect(validateRequest({ ...base, type: 'MARKET', qty: 1, clientOrderId: 'has space' })?.code).toBe(-1100);
    expect(validateRequest({ ...base, type: 'MARKET', qty: 1, clientOrderId: '' })).toEqual({ code: -1118, msg: 'New client order ID was empty.' });
    expect(validateRequest({ ...base, type: 'MARKET', qty: 1, clientOrderId: 'my-order_1' })).toBeUndefined();
  });
});

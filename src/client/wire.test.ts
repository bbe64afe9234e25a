import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError, UsageError, VenueError } from '../engine/errors.js';
import type { Instrument } from '../engine/market/types.js';
import { OrderRejectedError, Rejections } from '../engine/orders/rejections.js';
import { ORDER_TYPES, type Balance, type Fill, type Order } from '../engine/orders/types.js';
import type { RiskStatus } from '../engine/risk/engine.js';
import { emptyLimits, setLimit } from '../engine/risk/limits.js';
import { RiskRejectedError } from '../engine/risk/rejections.js';
import type { MarkedPosition, PnlTotal } from '../engine/trading.js';
import {
  balanceFromWire,
  balanceToWire,
  balancesMapFromWire,
  balancesMapToWire,
  errorFromWire,
  errorToWire,
  fillFromWire,
  fillToWire,
  haltReplyFromWire,
  haltReplyToWire,
  instrumentFromWire,
  instrumentToWire,
  orderFromWire,
  orderTextFromWire,
  orderTextToWire,
  orderToWire,
  placedReplyFromWire,
  placedReplyToWire,
  pnlReplyFromWire,
  pnlReplyToWire,
  pnlTotalFromWire,
  pnlTotalToWire,
  positionFromWire,
  positionToWire,
  resumeReplyFromWire,
  resumeReplyToWire,
  riskLimitsFromWire,
  riskLimitsToWire,
  riskReplyFromWire,
  riskReplyToWire,
  riskStatusFromWire,
  riskStatusToWire,
} from './wire.js';

/** What crosses the socket: JSON text, as DaemonClient and the daemon send it. */
/** fast-check builds records without a prototype; the codec returns plain objects. */
const plain = <T extends object>(a: fc.Arbitrary<T>): fc.Arbitrary<T> => a.map((o) => ({ ...o }));

const overJson = (x: unknown): unknown => JSON.parse(JSON.stringify(x));

const amount = fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n });
const raw = fc.maxSafeInteger();
const name = fc.string({ minLength: 1, maxLength: 12 });
const side = fc.constantFrom('BUY' as const, 'SELL' as const);

const orderArb: fc.Arbitrary<Order> = plain(fc.record({
  symbol: name,
  orderId: raw,
  clientOrderId: fc.string({ maxLength: 36 }),
  side,
  type: fc.constantFrom(...ORDER_TYPES),
  timeInForce: fc.constantFrom('GTC' as const, 'IOC' as const, 'FOK' as const, undefined),
  price: raw,
  stopPrice: raw,
  origQty: raw,
  origQuoteOrderQty: amount,
  executedQty: raw,
  cumQuote: amount,
  status: fc.constantFrom('NEW' as const, 'PARTIALLY_FILLED' as const, 'FILLED' as const, 'CANCELED' as const, 'REJECTED' as const, 'EXPIRED' as const),
  isWorking: fc.boolean(),
  time: raw,
  updateTime: raw,
  workingTime: raw,
  lockAsset: name,
  locked: amount,
}));

const fillArb: fc.Arbitrary<Fill> = plain(fc.record({
  symbol: name,
  orderId: raw,
  clientOrderId: fc.string({ maxLength: 36 }),
  tradeId: raw,
  side,
  price: raw,
  qty: raw,
  quoteQty: amount,
  commission: amount,
  commissionAsset: name,
  isMaker: fc.boolean(),
  time: raw,
}));

const balanceArb: fc.Arbitrary<Balance> = plain(fc.record({ asset: name, free: amount, locked: amount }));

const positionArb: fc.Arbitrary<MarkedPosition> = plain(fc.record({
  symbol: name,
  baseAsset: name,
  quoteAsset: name,
  priceScale: fc.integer({ min: 0, max: 8 }),
  qty: amount,
  cost: amount,
  avgEntry: amount,
  realizedPnl: amount,
  fees: amount,
  mark: fc.option(raw, { nil: undefined }),
  unrealizedPnl: fc.option(amount, { nil: undefined }),
}));

const totalArb: fc.Arbitrary<PnlTotal> = plain(fc.record({
  quoteAsset: name,
  realizedPnl: amount,
  unrealizedPnl: fc.option(amount, { nil: undefined }),
  totalPnl: fc.option(amount, { nil: undefined }),
}));

const statusArb: fc.Arbitrary<RiskStatus> = plain(fc.record({ state: fc.constantFrom('ACTIVE' as const, 'REDUCING' as const, 'HALTED' as const), reason: fc.string(), since: raw }));

const instrumentArb: fc.Arbitrary<Instrument> = plain(fc.record({
  symbol: name,
  baseAsset: name,
  quoteAsset: name,
  priceScale: fc.integer({ min: 0, max: 18 }),
  qtyScale: fc.integer({ min: 0, max: 18 }),
  tickSize: name,
  stepSize: name,
  status: name,
}));

describe('wire codec: domain values survive the trip exactly', () => {
  const roundTrips = <T>(arb: fc.Arbitrary<T>, encode: (v: T) => unknown, decode: (x: unknown) => T): void =>
    fc.assert(
      fc.property(arb, (v) => {
        expect(decode(overJson(encode(v)))).toStrictEqual(v);
      }),
    );

  it('orders, fills, balances, positions, PnL totals, risk status, instruments', () => {
    roundTrips(orderArb, orderToWire, orderFromWire);
    roundTrips(fillArb, fillToWire, fillFromWire);
    roundTrips(balanceArb, balanceToWire, balanceFromWire);
    roundTrips(positionArb, positionToWire, positionFromWire);
    roundTrips(totalArb, pnlTotalToWire, pnlTotalFromWire);
    roundTrips(statusArb, riskStatusToWire, riskStatusFromWire);
    roundTrips(instrumentArb, instrumentToWire, instrumentFromWire);
  });

  it('amounts travel as integer strings, beyond 2^53 and negative', () => {
    const b: Balance = { asset: 'USDT', free: 123_456_789_012_345_678_901_234n, locked: -5n };
    expect(overJson(balanceToWire(b))).toEqual({ asset: 'USDT', free: '123456789012345678901234', locked: '-5' });
    expect(balanceFromWire(overJson(balanceToWire(b)))).toStrictEqual(b);
  });

  it('risk limits of every kind, global and per symbol', () => {
    let l = emptyLimits();
    l = setLimit(l, 'maxOrderNotional', '10000.5');
    l = setLimit(l, 'orderRate', '10/1s');
    l = setLimit(l, 'priceBandPct', '2.5');
    l = setLimit(l, 'maxOpenOrders', '20');
    l = setLimit(l, 'dailyLossLimit', '0.0000000000000001');
    l = setLimit(l, 'maxPositionQty', '0.5', 'btcusdt');
    l = setLimit(l, 'maxPositionNotional', '50000', 'ETHUSDT');
    expect(riskLimitsFromWire(overJson(riskLimitsToWire(l)))).toStrictEqual(l);
    expect(riskLimitsFromWire(overJson(riskLimitsToWire(emptyLimits())))).toStrictEqual(emptyLimits());
  });

  it('replies keep their orders, fills, flags and instruments', () => {
    fc.assert(
      fc.property(orderArb, fc.array(fillArb, { maxLength: 3 }), fc.boolean(), fc.array(instrumentArb, { maxLength: 2 }), (order, fills, duplicate, instruments) => {
        const r = { order, fills, duplicate, instruments };
        expect(placedReplyFromWire(overJson(placedReplyToWire(r)))).toStrictEqual(r);
      }),
    );
    fc.assert(
      fc.property(fc.array(positionArb, { maxLength: 3 }), fc.array(totalArb, { maxLength: 2 }), (positions, totals) => {
        expect(pnlReplyFromWire(overJson(pnlReplyToWire({ positions, totals })))).toStrictEqual({ positions, totals });
      }),
    );
    fc.assert(
      fc.property(statusArb, fc.array(orderArb, { maxLength: 3 }), fc.array(instrumentArb, { maxLength: 2 }), (status, canceled, instruments) => {
        expect(haltReplyFromWire(overJson(haltReplyToWire({ status, canceled, instruments })))).toStrictEqual({ status, canceled, instruments });
      }),
    );
    const limits = setLimit(emptyLimits(), 'maxOpenOrders', '3');
    const status: RiskStatus = { state: 'HALTED', reason: 'desk closed', since: 1723118400000 };
    expect(riskReplyFromWire(overJson(riskReplyToWire({ status, limits })))).toStrictEqual({ status, limits });
    expect(resumeReplyFromWire(overJson(resumeReplyToWire({ status, previous: undefined })))).toStrictEqual({ status, previous: undefined });
    expect(resumeReplyFromWire(overJson(resumeReplyToWire({ status, previous: 'REDUCING' })))).toStrictEqual({ status, previous: 'REDUCING' });
  });

  it('order text and reset balances, as the CLI sends them', () => {
    const t = { symbol: 'btcusdt', side: 'BUY' as const, qty: '0.01', limit: '59000', tif: 'IOC', clientId: 'grid-1' };
    expect(overJson(orderTextToWire({ ...t, stop: undefined }))).toEqual(t);
    expect(orderTextFromWire(overJson(orderTextToWire(t)))).toStrictEqual(t);
    const b = { USDT: 10_000n * 10n ** 16n, BTC: 5n * 10n ** 15n };
    expect(balancesMapFromWire(overJson(balancesMapToWire(b)))).toStrictEqual(b);
  });

  it('refuses malformed values with a ParseError naming the field', () => {
    const good = orderToWire({
      symbol: 'BTCUSDT', orderId: 1, clientOrderId: 'paper_1', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: 5_900_000, stopPrice: 0, origQty: 1_000_000,
      origQuoteOrderQty: 0n, executedQty: 0, cumQuote: 0n, status: 'NEW', isWorking: true, time: 1, updateTime: 1, workingTime: 1, lockAsset: 'USDT', locked: 5_900_000_000_000_000_000n,
    });
    const bad = (patch: Record<string, unknown>): unknown => ({ ...good, ...patch });
    expect(() => orderFromWire(bad({ locked: '590.00' }))).toThrow(new ParseError('order.locked is not an integer amount string'));
    expect(() => orderFromWire(bad({ price: 59000.5 }))).toThrow(new ParseError('order.price is not an integer'));
    expect(() => orderFromWire(bad({ status: 'OPEN' }))).toThrow(/order\.status is not one of NEW/);
    expect(() => orderFromWire(bad({ timeInForce: 'DAY' }))).toThrow(/order\.timeInForce/);
    expect(() => orderFromWire(bad({ isWorking: 'yes' }))).toThrow(/order\.isWorking/);
    const { symbol: _s, ...noSymbol } = good;
    expect(() => orderFromWire(noSymbol)).toThrow(/order\.symbol is not a string/);
    expect(() => orderFromWire([good])).toThrow(/order is not a JSON object/);
    expect(() => positionFromWire({ ...positionToWire({ symbol: 'X', baseAsset: 'A', quoteAsset: 'B', priceScale: 2, qty: 0n, cost: 0n, avgEntry: 0n, realizedPnl: 0n, fees: 0n, mark: 1, unrealizedPnl: 0n }), mark: undefined })).toThrow(/position\.mark/);
    expect(() => orderTextFromWire({ symbol: 'BTCUSDT', side: 'HOLD' })).toThrow(/body\.side/);
    expect(() => orderTextFromWire({ symbol: 'BTCUSDT', side: 'BUY', qty: 0.01 })).toThrow(/body\.qty is not a string/);
    expect(() => balancesMapFromWire({ USDT: '-1' })).toThrow(/balances\.USDT is negative/);
    expect(() => balancesMapFromWire({ usdt: '1' })).toThrow(/not an asset/);
    expect(() => riskLimitsFromWire({ version: 1, global: { maxOpenOrders: 'many' }, symbols: {} })).toThrow(ParseError);
  });
});

describe('wire codec: errors come back as the typed errors they were', () => {
  const trip = (err: unknown) => {
    const w = errorToWire(err)!;
    const body = overJson(w.body) as Record<string, unknown>;
    return { status: w.status, body, back: errorFromWire(w.status, body) };
  };

  it('an exchange-filter rejection: 400 {code, msg}, OrderRejectedError with its hint, exit 3', () => {
    const err = new OrderRejectedError(Rejections.filter('LOT_SIZE'));
    const { status, body, back } = trip(err);
    expect(status).toBe(400);
    expect(body).toEqual({ code: -1013, msg: 'Filter failure: LOT_SIZE', type: 'rejected' });
    expect(back).toBeInstanceOf(OrderRejectedError);
    expect(back!.message).toBe(err.message);
    expect(back!.hint).toBe(err.hint);
    expect(back!.exitCode).toBe(3);
    expect((back as OrderRejectedError).toJSON()).toEqual(err.toJSON());
  });

  it('a risk rejection keeps its rule (hence its hint) and symbol', () => {
    const err = new RiskRejectedError({ code: -31007, msg: 'order notional 590.00 USDT exceeds max 500.00 USDT (rule maxOrderNotional, global)', rule: 'maxOrderNotional', symbol: 'BTCUSDT' });
    const { status, body, back } = trip(err);
    expect(status).toBe(400);
    expect(body).toMatchObject({ code: -31007, rule: 'maxOrderNotional', symbol: 'BTCUSDT' });
    expect(back).toBeInstanceOf(RiskRejectedError);
    expect((back as RiskRejectedError).rejection).toEqual(err.rejection);
    expect(back!.hint).toBe(err.hint);
    expect(back!.exitCode).toBe(3);
  });

  it('usage and venue errors keep message, hint and exit code', () => {
    const usage = new UsageError('unknown symbol "BTCUSD"', { hint: 'did you mean BTCUSDT?' });
    const u = trip(usage);
    expect(u.status).toBe(400);
    expect(u.back).toBeInstanceOf(UsageError);
    expect([u.back!.message, u.back!.hint, u.back!.exitCode]).toEqual([usage.message, usage.hint, 2]);
    expect(trip(new ParseError('body is not a JSON object')).back).toEqual(new UsageError('body is not a JSON object'));

    const venue = new VenueError('NO_MARKET', 'no trade of ETHUSDT seen yet, so there is no price to trade at', { hint: 'wait for the feed to deliver a trade' });
    const v = trip(venue);
    expect(v.status).toBe(503);
    expect(v.back).toBeInstanceOf(VenueError);
    expect([v.back!.code, v.back!.message, v.back!.hint, v.back!.exitCode]).toEqual(['NO_MARKET', venue.message, venue.hint, 4]);
  });

  it('leaves answers that are no typed error alone', () => {
    expect(errorToWire(new Error('bug'))).toBeUndefined();
    expect(errorFromWire(401, { code: -2015, msg: 'Invalid API-key, IP, or permissions for action: no token.' })).toBeUndefined();
    expect(errorFromWire(400, { code: -31007, msg: 'x', type: 'risk', rule: 'noSuchRule' })).toBeUndefined();
    expect(errorFromWire(400, { msg: 'x', type: 'usage' })).toBeUndefined();
  });
});

import { notional, qtyAmount, scalesOf } from '../../orders/amounts.js';
import {
  AMOUNT_SCALE,
  hasLimitPrice,
  isStopType,
  isTerminal,
  ORDER_TYPES,
  type Amount,
  type Balance,
  type Fill,
  type Order,
  type OrderStatus,
  type OrderType,
  type Side,
  type TimeInForce,
} from '../../orders/types.js';
import type { Instrument } from '../types.js';
import { arr, dec, decBig, fail, int, obj, str } from './rest-parse.js';

export { arr, obj } from './rest-parse.js';

/**
 * Strict decoders from Binance's spot order payloads (REST order replies, open orders, account,
 * and user data stream events) into qtrade's Order / Fill / Balance, the same types the paper
 * engine produces. Prices and quantities become raws at the instrument's scales, asset amounts
 * exact bigints at AMOUNT_SCALE; a field that does not fit throws ParseError naming it.
 */

const amount = (v: unknown, what: string): Amount => decBig(v, AMOUNT_SCALE, what);

const STATUSES = new Set<OrderStatus>(['NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED']);

function status(v: unknown, what: string): OrderStatus {
  const s = str(v, what);
  // PENDING_NEW / PENDING_CANCEL / EXPIRED_IN_MATCH are Binance statuses the paper engine never has.
  if (s === 'EXPIRED_IN_MATCH') return 'EXPIRED';
  if (s === 'PENDING_NEW') return 'NEW';
  if (s === 'PENDING_CANCEL') return 'NEW';
  if (!STATUSES.has(s as OrderStatus)) fail(what, `unknown order status "${s}"`);
  return s as OrderStatus;
}

function side(v: unknown, what: string): Side {
  const s = str(v, what);
  if (s !== 'BUY' && s !== 'SELL') fail(what, `unknown side "${s}"`);
  return s;
}

function type(v: unknown, what: string): OrderType {
  const s = str(v, what);
  if (!(ORDER_TYPES as readonly string[]).includes(s)) fail(what, `unsupported order type "${s}"`);
  return s as OrderType;
}

/** Binance echoes a timeInForce for every type; the Order type keeps it only where it means something. */
function tif(t: OrderType, v: unknown, what: string): TimeInForce | undefined {
  if (!hasLimitPrice(t) || t === 'LIMIT_MAKER') return undefined;
  const s = str(v, what);
  if (s !== 'GTC' && s !== 'IOC' && s !== 'FOK') fail(what, `unsupported timeInForce "${s}"`);
  return s;
}

/**
 * Binance does not report what an order holds locked; this is what it locks by its rules: the
 * quote for the unfilled part of a priced BUY, the unfilled base of a SELL, nothing once
 * terminal. A market-priced BUY (MARKET, STOP_LOSS, TAKE_PROFIT) shows 0n.
 */
function lockOf(inst: Instrument, o: Pick<Order, 'side' | 'price' | 'origQty' | 'executedQty' | 'status'>): { lockAsset: string; locked: Amount } {
  const s = scalesOf(inst);
  const left = Math.max(0, o.origQty - o.executedQty);
  if (o.side === 'BUY') {
    return { lockAsset: inst.quoteAsset, locked: isTerminal(o.status) || o.price === 0 ? 0n : notional(o.price, left, s) };
  }
  return { lockAsset: inst.baseAsset, locked: isTerminal(o.status) ? 0n : qtyAmount(left, s) };
}

/**
 * An order from any REST reply that describes one: GET /api/v3/order, an entry of GET
 * /api/v3/openOrders, POST /api/v3/order (RESULT / FULL) and DELETE replies (whose
 * `clientOrderId` is the cancel's own id; the order's is `origClientOrderId`).
 */
export function decodeOrder(v: unknown, inst: Instrument, what = 'order'): Order {
  const o = obj(v, what);
  const t = type(o.type, `${what}.type`);
  const st = status(o.status, `${what}.status`);
  const time = int(o.time ?? o.transactTime, `${what}.time`);
  const updateTime = o.updateTime !== undefined ? int(o.updateTime, `${what}.updateTime`) : o.transactTime !== undefined ? int(o.transactTime, `${what}.transactTime`) : time;
  const workingTime = o.workingTime !== undefined ? int(o.workingTime, `${what}.workingTime`) : isStopType(t) ? -1 : time;
  const base = {
    symbol: str(o.symbol, `${what}.symbol`),
    orderId: int(o.orderId, `${what}.orderId`),
    clientOrderId: str(o.origClientOrderId ?? o.clientOrderId, `${what}.clientOrderId`),
    side: side(o.side, `${what}.side`),
    type: t,
    timeInForce: tif(t, o.timeInForce, `${what}.timeInForce`),
    price: dec(o.price ?? '0', inst.priceScale, `${what}.price`),
    stopPrice: o.stopPrice === undefined ? 0 : dec(o.stopPrice, inst.priceScale, `${what}.stopPrice`),
    origQty: dec(o.origQty, inst.qtyScale, `${what}.origQty`),
    origQuoteOrderQty: o.origQuoteOrderQty === undefined ? 0n : amount(o.origQuoteOrderQty, `${what}.origQuoteOrderQty`),
    executedQty: dec(o.executedQty, inst.qtyScale, `${what}.executedQty`),
    cumQuote: amount(o.cummulativeQuoteQty, `${what}.cummulativeQuoteQty`),
    status: st,
    isWorking: typeof o.isWorking === 'boolean' ? o.isWorking : workingTime !== -1,
    time,
    updateTime,
    workingTime,
  };
  return { ...base, ...lockOf(inst, base) };
}

/** The `fills` of a FULL POST /api/v3/order reply; Binance omits maker/taker there, and they are taker fills. */
export function decodeOrderFills(v: unknown, inst: Instrument, order: Order, what = 'order.fills'): Fill[] {
  if (v === undefined) return [];
  const s = scalesOf(inst);
  return arr(v, what).map((x, i) => {
    const f = obj(x, `${what}[${i}]`);
    const price = dec(f.price, inst.priceScale, `${what}[${i}].price`);
    const qty = dec(f.qty, inst.qtyScale, `${what}[${i}].qty`);
    return {
      symbol: order.symbol,
      orderId: order.orderId,
      clientOrderId: order.clientOrderId,
      tradeId: int(f.tradeId, `${what}[${i}].tradeId`),
      side: order.side,
      price,
      qty,
      quoteQty: notional(price, qty, s),
      commission: amount(f.commission, `${what}[${i}].commission`),
      commissionAsset: str(f.commissionAsset, `${what}[${i}].commissionAsset`),
      isMaker: false,
      time: order.updateTime,
    };
  });
}

/** `balances` of GET /api/v3/account. */
export function decodeAccountBalances(v: unknown, what = 'account'): Balance[] {
  const o = obj(v, what);
  return arr(o.balances, `${what}.balances`).map((x, i) => {
    const b = obj(x, `${what}.balances[${i}]`);
    return {
      asset: str(b.asset, `${what}.balances[${i}].asset`),
      free: amount(b.free, `${what}.balances[${i}].free`),
      locked: amount(b.locked, `${what}.balances[${i}].locked`),
    };
  });
}

/** What the user data stream said happened to an order. */
export interface ExecutionReport {
  /** Binance's execution type: NEW, CANCELED, REPLACED, REJECTED, TRADE, EXPIRED, TRADE_PREVENTION. */
  executionType: string;
  /** The order after the event. */
  order: Order;
  /** Present for TRADE. */
  fill?: Fill;
  /** Binance's reject reason ("NONE" unless REJECTED). */
  rejectReason: string;
  /** Event time `E`. */
  eventTime: number;
}

/** An `executionReport` event. */
export function decodeExecutionReport(v: unknown, inst: Instrument, what = 'executionReport'): ExecutionReport {
  const e = obj(v, what);
  const t = type(e.o, `${what}.o`);
  const st = status(e.X, `${what}.X`);
  const x = str(e.x, `${what}.x`);
  const eventTime = int(e.E, `${what}.E`);
  const txTime = int(e.T, `${what}.T`);
  // On a cancel `c` is the cancel request's id and `C` the order's own.
  const origId = typeof e.C === 'string' && e.C !== '' ? e.C : undefined;
  const workingTime = e.W !== undefined ? int(e.W, `${what}.W`) : isStopType(t) && st === 'NEW' ? -1 : int(e.O, `${what}.O`);
  const base = {
    symbol: str(e.s, `${what}.s`),
    orderId: int(e.i, `${what}.i`),
    clientOrderId: origId ?? str(e.c, `${what}.c`),
    side: side(e.S, `${what}.S`),
    type: t,
    timeInForce: tif(t, e.f, `${what}.f`),
    price: dec(e.p, inst.priceScale, `${what}.p`),
    stopPrice: dec(e.P ?? '0', inst.priceScale, `${what}.P`),
    origQty: dec(e.q, inst.qtyScale, `${what}.q`),
    origQuoteOrderQty: e.Q === undefined ? 0n : amount(e.Q, `${what}.Q`),
    executedQty: dec(e.z, inst.qtyScale, `${what}.z`),
    cumQuote: amount(e.Z, `${what}.Z`),
    status: st,
    isWorking: workingTime !== -1,
    time: int(e.O, `${what}.O`),
    updateTime: txTime,
    workingTime,
  };
  const order: Order = { ...base, ...lockOf(inst, base) };
  const report: ExecutionReport = { executionType: x, order, rejectReason: typeof e.r === 'string' ? e.r : 'NONE', eventTime };
  if (x === 'TRADE') {
    const price = dec(e.L, inst.priceScale, `${what}.L`);
    const qty = dec(e.l, inst.qtyScale, `${what}.l`);
    report.fill = {
      symbol: order.symbol,
      orderId: order.orderId,
      clientOrderId: order.clientOrderId,
      tradeId: int(e.t, `${what}.t`),
      side: order.side,
      price,
      qty,
      quoteQty: notional(price, qty, scalesOf(inst)),
      commission: amount(e.n, `${what}.n`),
      // Binance sends null when the commission is zero and has no asset.
      commissionAsset: e.N === null || e.N === undefined ? '' : str(e.N, `${what}.N`),
      isMaker: e.m === true,
      time: txTime,
    };
  }
  return report;
}

/** An `outboundAccountPosition` event: the balances that changed. */
export function decodeAccountPosition(v: unknown, what = 'outboundAccountPosition'): { time: number; balances: Balance[] } {
  const e = obj(v, what);
  return {
    time: int(e.u ?? e.E, `${what}.u`),
    balances: arr(e.B, `${what}.B`).map((x, i) => {
      const b = obj(x, `${what}.B[${i}]`);
      return { asset: str(b.a, `${what}.B[${i}].a`), free: amount(b.f, `${what}.B[${i}].f`), locked: amount(b.l, `${what}.B[${i}].l`) };
    }),
  };
}

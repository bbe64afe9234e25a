import type { RiskStateName } from '../engine/bus.js';
import { ParseError, QtradeError, UsageError, VenueError } from '../engine/errors.js';
import type { Channel } from '../engine/market/source.js';
import type { Instrument } from '../engine/market/types.js';
import { OrderRejectedError } from '../engine/orders/rejections.js';
import { ORDER_TYPES, type Amount, type Balance, type Fill, type Order, type OrderStatus, type OrderType, type Side, type TimeInForce } from '../engine/orders/types.js';
import type { RiskStatus } from '../engine/risk/engine.js';
import { decodeLimits, encodeLimits, type RiskLimits } from '../engine/risk/limits.js';
import { RISK_CODES, RiskRejectedError, type RiskRule } from '../engine/risk/rejections.js';
import type { MarkedPosition, OrderText, PnlTotal } from '../engine/trading.js';

/**
 * The daemon's /api/qtrade/ account API on the wire: engine domain values ↔ JSON, exactly. Amounts
 * (bigints at AMOUNT_SCALE) travel as their integer decimal strings ("-6999500000000000"), prices
 * and quantities as the raw integers they are (a reply that mentions symbols carries their
 * instruments, so the raws can be read), absent values as null. Both sides use these functions:
 * the routes encode what the CLI decodes, and requests the other way round. A value that does not
 * decode is a ParseError naming the field.
 */

type Obj = Record<string, unknown>;

// ------------------------------------------------------------------ readers

function fail(what: string, why: string): never {
  throw new ParseError(`${what} ${why}`);
}

function obj(x: unknown, what: string): Obj {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) fail(what, 'is not a JSON object');
  return x as Obj;
}

function list(o: Obj, k: string, what: string): unknown[] {
  const v = o[k];
  if (!Array.isArray(v)) fail(`${what}.${k}`, 'is not an array');
  return v;
}

function str(o: Obj, k: string, what: string): string {
  const v = o[k];
  if (typeof v !== 'string') fail(`${what}.${k}`, 'is not a string');
  return v;
}

function optStr(o: Obj, k: string, what: string): string | undefined {
  return o[k] === undefined || o[k] === null ? undefined : str(o, k, what);
}

function int(o: Obj, k: string, what: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(`${what}.${k}`, 'is not an integer');
  return v;
}

function optInt(o: Obj, k: string, what: string): number | undefined {
  return o[k] === null ? undefined : int(o, k, what);
}

function bool(o: Obj, k: string, what: string): boolean {
  const v = o[k];
  if (typeof v !== 'boolean') fail(`${what}.${k}`, 'is not true or false');
  return v;
}

const AMOUNT = /^-?\d{1,80}$/;

function amount(o: Obj, k: string, what: string): Amount {
  const v = o[k];
  if (typeof v !== 'string' || !AMOUNT.test(v)) fail(`${what}.${k}`, 'is not an integer amount string');
  return BigInt(v);
}

function optAmount(o: Obj, k: string, what: string): Amount | undefined {
  return o[k] === null ? undefined : amount(o, k, what);
}

function oneOf<T extends string>(o: Obj, k: string, values: readonly T[], what: string): T {
  const v = str(o, k, what);
  if (!(values as readonly string[]).includes(v)) fail(`${what}.${k}`, `is not one of ${values.join(', ')}`);
  return v as T;
}

const amountText = (a: Amount): string => a.toString();
const amountOrNull = (a: Amount | undefined): string | null => (a === undefined ? null : a.toString());

const SIDES: readonly Side[] = ['BUY', 'SELL'];
const TIFS: readonly TimeInForce[] = ['GTC', 'IOC', 'FOK'];
const STATUSES: readonly OrderStatus[] = ['NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED'];
const RISK_STATES: readonly RiskStateName[] = ['ACTIVE', 'REDUCING', 'HALTED'];

// ------------------------------------------------------------------ domain values

export interface WireInstrument {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  priceScale: number;
  qtyScale: number;
  tickSize: string;
  stepSize: string;
  status: string;
}

export function instrumentToWire(i: Instrument): WireInstrument {
  return { symbol: i.symbol, baseAsset: i.baseAsset, quoteAsset: i.quoteAsset, priceScale: i.priceScale, qtyScale: i.qtyScale, tickSize: i.tickSize, stepSize: i.stepSize, status: i.status };
}

export function instrumentFromWire(x: unknown, what = 'instrument'): Instrument {
  const o = obj(x, what);
  const scale = (k: string): number => {
    const n = int(o, k, what);
    if (n < 0 || n > 18) fail(`${what}.${k}`, 'is not a scale 0..18');
    return n;
  };
  return {
    symbol: str(o, 'symbol', what),
    baseAsset: str(o, 'baseAsset', what),
    quoteAsset: str(o, 'quoteAsset', what),
    priceScale: scale('priceScale'),
    qtyScale: scale('qtyScale'),
    tickSize: str(o, 'tickSize', what),
    stepSize: str(o, 'stepSize', what),
    status: str(o, 'status', what),
  };
}

export interface WireOrder {
  symbol: string;
  orderId: number;
  clientOrderId: string;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce | null;
  price: number;
  stopPrice: number;
  origQty: number;
  origQuoteOrderQty: string;
  executedQty: number;
  cumQuote: string;
  status: OrderStatus;
  isWorking: boolean;
  time: number;
  updateTime: number;
  workingTime: number;
  lockAsset: string;
  locked: string;
}

export function orderToWire(o: Order): WireOrder {
  return {
    symbol: o.symbol,
    orderId: o.orderId,
    clientOrderId: o.clientOrderId,
    side: o.side,
    type: o.type,
    timeInForce: o.timeInForce ?? null,
    price: o.price,
    stopPrice: o.stopPrice,
    origQty: o.origQty,
    origQuoteOrderQty: amountText(o.origQuoteOrderQty),
    executedQty: o.executedQty,
    cumQuote: amountText(o.cumQuote),
    status: o.status,
    isWorking: o.isWorking,
    time: o.time,
    updateTime: o.updateTime,
    workingTime: o.workingTime,
    lockAsset: o.lockAsset,
    locked: amountText(o.locked),
  };
}

export function orderFromWire(x: unknown, what = 'order'): Order {
  const o = obj(x, what);
  return {
    symbol: str(o, 'symbol', what),
    orderId: int(o, 'orderId', what),
    clientOrderId: str(o, 'clientOrderId', what),
    side: oneOf(o, 'side', SIDES, what),
    type: oneOf(o, 'type', ORDER_TYPES, what),
    timeInForce: o.timeInForce === null ? undefined : oneOf(o, 'timeInForce', TIFS, what),
    price: int(o, 'price', what),
    stopPrice: int(o, 'stopPrice', what),
    origQty: int(o, 'origQty', what),
    origQuoteOrderQty: amount(o, 'origQuoteOrderQty', what),
    executedQty: int(o, 'executedQty', what),
    cumQuote: amount(o, 'cumQuote', what),
    status: oneOf(o, 'status', STATUSES, what),
    isWorking: bool(o, 'isWorking', what),
    time: int(o, 'time', what),
    updateTime: int(o, 'updateTime', what),
    workingTime: int(o, 'workingTime', what),
    lockAsset: str(o, 'lockAsset', what),
    locked: amount(o, 'locked', what),
  };
}

export interface WireFill {
  symbol: string;
  orderId: number;
  clientOrderId: string;
  tradeId: number;
  side: Side;
  price: number;
  qty: number;
  quoteQty: string;
  commission: string;
  commissionAsset: string;
  isMaker: boolean;
  time: number;
}

export function fillToWire(f: Fill): WireFill {
  return {
    symbol: f.symbol,
    orderId: f.orderId,
    clientOrderId: f.clientOrderId,
    tradeId: f.tradeId,
    side: f.side,
    price: f.price,
    qty: f.qty,
    quoteQty: amountText(f.quoteQty),
    commission: amountText(f.commission),
    commissionAsset: f.commissionAsset,
    isMaker: f.isMaker,
    time: f.time,
  };
}

export function fillFromWire(x: unknown, what = 'fill'): Fill {
  const o = obj(x, what);
  return {
    symbol: str(o, 'symbol', what),
    orderId: int(o, 'orderId', what),
    clientOrderId: str(o, 'clientOrderId', what),
    tradeId: int(o, 'tradeId', what),
    side: oneOf(o, 'side', SIDES, what),
    price: int(o, 'price', what),
    qty: int(o, 'qty', what),
    quoteQty: amount(o, 'quoteQty', what),
    commission: amount(o, 'commission', what),
    commissionAsset: str(o, 'commissionAsset', what),
    isMaker: bool(o, 'isMaker', what),
    time: int(o, 'time', what),
  };
}

export interface WireBalance {
  asset: string;
  free: string;
  locked: string;
}

export function balanceToWire(b: Balance): WireBalance {
  return { asset: b.asset, free: amountText(b.free), locked: amountText(b.locked) };
}

export function balanceFromWire(x: unknown, what = 'balance'): Balance {
  const o = obj(x, what);
  return { asset: str(o, 'asset', what), free: amount(o, 'free', what), locked: amount(o, 'locked', what) };
}

export interface WirePosition {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  priceScale: number;
  qty: string;
  cost: string;
  avgEntry: string;
  realizedPnl: string;
  fees: string;
  mark: number | null;
  unrealizedPnl: string | null;
}

export function positionToWire(p: MarkedPosition): WirePosition {
  return {
    symbol: p.symbol,
    baseAsset: p.baseAsset,
    quoteAsset: p.quoteAsset,
    priceScale: p.priceScale,
    qty: amountText(p.qty),
    cost: amountText(p.cost),
    avgEntry: amountText(p.avgEntry),
    realizedPnl: amountText(p.realizedPnl),
    fees: amountText(p.fees),
    mark: p.mark ?? null,
    unrealizedPnl: amountOrNull(p.unrealizedPnl),
  };
}

export function positionFromWire(x: unknown, what = 'position'): MarkedPosition {
  const o = obj(x, what);
  return {
    symbol: str(o, 'symbol', what),
    baseAsset: str(o, 'baseAsset', what),
    quoteAsset: str(o, 'quoteAsset', what),
    priceScale: int(o, 'priceScale', what),
    qty: amount(o, 'qty', what),
    cost: amount(o, 'cost', what),
    avgEntry: amount(o, 'avgEntry', what),
    realizedPnl: amount(o, 'realizedPnl', what),
    fees: amount(o, 'fees', what),
    mark: optInt(o, 'mark', what),
    unrealizedPnl: optAmount(o, 'unrealizedPnl', what),
  };
}

export interface WirePnlTotal {
  quoteAsset: string;
  realizedPnl: string;
  unrealizedPnl: string | null;
  totalPnl: string | null;
}

export function pnlTotalToWire(t: PnlTotal): WirePnlTotal {
  return { quoteAsset: t.quoteAsset, realizedPnl: amountText(t.realizedPnl), unrealizedPnl: amountOrNull(t.unrealizedPnl), totalPnl: amountOrNull(t.totalPnl) };
}

export function pnlTotalFromWire(x: unknown, what = 'total'): PnlTotal {
  const o = obj(x, what);
  return { quoteAsset: str(o, 'quoteAsset', what), realizedPnl: amount(o, 'realizedPnl', what), unrealizedPnl: optAmount(o, 'unrealizedPnl', what), totalPnl: optAmount(o, 'totalPnl', what) };
}

export function riskStatusToWire(s: RiskStatus): RiskStatus {
  return { state: s.state, reason: s.reason, since: s.since };
}

export function riskStatusFromWire(x: unknown, what = 'status'): RiskStatus {
  const o = obj(x, what);
  return { state: oneOf(o, 'state', RISK_STATES, what), reason: str(o, 'reason', what), since: int(o, 'since', what) };
}

/** Limits as the store keeps them: `{version, global: {key: "value"}, symbols: {SYMBOL: {...}}}`, values as `risk set` takes them. */
export function riskLimitsToWire(l: RiskLimits): unknown {
  return JSON.parse(encodeLimits(l));
}

export function riskLimitsFromWire(x: unknown, what = 'limits'): RiskLimits {
  obj(x, what);
  try {
    return decodeLimits(JSON.stringify(x));
  } catch (err) {
    fail(what, `are not risk limits (${(err as Error).message})`);
  }
}

// ------------------------------------------------------------------ requests

/** POST /api/qtrade/orders: the order as typed on the command line, decimals as strings. */
export type SymbolOrderText = OrderText & { symbol: string };

export function orderTextToWire(t: SymbolOrderText): Obj {
  const out: Obj = { symbol: t.symbol, side: t.side };
  for (const k of ['qty', 'quoteQty', 'limit', 'stop', 'type', 'tif', 'clientId'] as const) if (t[k] !== undefined) out[k] = t[k];
  return out;
}

export function orderTextFromWire(x: unknown, what = 'body'): SymbolOrderText {
  const o = obj(x, what);
  const t: SymbolOrderText = { symbol: str(o, 'symbol', what), side: oneOf(o, 'side', SIDES, what) };
  for (const k of ['qty', 'quoteQty', 'limit', 'stop', 'type', 'tif', 'clientId'] as const) {
    const v = optStr(o, k, what);
    if (v !== undefined) t[k] = v;
  }
  return t;
}

/** POST /api/qtrade/paper/reset: starting balances by asset. */
export function balancesMapToWire(b: Readonly<Record<string, Amount>>): Record<string, string> {
  return Object.fromEntries(Object.entries(b).map(([asset, a]) => [asset, amountText(a)]));
}

export function balancesMapFromWire(x: unknown, what = 'balances'): Record<string, Amount> {
  const o = obj(x, what);
  const out: Record<string, Amount> = {};
  for (const asset of Object.keys(o)) {
    if (!/^[A-Z0-9]{1,20}$/.test(asset)) fail(`${what}`, `names "${asset}", which is not an asset (upper-case letters and digits)`);
    const a = amount(o, asset, what);
    if (a < 0n) fail(`${what}.${asset}`, 'is negative');
    out[asset] = a;
  }
  return out;
}

// ------------------------------------------------------------------ replies

/** Every symbol a reply mentions comes with its instrument. */
function instrumentsFromWire(o: Obj, what: string): Instrument[] {
  return list(o, 'instruments', what).map((i) => instrumentFromWire(i, `${what}.instruments[]`));
}

export interface OrdersReply {
  orders: Order[];
  instruments: Instrument[];
}

export function ordersReplyToWire(orders: readonly Order[], instruments: readonly Instrument[]): Obj {
  return { orders: orders.map(orderToWire), instruments: instruments.map(instrumentToWire) };
}

export function ordersReplyFromWire(x: unknown, what = 'answer'): OrdersReply {
  const o = obj(x, what);
  return { orders: list(o, 'orders', what).map((v) => orderFromWire(v, `${what}.orders[]`)), instruments: instrumentsFromWire(o, what) };
}

export interface PlacedReply {
  order: Order;
  fills: Fill[];
  duplicate: boolean;
  instruments: Instrument[];
}

export function placedReplyToWire(r: PlacedReply): Obj {
  return { order: orderToWire(r.order), fills: r.fills.map(fillToWire), duplicate: r.duplicate, instruments: r.instruments.map(instrumentToWire) };
}

export function placedReplyFromWire(x: unknown, what = 'answer'): PlacedReply {
  const o = obj(x, what);
  return {
    order: orderFromWire(o.order, `${what}.order`),
    fills: list(o, 'fills', what).map((v) => fillFromWire(v, `${what}.fills[]`)),
    duplicate: bool(o, 'duplicate', what),
    instruments: instrumentsFromWire(o, what),
  };
}

export interface FillsReply {
  fills: Fill[];
  instruments: Instrument[];
}

export function fillsReplyToWire(fills: readonly Fill[], instruments: readonly Instrument[]): Obj {
  return { fills: fills.map(fillToWire), instruments: instruments.map(instrumentToWire) };
}

export function fillsReplyFromWire(x: unknown, what = 'answer'): FillsReply {
  const o = obj(x, what);
  return { fills: list(o, 'fills', what).map((v) => fillFromWire(v, `${what}.fills[]`)), instruments: instrumentsFromWire(o, what) };
}

export function balancesReplyToWire(balances: readonly Balance[]): Obj {
  return { balances: balances.map(balanceToWire) };
}

export function balancesReplyFromWire(x: unknown, what = 'answer'): Balance[] {
  return list(obj(x, what), 'balances', what).map((v) => balanceFromWire(v, `${what}.balances[]`));
}

export interface PnlReply {
  positions: MarkedPosition[];
  totals: PnlTotal[];
}

export function pnlReplyToWire(r: PnlReply): Obj {
  return { positions: r.positions.map(positionToWire), totals: r.totals.map(pnlTotalToWire) };
}

export function pnlReplyFromWire(x: unknown, what = 'answer'): PnlReply {
  const o = obj(x, what);
  return {
    positions: list(o, 'positions', what).map((v) => positionFromWire(v, `${what}.positions[]`)),
    totals: list(o, 'totals', what).map((v) => pnlTotalFromWire(v, `${what}.totals[]`)),
  };
}

export function positionsReplyToWire(positions: readonly MarkedPosition[]): Obj {
  return { positions: positions.map(positionToWire) };
}

export function positionsReplyFromWire(x: unknown, what = 'answer'): MarkedPosition[] {
  return list(obj(x, what), 'positions', what).map((v) => positionFromWire(v, `${what}.positions[]`));
}

export interface RiskReply {
  status: RiskStatus;
  limits: RiskLimits;
}

export function riskReplyToWire(r: RiskReply): Obj {
  return { status: riskStatusToWire(r.status), limits: riskLimitsToWire(r.limits) };
}

export function riskReplyFromWire(x: unknown, what = 'answer'): RiskReply {
  const o = obj(x, what);
  return { status: riskStatusFromWire(o.status, `${what}.status`), limits: riskLimitsFromWire(o.limits, `${what}.limits`) };
}

export interface HaltReply {
  status: RiskStatus;
  canceled: Order[];
  instruments: Instrument[];
}

export function haltReplyToWire(r: HaltReply): Obj {
  return { status: riskStatusToWire(r.status), canceled: r.canceled.map(orderToWire), instruments: r.instruments.map(instrumentToWire) };
}

export function haltReplyFromWire(x: unknown, what = 'answer'): HaltReply {
  const o = obj(x, what);
  return {
    status: riskStatusFromWire(o.status, `${what}.status`),
    canceled: list(o, 'canceled', what).map((v) => orderFromWire(v, `${what}.canceled[]`)),
    instruments: instrumentsFromWire(o, what),
  };
}

export interface ResumeReply {
  status: RiskStatus;
  /** The state before; undefined when it was ACTIVE already. */
  previous: RiskStateName | undefined;
}

export function resumeReplyToWire(r: ResumeReply): Obj {
  return { status: riskStatusToWire(r.status), previous: r.previous ?? null };
}

export function resumeReplyFromWire(x: unknown, what = 'answer'): ResumeReply {
  const o = obj(x, what);
  return { status: riskStatusFromWire(o.status, `${what}.status`), previous: o.previous === null ? undefined : oneOf(o, 'previous', RISK_STATES, what) };
}

/** GET /api/qtrade/feed: what the daemon's market feed carries, for a client that mirrors it (the TUI). */
export interface FeedInfo {
  /** Uppercase, in feed order. */
  symbols: string[];
  channels: Channel[];
  /** One per symbol: the scales its stream payloads are read at. */
  instruments: Instrument[];
}

const CHANNELS: readonly Channel[] = ['aggTrade', 'trade', 'kline_1m', 'bookTicker', 'depth', 'miniTicker'];

export function feedInfoToWire(f: FeedInfo): Obj {
  return { symbols: f.symbols, channels: f.channels, instruments: f.instruments.map(instrumentToWire) };
}

export function feedInfoFromWire(x: unknown, what = 'answer'): FeedInfo {
  const o = obj(x, what);
  const symbols = list(o, 'symbols', what).map((s, i) => {
    if (typeof s !== 'string' || s === '') fail(`${what}.symbols[${i}]`, 'is not a symbol');
    return s;
  });
  const channels = list(o, 'channels', what).map((c, i) => {
    if (!(CHANNELS as readonly unknown[]).includes(c)) fail(`${what}.channels[${i}]`, `is not one of ${CHANNELS.join(', ')}`);
    return c as Channel;
  });
  const instruments = instrumentsFromWire(o, what);
  for (const s of symbols) if (!instruments.some((i) => i.symbol === s)) fail(`${what}.instruments`, `lack ${s}`);
  return { symbols, channels, instruments };
}

// ------------------------------------------------------------------ errors

/**
 * A refusal as the account API answers it: Binance's `{code, msg}` plus `type` (which typed error it
 * was) and what it takes to rebuild that error on the client with the same message, hint and exit
 * code: `rule` and `symbol` for risk, `hint` for usage and venue errors, `venueCode` for the latter.
 */
export interface WireErrorBody {
  code: number;
  msg: string;
  type: 'rejected' | 'risk' | 'usage' | 'venue';
  rule?: RiskRule;
  symbol?: string;
  hint?: string;
  venueCode?: string;
}

const withHint = (body: WireErrorBody, err: QtradeError): WireErrorBody => (err.hint === undefined ? body : { ...body, hint: err.hint });

/** The answer for a typed engine error (400 refusals, 503 venue failures); undefined for anything else. */
export function errorToWire(err: unknown): { status: number; body: WireErrorBody } | undefined {
  if (err instanceof RiskRejectedError) {
    const r = err.rejection;
    return { status: 400, body: { code: r.code, msg: r.msg, type: 'risk', rule: r.rule, symbol: r.symbol } };
  }
  if (err instanceof OrderRejectedError) return { status: 400, body: { code: err.binanceCode, msg: err.message, type: 'rejected' } };
  if (err instanceof UsageError || err instanceof ParseError) return { status: 400, body: withHint({ code: -1100, msg: err.message, type: 'usage' }, err) };
  if (err instanceof VenueError) return { status: 503, body: withHint({ code: -1001, msg: err.message, type: 'venue', venueCode: err.code }, err) };
  return undefined;
}

const isRiskRule = (s: unknown): s is RiskRule => typeof s === 'string' && Object.prototype.hasOwnProperty.call(RISK_CODES, s);

/**
 * The typed error an answer stands for, as embedded mode would have thrown it (same class, message,
 * hint and exit code); undefined when the answer is not one of errorToWire's (auth, routing, bugs).
 */
export function errorFromWire(status: number, body: Record<string, unknown>): QtradeError | undefined {
  const { code, msg, type } = body;
  if (typeof code !== 'number' || typeof msg !== 'string') return undefined;
  const hint = typeof body.hint === 'string' ? body.hint : undefined;
  switch (type) {
    case 'risk':
      return isRiskRule(body.rule) ? new RiskRejectedError({ code, msg, rule: body.rule, symbol: typeof body.symbol === 'string' ? body.symbol : '' }) : undefined;
    case 'rejected':
      return new OrderRejectedError({ code, msg });
    case 'usage':
      return new UsageError(msg, { hint });
    case 'venue':
      return new VenueError(typeof body.venueCode === 'string' ? body.venueCode : 'DAEMON_VENUE', msg, { hint, status });
    default:
      return undefined;
  }
}

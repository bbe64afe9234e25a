/**
 * Order, fill, balance and position value types shared by the paper engine and, later, the live
 * Binance router. Field names follow Binance's order responses where one exists.
 *
 * Units:
 *  - price, stopPrice: raw integers at the instrument's priceScale (tickSize decimals);
 *  - qty, executedQty: raw integers at the instrument's qtyScale (wire precision, 8);
 *  - asset amounts (balances, ledger, quote quantities, commissions, PnL): `Amount`, a bigint at
 *    AMOUNT_SCALE = 16 decimals for every asset. Binance prints 8 decimals, but price × qty of raws
 *    at up to 8 + 8 decimals (ETHBTC: tick 0.00001 × step 0.0001 already needs 9) is exact only at
 *    16, so every notional, lock and settlement is exact with no rounding at all. The one rounding
 *    in the engine is the commission (see fees.ts): rounded UP to 8 decimals, Binance's commission
 *    precision, and capped at the amount it is taken from.
 *  - times: exchange event time (ms) from the market data that caused the change; never wall time.
 */

/** Decimals of every asset amount (balances, ledger deltas, quote quantities, fees, PnL). */
export const AMOUNT_SCALE = 16;
/** Binance's balance and commission precision. */
export const WIRE_SCALE = 8;

/** An exact asset amount: a bigint at AMOUNT_SCALE decimals. */
export type Amount = bigint;

export type Side = 'BUY' | 'SELL';

export type OrderType =
  | 'MARKET'
  | 'LIMIT'
  | 'LIMIT_MAKER'
  | 'STOP_LOSS'
  | 'STOP_LOSS_LIMIT'
  | 'TAKE_PROFIT'
  | 'TAKE_PROFIT_LIMIT';

export const ORDER_TYPES: readonly OrderType[] = [
  'MARKET',
  'LIMIT',
  'LIMIT_MAKER',
  'STOP_LOSS',
  'STOP_LOSS_LIMIT',
  'TAKE_PROFIT',
  'TAKE_PROFIT_LIMIT',
];

export type TimeInForce = 'GTC' | 'IOC' | 'FOK';

/**
 * Binance's order statuses. An untriggered stop is `NEW` with `isWorking: false` and
 * `workingTime: -1`, exactly as Binance reports it; triggering sets isWorking and workingTime.
 */
export type OrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'REJECTED' | 'EXPIRED';

export function isTerminal(s: OrderStatus): boolean {
  return s === 'FILLED' || s === 'CANCELED' || s === 'REJECTED' || s === 'EXPIRED';
}

export function isStopType(t: OrderType): boolean {
  return t === 'STOP_LOSS' || t === 'STOP_LOSS_LIMIT' || t === 'TAKE_PROFIT' || t === 'TAKE_PROFIT_LIMIT';
}

/** Types that carry a limit price (and rest on the book once working). */
export function hasLimitPrice(t: OrderType): boolean {
  return t === 'LIMIT' || t === 'LIMIT_MAKER' || t === 'STOP_LOSS_LIMIT' || t === 'TAKE_PROFIT_LIMIT';
}

/** What a caller asks for; mirrors POST /api/v3/order. Raws at the instrument's scales. */
export interface OrderRequest {
  symbol: string;
  side: Side;
  type: OrderType;
  /** Required for LIMIT, STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT; not allowed for MARKET and LIMIT_MAKER. */
  timeInForce?: TimeInForce;
  /** Base quantity, raw at qtyScale. MARKET takes either this or quoteOrderQty. */
  qty?: number;
  /** MARKET only: quote amount to spend (BUY) or receive (SELL). */
  quoteOrderQty?: Amount;
  /** Limit price, raw at priceScale. */
  price?: number;
  /** Trigger price for stop types, raw at priceScale. */
  stopPrice?: number;
  /** Idempotency key; generated from the order id when absent. */
  clientOrderId?: string;
}

export interface Order {
  symbol: string;
  orderId: number;
  clientOrderId: string;
  side: Side;
  type: OrderType;
  /** Absent for MARKET, LIMIT_MAKER and market stops. */
  timeInForce: TimeInForce | undefined;
  /** 0 when the type has no limit price. */
  price: number;
  /** 0 for non-stop types. */
  stopPrice: number;
  /** Base quantity ordered; for a quoteOrderQty MARKET order, the quantity the walk will execute. */
  origQty: number;
  /** The quoteOrderQty asked for, 0n otherwise. */
  origQuoteOrderQty: Amount;
  executedQty: number;
  /** Σ price × qty of the fills (Binance's cummulativeQuoteQty), exact. */
  cumQuote: Amount;
  status: OrderStatus;
  /** False while a stop waits for its trigger. */
  isWorking: boolean;
  /** Acceptance time. */
  time: number;
  /** Time of the last change. */
  updateTime: number;
  /** When the order started working (acceptance, or trigger for stops); -1 before. */
  workingTime: number;
  /** Asset held locked for this order, and how much is still locked. */
  lockAsset: string;
  locked: Amount;
}

export interface Fill {
  symbol: string;
  orderId: number;
  clientOrderId: string;
  /** Paper trade id, contiguous per engine. */
  tradeId: number;
  side: Side;
  price: number;
  qty: number;
  /** price × qty, exact. */
  quoteQty: Amount;
  commission: Amount;
  commissionAsset: string;
  isMaker: boolean;
  time: number;
}

export interface Balance {
  asset: string;
  free: Amount;
  locked: Amount;
}

export type LedgerReason = 'deposit' | 'lock' | 'unlock' | 'trade' | 'fee';

/** One balance change. Balances always equal the initial balances plus the sum of these. */
export interface LedgerEntry {
  asset: string;
  dFree: Amount;
  dLocked: Amount;
  reason: LedgerReason;
  orderId?: number;
  tradeId?: number;
}

/**
 * A symbol's position from its fills, average-cost method. `qty` is the net base received
 * (commissions in base reduce it), `cost` the net quote paid for the open quantity (negative for a
 * net short built by selling initial holdings). realizedPnl + unrealizedPnl is exact; when a
 * reduction splits the cost basis the split is truncated at AMOUNT_SCALE. `avgEntry` is cost / qty
 * rounded to AMOUNT_SCALE, a quote-per-base price for display.
 */
export interface Position {
  symbol: string;
  qty: Amount;
  cost: Amount;
  avgEntry: Amount;
  realizedPnl: Amount;
  /** qty × last trade price − cost; 0n before any trade was seen. */
  unrealizedPnl: Amount;
  /** Σ commissions converted to quote at their fill prices (already inside cost / realizedPnl). */
  fees: Amount;
}

/** A rejection as Binance reports it: `{"code": -1013, "msg": "Filter failure: LOT_SIZE"}`. */
export interface Rejection {
  code: number;
  msg: string;
}

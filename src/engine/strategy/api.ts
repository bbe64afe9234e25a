import type { Candle, Interval } from '../candles/types.js';
import { UsageError } from '../errors.js';
import type { Instrument, Trade } from '../market/types.js';
import type { CancelResult, OrderRef, SubmitResult } from '../orders/paper-engine.js';
import type { Amount, Balance, Fill, Order, OrderEvent, Position, TimeInForce } from '../orders/index.js';
import type { ATR, Bollinger, BollingerOptions, EMA, MACD, MacdOptions, OBV, RSI, SMA, Stochastic, StochasticOptions, VWAP, VwapOptions, WMA } from './indicators/index.js';
import { checkSchema, type ParamSchema, type ParamValues } from './params.js';

export type { ParamSchema, ParamSpec, ParamValues } from './params.js';

/**
 * The strategy API. A strategy is written once and runs unchanged in a backtest (PaperEngine on a
 * SimClock), in paper trading (OrderService on the live or replayed feed) and later live: it only
 * ever sees this context, never the driver.
 *
 * Rules the runner enforces:
 *  - Time is event time (`ctx.now`, candle and trade times). Strategy code has no wall clock.
 *  - No look-ahead: order calls made in onStart/onCandle are queued and submitted once the engine
 *    has seen the first trade AFTER the candle closed, so they can only fill on later market data.
 *    Calls made in onTrade/onFill go out at once (the engine has already matched that trade).
 *  - A callback that throws (or whose promise rejects) pauses the strategy with the error kept;
 *    the engine and other strategies keep running.
 *  - Decide synchronously from the context. `await`ing an order's result works, but its
 *    continuation runs when the driver resolves it (immediately in a backtest, once durable in
 *    paper), so code after an await is not guaranteed to see the same market state in both.
 */

/** A decimal as a string ("0.001", exact) or a number (converted at the instrument's precision). */
export type Decimal = string | number;

export interface OrderParams {
  /** Base quantity; snapped DOWN to the instrument's step. */
  qty?: Decimal;
  /** Quote amount to spend (BUY) or receive (SELL); market orders only. */
  quoteQty?: Decimal;
  /** Limit price (snapped to the tick): a LIMIT order, or STOP_LOSS_LIMIT with `stop`. */
  limit?: Decimal;
  /** Trigger price: STOP_LOSS (market) alone, STOP_LOSS_LIMIT with `limit`. */
  stop?: Decimal;
  /** For limit types; default GTC. */
  tif?: TimeInForce;
  /** LIMIT_MAKER: rejected instead of taking liquidity. */
  postOnly?: boolean;
  /** Use TAKE_PROFIT(_LIMIT) instead of STOP_LOSS(_LIMIT) for a `stop` order. */
  takeProfit?: boolean;
  /** Idempotency key; the runner generates `<runner id>_<n>` otherwise. */
  clientOrderId?: string;
}

/** The engine's result, once the order reached it; `clientOrderId` is known at once. */
export interface OrderTicket extends Promise<SubmitResult> {
  readonly clientOrderId: string;
}

/** Float views for decisions; `exact` carries the engine's exact amounts. */
export interface StrategyPosition {
  symbol: string;
  /** Net base quantity (negative after selling holdings the account had before). */
  qty: number;
  avgEntry: number;
  realizedPnl: number;
  unrealizedPnl: number;
  exact: Position | undefined;
}

export interface StrategyBalance {
  asset: string;
  free: number;
  locked: number;
  exact: Balance;
}

export interface LogEntry {
  time: number;
  level: 'info' | 'warn' | 'error';
  msg: string;
  data?: unknown;
}

export interface StrategyLogger {
  (msg: string, data?: unknown): void;
  info(msg: string, data?: unknown): void;
  warn(msg: string, data?: unknown): void;
  error(msg: string, data?: unknown): void;
}

/**
 * Indicators fed by the runner: each closed candle of the strategy's interval goes into every
 * indicator made here before onCandle runs, so strategies only read `.value` / `.isReady`. The
 * same call with the same arguments returns the same instance (call it in onStart or lazily in
 * onCandle; a lazily made one is fed the current candle at once). Pass `key` for two instances
 * with equal arguments.
 */
export interface IndicatorFactory {
  sma(period: number, key?: string): SMA;
  ema(period: number, key?: string): EMA;
  wma(period: number, key?: string): WMA;
  rsi(period?: number, key?: string): RSI;
  macd(options?: MacdOptions, key?: string): MACD;
  bollinger(options?: BollingerOptions, key?: string): Bollinger;
  atr(period?: number, key?: string): ATR;
  stochastic(options?: StochasticOptions, key?: string): Stochastic;
  vwap(options?: VwapOptions, key?: string): VWAP;
  obv(key?: string): OBV;
}

/** A JSON value: what `ctx.state` may hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
export type StrategyState = { [k: string]: JsonValue };

export interface StrategyContext<P> {
  readonly params: P;
  readonly symbol: string;
  readonly interval: Interval;
  readonly instrument: Instrument;
  /** Event time of what is being handled, ms. */
  readonly now: number;
  /** The last closed candle of the strategy's interval, undefined before the first. */
  readonly candle: Candle | undefined;
  readonly indicator: IndicatorFactory;
  /** Alias of `indicator`. */
  readonly indicators: IndicatorFactory;
  /** Persisted by the runner after every callback (JSON only: no bigint, no class instances). */
  state: StrategyState;
  readonly log: StrategyLogger;

  /** Position on `symbol` (default: the strategy's). Shared by every runner on the same account and symbol. */
  position(symbol?: string): StrategyPosition;
  balance(asset: string): StrategyBalance;
  /** Last trade price of the symbol as a float. */
  lastPrice(symbol?: string): number | undefined;
  openOrders(): Order[];
  order(ref: OrderRef | string): Order | undefined;

  buy(p: OrderParams): OrderTicket;
  sell(p: OrderParams): OrderTicket;
  cancel(ref: OrderRef | string): Promise<CancelResult>;
  /** Cancels this symbol's open orders. */
  cancelAll(): Promise<{ orders: Order[]; events: OrderEvent[] }>;

  /** Float → price raw at the instrument's tick (nearest) and qty raw at its step (down); helpers for sizing. */
  priceRaw(price: Decimal): number;
  qtyRaw(qty: Decimal): number;
  /** Exact amount → float (for sizing). */
  toNumber(a: Amount): number;
}

type Maybe<T> = T | Promise<T>;

export interface StrategyDefinition<S extends ParamSchema = ParamSchema> {
  readonly name: string;
  readonly description?: string;
  readonly params: S;
  /** Cross-parameter check (e.g. fast < slow); return a message to refuse the values. */
  readonly validate?: (p: ParamValues<S>) => string | undefined;
  readonly onStart?: (ctx: StrategyContext<ParamValues<S>>) => Maybe<void>;
  readonly onCandle: (ctx: StrategyContext<ParamValues<S>>, candle: Candle) => Maybe<void>;
  readonly onTrade?: (ctx: StrategyContext<ParamValues<S>>, trade: Trade) => Maybe<void>;
  readonly onFill?: (ctx: StrategyContext<ParamValues<S>>, fill: Fill) => Maybe<void>;
  readonly onStop?: (ctx: StrategyContext<ParamValues<S>>) => Maybe<void>;
}

const STRATEGY_NAME = /^[a-z][a-z0-9-]{0,39}$/;

/** Declares a strategy; the schema and hooks are checked here, values when a runner starts. */
export function defineStrategy<const S extends ParamSchema>(def: StrategyDefinition<S>): StrategyDefinition<S> {
  if (!def || typeof def !== 'object') throw new UsageError('defineStrategy needs an object { name, params, onCandle, … }');
  if (typeof def.name !== 'string' || !STRATEGY_NAME.test(def.name)) {
    throw new UsageError(`strategy name ${JSON.stringify(def.name)} is not allowed`, {
      hint: 'lowercase letters, digits and "-", starting with a letter, at most 40 (e.g. "sma-cross")',
    });
  }
  if (typeof def.onCandle !== 'function') throw new UsageError(`strategy ${def.name}: onCandle must be a function`);
  for (const hook of ['onStart', 'onTrade', 'onFill', 'onStop', 'validate'] as const) {
    if (def[hook] !== undefined && typeof def[hook] !== 'function') throw new UsageError(`strategy ${def.name}: ${hook} must be a function`);
  }
  if (!def.params || typeof def.params !== 'object') throw new UsageError(`strategy ${def.name}: params must be an object (use {} for none)`);
  checkSchema(def.name, def.params);
  return Object.freeze({ ...def });
}

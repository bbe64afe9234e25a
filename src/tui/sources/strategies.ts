import type { Interval } from '../../engine/candles/types.js';
import type { Amount } from '../../engine/orders/types.js';
import type { LiveStrategy, StartStrategyOptions } from '../../engine/strategy/manager.js';
import type { ParamSpec } from '../../engine/strategy/params.js';
import type { BacktestRequest } from '../../server/backtest-jobs.js';

/**
 * Strategies as the TUI sees them: the built-ins it can start, the live ones on the paper account
 * with their own PnL, and backtests with progress. An embedded engine implements it over a
 * StrategyManager (sources/embedded-strategies.ts); a daemon client can implement it over
 * /api/qtrade/strategies and /api/qtrade/backtests, which answer with the same fields (amounts as
 * decimal strings there, parsed back to exact amounts here).
 */

export type { BacktestRequest, StartStrategyOptions };

/** A strategy that can be started or backtested, with its parameter schema. */
export interface StrategyTemplate {
  name: string;
  description: string;
  params: ReadonlyArray<{ name: string; spec: ParamSpec }>;
}

/** A live strategy: status, its orders and fills, and its own position marked at the last trade (exact). */
export type StrategyView = Pick<
  LiveStrategy,
  'id' | 'strategy' | 'source' | 'symbol' | 'interval' | 'params' | 'status' | 'error' | 'orders' | 'openOrders' | 'fills' | 'position' | 'candles'
>;

/** Where a backtest can take its data from: `data` goes into BacktestRequest.data as is. */
export interface BacktestDataChoice {
  /** 'store', or a data file path (a recording, or an aggTrades/trades/klines file). */
  data: string;
  kind: 'store' | 'recording' | 'file';
  /** "store (1m candles)", "recording binance-spot-2024-08-08.jsonl.gz". */
  label: string;
}

/** A finished backtest: what `qtrade backtest` reports, with money exact. */
export interface BacktestReport {
  strategy: string;
  symbol: string;
  interval: Interval;
  params: Record<string, unknown>;
  /** What the data was ("recording x.jsonl.gz", "the store (1000 1m candles …)"). */
  data: string;
  /** 'exact' (trades replayed through the paper engine) or 'candle-approximation'. */
  model: string;
  candles: number;
  quoteAsset: string;
  /** The strategy threw and was paused there; the figures cover the run up to that point. */
  error: { message: string; callback: string; time: number } | undefined;
  metrics: {
    /** Ratios (0.01 = 1 %); null where undefined (no trades, no variance). */
    totalReturn: number;
    sharpe: number | null;
    sortino: number | null;
    maxDrawdown: number;
    winRate: number | null;
    profitFactor: number | null;
    exposure: number;
    /** Closed round trips. */
    trades: number;
    fills: number;
    openTrade: boolean;
    feesPaid: Amount;
  };
  equity: {
    start: Amount;
    end: Amount;
    peak: Amount;
    trough: Amount;
    /** Evenly spaced marks, first and last included, oldest first. */
    curve: ReadonlyArray<{ time: number; equity: Amount }>;
  };
}

export interface StrategiesSource {
  /** Strategies that can be started or backtested (the built-ins). */
  templates(): StrategyTemplate[];
  /** Live strategies first (in start order), then the recently stopped ones. */
  list(): StrategyView[];
  /** Starts a strategy live on the paper account; a refusal throws (unknown strategy, bad param, id in use). */
  start(spec: StartStrategyOptions): Promise<StrategyView>;
  /** Stops a live strategy: its onStop runs, its open orders stay. */
  stop(id: string): Promise<StrategyView>;
  /** Continues a paused strategy with its state. */
  resume(id: string): Promise<StrategyView>;
  /**
   * Calls `listener` when the list changes other than through bus events: a start, a stop, a
   * pause. Returns an unsubscribe function.
   */
  onChange(listener: () => void): () => void;
  /** Data a backtest can run on here. */
  backtestData(): BacktestDataChoice[];
  /** Runs a backtest off the UI thread; `onProgress` gets 0..1 as the data's event time advances. */
  backtest(request: BacktestRequest, onProgress: (fraction: number) => void): Promise<BacktestReport>;
}

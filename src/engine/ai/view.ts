import { queryCandles } from '../candles/query.js';
import type { Candle, Interval } from '../candles/types.js';
import { UsageError } from '../errors.js';
import type { BookLevel, Instrument, MiniTicker } from '../market/types.js';
import type { TradingNode } from '../node.js';
import type { Balance, Order } from '../orders/types.js';
import type { RiskStatus } from '../risk/engine.js';
import type { RiskLimits } from '../risk/limits.js';
import type { MarkedPosition } from '../trading.js';
import type { BacktestSummary } from './backtest-report.js';
import type { StrategySpec } from './strategy-spec.js';

/**
 * What the assistant's tools may read: a narrow, read-only view of one trading platform. The
 * daemon and the TUI hand in a TradingNode (nodeEngineView); the CLI composes one from the
 * account (embedded or through the daemon), the store and Binance's REST API. Nothing here can
 * place or cancel an order.
 */
export interface TickerView {
  symbol: string;
  /** Last trade price (raw at the instrument's priceScale) and its exchange time. */
  lastPrice?: number;
  lastTime?: number;
  bid?: number;
  ask?: number;
  /** Rolling 24h ticker, when the feed carries it. */
  day?: MiniTicker;
  /** Where the figures come from ('feed', 'binance-rest'). */
  source: string;
}

export interface BookView {
  bids: BookLevel[];
  asks: BookLevel[];
  source: string;
}

export interface CandleSet {
  candles: Candle[];
  /** 'store', 'store (aggregated from 1m)', 'binance-rest', … */
  source: string;
}

export interface EngineView {
  /** Exchange event time the view has reached (ms); stamps proposals. */
  now(): number;
  /** Throws UsageError (naming close matches) for an unknown symbol. */
  instrument(symbol: string): Instrument;
  ticker(symbol: string): Promise<TickerView>;
  /** The latest `limit` closed candles of the interval, oldest first. */
  candles(symbol: string, interval: Interval, limit: number): Promise<CandleSet>;
  book(symbol: string, depth: number): Promise<BookView>;
  balances(): Promise<Balance[]>;
  positions(): Promise<MarkedPosition[]>;
  openOrders(symbol?: string): Promise<Order[]>;
  risk(): Promise<{ status: RiskStatus; limits: RiskLimits }>;
  /** The latest `count` 1m candles from the store, for backtests (never a remote source). */
  backtestCandles(symbol: string, count: number): Promise<Candle[]>;
  /**
   * Runs a backtest on stored candles as a backtest job: the CLI attached to a daemon hands in the
   * daemon's (its store, its worker threads), the daemon's own assistant its jobs (worker threads,
   * so a backtest never holds up the feed). Absent: the tool backtests here on backtestCandles.
   */
  storedBacktest?(req: StoredBacktestRequest): Promise<BacktestSummary>;
  /**
   * A recording file a backtest may replay, resolved to an absolute path; absent where reading
   * files on this host must not be offered (the daemon's API).
   */
  recording?(file: string): Promise<string>;
}

/** A backtest on the latest stored 1m candles, as run_backtest asks for it. */
export interface StoredBacktestRequest {
  /** A built-in's name, or the spec's. */
  strategy: string;
  /** A validated declarative spec to run instead of the built-in. */
  spec?: StrategySpec;
  symbol: string;
  interval: Interval;
  /** A built-in's resolved params ({} for a spec). */
  params: Record<string, unknown>;
  /** The latest bars of the interval. */
  bars: number;
  /** Starting balance such as "10000USDT"; default the paper account's defaults. */
  balance?: string;
}

export interface NodeViewOptions {
  /** Used while the node has seen no event yet (its clock reads 0); the caller's wall clock. */
  fallbackNow?: () => number;
}

/** The view of a running TradingNode: its feed's market cache and books, its store, its account. */
export function nodeEngineView(node: TradingNode, opts: NodeViewOptions = {}): EngineView {
  const sym = (s: string): string => node.instruments.get(s).symbol;
  return {
    now: () => {
      const t = node.clock.now();
      return t > 0 ? t : (opts.fallbackNow?.() ?? 0);
    },
    instrument: (s) => node.instruments.get(s),
    async ticker(s) {
      const symbol = sym(s);
      const m = node.market.get(symbol);
      if (!m || (!m.lastTrade && !m.top && !m.ticker)) {
        throw new UsageError(`the feed has carried nothing of ${symbol} yet`, { hint: `the daemon's feed carries ${node.symbols().join(', ')}` });
      }
      return {
        symbol,
        ...(m.lastTrade ? { lastPrice: m.lastTrade.price, lastTime: m.lastTrade.time } : {}),
        ...(m.top ? { bid: m.top.bid.price, ask: m.top.ask.price } : {}),
        ...(m.ticker ? { day: m.ticker } : {}),
        source: 'feed',
      };
    },
    async candles(s, interval, limit) {
      const symbol = sym(s);
      const r = await queryCandles(node.store, { symbol, interval, limit });
      return { candles: r.candles, source: r.aggregatedFrom ? 'store (aggregated from 1m)' : 'store' };
    },
    async book(s, depth) {
      const symbol = sym(s);
      const b = node.kernel.orderBook(symbol);
      const bids = b?.levels('bid', depth) ?? [];
      const asks = b?.levels('ask', depth) ?? [];
      if (bids.length > 0 || asks.length > 0) return { bids, asks, source: 'feed depth book' };
      const top = node.market.get(symbol)?.top;
      if (!top) throw new UsageError(`no order book of ${symbol} yet`, { hint: 'the feed has not delivered its book; try again shortly' });
      return { bids: [top.bid], asks: [top.ask], source: 'feed best bid/ask only (no depth channel)' };
    },
    balances: async () => node.trading.balances(),
    positions: async () => node.trading.positions(node.market.lastPrices()),
    openOrders: async (s) => node.trading.openOrders(s === undefined ? undefined : sym(s)),
    risk: async () => ({ status: node.trading.status(), limits: node.trading.limits() }),
    backtestCandles: async (s, count) => node.store.candles({ symbol: sym(s), interval: '1m', limit: count }),
  };
}

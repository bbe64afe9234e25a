import type { Candle } from '../candles/types.js';
import type { BookLevel, BookTop, MiniTicker, Trade } from './types.js';

/** One diff-depth event (Binance depthUpdate): U first and u last update id. */
export interface DepthDiff {
  symbol: string;
  eventTime: number;
  firstUpdateId: number;
  lastUpdateId: number;
  bids: BookLevel[];
  asks: BookLevel[];
}

/** REST depth snapshot (GET /api/v3/depth). */
export interface DepthSnapshot {
  symbol: string;
  lastUpdateId: number;
  bids: BookLevel[];
  asks: BookLevel[];
}

/** A decoded market-data event from any source (live socket, recording, file). */
export type MarketEvent =
  | { kind: 'trade'; trade: Trade }
  | { kind: 'kline'; candle: Candle }
  | { kind: 'bookTicker'; top: BookTop }
  | { kind: 'depth'; diff: DepthDiff }
  | { kind: 'depthSnapshot'; snapshot: DepthSnapshot }
  | { kind: 'miniTicker'; ticker: MiniTicker };

/** The channels qtrade subscribes per symbol. */
export type Channel = 'aggTrade' | 'trade' | 'kline_1m' | 'bookTicker' | 'depth' | 'miniTicker';

export interface MarketSink {
  /** A decoded event; `recvTime` is the local receive time in ms (metrics only, never event time). */
  event(event: MarketEvent, recvTime: number): void;
  /** A raw frame as received, before decoding (for `qtrade record`). */
  raw?(text: string, recvTime: number): void;
  /** Connection state changes (connecting, open, reconnecting with attempt and delay, closed). */
  state?(state: import('../bus.js').FeedState): void;
  /** A frame that could not be decoded; the feed keeps running. */
  error?(message: string, detail?: string): void;
}

/**
 * A market-data venue: the live Binance adapter or a replayed recording. The kernel
 * only ever talks to this interface, so live, replay and backtest share one pipeline.
 */
export interface MarketVenue {
  readonly name: string;
  /** Starts delivering events for these symbols (lowercase or uppercase) and channels. */
  start(symbols: string[], channels: Channel[], sink: MarketSink): Promise<void>;
  /** Adds or removes symbols at runtime. */
  subscribe(symbols: string[]): Promise<void>;
  unsubscribe(symbols: string[]): Promise<void>;
  /** Aggregated trades from `fromId` on, oldest first (REST /api/v3/aggTrades?fromId=); [] when unavailable. */
  aggTradesFrom(symbol: string, fromId: number, limit: number): Promise<Trade[]>;
  /**
   * Asks the venue for a fresh depth snapshot for local order-book sync. It arrives later as a
   * `depthSnapshot` event through the sink (live: fetched from REST; replay: the next snapshot
   * recorded in the file, since the recorder fetched one on every (re)connect).
   */
  requestDepthSnapshot(symbol: string): void;
  stop(): Promise<void>;
}

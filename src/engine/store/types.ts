import type { Candle, Interval } from '../candles/types.js';
import type { Instrument } from '../market/types.js';

export interface CandleQuery {
  symbol: string;
  interval: Interval;
  /** Open time ≥ from (ms). */
  from?: number;
  /** Open time ≤ to (ms). */
  to?: number;
  /** At most this many, the latest ones when `from` is not given. */
  limit?: number;
}

/**
 * Durable storage behind one interface: SQLite (default, WAL) or PostgreSQL. Writes are
 * idempotent upserts, so replaying or re-downloading the same data never duplicates it.
 * Values keep their exact raws and scales.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Creates or upgrades the schema; safe to call on every start. */
  migrate(): Promise<void>;
  /** Upserts by (symbol, interval, openTime); one transaction for the whole batch. */
  upsertCandles(candles: readonly Candle[]): Promise<void>;
  /** Oldest first. */
  candles(q: CandleQuery): Promise<Candle[]>;
  lastCandle(symbol: string, interval: Interval): Promise<Candle | undefined>;
  upsertInstruments(list: readonly Instrument[]): Promise<void>;
  instruments(): Promise<Instrument[]>;
  /** Small key/value state, e.g. a download's resume point. */
  getState(key: string): Promise<string | undefined>;
  setState(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

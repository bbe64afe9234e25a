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

/** One row of an append-only event log (the paper account's order events, encoded by their owner). */
export interface EventRecord {
  /** 1, 2, 3, … per stream, without gaps. */
  seq: number;
  /** Exchange event time of the input that caused it (ms). */
  time: number;
  kind: string;
  /** The encoded event; the store keeps it verbatim. */
  body: string;
}

/**
 * A batch of event rows as columns, the bodies as UTF-8 text back to back in one buffer: the
 * shape the SQLite writer thread takes without copying (its buffers are moved to the thread).
 */
export interface EventColumns {
  /** seq of the first row; row i has seq first + i. */
  first: number;
  times: Float64Array;
  kinds: string[];
  /** Row i's body is the UTF-8 text bytes[ends[i - 1] (0 for i = 0) .. ends[i]). */
  bytes: Uint8Array;
  ends: Uint32Array;
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
  /**
   * Appends to an event log in one transaction. The first event's seq must be exactly the
   * stream's last seq + 1 and the batch contiguous: otherwise nothing is written and a
   * StoreError with code STORE_SEQ_CONFLICT (another writer got there first) or STORE_SEQ
   * (a malformed batch) is thrown, so two writers can never interleave or duplicate events.
   */
  appendEvents(stream: string, events: ReadonlyArray<EventRecord>): Promise<void>;
  /**
   * appendEvents for a batch given as columns, same rules. Optional: a store without it gets
   * appendEvents(stream, eventRecords(cols)). The store may take the columns' buffers (move them to
   * another thread): they must be the batch's own ArrayBuffers (not views into a shared pool such as
   * Node's small-Buffer pool), and the caller must not use them afterwards.
   */
  appendEventColumns?(stream: string, cols: EventColumns): Promise<void>;
  /** Events with seq ≥ fromSeq (default 1), oldest first, at most `limit` (default all). Page by seq. */
  readEvents(stream: string, fromSeq?: number, limit?: number): Promise<EventRecord[]>;
  /** The stream's last seq, 0 when it is empty. */
  lastSeq(stream: string): Promise<number>;
  close(): Promise<void>;
}

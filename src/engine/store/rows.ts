import type { Candle, Interval } from '../candles/types.js';
import { INTERVALS } from '../candles/types.js';
import { StoreError } from '../errors.js';
import type { EventColumns, EventRecord } from './types.js';

/**
 * Shared by the SQLite and PostgreSQL stores: how a candle's exact values travel to and
 * from a row. Prices, times, ids and counts are safe integers (numbers); volumes are
 * bigints and travel as decimal strings so values beyond 2^63 survive unchanged.
 */

/** A bigint (or an integral number) as a decimal string; anything else is refused. */
export function bigText(v: bigint | number, field: string): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  throw new StoreError('STORE_VALUE', `candle ${field} must be an integer raw, got ${String(v)}`);
}

export function toBigint(v: unknown, field: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v))) {
    try {
      return BigInt(v);
    } catch {
      // fall through to the error below
    }
  }
  throw new StoreError('STORE_CORRUPT', `stored ${field} "${String(v)}" is not an integer`, {
    hint: 'the store holds a value qtrade did not write; re-download or re-import that range',
  });
}

export function toSafeNumber(v: unknown, field: string): number {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new StoreError('STORE_CORRUPT', `stored ${field} "${String(v)}" is not a safe integer`);
  }
  return n;
}

export function toInterval(v: unknown): Interval {
  if (typeof v === 'string' && (INTERVALS as readonly string[]).includes(v)) return v as Interval;
  throw new StoreError('STORE_CORRUPT', `stored interval "${String(v)}" is not a Binance interval`);
}

/** A candle row as both stores select it (column aliases in snake_case). */
export interface CandleRow {
  symbol: unknown;
  interval_name: unknown;
  price_scale: unknown;
  qty_scale: unknown;
  open_time: unknown;
  close_time: unknown;
  open: unknown;
  high: unknown;
  low: unknown;
  close: unknown;
  volume: unknown;
  quote_volume: unknown;
  trades: unknown;
  taker_buy_volume: unknown;
  taker_buy_quote_volume: unknown;
  first_trade_id: unknown;
  last_trade_id: unknown;
  closed: unknown;
}

export const CANDLE_COLUMNS = [
  'symbol',
  'interval_name',
  'open_time',
  'close_time',
  'price_scale',
  'qty_scale',
  'open',
  'high',
  'low',
  'close',
  'volume',
  'quote_volume',
  'trades',
  'taker_buy_volume',
  'taker_buy_quote_volume',
  'first_trade_id',
  'last_trade_id',
  'closed',
] as const;

export function candleFromRow(r: CandleRow): Candle {
  return {
    symbol: String(r.symbol),
    interval: toInterval(r.interval_name),
    priceScale: toSafeNumber(r.price_scale, 'price_scale'),
    qtyScale: toSafeNumber(r.qty_scale, 'qty_scale'),
    openTime: toSafeNumber(r.open_time, 'open_time'),
    closeTime: toSafeNumber(r.close_time, 'close_time'),
    open: toSafeNumber(r.open, 'open'),
    high: toSafeNumber(r.high, 'high'),
    low: toSafeNumber(r.low, 'low'),
    close: toSafeNumber(r.close, 'close'),
    volume: toBigint(r.volume, 'volume'),
    quoteVolume: toBigint(r.quote_volume, 'quote_volume'),
    trades: toSafeNumber(r.trades, 'trades'),
    takerBuyVolume: toBigint(r.taker_buy_volume, 'taker_buy_volume'),
    takerBuyQuoteVolume: toBigint(r.taker_buy_quote_volume, 'taker_buy_quote_volume'),
    firstTradeId: toSafeNumber(r.first_trade_id, 'first_trade_id'),
    lastTradeId: toSafeNumber(r.last_trade_id, 'last_trade_id'),
    closed: r.closed === true || r.closed === 1 || r.closed === 1n,
  };
}

/**
 * Keeps the last candle per (symbol, interval, openTime), in first-seen order: a batch
 * may carry the same candle twice (a partial, then its final form) and the later wins.
 */
export function lastPerKey(candles: readonly Candle[]): Candle[] {
  const byKey = new Map<string, Candle>();
  for (const c of candles) byKey.set(`${c.symbol}\u0000${c.interval}\u0000${c.openTime}`, c);
  return byKey.size === candles.length ? [...candles] : [...byKey.values()];
}

/** Bounds of a CandleQuery as the SQL of both stores wants them. */
export function queryBounds(q: { from?: number; to?: number; limit?: number }): { from: number; to: number; limit: number | undefined } {
  const limit = q.limit === undefined ? undefined : Math.max(0, Math.floor(q.limit));
  return {
    from: q.from ?? Number.MIN_SAFE_INTEGER,
    to: q.to ?? Number.MAX_SAFE_INTEGER,
    limit,
  };
}

/** Refuses a batch that is not a contiguous run of integer seqs with integer times and string bodies. */
export function checkEventBatch(stream: string, events: ReadonlyArray<{ seq: number; time: number; kind: string; body: string }>): void {
  const first = events[0]!.seq;
  if (!Number.isSafeInteger(first) || first < 1) {
    throw new StoreError('STORE_SEQ', `event stream ${stream}: seq ${String(first)} is not a positive integer`);
  }
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.seq !== first + i) {
      throw new StoreError('STORE_SEQ', `event stream ${stream}: batch is not contiguous (seq ${String(e.seq)} where ${first + i} was due)`);
    }
    if (!Number.isSafeInteger(e.time) || typeof e.kind !== 'string' || typeof e.body !== 'string') {
      throw new StoreError('STORE_VALUE', `event stream ${stream}: event ${e.seq} needs an integer time and string kind and body`);
    }
  }
}

/** The error for an append that does not continue the stream: another writer, or a stale one. */
export function seqConflict(stream: string, first: number, last: number | undefined, where: string): StoreError {
  const why = last === undefined ? 'another writer appended that seq first' : `the log ends at ${last}`;
  return new StoreError(
    'STORE_SEQ_CONFLICT',
    `event stream ${stream} in ${where}: cannot append at seq ${first}, ${why}`,
    {
      hint:
        'another process is writing this account (or this one fell behind it): only one qtrade process may trade a paper ' +
        'account; stop the other one, then restart this one so it rebuilds from the log',
    },
  );
}

/** The UTF-8 text bytes[start .. end). */
export function utf8Text(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8', start, end);
}

/** A column batch as rows (for stores that write strings from the caller's thread). */
export function eventRecords(cols: EventColumns): EventRecord[] {
  const text = Buffer.from(cols.bytes.buffer, cols.bytes.byteOffset, cols.bytes.byteLength);
  const n = cols.ends.length;
  const out = new Array<EventRecord>(n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = cols.ends[i]!;
    out[i] = { seq: cols.first + i, time: cols.times[i]!, kind: cols.kinds[i]!, body: text.toString('utf8', start, end) };
    start = end;
  }
  return out;
}

/** checkEventBatch for columns: a positive first seq, integer times, a string kind and a body per row. */
export function checkEventColumns(stream: string, cols: EventColumns): void {
  const n = cols.ends.length;
  if (!Number.isSafeInteger(cols.first) || cols.first < 1) {
    throw new StoreError('STORE_SEQ', `event stream ${stream}: seq ${String(cols.first)} is not a positive integer`);
  }
  if (cols.times.length !== n || cols.kinds.length !== n) {
    throw new StoreError('STORE_SEQ', `event stream ${stream}: batch columns differ in length (${n} bodies, ${cols.times.length} times, ${cols.kinds.length} kinds)`);
  }
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = cols.ends[i]!;
    if (!Number.isSafeInteger(cols.times[i]) || typeof cols.kinds[i] !== 'string' || end < start || end > cols.bytes.length) {
      throw new StoreError('STORE_VALUE', `event stream ${stream}: event ${cols.first + i} needs an integer time, a string kind and a body`);
    }
    start = end;
  }
}

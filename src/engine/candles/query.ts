import type { CandleQuery, Store } from '../store/types.js';
import { aggregateCandles } from './aggregate.js';
import { bucketOpen, intervalLength } from './intervals.js';
import type { Candle } from './types.js';

export interface CandleQueryResult {
  candles: Candle[];
  /** Set when the store had no candles of the interval and they were built from its 1m candles. */
  aggregatedFrom?: '1m';
}

/**
 * Candles from the store: the interval itself when the store has it, else aggregated from
 * its 1m candles (UTC-aligned, exact). `from`/`to` bound open times (ms); `limit` keeps the
 * first candles when `from` is given, else the latest ones.
 */
export async function queryCandles(store: Store, q: CandleQuery): Promise<CandleQueryResult> {
  const direct = await store.candles(q);
  if (direct.length > 0 || q.interval === '1m') return { candles: direct };

  const len = intervalLength(q.interval);
  let from: number | undefined;
  let to: number | undefined;
  if (q.from !== undefined) {
    const b = bucketOpen(q.from, q.interval);
    from = b < q.from ? b + len : b;
  }
  if (q.to !== undefined) to = bucketOpen(q.to, q.interval) + len - 60_000;
  if (from === undefined && q.limit !== undefined) {
    const last = await store.lastCandle(q.symbol, '1m');
    if (!last) return { candles: [] };
    const end = bucketOpen(Math.min(last.openTime, q.to ?? Infinity), q.interval);
    from = end - (q.limit - 1) * len;
    to ??= end + len - 60_000;
  }
  const minutes = await store.candles({ symbol: q.symbol, interval: '1m', ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) });
  if (minutes.length === 0) return { candles: [] };
  let out = aggregateCandles(minutes, q.interval, 'ms').filter(
    (c) => (q.from === undefined || c.openTime >= q.from) && (q.to === undefined || c.openTime <= q.to),
  );
  if (q.limit !== undefined && out.length > q.limit) out = q.from === undefined ? out.slice(-q.limit) : out.slice(0, q.limit);
  return { candles: out, aggregatedFrom: '1m' };
}

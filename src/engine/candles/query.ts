import type { CandleQuery, Store } from '../store/types.js';
import { aggregateCandles } from './aggregate.js';
import { bucketOpen, intervalLength } from './intervals.js';
import type { Candle } from './types.js';

export interface CandleQueryResult {
  candles: Candle[];
  /** Set when the store had no candles of the interval and they were built from its 1m candles. */
  aggregatedFrom?: '1m';
  /**
   * Open times of buckets left out because 1m candles inside them are missing from the store
   * (a feed joined part-way, or an outage): printing them would present a partial sum as Binance's.
   */
  skippedIncomplete: number[];
}

/**
 * Candles from the store: the interval itself when the store has it, else aggregated from
 * its 1m candles (UTC-aligned, exact). `from`/`to` bound open times (ms); `limit` keeps the
 * first candles when `from` is given, else the latest ones.
 */
export async function queryCandles(store: Store, q: CandleQuery): Promise<CandleQueryResult> {
  const direct = await store.candles(q);
  if (direct.length > 0 || q.interval === '1m') return { candles: direct, skippedIncomplete: [] };

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
    if (!last) return { candles: [], skippedIncomplete: [] };
    const end = bucketOpen(Math.min(last.openTime, q.to ?? Infinity), q.interval);
    from = end - (q.limit - 1) * len;
    to ??= end + len - 60_000;
  }
  const minutes = await store.candles({ symbol: q.symbol, interval: '1m', ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) });
  if (minutes.length === 0) return { candles: [], skippedIncomplete: [] };
  // Binance has a kline for every minute, even a quiet one, and so do we: a bucket with fewer
  // 1m candles than minutes has holes, except the last one, which may simply still be running.
  const perBucket = new Map<number, number>();
  for (const m of minutes) {
    const b = bucketOpen(m.openTime, q.interval);
    perBucket.set(b, (perBucket.get(b) ?? 0) + 1);
  }
  const lastMinute = minutes[minutes.length - 1]!.openTime;
  const skippedIncomplete: number[] = [];
  let out = aggregateCandles(minutes, q.interval, 'ms').filter((c) => {
    if ((q.from !== undefined && c.openTime < q.from) || (q.to !== undefined && c.openTime > q.to)) return false;
    const running = c.closeTime > lastMinute + 59_999;
    const expected = running ? Math.floor((lastMinute - c.openTime) / 60_000) + 1 : len / 60_000;
    if ((perBucket.get(c.openTime) ?? 0) < expected) {
      skippedIncomplete.push(c.openTime);
      return false;
    }
    return true;
  });
  if (q.limit !== undefined && out.length > q.limit) out = q.from === undefined ? out.slice(-q.limit) : out.slice(0, q.limit);
  return { candles: out, aggregatedFrom: '1m', skippedIncomplete };
}

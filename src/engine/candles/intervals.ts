import { UsageError } from '../errors.js';
import { closeMatches } from '../market/instruments.js';
import type { TimeUnit } from '../market/types.js';
import { INTERVALS, type Interval } from './types.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/** Interval lengths in milliseconds. */
export const INTERVAL_MS: Readonly<Record<Interval, number>> = {
  '1m': MINUTE,
  '3m': 3 * MINUTE,
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '30m': 30 * MINUTE,
  '1h': HOUR,
  '2h': 2 * HOUR,
  '4h': 4 * HOUR,
  '6h': 6 * HOUR,
  '8h': 8 * HOUR,
  '12h': 12 * HOUR,
  '1d': DAY,
  '1w': WEEK,
};

/**
 * 1970-01-01 was a Thursday; Binance's weeks start on Monday 00:00 UTC, which is four days
 * after the epoch, so weekly buckets are aligned on that offset instead of on zero.
 */
const WEEK_OFFSET_MS = 4 * DAY;

/** Time units per millisecond: 1 for ms, 1000 for µs. */
export function unitFactor(unit: TimeUnit = 'ms'): number {
  return unit === 'us' ? 1000 : 1;
}

/** Times at or above this are microseconds (1e14 µs is 1973; 1e14 ms is year 5138). */
export const MICROS_THRESHOLD = 1e14;

/** The unit a timestamp is in: data.binance.vision spot files from 2025 on use µs. */
export function detectTimeUnit(time: number): TimeUnit {
  return time >= MICROS_THRESHOLD ? 'us' : 'ms';
}

/** Converts a time in `unit` to milliseconds (floor for µs). */
export function toMs(time: number, unit: TimeUnit = 'ms'): number {
  return unit === 'us' ? Math.floor(time / 1000) : time;
}

/** Length of an interval in `unit`. */
export function intervalLength(interval: Interval, unit: TimeUnit = 'ms'): number {
  return INTERVAL_MS[interval] * unitFactor(unit);
}

/** Open time of the UTC-aligned interval containing `time` (both in `unit`). */
export function bucketOpen(time: number, interval: Interval, unit: TimeUnit = 'ms'): number {
  const len = intervalLength(interval, unit);
  if (interval === '1w') {
    const off = WEEK_OFFSET_MS * unitFactor(unit);
    return Math.floor((time - off) / len) * len + off;
  }
  return Math.floor(time / len) * len;
}

/** Close time of the interval opening at `openTime`: open + length − 1 (in `unit`), as Binance's. */
export function bucketClose(openTime: number, interval: Interval, unit: TimeUnit = 'ms'): number {
  return openTime + intervalLength(interval, unit) - 1;
}

export function isInterval(s: string): s is Interval {
  return (INTERVALS as readonly string[]).includes(s);
}

/** Parses a user-given interval ("5m", "1h"); a UsageError lists the valid ones. */
export function parseInterval(s: string): Interval {
  const t = s.trim();
  if (isInterval(t)) return t;
  const lower = t.toLowerCase();
  if (isInterval(lower)) return lower;
  const near = closeMatches(lower, [...INTERVALS], 3);
  throw new UsageError(`unknown interval "${s}"`, {
    hint: `valid intervals: ${INTERVALS.join(', ')}${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}`,
  });
}

/** The unit of a candle from its own span (close − open + 1), for candles whose source unit is not passed along. */
export function candleUnit(c: { interval: Interval; openTime: number; closeTime: number }): TimeUnit {
  return c.closeTime - c.openTime + 1 === INTERVAL_MS[c.interval] ? 'ms' : 'us';
}

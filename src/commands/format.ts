import type { Candle } from '../engine/candles/types.js';
import { formatFixed } from '../engine/fixed.js';

/** Display helpers shared by the commands' human output. */

/** "2024-08-08 23:54": a UTC minute. */
export function utcMinute(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 16);
}

/** The shortest exact UTC time: "2024-08-08 23:54", "2024-08-08 23:54:07" or "2024-08-08 23:54:07.250". */
export function utcTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/:00\.000Z$|\.000Z$|Z$/, '');
}

/** One closed candle as a terminal line. */
export function candleLine(c: Candle): string {
  const ps = c.priceScale;
  return [
    utcMinute(c.openTime),
    c.symbol.padEnd(9),
    `o ${formatFixed(c.open, ps)}`,
    `h ${formatFixed(c.high, ps)}`,
    `l ${formatFixed(c.low, ps)}`,
    `c ${formatFixed(c.close, ps)}`,
    `v ${formatFixed(c.volume, c.qtyScale, 0)}`,
    `n ${c.trades}`,
  ].join('  ');
}

/** A minute known to lack trades (the 'candle.incomplete' topic), for stderr. */
export function incompleteLine(c: Candle): string {
  return `${utcMinute(c.openTime)} ${c.symbol} incomplete (feed joined mid-minute or trades missing): not stored`;
}

/** "512 B", "3.4 KB", "12.0 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Elapsed time as "hh:mm:ss". */
export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/** "12.3 s". */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

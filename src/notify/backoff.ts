export interface BackoffOptions {
  /** First retry after about this long (ms); default 1000. */
  baseMs?: number;
  /** Never wait longer than this (ms); default 300000 (5 min). */
  maxMs?: number;
  random?: () => number;
}

/**
 * Exponential backoff with jitter: attempt n (0-based) waits between half and all of
 * min(max, base · 2^n), so receivers coming back are not hit by every sender at once.
 * A Retry-After the receiver asked for is honoured when longer.
 */
export function backoffMs(attempt: number, opts: BackoffOptions = {}, retryAfterMs?: number): number {
  const base = opts.baseMs ?? 1000;
  const max = opts.maxMs ?? 300_000;
  const cap = Math.min(max, base * 2 ** Math.min(attempt, 30));
  const d = cap / 2 + (opts.random ?? Math.random)() * (cap / 2);
  return Math.round(retryAfterMs !== undefined ? Math.max(d, Math.min(retryAfterMs, max)) : d);
}

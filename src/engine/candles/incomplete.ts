import { bucketOpen, intervalLength } from './intervals.js';

/**
 * Minutes whose trades we know we do not all have: the one a feed joined part-way, and
 * every minute a trade gap touched that REST could not fill. Their candles must not be
 * stored or compared as if they were Binance's.
 */
export class IncompleteMinutes {
  private readonly minutes = new Set<number>();
  private joined = false;

  /** Call with every trade in order; the first one marks the minute the feed joined. */
  onTrade(time: number): void {
    if (this.joined) return;
    this.joined = true;
    this.minutes.add(bucketOpen(time, '1m'));
  }

  /** A gap between trades at `afterTime` and `beforeTime` that was not (fully) filled. */
  onUnfilledGap(afterTime: number, beforeTime: number): void {
    const minute = intervalLength('1m');
    for (let t = bucketOpen(afterTime, '1m'); t <= beforeTime; t += minute) this.minutes.add(t);
  }

  /**
   * True (once) when the minute opening at `openTime` is incomplete. Minutes close in order, so
   * marks for earlier minutes (ones that had closed before their gap was known) are dropped.
   */
  take(openTime: number): boolean {
    const hit = this.minutes.delete(openTime);
    for (const t of this.minutes) if (t < openTime) this.minutes.delete(t);
    return hit;
  }

  /** Minutes marked and not yet taken. */
  get size(): number {
    return this.minutes.size;
  }
}

import { bucketOpen, intervalLength } from './intervals.js';

const MINUTE = intervalLength('1m');

/**
 * Minutes whose trades we know we do not all have: the one a feed joined part-way, and
 * every minute a trade gap touched that REST could not fill. Their candles must not be
 * stored or compared as if they were Binance's.
 *
 * Kept as spans of minutes, not one entry per minute: a follower whose leader was away for
 * weeks gets a gap of tens of thousands of minutes, and the candles closing through it take
 * them one by one; with spans each take is O(1), where a set scanned on every take made the
 * catch-up quadratic (90 days: 20 s with the event loop blocked).
 */
export class IncompleteMinutes {
  /** Disjoint spans [first, last] of minute open times, sorted, none touching another. */
  private spans: Array<[first: number, last: number]> = [];
  private joined = false;

  /** Call with every trade in order; the first one marks the minute the feed joined. */
  onTrade(time: number): void {
    if (this.joined) return;
    this.joined = true;
    const m = bucketOpen(time, '1m');
    this.mark(m, m);
  }

  /** A gap between trades at `afterTime` and `beforeTime` that was not (fully) filled. */
  onUnfilledGap(afterTime: number, beforeTime: number): void {
    const first = bucketOpen(afterTime, '1m');
    const last = bucketOpen(beforeTime, '1m');
    if (last >= first) this.mark(first, last);
  }

  /**
   * True (once) when the minute opening at `openTime` is incomplete. Minutes close in order, so
   * marks for earlier minutes (ones that had closed before their gap was known) are dropped.
   */
  take(openTime: number): boolean {
    const spans = this.spans;
    let drop = 0;
    while (drop < spans.length && spans[drop]![1] < openTime) drop++;
    if (drop > 0) spans.splice(0, drop);
    const s = spans[0];
    if (!s || s[0] > openTime) return false;
    // s[0] <= openTime <= s[1]: this minute is taken, and any before it in the span dropped.
    if (openTime + MINUTE > s[1]) spans.shift();
    else s[0] = openTime + MINUTE;
    return true;
  }

  /** Minutes marked and not yet taken. */
  get size(): number {
    let n = 0;
    for (const [first, last] of this.spans) n += (last - first) / MINUTE + 1;
    return n;
  }

  /** Adds [first, last], merging it with the spans it overlaps or touches. */
  private mark(first: number, last: number): void {
    const spans = this.spans;
    // Gaps arrive in time order, so this is nearly always the end.
    let i = spans.length;
    while (i > 0 && spans[i - 1]![0] > first) i--;
    let lo = first;
    let hi = last;
    let from = i;
    if (i > 0 && spans[i - 1]![1] + MINUTE >= first) {
      from = i - 1;
      lo = spans[from]![0];
      hi = Math.max(hi, spans[from]![1]);
    }
    let to = i;
    while (to < spans.length && spans[to]![0] <= hi + MINUTE) {
      hi = Math.max(hi, spans[to]![1]);
      to++;
    }
    spans.splice(from, to - from, [lo, hi]);
  }
}

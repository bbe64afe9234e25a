import { LocalOrderBook } from '../orderbook.js';
import type { DepthDiff, DepthSnapshot } from '../source.js';

/**
 * Order-book snapshots for followers. A follower cannot fetch Binance's REST depth, and the last
 * REST snapshot the leader took is soon older than any diff still on the stream, so a follower
 * could never sync from it. Instead the leader mirrors its book and puts a checkpoint of the whole
 * book on the stream every so many diffs; a follower keeps the newest checkpoint and the diffs
 * after it, and rolls them forward into a snapshot exactly at the last diff it has delivered.
 */

/** The whole book as a snapshot at its update id. */
export function snapshotOf(book: LocalOrderBook): DepthSnapshot {
  return { symbol: book.symbol, lastUpdateId: book.lastUpdateId, bids: book.levels('bid', Infinity), asks: book.levels('ask', Infinity) };
}

/**
 * `base` with `diffs` applied by Binance's rules (stale ones skipped, the first applied one
 * straddling), or undefined when the diffs leave a gap after it.
 */
export function rollForward(base: DepthSnapshot, diffs: readonly DepthDiff[]): DepthSnapshot | undefined {
  const book = new LocalOrderBook(base.symbol);
  book.applySnapshot(base);
  for (const d of diffs) if (book.applyDiff(d) === 'gap') return undefined;
  return snapshotOf(book);
}

/**
 * Leader side: mirrors each symbol's book from the snapshots and diffs the kernel acts on (the
 * same sequence, so the same book) and hands back a checkpoint every `every` applied diffs.
 */
export class BookCheckpointer {
  private readonly books = new Map<string, { book: LocalOrderBook; since: number }>();

  constructor(private readonly every: number) {}

  /** Loads a snapshot the kernel was given; false when it ignored it too (not newer than its synced book). */
  onSnapshot(s: DepthSnapshot): boolean {
    let e = this.books.get(s.symbol);
    if (!e) this.books.set(s.symbol, (e = { book: new LocalOrderBook(s.symbol), since: 0 }));
    if (e.book.status === 'synced' && s.lastUpdateId <= e.book.lastUpdateId) return false;
    e.book.applySnapshot(s);
    e.since = 0;
    return true;
  }

  /** Applies a diff; returns a checkpoint when one is due. */
  onDiff(d: DepthDiff): DepthSnapshot | undefined {
    let e = this.books.get(d.symbol);
    if (!e) this.books.set(d.symbol, (e = { book: new LocalOrderBook(d.symbol), since: 0 }));
    if (e.book.applyDiff(d) !== 'applied' || ++e.since < this.every) return undefined;
    e.since = 0;
    return snapshotOf(e.book);
  }
}

/**
 * Follower side, one symbol: the newest usable checkpoint read from the stream and the diffs
 * after it (or, without one, the most recent diffs), at most `maxDiffs`.
 */
export class HeldDepth {
  private base: DepthSnapshot | undefined;
  private diffs: DepthDiff[] = [];

  constructor(private readonly maxDiffs: number) {}

  /**
   * A snapshot read from the stream: the leader's checkpoints, and the REST snapshots its kernel
   * got, which may be older than diffs already on the stream (it then applied those after it, or
   * ignored the snapshot). An older one is kept only when the held diffs continue it.
   */
  onSnapshot(s: DepthSnapshot): void {
    const newest = this.diffs.length > 0 ? this.diffs[this.diffs.length - 1]!.lastUpdateId : (this.base?.lastUpdateId ?? -1);
    if (s.lastUpdateId >= newest) {
      this.base = s;
      this.diffs = [];
      return;
    }
    const after = this.diffs.filter((d) => d.lastUpdateId > s.lastUpdateId);
    if (rollForward(s, after)) {
      this.base = s;
      this.diffs = after;
    }
  }

  onDiff(d: DepthDiff): void {
    this.diffs.push(d);
    if (this.diffs.length > this.maxDiffs) {
      // Too long without a checkpoint to roll forward from: keep only recent diffs.
      this.base = undefined;
      this.diffs.splice(0, this.diffs.length - this.maxDiffs);
    }
  }

  /** A snapshot at the newest held diff, from the held checkpoint or `fallback` (e.g. the depth key). */
  snapshot(fallback?: DepthSnapshot): DepthSnapshot | undefined {
    const base = this.base ?? fallback;
    return base ? rollForward(base, this.diffs) : undefined;
  }

  get hasCheckpoint(): boolean {
    return this.base !== undefined;
  }
}

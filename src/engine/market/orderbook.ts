import type { DepthDiff, DepthSnapshot } from './source.js';
import type { BookLevel, BookTop } from './types.js';

/**
 * A local order book kept in sync with Binance's diff-depth stream, following Binance's
 * documented procedure ("How to manage a local order book correctly"):
 *  - buffer diffs until a REST snapshot arrives;
 *  - drop diffs with u <= the book's update id (stale);
 *  - the first diff applied after the snapshot must straddle it: U <= lastUpdateId + 1 <= u;
 *  - from then on a diff whose U > the book's update id + 1 means events were lost: the book
 *    is discarded and a new snapshot is needed (on a healthy stream U = previous u + 1);
 *  - quantities are absolute, 0 removes the level (removing an absent level is normal).
 * Prices and quantities are raws at the symbol's scales.
 */

export type BookStatus = 'awaiting-snapshot' | 'synced' | 'out-of-sync';

/** What happened to one diff. */
export type DiffOutcome = 'buffered' | 'applied' | 'stale' | 'gap';

export type BookSideName = 'bid' | 'ask';

/**
 * One side of the book as parallel sorted arrays, ordered so the best level is the LAST
 * element: bids ascending, asks descending. Most updates land near the top of the book,
 * so inserts and deletes there move few elements.
 */
class BookSide {
  readonly prices: number[] = [];
  readonly qtys: number[] = [];

  constructor(private readonly bids: boolean) {}

  /** Index of `price`, or -(insertion point) - 1. */
  private find(price: number): number {
    const p = this.prices;
    let lo = 0;
    let hi = p.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = p[mid]!;
      if (v === price) return mid;
      if (this.bids ? v < price : v > price) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  set(price: number, qty: number): void {
    const i = this.find(price);
    if (i >= 0) {
      if (qty === 0) {
        this.prices.splice(i, 1);
        this.qtys.splice(i, 1);
      } else {
        this.qtys[i] = qty;
      }
    } else if (qty !== 0) {
      const at = -i - 1;
      if (at === this.prices.length) {
        this.prices.push(price);
        this.qtys.push(qty);
      } else {
        this.prices.splice(at, 0, price);
        this.qtys.splice(at, 0, qty);
      }
    }
  }

  /** Replaces the side with `levels` (any order; zero quantities skipped). */
  load(levels: readonly BookLevel[]): void {
    const sorted = levels.filter((l) => l.qty !== 0).sort((a, b) => (this.bids ? a.price - b.price : b.price - a.price));
    this.prices.length = 0;
    this.qtys.length = 0;
    for (const l of sorted) {
      if (this.prices.length > 0 && this.prices[this.prices.length - 1] === l.price) {
        this.qtys[this.qtys.length - 1] = l.qty;
      } else {
        this.prices.push(l.price);
        this.qtys.push(l.qty);
      }
    }
  }

  clear(): void {
    this.prices.length = 0;
    this.qtys.length = 0;
  }

  get size(): number {
    return this.prices.length;
  }

  best(): BookLevel | undefined {
    const n = this.prices.length;
    return n === 0 ? undefined : { price: this.prices[n - 1]!, qty: this.qtys[n - 1]! };
  }

  /** The best `n` levels, best first. */
  top(n: number): BookLevel[] {
    const out: BookLevel[] = [];
    for (let i = this.prices.length - 1; i >= 0 && out.length < n; i--) out.push({ price: this.prices[i]!, qty: this.qtys[i]! });
    return out;
  }

  qtyAt(price: number): number {
    const i = this.find(price);
    return i >= 0 ? this.qtys[i]! : 0;
  }
}

export interface LocalOrderBookOptions {
  /** Diffs kept while waiting for a snapshot; the oldest are dropped beyond this. */
  maxBuffer?: number;
}

export class LocalOrderBook {
  readonly symbol: string;
  private readonly bidSide = new BookSide(true);
  private readonly askSide = new BookSide(false);
  private buffer: DepthDiff[] = [];
  private readonly maxBuffer: number;
  private state: BookStatus = 'awaiting-snapshot';
  private updateId = 0;
  private gapInfo: { expected: number; got: number } | undefined;

  constructor(symbol: string, opts: LocalOrderBookOptions = {}) {
    this.symbol = symbol.toUpperCase();
    this.maxBuffer = opts.maxBuffer ?? 1000;
  }

  get status(): BookStatus {
    return this.state;
  }

  /** True until a snapshot has been applied, and again after a gap. */
  get needsSnapshot(): boolean {
    return this.state !== 'synced';
  }

  /** The update id the book reflects (the last applied diff's u, or the snapshot's lastUpdateId). */
  get lastUpdateId(): number {
    return this.updateId;
  }

  /** Diffs waiting for a snapshot. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** The last gap: the first update id expected and the U that arrived instead. */
  get lastGap(): { expected: number; got: number } | undefined {
    return this.gapInfo;
  }

  /** Discards the book and the buffer, back to waiting for a snapshot. */
  reset(): void {
    this.bidSide.clear();
    this.askSide.clear();
    this.buffer = [];
    this.updateId = 0;
    this.state = 'awaiting-snapshot';
  }

  /** Feeds one diff-depth event, in stream order. */
  applyDiff(diff: DepthDiff): DiffOutcome {
    if (this.state !== 'synced') {
      this.buffer.push(diff);
      if (this.buffer.length > this.maxBuffer) this.buffer.shift();
      return 'buffered';
    }
    if (diff.lastUpdateId <= this.updateId) return 'stale';
    if (diff.firstUpdateId > this.updateId + 1) {
      this.outOfSync(this.updateId + 1, diff.firstUpdateId);
      this.buffer.push(diff);
      return 'gap';
    }
    this.apply(diff);
    return 'applied';
  }

  /**
   * Loads a REST snapshot and applies the buffered diffs that follow it. Returns the new
   * status: 'out-of-sync' when the snapshot is older than the buffered diffs (fetch another;
   * the diffs stay buffered) or a buffered diff shows a gap.
   */
  applySnapshot(snapshot: DepthSnapshot): BookStatus {
    this.bidSide.load(snapshot.bids);
    this.askSide.load(snapshot.asks);
    this.updateId = snapshot.lastUpdateId;
    this.state = 'synced';
    const pending = this.buffer;
    this.buffer = [];
    for (let i = 0; i < pending.length; i++) {
      const d = pending[i]!;
      if (d.lastUpdateId <= this.updateId) continue;
      if (d.firstUpdateId > this.updateId + 1) {
        this.outOfSync(this.updateId + 1, d.firstUpdateId);
        this.buffer = pending.slice(i);
        return this.state;
      }
      this.apply(d);
    }
    return this.state;
  }

  private apply(d: DepthDiff): void {
    for (const l of d.bids) this.bidSide.set(l.price, l.qty);
    for (const l of d.asks) this.askSide.set(l.price, l.qty);
    this.updateId = d.lastUpdateId;
  }

  private outOfSync(expected: number, got: number): void {
    this.bidSide.clear();
    this.askSide.clear();
    this.state = 'out-of-sync';
    this.gapInfo = { expected, got };
  }

  /** Best bid and ask, or undefined while not synced or when a side is empty. */
  top(): BookTop | undefined {
    if (this.state !== 'synced') return undefined;
    const bid = this.bidSide.best();
    const ask = this.askSide.best();
    if (!bid || !ask) return undefined;
    return { symbol: this.symbol, updateId: this.updateId, bid, ask };
  }

  /** The best `n` levels of one side, best first ([] while not synced). */
  levels(side: BookSideName, n: number): BookLevel[] {
    if (this.state !== 'synced') return [];
    return (side === 'bid' ? this.bidSide : this.askSide).top(n);
  }

  /** Quantity resting at `price` on `side` (0 when none). */
  qtyAt(side: BookSideName, price: number): number {
    return (side === 'bid' ? this.bidSide : this.askSide).qtyAt(price);
  }

  /** Number of levels per side. */
  get size(): { bids: number; asks: number } {
    return { bids: this.bidSide.size, asks: this.askSide.size };
  }

  /** Best ask − best bid as a price raw, or undefined without a top. */
  get spread(): number | undefined {
    const t = this.top();
    return t ? t.ask.price - t.bid.price : undefined;
  }
}

export interface OrderBookSyncOptions {
  symbol: string;
  /**
   * Asks for a snapshot (e.g. MarketVenue.requestDepthSnapshot); it must come back later
   * through onSnapshot. Called once per need, not per diff.
   */
  request: () => void;
  /** After every applied diff or snapshot while synced. */
  onUpdate?: (book: LocalOrderBook) => void;
  /** Status changes (synced, out-of-sync with the gap or a snapshot too old for the buffer). */
  onStatus?: (status: BookStatus, book: LocalOrderBook) => void;
  maxBuffer?: number;
  /**
   * Diffs to wait for a requested snapshot before asking again (a live fetch can fail, and
   * the venue then sends nothing). Counted in stream events, not wall time, so replays stay
   * deterministic. Default 100 (about 10 s of @100ms diffs).
   */
  rerequestAfter?: number;
}

/**
 * Keeps one symbol's LocalOrderBook synced in a push model: feed it every diff and every
 * snapshot the venue delivers, in stream order. When the book needs a snapshot (at start,
 * after a gap, or when a snapshot was too old for the buffered diffs) it calls `request`
 * once; the snapshot arrives later through onSnapshot. No timers: the same code runs
 * live and in a replay, where snapshots come from the recording in order with the diffs.
 */
export class OrderBookSync {
  readonly book: LocalOrderBook;
  private requested = false;
  private diffsSinceRequest = 0;
  private readonly rerequestAfter: number;
  /** Snapshot requests and snapshots received so far (for metrics and tests). */
  requests = 0;
  snapshots = 0;

  constructor(private readonly opts: OrderBookSyncOptions) {
    this.book = new LocalOrderBook(opts.symbol, { maxBuffer: opts.maxBuffer });
    this.rerequestAfter = opts.rerequestAfter ?? 100;
  }

  /** True while a requested snapshot has not arrived yet. */
  get awaitingSnapshot(): boolean {
    return this.requested;
  }

  /** Feeds one diff-depth event in stream order. */
  onDiff(diff: DepthDiff): DiffOutcome {
    const before = this.book.status;
    const outcome = this.book.applyDiff(diff);
    if (outcome === 'applied') this.opts.onUpdate?.(this.book);
    if (this.book.status !== before) this.opts.onStatus?.(this.book.status, this.book);
    if (this.book.needsSnapshot) {
      if (this.requested && ++this.diffsSinceRequest >= this.rerequestAfter) this.requested = false;
      if (!this.requested) this.request();
    }
    return outcome;
  }

  /**
   * Feeds a snapshot delivered by the venue, in stream order, and returns the book's status.
   * A snapshot too old for the buffered diffs leaves the book out of sync and asks again.
   * One that is not newer than a synced book is ignored: a replay carries every snapshot
   * the recorder fetched, and an old one would rewind the book.
   */
  onSnapshot(snapshot: DepthSnapshot): BookStatus {
    this.snapshots++;
    this.requested = false;
    if (this.book.status === 'synced' && snapshot.lastUpdateId <= this.book.lastUpdateId) return 'synced';
    const status = this.book.applySnapshot(snapshot);
    this.opts.onStatus?.(status, this.book);
    if (status === 'synced') this.opts.onUpdate?.(this.book);
    else this.request();
    return status;
  }

  private request(): void {
    this.requested = true;
    this.diffsSinceRequest = 0;
    this.requests++;
    this.opts.request();
  }
}

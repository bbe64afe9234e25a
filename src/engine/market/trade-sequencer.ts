import type { Trade } from './types.js';

/** What the sequencer reports about one symbol's trade stream. */
export interface SequencerStats {
  emitted: number;
  duplicates: number;
  gaps: number;
  /** Trades recovered from REST to fill gaps. */
  filled: number;
  /** Trade ids that could not be recovered (REST had none, or the source cannot fill). */
  missing: number;
}

export interface SequencerOptions {
  symbol: string;
  /** Fetches trades with id ≥ fromId, oldest first (REST aggTrades?fromId=). Omit when the source cannot fill gaps. */
  fetchFrom?: (fromId: number, limit: number) => Promise<Trade[]>;
  emit: (trade: Trade) => void;
  /** A time mark queued behind the trades before it (e.g. an exchange kline closing a minute). */
  mark?: (time: number) => void;
  onGap?: (gap: TradeGap) => void;
  /** A gap fetch that failed, or emit/mark throwing for a trade held back or fetched during a fill (the stream goes on). */
  onError?: (err: unknown) => void;
  pageSize?: number;
}

/** A jump in trade ids: `fromId..toId` were missing; `filled` of them came from REST. */
export interface TradeGap {
  symbol: string;
  fromId: number;
  toId: number;
  filled: number;
  /** Time of the last trade before the gap and of the first one after it: the span the hole lies in. */
  afterTime: number;
  beforeTime: number;
}

type Item = { trade: Trade } | { mark: number };

/**
 * Turns a trade stream with drops, duplicates and reconnects into a gap-free, duplicate-free
 * sequence ordered by trade id. Binance's ids are contiguous per symbol, so a jump is a gap:
 * later trades wait while the missing range is fetched from REST, then flow on in order.
 */
export class TradeSequencer {
  readonly stats: SequencerStats = { emitted: 0, duplicates: 0, gaps: 0, filled: 0, missing: 0 };
  private lastId = -1;
  private lastTime = 0;
  private filling = false;
  private queue: Item[] = [];
  private readonly pageSize: number;
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly opts: SequencerOptions) {
    this.pageSize = opts.pageSize ?? 1000;
  }

  /** The last id emitted, −1 before the first trade. */
  get last(): number {
    return this.lastId;
  }

  /** Resolves when no gap fill is in progress. */
  async settled(): Promise<void> {
    while (this.filling) await this.idle;
  }

  push(trade: Trade): void {
    if (this.filling) {
      this.queue.push({ trade });
      return;
    }
    this.accept(trade);
  }

  /** Passes a time mark through in order with the trades (held back while a gap is being filled). */
  mark(time: number): void {
    if (this.filling) this.queue.push({ mark: time });
    else this.opts.mark?.(time);
  }

  private accept(trade: Trade): void {
    const id = trade.id;
    if (this.lastId >= 0) {
      if (id <= this.lastId) {
        this.stats.duplicates++;
        return;
      }
      if (id !== this.lastId + 1) {
        this.startFill(this.lastId + 1, id - 1, trade);
        return;
      }
    }
    this.lastId = id;
    this.lastTime = trade.time;
    this.stats.emitted++;
    this.opts.emit(trade);
  }

  private startFill(fromId: number, toId: number, waiting: Trade): void {
    this.stats.gaps++;
    this.filling = true;
    this.queue.unshift({ trade: waiting });
    this.idle = this.fill(fromId, toId, this.lastTime, waiting.time).then(
      () => this.drain(),
      (err: unknown) => {
        this.opts.onError?.(err);
        this.drain();
      },
    );
  }

  private async fill(fromId: number, toId: number, afterTime: number, beforeTime: number): Promise<void> {
    let next = fromId;
    let filled = 0;
    try {
      if (!this.opts.fetchFrom) return;
      while (next <= toId) {
        const page = await this.opts.fetchFrom(next, Math.min(this.pageSize, toId - next + 1));
        let progressed = false;
        for (const t of page) {
          if (t.id < next) continue;
          // A hole inside REST's answer: what it cannot give is reported missing below.
          if (t.id !== next || t.id > toId) break;
          this.lastId = t.id;
          this.lastTime = t.time;
          this.stats.emitted++;
          this.stats.filled++;
          filled++;
          next++;
          progressed = true;
          this.emitHeld(t);
        }
        if (!progressed) break;
      }
    } finally {
      this.stats.missing += toId - next + 1;
      // Continue after the hole so the stream does not stall on ids nobody can provide.
      this.lastId = toId;
      this.opts.onGap?.({ symbol: this.opts.symbol, fromId, toId, filled, afterTime, beforeTime });
    }
  }

  private drain(): void {
    this.filling = false;
    while (this.queue.length > 0 && !this.filling) {
      const item = this.queue.shift()!;
      // A consumer failing on one held item must not strand the items behind it in the queue.
      try {
        if ('trade' in item) this.accept(item.trade);
        else this.opts.mark?.(item.mark);
      } catch (err) {
        this.opts.onError?.(err);
      }
    }
    if (this.filling) return;
    this.idle = Promise.resolve();
  }

  /** Emits a fetched trade; a consumer error is reported, not taken for a failed fetch. */
  private emitHeld(t: Trade): void {
    try {
      this.opts.emit(t);
    } catch (err) {
      this.opts.onError?.(err);
    }
  }
}

import type { TimeUnit } from '../market/types.js';
import { bucketOpen, candleUnit, intervalLength } from './intervals.js';
import type { Candle, Interval } from './types.js';

export interface AggregatorOptions {
  /** Target interval (3m … 1w); children must be of a shorter interval that divides it. */
  interval: Interval;
  onClosed: (c: Candle) => void;
  /** Unit of the children's times; taken from the first child's span when not given. */
  unit?: TimeUnit;
}

/**
 * Streams closed 1m (or other shorter) candles into UTC-aligned higher intervals, exactly.
 * A bucket is emitted as soon as its last child arrives, or when a child of a later bucket
 * does. OHLC comes from the children that had trades, so a bucket whose first minutes were
 * quiet opens at its first trade, as a kline built from the trades themselves would.
 */
export class CandleAggregator {
  private readonly interval: Interval;
  private readonly onClosed: (c: Candle) => void;
  private unit: TimeUnit | undefined;
  private len = 0;
  private cur: Candle | undefined;
  private curHas = false;
  private allClosed = true;
  private lateCount = 0;

  constructor(opts: AggregatorOptions) {
    this.interval = opts.interval;
    this.onClosed = opts.onClosed;
    this.unit = opts.unit;
    if (this.unit) this.len = intervalLength(this.interval, this.unit);
  }

  /** Children ignored because their bucket was already emitted. */
  get late(): number {
    return this.lateCount;
  }

  add(child: Candle): void {
    if (this.unit === undefined) {
      this.unit = candleUnit(child);
      this.len = intervalLength(this.interval, this.unit);
    }
    const open = bucketOpen(child.openTime, this.interval, this.unit);
    let cur = this.cur;
    if (cur !== undefined && open !== cur.openTime) {
      if (open < cur.openTime) {
        this.lateCount++;
        return;
      }
      this.emit(this.allClosed);
      cur = undefined;
    } else if (cur === undefined && this.lastEmittedOpen !== undefined && open <= this.lastEmittedOpen) {
      this.lateCount++;
      return;
    }
    const has = child.trades > 0 || child.firstTradeId !== -1;
    if (cur === undefined) {
      if (child.interval === this.interval) {
        this.lastEmittedOpen = open;
        this.onClosed({ ...child });
        return;
      }
      cur = {
        symbol: child.symbol,
        interval: this.interval,
        priceScale: child.priceScale,
        qtyScale: child.qtyScale,
        openTime: open,
        closeTime: open + this.len - 1,
        open: child.open,
        high: child.high,
        low: child.low,
        close: child.close,
        volume: child.volume,
        quoteVolume: child.quoteVolume,
        trades: child.trades,
        takerBuyVolume: child.takerBuyVolume,
        takerBuyQuoteVolume: child.takerBuyQuoteVolume,
        firstTradeId: child.firstTradeId,
        lastTradeId: child.lastTradeId,
        closed: false,
      };
      this.cur = cur;
      this.curHas = has;
      this.allClosed = child.closed;
    } else {
      if (child.priceScale !== cur.priceScale || child.qtyScale !== cur.qtyScale || child.symbol !== cur.symbol) {
        throw new RangeError(
          `cannot aggregate ${child.symbol} (scales ${child.priceScale}/${child.qtyScale}) into ${cur.symbol} (${cur.priceScale}/${cur.qtyScale})`,
        );
      }
      if (has) {
        if (!this.curHas) {
          cur.open = child.open;
          cur.high = child.high;
          cur.low = child.low;
          cur.firstTradeId = child.firstTradeId;
          this.curHas = true;
        } else {
          if (child.high > cur.high) cur.high = child.high;
          if (child.low < cur.low) cur.low = child.low;
        }
        if (child.lastTradeId !== -1) cur.lastTradeId = child.lastTradeId;
        if (cur.firstTradeId === -1) cur.firstTradeId = child.firstTradeId;
      }
      cur.close = child.close;
      cur.volume += child.volume;
      cur.quoteVolume += child.quoteVolume;
      cur.trades += child.trades;
      cur.takerBuyVolume += child.takerBuyVolume;
      cur.takerBuyQuoteVolume += child.takerBuyQuoteVolume;
      if (!child.closed) this.allClosed = false;
    }
    if (child.closeTime === cur.closeTime) this.emit(this.allClosed);
  }

  /** End of data: emits the open bucket; it is marked closed only if its last child arrived. */
  flush(): void {
    if (this.cur !== undefined) this.emit(false);
  }

  /** The bucket being built, if any (closed: false). */
  current(): Candle | undefined {
    return this.cur === undefined ? undefined : { ...this.cur };
  }

  private lastEmittedOpen: number | undefined;

  private emit(closed: boolean): void {
    const c = this.cur!;
    this.cur = undefined;
    this.lastEmittedOpen = c.openTime;
    c.closed = closed;
    this.onClosed(c);
  }
}

/** Aggregates candles (oldest first) into `interval` buckets; the last bucket may be partial (closed: false). */
export function aggregateCandles(candles: readonly Candle[], interval: Interval, unit?: TimeUnit): Candle[] {
  const out: Candle[] = [];
  const agg = new CandleAggregator({ interval, onClosed: (c) => out.push(c), ...(unit ? { unit } : {}) });
  for (const c of candles) agg.add(c);
  agg.flush();
  return out;
}

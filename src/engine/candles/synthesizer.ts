import type { Instrument, TimeUnit, Trade } from '../market/types.js';
import { INTERVAL_MS, unitFactor } from './intervals.js';
import type { Candle, Interval } from './types.js';

const MAX = Number.MAX_SAFE_INTEGER;
const TWO32 = 2 ** 32;
/**
 * The fast path adds while a total's low part stays at or under LIMIT. After a carry the low
 * parts are below 2^32, and a taker-buy low part only grows by what its total grows by, so
 * staying 2^33 under 2^53 keeps every low part exact without checking them separately.
 */
const LIMIT = MAX - 2 * TWO32;
/** A high part may take at most 2^21 per carry; past this it moves into the bigint. */
const HI_LIMIT = MAX - 2 ** 22;

export interface SynthesizerOptions {
  instrument: Instrument;
  /** Candle interval; 1m unless the caller synthesizes a higher interval directly. */
  interval?: Interval;
  /** Unit of the trades' times, and so of the candles' (default ms). */
  unit?: TimeUnit;
  /** How long after a minute ends `advanceTo` still waits for its trades, in ms (default 0). */
  graceMs?: number;
  onClosed: (c: Candle) => void;
  /** The open candle after every trade; callers throttle. Partial objects are only built when this is set. */
  onPartial?: (c: Candle) => void;
}

/**
 * Builds klines from (aggregated) trades exactly as Binance does: OHLC by trade time,
 * exact volumes, raw-trade counts, taker-buy sums, and a candle for every interval once
 * trading has started, with or without trades.
 *
 * The hot paths (`add`, and `addMany` for batches) only touch numbers: prices, ids and counts
 * are plain numbers and volumes exact split sums (see the fields); the bigint Candle object is
 * built once per interval, at close.
 */
export class CandleSynthesizer {
  private readonly symbol: string;
  private readonly interval: Interval;
  private readonly priceScale: number;
  private readonly qtyScale: number;
  private readonly len: number;
  private readonly offset: number;
  private readonly grace: number;
  private readonly onClosed: (c: Candle) => void;
  private readonly onPartial: ((c: Candle) => void) | undefined;

  private started = false;
  private openTime = 0;
  /** openTime + len: the first time that belongs to the next interval. */
  private endTime = 0;
  private has = false;
  private o = 0;
  private h = 0;
  private l = 0;
  private c = 0;
  private prevClose = 0;
  private count = 0;
  private firstId = -1;
  private lastId = -1;
  // Exact sums, each as big + hi × 2^32 + lo: lo takes every trade (the hot path, plain number
  // adds), hi takes carries out of lo, big takes what hi cannot hold or products past 2^53. It is
  // SafeSum's idea with a number-only middle step, because at wire scales a busy minute's quote
  // volume passes 2^53 every few hundred trades and bigint work there costs more than the rest.
  // Prices and quantities are positive, so sums only grow.
  private vol = 0;
  private quote = 0;
  private buyVol = 0;
  private buyQuote = 0;
  private volHi = 0;
  private quoteHi = 0;
  private buyVolHi = 0;
  private buyQuoteHi = 0;
  private volBig = 0n;
  private quoteBig = 0n;
  private buyVolBig = 0n;
  private buyQuoteBig = 0n;
  private lateCount = 0;

  constructor(opts: SynthesizerOptions) {
    this.symbol = opts.instrument.symbol;
    this.priceScale = opts.instrument.priceScale;
    this.qtyScale = opts.instrument.qtyScale;
    this.interval = opts.interval ?? '1m';
    const f = unitFactor(opts.unit ?? 'ms');
    this.len = INTERVAL_MS[this.interval] * f;
    // Weeks start on Monday; the epoch was a Thursday.
    this.offset = this.interval === '1w' ? 4 * 86_400_000 * f : 0;
    this.grace = (opts.graceMs ?? 0) * f;
    this.onClosed = opts.onClosed;
    this.onPartial = opts.onPartial;
  }

  /** Trades ignored because their interval had already closed. */
  get late(): number {
    return this.lateCount;
  }

  /** Adds one trade; trades must come in id order (as Binance sends them). */
  add(t: Trade): void {
    const time = t.time;
    if ((time >= this.endTime || time < this.openTime) && !this.enter(time)) return;
    const p = t.price;
    const q = t.qty;
    const first = t.firstId;
    const last = t.lastId;
    if (this.has) {
      if (p > this.h) this.h = p;
      else if (p < this.l) this.l = p;
    } else {
      this.has = true;
      this.o = p;
      this.h = p;
      this.l = p;
      this.firstId = first;
    }
    this.c = p;
    this.count += last - first + 1;
    this.lastId = last;
    const pq = p * q;
    const v = this.vol + q;
    const x = this.quote + pq;
    // Taker-buy parts never exceed the totals (they spill together), so one check covers all four.
    if (v + x <= LIMIT) {
      this.vol = v;
      this.quote = x;
      if (!t.buyerMaker) {
        this.buyVol += q;
        this.buyQuote += pq;
      }
    } else this.spill(p, q, !t.buyerMaker);
    if (this.onPartial !== undefined) this.onPartial(this.build(false));
  }

  /**
   * Adds trades[start..end) in order: the same as calling add() on each, faster for batches
   * (file chunks, REST gap fills).
   */
  addMany(trades: readonly Trade[], start = 0, end = trades.length): void {
    let i = start;
    if (this.onPartial !== undefined) {
      for (; i < end; i++) this.add(trades[i]!);
      return;
    }
    while (i < end) {
      this.add(trades[i]!);
      i = this.run(trades, i + 1, end);
    }
  }

  /**
   * The batch hot loop: adds trades from `i` while they fall in the open interval and the low
   * parts of the sums stay safe, with the state in locals; returns the index of the first trade
   * it left to add(). It calls nothing, so the JIT keeps the whole loop in registers.
   */
  private run(trades: readonly Trade[], i: number, end: number): number {
    if (!this.has) return i;
    const openTime = this.openTime;
    const endTime = this.endTime;
    let h = this.h;
    let l = this.l;
    let c = this.c;
    let count = this.count;
    let lastId = this.lastId;
    let vol = this.vol;
    let quote = this.quote;
    let buyVol = this.buyVol;
    let buyQuote = this.buyQuote;
    for (; i < end; i++) {
      const t = trades[i]!;
      const time = t.time;
      if (time >= endTime || time < openTime) break;
      const p = t.price;
      const q = t.qty;
      const pq = p * q;
      const v = vol + q;
      const x = quote + pq;
      if (v + x > LIMIT) break;
      vol = v;
      quote = x;
      if (!t.buyerMaker) {
        buyVol += q;
        buyQuote += pq;
      }
      if (p > h) h = p;
      else if (p < l) l = p;
      c = p;
      const last = t.lastId;
      count += last - t.firstId + 1;
      lastId = last;
    }
    this.h = h;
    this.l = l;
    this.c = c;
    this.count = count;
    this.lastId = lastId;
    this.vol = vol;
    this.quote = quote;
    this.buyVol = buyVol;
    this.buyQuote = buyQuote;
    return i;
  }

  /**
   * Closes every interval that ended before `time` − grace (in the trade time unit), including
   * intervals without trades. Called when the exchange's closed kline or a clock passes a minute.
   */
  advanceTo(time: number): void {
    if (!this.started) return;
    const limit = time - this.grace;
    while (this.endTime <= limit) this.closeCurrent();
  }

  /** End of data: closes the open interval if it has trades. */
  flush(): void {
    if (this.started && this.has) this.closeCurrent();
  }

  /** The open interval's candle so far (closed: false), or undefined before the first trade. */
  current(): Candle | undefined {
    return this.started ? this.build(false) : undefined;
  }

  /** Carries the low parts into the high ones, then adds the trade; bigints only for extreme values. */
  private spill(p: number, q: number, buy: boolean): void {
    let c = Math.floor(this.vol / TWO32);
    this.volHi += c;
    this.vol -= c * TWO32;
    c = Math.floor(this.quote / TWO32);
    this.quoteHi += c;
    this.quote -= c * TWO32;
    c = Math.floor(this.buyVol / TWO32);
    this.buyVolHi += c;
    this.buyVol -= c * TWO32;
    c = Math.floor(this.buyQuote / TWO32);
    this.buyQuoteHi += c;
    this.buyQuote -= c * TWO32;
    if (this.volHi > HI_LIMIT || this.quoteHi > HI_LIMIT) {
      this.volBig += BigInt(this.volHi) * BigInt(TWO32);
      this.quoteBig += BigInt(this.quoteHi) * BigInt(TWO32);
      this.buyVolBig += BigInt(this.buyVolHi) * BigInt(TWO32);
      this.buyQuoteBig += BigInt(this.buyQuoteHi) * BigInt(TWO32);
      this.volHi = 0;
      this.quoteHi = 0;
      this.buyVolHi = 0;
      this.buyQuoteHi = 0;
    }
    const pq = p * q;
    if (q <= LIMIT) {
      this.vol += q;
      if (buy) this.buyVol += q;
    } else {
      this.volBig += BigInt(q);
      if (buy) this.buyVolBig += BigInt(q);
    }
    if (pq <= LIMIT) {
      this.quote += pq;
      if (buy) this.buyQuote += pq;
    } else {
      const exact = BigInt(p) * BigInt(q);
      this.quoteBig += exact;
      if (buy) this.buyQuoteBig += exact;
    }
  }

  /**
   * A trade outside the open interval: starts the first interval, or closes the open one (and
   * any empty ones after it) for a later trade. False for a trade of an already closed interval.
   */
  private enter(time: number): boolean {
    if (!this.started) {
      const open = Math.floor((time - this.offset) / this.len) * this.len + this.offset;
      this.started = true;
      this.openTime = open;
      this.endTime = open + this.len;
      return true;
    }
    if (time < this.openTime) {
      this.lateCount++;
      return false;
    }
    // Intervals between the last trade and this one still get candles (OHLC = previous close).
    while (this.endTime <= time) this.closeCurrent();
    return true;
  }

  private closeCurrent(): void {
    const candle = this.build(true);
    if (this.has) this.prevClose = this.c;
    this.has = false;
    this.count = 0;
    this.firstId = -1;
    this.lastId = -1;
    this.vol = 0;
    this.quote = 0;
    this.buyVol = 0;
    this.buyQuote = 0;
    this.volHi = 0;
    this.quoteHi = 0;
    this.buyVolHi = 0;
    this.buyQuoteHi = 0;
    this.volBig = 0n;
    this.quoteBig = 0n;
    this.buyVolBig = 0n;
    this.buyQuoteBig = 0n;
    this.openTime = this.endTime;
    this.endTime += this.len;
    this.onClosed(candle);
  }

  private build(closed: boolean): Candle {
    const has = this.has;
    const pc = this.prevClose;
    return {
      symbol: this.symbol,
      interval: this.interval,
      priceScale: this.priceScale,
      qtyScale: this.qtyScale,
      openTime: this.openTime,
      closeTime: this.endTime - 1,
      open: has ? this.o : pc,
      high: has ? this.h : pc,
      low: has ? this.l : pc,
      close: has ? this.c : pc,
      volume: exact(this.volBig, this.volHi, this.vol),
      quoteVolume: exact(this.quoteBig, this.quoteHi, this.quote),
      trades: this.count,
      takerBuyVolume: exact(this.buyVolBig, this.buyVolHi, this.buyVol),
      takerBuyQuoteVolume: exact(this.buyQuoteBig, this.buyQuoteHi, this.buyQuote),
      firstTradeId: has ? this.firstId : -1,
      lastTradeId: has ? this.lastId : -1,
      closed,
    };
  }
}

function exact(big: bigint, hi: number, lo: number): bigint {
  return hi === 0 ? big + BigInt(lo) : big + BigInt(hi) * BigInt(TWO32) + BigInt(lo);
}

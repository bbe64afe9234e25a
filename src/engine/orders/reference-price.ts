import { SafeSum } from '../fixed.js';
import type { Trade } from '../market/types.js';
import type { RefPrice } from './filters.js';

const MINUTE = 60_000;
/** Minutes of history kept; Binance's avgPriceMins is 5 on every listed spot symbol. */
const KEEP = 60;

interface Bucket {
  minute: number;
  quote: SafeSum;
  qty: SafeSum;
}

/**
 * A symbol's last trade price and its volume-weighted average over the last N minutes, the
 * reference Binance's PERCENT_PRICE and NOTIONAL (market orders) filters use. Minutes are UTC
 * minutes of trade time; the window is the current minute and the N − 1 before it. With no trade
 * in the window the last price is used; before any trade there is no reference.
 */
export class ReferencePrice {
  /** A ring of the last KEEP minutes: `count` buckets ending at `head` (the newest). */
  private readonly buckets: Bucket[] = [];
  private head = -1;
  private count = 0;
  last: number | undefined;
  lastTime = 0;
  /** Bumped by every print: get() answers from its cache while it has not moved. */
  private version = 0;
  private cache: { mins: number; version: number; last: number; value: RefPrice } | undefined;

  onTrade(t: Trade): void {
    this.onPrint(t.price, t.qty, t.time);
  }

  /** onTrade without a Trade object (candle backtests feed prints they never build). */
  onPrint(price: number, qty: number, time: number): void {
    this.version++;
    this.last = price;
    if (time > this.lastTime) this.lastTime = time;
    const b = this.bucketAt(time);
    b.quote.addProduct(price, qty);
    b.qty.add(qty);
  }

  /**
   * onPrint for the first `n` prints of `prices`/`times`, each of quantity `qty`, in time order
   * (a candle's path). Consecutive prints of one minute go into its bucket as one sum of prices
   * times `qty`: the same exact totals as one by one.
   */
  onPrints(prices: readonly number[], times: readonly number[], n: number, qty: number): void {
    this.version++;
    let i = 0;
    while (i < n) {
      const minute = Math.floor(times[i]! / MINUTE);
      let time = times[i]!;
      let sum = prices[i]!;
      let k = 1;
      for (i++; i < n && Math.floor(times[i]! / MINUTE) === minute && sum + prices[i]! <= Number.MAX_SAFE_INTEGER; i++, k++) {
        sum += prices[i]!;
        if (times[i]! > time) time = times[i]!;
      }
      if (time > this.lastTime) this.lastTime = time;
      const b = this.bucketAt(time);
      b.quote.addProduct(sum, qty);
      b.qty.addProduct(k, qty);
    }
    if (n > 0) this.last = prices[n - 1]!;
  }

  /** The bucket a print at `time` counts in, opening the next minute's when time reaches it. */
  private bucketAt(time: number): Bucket {
    const minute = Math.floor(time / MINUTE);
    let b = this.count > 0 ? this.buckets[this.head] : undefined;
    if (!b || b.minute < minute) {
      this.head = (this.head + 1) % KEEP;
      b = this.buckets[this.head];
      // The bucket that falls out of the window is reused (one per minute adds up in long replays).
      if (b) {
        b.minute = minute;
        b.quote.reset();
        b.qty.reset();
      } else this.buckets[this.head] = b = { minute, quote: new SafeSum(), qty: new SafeSum() };
      if (this.count < KEEP) this.count++;
    }
    // A late trade (b.minute > minute) counts in the newest minute rather than rewriting history.
    return b;
  }

  /**
   * The reference over `mins` minutes (0: the last price), as num/den in price raws. Several orders
   * between two prints ask for the same one, so it is kept until the next print: the object is
   * shared, callers must not change it.
   */
  get(mins: number): RefPrice | undefined {
    if (this.last === undefined) return undefined;
    const c = this.cache;
    if (c && c.mins === mins && c.version === this.version && c.last === this.last) return c.value;
    const value = this.compute(mins, this.last);
    if (c) {
      c.mins = mins;
      c.version = this.version;
      c.last = this.last;
      c.value = value;
    } else this.cache = { mins, version: this.version, last: this.last, value };
    return value;
  }

  private compute(mins: number, last: number): RefPrice {
    if (mins > 0) {
      const from = Math.floor(this.lastTime / MINUTE) - mins + 1;
      let num = 0n;
      let den = 0n;
      for (let k = 0, i = this.head; k < this.count; k++, i = i === 0 ? KEEP - 1 : i - 1) {
        const b = this.buckets[i]!;
        if (b.minute < from) break;
        num += b.quote.value();
        den += b.qty.value();
      }
      if (den > 0n) return { num, den };
    }
    return { num: BigInt(last), den: 1n };
  }
}

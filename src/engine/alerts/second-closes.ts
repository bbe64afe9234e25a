/**
 * A symbol's last trade price at the end of every second, over a bounded span, for percent-change
 * alerts: the reference of `change 5m` at trade time t is the price at the start of the second
 * that contains t − 5m (the last trade before that second began). One-second resolution keeps the
 * memory fixed (one double per second of the longest window) at any trade rate.
 */
export class SecondCloses {
  private readonly ring: Float64Array;
  private readonly size: number;
  private first = -1;
  private last = -1;

  constructor(spanMs: number) {
    this.size = Math.ceil(spanMs / 1000) + 2;
    this.ring = new Float64Array(this.size);
  }

  add(timeMs: number, price: number): void {
    const s = Math.floor(timeMs / 1000);
    const ring = this.ring;
    const size = this.size;
    if (this.first === -1) {
      this.first = this.last = s;
    } else if (s > this.last) {
      // Quiet seconds keep the previous close.
      const carry = ring[this.last % size]!;
      const from = Math.max(this.last + 1, s - size + 1);
      for (let k = from; k < s; k++) ring[k % size] = carry;
      this.last = s;
    } else if (s < this.last) return; // out of order: sequenced feeds never do this
    ring[s % size] = price;
  }

  /** The price at the start of the second containing `timeMs`; undefined before the history starts or beyond the span. */
  priceAsOf(timeMs: number): number | undefined {
    const s = Math.floor(timeMs / 1000) - 1;
    if (this.first === -1 || s < this.first) return undefined;
    if (s >= this.last) return this.ring[this.last % this.size];
    if (this.last - s >= this.size) return undefined;
    return this.ring[s % this.size];
  }
}

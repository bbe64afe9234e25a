import { CandleReader, badInput, checkPeriod, type Indicator, type PriceInput } from './input.js';

/**
 * Linearly weighted moving average: weights 1..period, newest heaviest, O(1) per update.
 *
 * Keeps the window sum S and the weighted sum W; when the window slides, every weight drops by
 * one (W −= S) and the new input enters at weight `period`. Both sums are rebuilt from the ring
 * buffer once per `period` updates (amortised O(1)), which bounds their rounding error to one
 * window's worth of operations.
 */
export class WMA implements Indicator<PriceInput, number> {
  readonly period: number;
  private readonly buf: Float64Array;
  private readonly denom: number;
  private readonly reader = new CandleReader();
  private i = 0;
  private n = 0;
  private s = 0;
  private w = 0;
  private cur: number | undefined = undefined;

  constructor(period: number) {
    this.period = checkPeriod('WMA period', period);
    this.buf = new Float64Array(period);
    this.denom = (period * (period + 1)) / 2;
  }

  update(input: PriceInput): number | undefined {
    const x = typeof input === 'number' ? input : this.reader.close(input);
    if (x - x !== 0) throw badInput('WMA', x);
    const p = this.period;
    const buf = this.buf;
    const i = this.i;
    if (this.n === p) {
      this.w += p * x - this.s;
      this.s += x - (buf[i] as number);
    } else {
      this.n++;
      this.s += x;
      this.w += this.n * x;
    }
    buf[i] = x;
    if (i + 1 === p) {
      this.i = 0;
      // The buffer is now oldest..newest in index order: rebuild both sums exactly once per lap.
      let s = 0;
      let w = 0;
      for (let j = 0; j < p; j++) {
        const v = buf[j] as number;
        s += v;
        w += (j + 1) * v;
      }
      this.s = s;
      this.w = w;
    } else {
      this.i = i + 1;
    }
    if (this.n < p) return undefined;
    return (this.cur = this.w / this.denom);
  }

  get value(): number | undefined {
    return this.cur;
  }

  get isReady(): boolean {
    return this.cur !== undefined;
  }

  reset(): void {
    this.buf.fill(0);
    this.i = 0;
    this.n = 0;
    this.s = 0;
    this.w = 0;
    this.cur = undefined;
  }
}

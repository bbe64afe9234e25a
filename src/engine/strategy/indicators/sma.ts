import { CandleReader, badInput, checkPeriod, type Indicator, type PriceInput } from './input.js';

/**
 * Simple moving average over the last `period` inputs, O(1) per update.
 *
 * The window lives in a ring buffer and its sum is a running sum with Neumaier compensation
 * (each add and each subtract carries its rounding error into `comp`), so the average does not
 * drift over millions of updates and no update ever rescans the window.
 */
export class SMA implements Indicator<PriceInput, number> {
  readonly period: number;
  private readonly buf: Float64Array;
  private readonly reader = new CandleReader();
  private i = 0;
  private n = 0;
  private sum = 0;
  private comp = 0;
  private cur: number | undefined = undefined;

  constructor(period: number) {
    this.period = checkPeriod('SMA period', period);
    this.buf = new Float64Array(period);
  }

  update(input: PriceInput): number | undefined {
    const x = typeof input === 'number' ? input : this.reader.close(input);
    if (x - x !== 0) throw badInput('SMA', x);
    const buf = this.buf;
    const p = this.period;
    let s = this.sum;
    let c = this.comp;
    let t = s + x;
    c += (s >= 0 ? s : -s) >= (x >= 0 ? x : -x) ? s - t + x : x - t + s;
    s = t;
    const i = this.i;
    if (this.n === p) {
      const o = -(buf[i] as number);
      t = s + o;
      c += (s >= 0 ? s : -s) >= (o >= 0 ? o : -o) ? s - t + o : o - t + s;
      s = t;
    } else {
      this.n++;
    }
    buf[i] = x;
    this.i = i + 1 === p ? 0 : i + 1;
    this.sum = s;
    this.comp = c;
    if (this.n < p) return undefined;
    return (this.cur = (s + c) / p);
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
    this.sum = 0;
    this.comp = 0;
    this.cur = undefined;
  }
}

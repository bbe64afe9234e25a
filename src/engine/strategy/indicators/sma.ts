import { CandleReader, badInput, checkPeriod, type Indicator, type PriceInput } from './input.js';

/**
 * Simple moving average over the last `period` inputs, O(1) per update.
 *
 * The window lives in a ring buffer and its sum is a running sum with Neumaier compensation
 * (each add and each subtract carries its rounding error into `comp`), so the average does not
 * drift over millions of updates and no update ever rescans the window.
 *
 * The ring and the sum are written out here rather than used through RingWindow and
 * CompensatedSum (same arithmetic, same order): update runs for every indicator on every candle,
 * and each call that takes or returns a float and is not inlined boxes it, a heap number per call.
 */
export class SMA implements Indicator<PriceInput, number> {
  readonly period: number;
  private readonly buf: Float64Array;
  /** Next slot to write, and how many inputs the window holds (up to `period`). */
  private at = 0;
  private count = 0;
  private sum = 0;
  private comp = 0;
  private readonly reader = new CandleReader();
  // The average in a number field and a flag, as EMA keeps it: a field that may hold undefined
  // would box every new average (one heap number per update, per indicator, per candle).
  private avg = 0;
  private ready = false;

  constructor(period: number) {
    this.period = checkPeriod('SMA period', period);
    this.buf = new Float64Array(period);
  }

  update(input: PriceInput): number | undefined {
    const x = typeof input === 'number' ? input : this.reader.close(input);
    if (x - x !== 0) throw badInput('SMA', x);
    const p = this.period;
    const full = this.count === p;
    // The ring: x replaces the oldest input, o.
    const i = this.at;
    const o = this.buf[i]!;
    this.buf[i] = x;
    this.at = i + 1 === p ? 0 : i + 1;
    if (!full) this.count++;
    // sum += x, then sum -= o once the window was full, each with Neumaier compensation.
    let s = this.sum;
    let t = s + x;
    this.comp += (s >= 0 ? s : -s) >= (x >= 0 ? x : -x) ? s - t + x : x - t + s;
    s = t;
    if (full) {
      const y = -o;
      t = s + y;
      this.comp += (s >= 0 ? s : -s) >= (y >= 0 ? y : -y) ? s - t + y : y - t + s;
      s = t;
    }
    this.sum = s;
    if (this.count !== p) return undefined;
    this.ready = true;
    return (this.avg = (this.sum + this.comp) / p);
  }

  get value(): number | undefined {
    return this.ready ? this.avg : undefined;
  }

  get isReady(): boolean {
    return this.ready;
  }

  reset(): void {
    this.buf.fill(0);
    this.at = 0;
    this.count = 0;
    this.sum = 0;
    this.comp = 0;
    this.avg = 0;
    this.ready = false;
  }
}

import { CandleReader, IndicatorBase, badInput, checkPeriod, type PriceInput } from './input.js';
import { RingWindow } from './window.js';

/**
 * Linearly weighted moving average: weights 1..period, newest heaviest, O(1) per update.
 *
 * Keeps the window sum S and the weighted sum W; when the window slides, every weight drops by
 * one (W −= S) and the new input enters at weight `period`. Both sums are rebuilt from the ring
 * buffer once per `period` updates (amortised O(1)), which bounds their rounding error to one
 * window's worth of operations.
 */
export class WMA extends IndicatorBase<PriceInput, number> {
  readonly period: number;
  private readonly win: RingWindow;
  private readonly denom: number;
  private readonly reader = new CandleReader();
  private s = 0;
  private w = 0;

  constructor(period: number) {
    super();
    this.period = checkPeriod('WMA period', period);
    this.win = new RingWindow(period);
    this.denom = (period * (period + 1)) / 2;
  }

  update(input: PriceInput): number | undefined {
    const x = typeof input === 'number' ? input : this.reader.close(input);
    if (x - x !== 0) throw badInput('WMA', x);
    const p = this.period;
    const win = this.win;
    const full = win.full;
    const o = win.push(x);
    if (full) {
      this.w += p * x - this.s;
      this.s += x - o;
    } else {
      this.s += x;
      this.w += win.count * x;
    }
    if (win.lapped) {
      // The buffer is now oldest..newest in index order: rebuild both sums exactly once per lap.
      const buf = win.buf;
      let s = 0;
      let w = 0;
      for (let j = 0; j < p; j++) {
        const v = buf[j] as number;
        s += v;
        w += (j + 1) * v;
      }
      this.s = s;
      this.w = w;
    }
    if (!win.full) return undefined;
    return (this.cur = this.w / this.denom);
  }

  reset(): void {
    this.win.reset();
    this.s = 0;
    this.w = 0;
    this.cur = undefined;
  }
}

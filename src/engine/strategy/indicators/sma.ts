import { CandleReader, IndicatorBase, badInput, checkPeriod, type PriceInput } from './input.js';
import { CompensatedSum, RingWindow } from './window.js';

/**
 * Simple moving average over the last `period` inputs, O(1) per update.
 *
 * The window lives in a ring buffer and its sum is a running sum with Neumaier compensation
 * (each add and each subtract carries its rounding error into `comp`), so the average does not
 * drift over millions of updates and no update ever rescans the window.
 */
export class SMA extends IndicatorBase<PriceInput, number> {
  readonly period: number;
  private readonly win: RingWindow;
  private readonly sum = new CompensatedSum();
  private readonly reader = new CandleReader();

  constructor(period: number) {
    super();
    this.period = checkPeriod('SMA period', period);
    this.win = new RingWindow(period);
  }

  update(input: PriceInput): number | undefined {
    const x = typeof input === 'number' ? input : this.reader.close(input);
    if (x - x !== 0) throw badInput('SMA', x);
    const full = this.win.full;
    const o = this.win.push(x);
    this.sum.add(x);
    if (full) this.sum.add(-o);
    if (!this.win.full) return undefined;
    return (this.cur = this.sum.value / this.period);
  }

  reset(): void {
    this.win.reset();
    this.sum.reset();
    this.cur = undefined;
  }
}

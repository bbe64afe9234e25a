import { CandleReader, badInput, checkPeriod, type Indicator, type PriceInput } from './input.js';
import { CompensatedSum, RingWindow } from './window.js';

/**
 * Simple moving average over the last `period` inputs, O(1) per update.
 *
 * The window lives in a ring buffer and its sum is a running sum with Neumaier compensation
 * (each add and each subtract carries its rounding error into `comp`), so the average does not
 * drift over millions of updates and no update ever rescans the window.
 */
export class SMA implements Indicator<PriceInput, number> {
  readonly period: number;
  private readonly win: RingWindow;
  private readonly sum = new CompensatedSum();
  private readonly reader = new CandleReader();
  // The average in a number field and a flag, as EMA keeps it: a field that may hold undefined
  // would box every new average (one heap number per update, per indicator, per candle).
  private avg = 0;
  private ready = false;

  constructor(period: number) {
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
    this.ready = true;
    return (this.avg = this.sum.value / this.period);
  }

  get value(): number | undefined {
    return this.ready ? this.avg : undefined;
  }

  get isReady(): boolean {
    return this.ready;
  }

  reset(): void {
    this.win.reset();
    this.sum.reset();
    this.avg = 0;
    this.ready = false;
  }
}

import { CandleReader, IndicatorBase, readBar, type BarInput, type Hlcv } from './input.js';
import { CompensatedSum } from './window.js';

/**
 * On-Balance Volume (Granville): starts at 0 on the first bar, then adds the bar's volume when
 * the close rose, subtracts it when it fell, and carries it when unchanged. The running total is
 * Neumaier-compensated, so long runs of mixed-sign volumes do not drift.
 */
export class OBV extends IndicatorBase<BarInput, number> {
  private readonly reader = new CandleReader();
  private readonly bar: Hlcv = { high: 0, low: 0, close: 0, volume: 0 };
  private prevClose = NaN;
  private readonly sum = new CompensatedSum();

  update(input: BarInput): number {
    const b = readBar(this.reader, input, this.bar, true);
    const pc = this.prevClose;
    this.prevClose = b.close;
    if (pc === pc && b.close !== pc) {
      this.sum.add(b.close > pc ? b.volume : -b.volume);
    }
    return (this.cur = this.sum.value);
  }

  reset(): void {
    this.prevClose = NaN;
    this.sum.reset();
    this.cur = undefined;
  }
}

import { CandleReader, readBar, type BarInput, type Hlcv, type Indicator } from './input.js';

/**
 * On-Balance Volume (Granville): starts at 0 on the first bar, then adds the bar's volume when
 * the close rose, subtracts it when it fell, and carries it when unchanged. The running total is
 * Neumaier-compensated, so long runs of mixed-sign volumes do not drift.
 */
export class OBV implements Indicator<BarInput, number> {
  private readonly reader = new CandleReader();
  private readonly bar: Hlcv = { high: 0, low: 0, close: 0, volume: 0 };
  private prevClose = NaN;
  private sum = 0;
  private comp = 0;
  private cur: number | undefined = undefined;

  update(input: BarInput): number {
    const b = readBar(this.reader, input, this.bar, true);
    const pc = this.prevClose;
    this.prevClose = b.close;
    if (pc === pc && b.close !== pc) {
      const v = b.close > pc ? b.volume : -b.volume;
      const s = this.sum;
      const t = s + v;
      this.comp += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
      this.sum = t;
    }
    return (this.cur = this.sum + this.comp);
  }

  get value(): number | undefined {
    return this.cur;
  }

  get isReady(): boolean {
    return this.cur !== undefined;
  }

  reset(): void {
    this.prevClose = NaN;
    this.sum = 0;
    this.comp = 0;
    this.cur = undefined;
  }
}

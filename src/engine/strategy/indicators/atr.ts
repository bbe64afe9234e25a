import { CandleReader, IndicatorBase, checkPeriod, readBar, type BarInput, type Hlcv } from './input.js';

/**
 * Average True Range (Wilder). True range = max(high − low, |high − prevClose|,
 * |low − prevClose|), and high − low for the first bar, which has no previous close. The first
 * ATR is the mean of the first `period` true ranges (so it comes with bar `period`, as in
 * StockCharts' worked example and trading-signals), then ATR = (ATR · (period − 1) + TR) / period.
 * TA-Lib and technicalindicators skip the first bar instead, starting one bar later; the two
 * converge by a factor (period − 1)/period per bar.
 */
export class ATR extends IndicatorBase<BarInput, number> {
  readonly period: number;
  private readonly reader = new CandleReader();
  private readonly bar: Hlcv = { high: 0, low: 0, close: 0, volume: 0 };
  private prevClose = NaN;
  private n = 0;
  private acc = 0;
  private tr = NaN;

  constructor(period = 14) {
    super();
    this.period = checkPeriod('ATR period', period);
  }

  update(input: BarInput): number | undefined {
    const b = readBar(this.reader, input, this.bar, false);
    let tr = b.high - b.low;
    const pc = this.prevClose;
    if (pc === pc) {
      const hc = b.high > pc ? b.high - pc : pc - b.high;
      const lc = b.low > pc ? b.low - pc : pc - b.low;
      if (hc > tr) tr = hc;
      if (lc > tr) tr = lc;
    }
    this.prevClose = b.close;
    this.tr = tr;
    const p = this.period;
    if (this.n < p) {
      this.acc += tr;
      if (++this.n < p) return undefined;
      this.acc /= p;
    } else {
      this.acc = (this.acc * (p - 1) + tr) / p;
    }
    return (this.cur = this.acc);
  }

  /** The last bar's true range (undefined before the first bar). */
  get trueRange(): number | undefined {
    return this.tr === this.tr ? this.tr : undefined;
  }

  reset(): void {
    this.prevClose = NaN;
    this.n = 0;
    this.acc = 0;
    this.tr = NaN;
    this.cur = undefined;
  }
}

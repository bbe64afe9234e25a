import { CandleReader, badInput, checkPeriod, type Indicator, type PriceInput } from './input.js';

/**
 * Relative Strength Index with Wilder's smoothing (New Concepts in Technical Trading Systems,
 * 1978): the first average gain and loss are simple averages of the first `period` changes,
 * then avg = (avg · (period − 1) + current) / period. The first value comes with input
 * `period + 1`. RSI = 100 · avgGain / (avgGain + avgLoss), the same as 100 − 100 / (1 + RS)
 * without the division by a zero loss: 100 when there were no losses, and 50 when the window
 * had neither gains nor losses (a flat market has no relative strength either way).
 */
export class RSI implements Indicator<PriceInput, number> {
  readonly period: number;
  private readonly reader = new CandleReader();
  /** (period − 1) / period and 1 / period: avg' = avg · keep + x · inv keeps the loop-carried
   * dependency to one multiply and one add */
  private readonly keep: number;
  private readonly inv: number;
  private prev = NaN;
  private n = -1;
  private gain = 0;
  private loss = 0;
  private cur: number | undefined = undefined;

  constructor(period = 14) {
    this.period = checkPeriod('RSI period', period);
    this.keep = (period - 1) / period;
    this.inv = 1 / period;
  }

  update(input: PriceInput): number | undefined {
    const x = typeof input === 'number' ? input : this.reader.close(input);
    if (x - x !== 0) throw badInput('RSI', x);
    const ch = x - this.prev;
    this.prev = x;
    const n = this.n;
    if (n < 0) {
      this.n = 0;
      return undefined;
    }
    const g = ch > 0 ? ch : 0;
    const l = ch < 0 ? -ch : 0;
    let ag: number;
    let al: number;
    if (n < this.period) {
      ag = this.gain + g;
      al = this.loss + l;
      this.n = n + 1;
      if (n + 1 < this.period) {
        this.gain = ag;
        this.loss = al;
        return undefined;
      }
      ag *= this.inv;
      al *= this.inv;
    } else {
      ag = this.gain * this.keep + g * this.inv;
      al = this.loss * this.keep + l * this.inv;
    }
    this.gain = ag;
    this.loss = al;
    const sum = ag + al;
    return (this.cur = sum === 0 ? 50 : (100 * ag) / sum);
  }

  get value(): number | undefined {
    return this.cur;
  }

  get isReady(): boolean {
    return this.cur !== undefined;
  }

  /** Wilder's average gain and loss (undefined until ready), for strategies that want RS. */
  get averages(): { gain: number; loss: number } | undefined {
    return this.cur === undefined ? undefined : { gain: this.gain, loss: this.loss };
  }

  reset(): void {
    this.prev = NaN;
    this.n = -1;
    this.gain = 0;
    this.loss = 0;
    this.cur = undefined;
  }
}

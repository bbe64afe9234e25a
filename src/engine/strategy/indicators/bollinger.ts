import { QtradeError } from '../../errors.js';
import { CandleReader, badInput, checkPeriod, type Indicator, type PriceInput } from './input.js';

export interface BollingerValue {
  middle: number;
  upper: number;
  lower: number;
}

export interface BollingerOptions {
  period?: number;
  /** Band width in standard deviations; Bollinger's default is 2. */
  k?: number;
}

/**
 * Bollinger Bands: middle = SMA(period), upper/lower = middle ± k · σ, where σ is the
 * POPULATION standard deviation of the same window (divide by N, not N − 1), as John Bollinger
 * defines it ("Bollinger on Bollinger Bands", and StockCharts' worked example); TA-Lib,
 * trading-signals and technicalindicators do the same.
 *
 * O(1) per update: mean and the sum of squared deviations M2 slide with Welford-style updates
 * (new x replaces old o: mean' = mean + (x − o)/N, M2 += (x − o)(x − mean' + o − mean)), which
 * avoids the cancellation of a Σx² − (Σx)²/N formula at BTC-sized prices; both are rebuilt from
 * the ring buffer with a two-pass sum once per `period` updates (amortised O(1)).
 */
export class Bollinger implements Indicator<PriceInput, BollingerValue> {
  readonly period: number;
  readonly k: number;
  private readonly buf: Float64Array;
  private readonly reader = new CandleReader();
  private i = 0;
  private n = 0;
  private mean = 0;
  private m2 = 0;
  private cur: BollingerValue | undefined = undefined;

  constructor(options: BollingerOptions = {}) {
    this.period = checkPeriod('Bollinger period', options.period ?? 20);
    this.k = options.k ?? 2;
    if (!(this.k >= 0) || !Number.isFinite(this.k)) {
      throw new QtradeError('INDICATOR_PARAM', `Bollinger k must be a finite number ≥ 0, got ${this.k}`, {
        hint: 'the usual width is 2 standard deviations',
      });
    }
    this.buf = new Float64Array(this.period);
  }

  update(input: PriceInput): BollingerValue | undefined {
    const x = typeof input === 'number' ? input : this.reader.close(input);
    if (x - x !== 0) throw badInput('Bollinger', x);
    const p = this.period;
    const buf = this.buf;
    const i = this.i;
    if (this.n === p) {
      const o = buf[i] as number;
      const d = x - o;
      const mean = this.mean + d / p;
      this.m2 += d * (x - mean + o - this.mean);
      this.mean = mean;
    } else {
      this.n++;
      const d = x - this.mean;
      this.mean += d / this.n;
      this.m2 += d * (x - this.mean);
    }
    buf[i] = x;
    if (i + 1 === p) {
      this.i = 0;
      let s = 0;
      for (let j = 0; j < p; j++) s += buf[j] as number;
      const mean = s / p;
      let m2 = 0;
      for (let j = 0; j < p; j++) {
        const d = (buf[j] as number) - mean;
        m2 += d * d;
      }
      this.mean = mean;
      this.m2 = m2;
    } else {
      this.i = i + 1;
    }
    if (this.n < p) return undefined;
    const sd = this.m2 > 0 ? Math.sqrt(this.m2 / p) : 0;
    const w = this.k * sd;
    return (this.cur = { middle: this.mean, upper: this.mean + w, lower: this.mean - w });
  }

  /** The population standard deviation of the current window (undefined until ready). */
  get stdDev(): number | undefined {
    return this.cur === undefined ? undefined : this.m2 > 0 ? Math.sqrt(this.m2 / this.period) : 0;
  }

  get value(): BollingerValue | undefined {
    return this.cur;
  }

  get isReady(): boolean {
    return this.cur !== undefined;
  }

  reset(): void {
    this.buf.fill(0);
    this.i = 0;
    this.n = 0;
    this.mean = 0;
    this.m2 = 0;
    this.cur = undefined;
  }
}

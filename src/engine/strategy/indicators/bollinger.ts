import { QtradeError } from '../../errors.js';
import { CandleReader, IndicatorBase, badInput, checkPeriod, type PriceInput } from './input.js';
import { RingWindow } from './window.js';

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
export class Bollinger extends IndicatorBase<PriceInput, BollingerValue> {
  readonly period: number;
  readonly k: number;
  private readonly win: RingWindow;
  private readonly reader = new CandleReader();
  private mean = 0;
  private m2 = 0;

  constructor(options: BollingerOptions = {}) {
    super();
    this.period = checkPeriod('Bollinger period', options.period ?? 20);
    this.k = options.k ?? 2;
    if (!(this.k >= 0) || !Number.isFinite(this.k)) {
      throw new QtradeError('INDICATOR_PARAM', `Bollinger k must be a finite number ≥ 0, got ${this.k}`, {
        hint: 'the usual width is 2 standard deviations',
      });
    }
    this.win = new RingWindow(this.period);
  }

  update(input: PriceInput): BollingerValue | undefined {
    const x = typeof input === 'number' ? input : this.reader.close(input);
    if (x - x !== 0) throw badInput('Bollinger', x);
    const p = this.period;
    const win = this.win;
    const full = win.full;
    const o = win.push(x);
    if (full) {
      const d = x - o;
      const mean = this.mean + d / p;
      this.m2 += d * (x - mean + o - this.mean);
      this.mean = mean;
    } else {
      const d = x - this.mean;
      this.mean += d / win.count;
      this.m2 += d * (x - this.mean);
    }
    if (win.lapped) {
      const buf = win.buf;
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
    }
    if (!win.full) return undefined;
    const sd = this.m2 > 0 ? Math.sqrt(this.m2 / p) : 0;
    const w = this.k * sd;
    return (this.cur = { middle: this.mean, upper: this.mean + w, lower: this.mean - w });
  }

  /** The population standard deviation of the current window (undefined until ready). */
  get stdDev(): number | undefined {
    return this.cur === undefined ? undefined : this.m2 > 0 ? Math.sqrt(this.m2 / this.period) : 0;
  }

  reset(): void {
    this.win.reset();
    this.mean = 0;
    this.m2 = 0;
    this.cur = undefined;
  }
}

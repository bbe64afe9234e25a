import { CandleReader, badInput, checkPeriod, type Indicator, type PriceInput } from './input.js';

/**
 * Exponential moving average, α = 2 / (period + 1).
 *
 * Seeded the common way: the first value, on the `period`-th input, is the SMA of the first
 * `period` inputs, then EMA = α · x + (1 − α) · EMA. This is TA-Lib's default, StockCharts' worked
 * example and technicalindicators'. trading-signals 8.x seeds differently (from the first price,
 * reporting `isStable` after `period` inputs), so its early values differ from these; the two
 * converge by a factor (1 − α) per input.
 */
export class EMA implements Indicator<PriceInput, number> {
  readonly period: number;
  readonly alpha: number;
  private readonly keep: number;
  private readonly reader = new CandleReader();
  private n = 0;
  private ema = 0;
  private ready = false;

  constructor(period: number) {
    this.period = checkPeriod('EMA period', period);
    this.alpha = 2 / (period + 1);
    this.keep = 1 - this.alpha;
  }

  update(input: PriceInput): number | undefined {
    const x = typeof input === 'number' ? input : this.reader.close(input);
    if (this.ready) {
      // α·x + (1 − α)·EMA rather than EMA + α·(x − EMA): the same value, but the dependency on
      // the previous EMA is one multiply and one add, which is what bounds a streaming loop.
      const e = x * this.alpha + this.ema * this.keep;
      // e − e is NaN exactly when x was NaN or ±Infinity; checked on the result to keep it off the chain
      if (e - e === 0) return (this.ema = e);
      throw badInput('EMA', x);
    }
    if (x - x !== 0) throw badInput('EMA', x);
    // warming up: `ema` holds the running sum of the first inputs
    this.ema += x;
    if (++this.n < this.period) return undefined;
    this.ready = true;
    return (this.ema /= this.period);
  }

  get value(): number | undefined {
    return this.ready ? this.ema : undefined;
  }

  get isReady(): boolean {
    return this.ready;
  }

  reset(): void {
    this.n = 0;
    this.ema = 0;
    this.ready = false;
  }
}

import { EMA } from './ema.js';
import { CandleReader, badInput, checkPeriod, type Indicator, type PriceInput } from './input.js';

export interface MacdValue {
  /** fast EMA − slow EMA */
  macd: number;
  /** EMA of the MACD line over `signal` values */
  signal: number;
  /** macd − signal */
  histogram: number;
}

export interface MacdOptions {
  fast?: number;
  slow?: number;
  signal?: number;
}

/**
 * Moving Average Convergence/Divergence (Appel): line = EMA(fast) − EMA(slow), signal =
 * EMA(signal) of the line, histogram = line − signal. All three EMAs are seeded with the SMA of
 * their first values (see EMA), as StockCharts computes it: with 12/26/9 the line starts at
 * input 26 (`line`), the full value at input 34.
 */
export class MACD implements Indicator<PriceInput, MacdValue> {
  readonly fast: number;
  readonly slow: number;
  readonly signalPeriod: number;
  private readonly fastEma: EMA;
  private readonly slowEma: EMA;
  private readonly signalEma: EMA;
  private readonly reader = new CandleReader();
  private lineValue: number | undefined = undefined;
  private cur: MacdValue | undefined = undefined;

  constructor(options: MacdOptions = {}) {
    this.fast = checkPeriod('MACD fast', options.fast ?? 12);
    this.slow = checkPeriod('MACD slow', options.slow ?? 26);
    this.signalPeriod = checkPeriod('MACD signal', options.signal ?? 9);
    this.fastEma = new EMA(this.fast);
    this.slowEma = new EMA(this.slow);
    this.signalEma = new EMA(this.signalPeriod);
  }

  update(input: PriceInput): MacdValue | undefined {
    const x = typeof input === 'number' ? input : this.reader.close(input);
    if (x - x !== 0) throw badInput('MACD', x);
    const f = this.fastEma.update(x);
    const s = this.slowEma.update(x);
    if (f === undefined || s === undefined) return undefined;
    const line = f - s;
    this.lineValue = line;
    const sig = this.signalEma.update(line);
    if (sig === undefined) return undefined;
    return (this.cur = { macd: line, signal: sig, histogram: line - sig });
  }

  /** The MACD line alone, available from input `slow` on (before the signal is ready). */
  get line(): number | undefined {
    return this.lineValue;
  }

  get value(): MacdValue | undefined {
    return this.cur;
  }

  get isReady(): boolean {
    return this.cur !== undefined;
  }

  reset(): void {
    this.fastEma.reset();
    this.slowEma.reset();
    this.signalEma.reset();
    this.lineValue = undefined;
    this.cur = undefined;
  }
}

import { SMA } from './sma.js';
import { CandleReader, checkPeriod, readBar, type BarInput, type Hlcv, type Indicator } from './input.js';

export interface StochasticValue {
  /** %K, smoothed over `kSmoothing` bars (1 = the fast stochastic) */
  k: number;
  /** %D = SMA of %K over `dPeriod` bars */
  d: number;
}

export interface StochasticOptions {
  /** Look-back for the highest high and lowest low; Lane's and StockCharts' default is 14. */
  kPeriod?: number;
  /** SMA applied to the raw %K: 1 gives the fast stochastic, 3 the common slow one. */
  kSmoothing?: number;
  dPeriod?: number;
}

/**
 * A window max (or min) in amortised O(1): a monotonic deque of (value, bar number) in ring
 * buffers; values that can never be the extreme again are dropped as newer ones arrive.
 */
class WindowExtreme {
  private readonly vals: Float64Array;
  private readonly seqs: Float64Array;
  private head = 0;
  private len = 0;

  constructor(
    private readonly size: number,
    private readonly max: boolean,
  ) {
    this.vals = new Float64Array(size);
    this.seqs = new Float64Array(size);
  }

  push(v: number, seq: number): number {
    const cap = this.size;
    // drop from the front what left the window
    while (this.len > 0 && (this.seqs[this.head] as number) <= seq - cap) {
      this.head = this.head + 1 === cap ? 0 : this.head + 1;
      this.len--;
    }
    // drop from the back what the new value dominates
    while (this.len > 0) {
      let back = this.head + this.len - 1;
      if (back >= cap) back -= cap;
      const b = this.vals[back] as number;
      if (this.max ? b > v : b < v) break;
      this.len--;
    }
    let at = this.head + this.len;
    if (at >= cap) at -= cap;
    this.vals[at] = v;
    this.seqs[at] = seq;
    this.len++;
    return this.vals[this.head] as number;
  }

  reset(): void {
    this.head = 0;
    this.len = 0;
  }
}

/**
 * Stochastic oscillator (Lane): raw %K = 100 · (close − lowest low) / (highest high − lowest
 * low) over `kPeriod` bars, %K = SMA(kSmoothing) of it, %D = SMA(dPeriod) of %K. When the window
 * is flat (highest = lowest) the raw %K is 0, as in TA-Lib, trading-signals and
 * technicalindicators. `k` is available from bar kPeriod + kSmoothing − 1; `value` (both lines)
 * once %D is ready.
 */
export class Stochastic implements Indicator<BarInput, StochasticValue> {
  readonly kPeriod: number;
  readonly kSmoothing: number;
  readonly dPeriod: number;
  private readonly reader = new CandleReader();
  private readonly bar: Hlcv = { high: 0, low: 0, close: 0, volume: 0 };
  private readonly hi: WindowExtreme;
  private readonly lo: WindowExtreme;
  private readonly smoothK: SMA;
  private readonly smoothD: SMA;
  private seq = 0;
  private kValue: number | undefined = undefined;
  private cur: StochasticValue | undefined = undefined;

  constructor(options: StochasticOptions = {}) {
    this.kPeriod = checkPeriod('Stochastic kPeriod', options.kPeriod ?? 14);
    this.kSmoothing = checkPeriod('Stochastic kSmoothing', options.kSmoothing ?? 1);
    this.dPeriod = checkPeriod('Stochastic dPeriod', options.dPeriod ?? 3);
    this.hi = new WindowExtreme(this.kPeriod, true);
    this.lo = new WindowExtreme(this.kPeriod, false);
    this.smoothK = new SMA(this.kSmoothing);
    this.smoothD = new SMA(this.dPeriod);
  }

  update(input: BarInput): StochasticValue | undefined {
    const b = readBar(this.reader, input, this.bar, false);
    const seq = this.seq++;
    const hh = this.hi.push(b.high, seq);
    const ll = this.lo.push(b.low, seq);
    if (seq + 1 < this.kPeriod) return undefined;
    const range = hh - ll;
    const raw = range > 0 ? (100 * (b.close - ll)) / range : 0;
    const k = this.kSmoothing === 1 ? raw : this.smoothK.update(raw);
    if (k === undefined) return undefined;
    this.kValue = k;
    const d = this.smoothD.update(k);
    if (d === undefined) return undefined;
    return (this.cur = { k, d });
  }

  /** %K alone, available before %D is. */
  get k(): number | undefined {
    return this.kValue;
  }

  get value(): StochasticValue | undefined {
    return this.cur;
  }

  get isReady(): boolean {
    return this.cur !== undefined;
  }

  reset(): void {
    this.hi.reset();
    this.lo.reset();
    this.smoothK.reset();
    this.smoothD.reset();
    this.seq = 0;
    this.kValue = undefined;
    this.cur = undefined;
  }
}

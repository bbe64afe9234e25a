import type { Candle } from '../candles/types.js';
import { pow10, pow10n } from '../fixed.js';
import type { Instrument } from '../market/types.js';
import { AMOUNT_SCALE, type Amount } from '../orders/types.js';
import type { OrderSink } from './sink.js';

const ONE = 10 ** AMOUNT_SCALE;

type Column = Float64Array | Int32Array | Uint8Array;

/** A copy of `a` in a new array of `cap` elements (zeros after). */
function grown<T extends Column>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a);
  return b;
}

/** One mark of the account, exact: what EquitySeries.point(i) rebuilds. */
export interface EquityPoint {
  time: number;
  /** quote (free + locked) + base (free + locked) × price, exact at AMOUNT_SCALE. */
  equity: Amount;
  /** Close price raw the base was marked at. */
  price: number;
  /** True when the account held a position at any time during the bar ending here. */
  exposed: boolean;
}

/**
 * An equity curve in columns: the start point first, then one mark per bar.
 *
 * `equity` is a chart and statistics series (charts, returns, Sharpe, drawdown), NOT money held: a
 * Float64Array of quote units, each value within a few ulps of the exact figure. Money stays exact
 * elsewhere: the holdings (quote and base totals, bigint) are kept for every stretch between two
 * changes of the account, and each mark notes which, so `exact(i)` rebuilds any mark as the exact bigint
 * quote + base × price, and the result's fills, balances and fees are exact bigint too.
 *
 * Why columns: a candle backtest marks once per candle (525,600 a year); one object with a bigint
 * per mark was most of the run's garbage collection. Here a mark is a few stores into typed arrays
 * and the bigint arithmetic happens only when the holdings change (fills) or an exact figure is
 * asked for.
 */
export class EquitySeries {
  private n = 0;
  private times: Float64Array;
  private prices: Float64Array;
  private values: Float64Array;
  private flags: Uint8Array;
  /** Per mark: the index of the holdings it was marked with. */
  private segs: Int32Array;
  /** Holdings by stretch: from mark index `segStart[k]` on, the account held segQuote[k] and segBase[k]. */
  private readonly segStart: number[] = [];
  private readonly segQuote: Amount[] = [];
  private readonly segBase: Amount[] = [];
  private readonly priceDiv: bigint;
  /** Number(quote) / 10^AMOUNT_SCALE and Number(base) / (10^AMOUNT_SCALE × 10^priceScale) of the current holdings. */
  private quoteNum = 0;
  private basePerPrice = 0;
  private readonly basePerPriceDiv: number;

  constructor(priceScale: number, capacity = 1024) {
    this.priceDiv = pow10n(priceScale);
    this.basePerPriceDiv = ONE * pow10(priceScale);
    const cap = Math.max(16, capacity);
    this.times = new Float64Array(cap);
    this.prices = new Float64Array(cap);
    this.values = new Float64Array(cap);
    this.flags = new Uint8Array(cap);
    this.segs = new Int32Array(cap);
  }

  /** A series from exact marks (each its own holdings: quote = equity, no base). */
  static fromPoints(points: ReadonlyArray<Pick<EquityPoint, 'time' | 'equity'> & Partial<EquityPoint>>, priceScale = 0): EquitySeries {
    const s = new EquitySeries(priceScale, points.length);
    for (const p of points) {
      s.hold(p.equity, 0n);
      s.mark(p.time, p.price ?? 0, p.exposed ?? false);
    }
    return s;
  }

  get length(): number {
    return this.n;
  }

  /** Mark times (ms). A view: valid until the next mark. */
  get time(): Float64Array {
    return this.times.subarray(0, this.n);
  }

  /** Equity per mark in quote units, for charts and statistics (see the class comment). A view. */
  get equity(): Float64Array {
    return this.values.subarray(0, this.n);
  }

  /** Raw prices the base was marked at. A view. */
  get price(): Float64Array {
    return this.prices.subarray(0, this.n);
  }

  /** 1 where the account held a position during the bar ending at that mark. A view. */
  get exposed(): Uint8Array {
    return this.flags.subarray(0, this.n);
  }

  /** The account's holdings from the next mark on: quote and base totals (free + locked), exact. */
  hold(quote: Amount, base: Amount): void {
    const k = this.segStart.length - 1;
    if (k >= 0 && this.segQuote[k] === quote && this.segBase[k] === base) return;
    if (k >= 0 && this.segStart[k] === this.n) {
      // Nothing was marked with the previous holdings: replace them.
      this.segQuote[k] = quote;
      this.segBase[k] = base;
    } else {
      this.segStart.push(this.n);
      this.segQuote.push(quote);
      this.segBase.push(base);
    }
    this.quoteNum = Number(quote) / ONE;
    this.basePerPrice = base === 0n ? 0 : Number(base) / this.basePerPriceDiv;
  }

  /** Marks the current holdings at `price` (raw) at `time`. */
  mark(time: number, price: number, exposed: boolean): void {
    const i = this.n;
    if (i === this.times.length) this.grow();
    this.times[i] = time;
    this.prices[i] = price;
    this.values[i] = this.basePerPrice === 0 ? this.quoteNum : this.quoteNum + this.basePerPrice * price;
    this.flags[i] = exposed ? 1 : 0;
    this.segs[i] = this.segStart.length - 1;
    this.n = i + 1;
  }

  /** Mark i's equity, exact: quote + base × price, truncated at AMOUNT_SCALE. */
  exact(i: number): Amount {
    if (i < 0 || i >= this.n) throw new RangeError(`equity mark ${i} out of range 0..${this.n - 1}`);
    const k = this.segs[i]!;
    const base = this.segBase[k]!;
    return this.segQuote[k]! + (base === 0n ? 0n : (base * BigInt(this.prices[i]!)) / this.priceDiv);
  }

  /**
   * Compares marks i and j by their exact equity (−1, 0, 1). The float values decide when they
   * are clearly apart; same holdings at the same price are equal without any bigint.
   */
  compare(i: number, j: number): number {
    const a = this.values[i]!;
    const b = this.values[j]!;
    const d = a - b;
    if (Math.abs(d) > 1e-12 * Math.max(Math.abs(a), Math.abs(b))) return d > 0 ? 1 : -1;
    if (this.segs[i] === this.segs[j] && (this.prices[i] === this.prices[j] || this.segBase[this.segs[i]!] === 0n)) return 0;
    const x = this.exact(i);
    const y = this.exact(j);
    return x > y ? 1 : x < y ? -1 : 0;
  }

  /** Mark i as an object with its exact equity. */
  point(i: number): EquityPoint {
    return { time: this.times[i]!, equity: this.exact(i), price: this.prices[i]!, exposed: this.flags[i] === 1 };
  }

  /** Every mark as an object with its exact equity (for JSON output and tests; allocates per mark). */
  toPoints(): EquityPoint[] {
    const out: EquityPoint[] = new Array<EquityPoint>(this.n);
    for (let i = 0; i < this.n; i++) out[i] = this.point(i);
    return out;
  }

  private grow(): void {
    const cap = this.times.length * 2;
    this.times = grown(this.times, cap);
    this.prices = grown(this.prices, cap);
    this.values = grown(this.values, cap);
    this.flags = grown(this.flags, cap);
    this.segs = grown(this.segs, cap);
  }
}

/**
 * Marks an account's equity in the strategy symbol's quote asset: quote balance (free + locked)
 * plus base balance × price. Other assets are not counted.
 */
export class EquityRecorder {
  readonly series: EquitySeries;
  private exposedSince = false;
  /** Holdings and `held` as of sink.stateVersion() `version` (undefined: not cached). */
  private version: number | undefined;
  private held = false;
  private synced = false;

  constructor(
    private readonly sink: Pick<OrderSink, 'balance' | 'stateVersion'>,
    private readonly inst: Instrument,
    /** The strategy symbol's net position (flat or not decides `exposed`). */
    private readonly positionQty: () => Amount,
    private readonly flat: (base: Amount) => boolean = (b) => b === 0n,
    /** Marks to make room for up front. */
    capacity?: number,
  ) {
    this.series = new EquitySeries(inst.priceScale, capacity);
  }

  /** Reads balances and the position only when the engine's state moved since the last mark. */
  private sync(): void {
    const v = this.sink.stateVersion?.();
    if (this.synced && v !== undefined && v === this.version) return;
    const q = this.sink.balance(this.inst.quoteAsset);
    const b = this.sink.balance(this.inst.baseAsset);
    this.series.hold(q.free + q.locked, b.free + b.locked);
    this.held = !this.flat(this.positionQty());
    this.version = v;
    this.synced = true;
  }

  /** A fill happened during the current bar (so the bar counts as exposed). */
  noteFill(): void {
    this.exposedSince = true;
  }

  /** The starting point (before the first bar). */
  start(time: number, price: number): void {
    this.sync();
    this.series.mark(time, price, false);
    this.exposedSince = this.held;
  }

  /** Marks at a candle's close, with the position held at that moment. */
  mark(c: Candle): void {
    this.sync();
    const held = this.held;
    this.series.mark(c.closeTime, c.close, this.exposedSince || held);
    this.exposedSince = held;
  }
}

import { CandleAggregator } from '../candles/aggregate.js';
import type { Candle, Interval } from '../candles/types.js';
import { EMA, RSI, SMA } from '../strategy/indicators/index.js';
import type { IndicatorName, SeriesRef } from './condition.js';

interface IndicatorSlot {
  update(close: number): number | undefined;
  readonly value: number | undefined;
}

/** The last `count` closed volumes and their exact sum. */
export class VolumeWindow {
  private readonly ring: bigint[] = [];
  private at = 0;
  sum = 0n;

  constructor(readonly count: number) {}

  get full(): boolean {
    return this.ring.length === this.count;
  }

  push(v: bigint): void {
    if (this.ring.length < this.count) {
      this.ring.push(v);
      this.sum += v;
      return;
    }
    this.sum += v - this.ring[this.at]!;
    this.ring[this.at] = v;
    this.at = (this.at + 1) % this.count;
  }
}

/**
 * One symbol's candles of one interval as alerts read them: the last closed candle, the
 * indicators alerts asked for (fed each close), and volume windows. Higher intervals are built
 * from the kernel's closed 1m candles with the same aggregator strategies use.
 */
export class IntervalSeries {
  last: Candle | undefined;
  /** Close of the last candle as a float (for comparisons with indicators). */
  lastClose: number | undefined;
  private readonly indicators = new Map<string, IndicatorSlot>();
  private readonly volumes = new Map<number, VolumeWindow>();
  private readonly aggregator: CandleAggregator | undefined;
  /** Volume windows as they were before the last close (what "avg" compares the new volume with). */
  private readonly before = new Map<number, { full: boolean; sum: bigint }>();

  constructor(
    readonly interval: Interval,
    private readonly onClose: (series: IntervalSeries, c: Candle) => void,
  ) {
    if (interval !== '1m') this.aggregator = new CandleAggregator({ interval, onClosed: (c) => this.close(c) });
  }

  /** A closed 1m candle of the symbol. */
  add1m(c: Candle): void {
    if (this.aggregator) this.aggregator.add(c);
    else this.close(c);
  }

  indicator(name: IndicatorName, period: number): void {
    const key = `${name}:${period}`;
    if (this.indicators.has(key)) return;
    this.indicators.set(key, name === 'rsi' ? new RSI(period) : name === 'sma' ? new SMA(period) : new EMA(period));
  }

  volumeWindow(count: number): void {
    if (!this.volumes.has(count)) this.volumes.set(count, new VolumeWindow(count));
  }

  /** The float value of a series operand after the last close; undefined while warming up. */
  value(ref: SeriesRef): number | undefined {
    if (ref.kind === 'close') return this.lastClose;
    return this.indicators.get(`${ref.kind}:${ref.period}`)?.value;
  }

  /** The window of `count` volumes before the last close, when full. */
  averageBase(count: number): { sum: bigint } | undefined {
    const b = this.before.get(count);
    return b?.full ? b : undefined;
  }

  private close(c: Candle): void {
    this.last = c;
    const close = c.close / 10 ** c.priceScale;
    this.lastClose = close;
    for (const ind of this.indicators.values()) ind.update(close);
    for (const [n, w] of this.volumes) {
      this.before.set(n, { full: w.full, sum: w.sum });
      w.push(c.volume);
    }
    this.onClose(this, c);
  }
}

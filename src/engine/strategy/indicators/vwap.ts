import { QtradeError } from '../../errors.js';
import { CandleReader, isCandle, readBar, type BarInput, type Hlcv, type Indicator } from './input.js';

export interface VwapOptions {
  /**
   * What each bar contributes as price × volume:
   * - 'typical' (default): (high + low + close) / 3 × volume, the charting convention;
   * - 'quote': the bar's quote volume, i.e. Σ price × qty over its actual trades, so the VWAP is
   *   the true traded one (needs `quoteVolume` on a Bar; every Candle has it).
   */
  source?: 'typical' | 'quote';
  /**
   * When to start over by itself:
   * - 'utc-day' (default): at each UTC midnight of the bar's open time (Candle.openTime, or
   *   Bar.time); the unit is taken as µs when the time is ≥ 1e14 (data.binance.vision spot
   *   files from 2025 on), ms otherwise;
   * - 'none': only on reset() (an anchored VWAP);
   * - a number: sessions of that length in the bars' time unit, counted from time 0.
   */
  session?: 'utc-day' | 'none' | number;
}

const DAY_MS = 86_400_000;

/**
 * Volume-weighted average price, session-anchored: Σ(price × volume) / Σ volume since the start
 * of the session, reset at every session boundary or by reset(). Bars with zero volume change
 * nothing; the value is undefined until the session has traded.
 */
export class VWAP implements Indicator<BarInput, number> {
  readonly source: 'typical' | 'quote';
  readonly session: 'utc-day' | 'none' | number;
  private readonly reader = new CandleReader();
  private readonly bar: Hlcv = { high: 0, low: 0, close: 0, volume: 0 };
  private sessionId = NaN;
  private pv = 0;
  private vol = 0;
  private cur: number | undefined = undefined;

  constructor(options: VwapOptions = {}) {
    this.source = options.source ?? 'typical';
    this.session = options.session ?? 'utc-day';
    if (typeof this.session === 'number' && !(this.session > 0 && Number.isFinite(this.session))) {
      throw new QtradeError('INDICATOR_PARAM', `VWAP session length must be a positive number, got ${this.session}`, {
        hint: "use 'utc-day', 'none', or a length in the bars' time unit (86400000 for a day in ms)",
      });
    }
  }

  update(input: BarInput): number | undefined {
    const b = readBar(this.reader, input, this.bar, true);
    if (this.session !== 'none') {
      const t = isCandle(input) ? input.openTime : input.time;
      if (t !== undefined) {
        const len = this.session === 'utc-day' ? (t >= 1e14 ? DAY_MS * 1000 : DAY_MS) : this.session;
        const id = Math.floor(t / len);
        if (id !== this.sessionId) {
          this.sessionId = id;
          this.pv = 0;
          this.vol = 0;
          this.cur = undefined;
        }
      }
    }
    if (b.volume === 0) return this.cur;
    let pv: number;
    if (this.source === 'typical') {
      pv = ((b.high + b.low + b.close) / 3) * b.volume;
    } else if (isCandle(input)) {
      pv = this.reader.quote(input.quoteVolume, input.priceScale, input.qtyScale);
    } else {
      const q = input.quoteVolume;
      if (q === undefined || q - q !== 0) {
        throw new QtradeError('INDICATOR_INPUT', `VWAP with source 'quote' needs a finite quoteVolume on every bar`, {
          hint: "pass Candles (they carry quoteVolume) or use source: 'typical'",
        });
      }
      pv = q;
    }
    this.pv += pv;
    this.vol += b.volume;
    return (this.cur = this.pv / this.vol);
  }

  get value(): number | undefined {
    return this.cur;
  }

  get isReady(): boolean {
    return this.cur !== undefined;
  }

  /** Starts a new anchor now; the next bar opens it. */
  reset(): void {
    this.sessionId = NaN;
    this.pv = 0;
    this.vol = 0;
    this.cur = undefined;
  }
}

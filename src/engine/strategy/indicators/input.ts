import type { Candle } from '../../candles/types.js';
import { QtradeError } from '../../errors.js';

/**
 * A bar in plain floats, for callers that have no Candle (tests, imported data, other
 * indicators). `time` is only read by VWAP's session anchoring; `quoteVolume` only by
 * VWAP with `source: 'quote'`.
 */
export interface Bar {
  open?: number;
  high: number;
  low: number;
  close: number;
  volume?: number;
  quoteVolume?: number;
  time?: number;
}

/** A price: a number, or the close of a Bar or Candle. */
export type PriceInput = number | Bar | Candle;
/** A bar: a float Bar or an exact Candle (raws are converted with the candle's own scales). */
export type BarInput = Bar | Candle;

/**
 * The shape every indicator has. `update` feeds one input and returns the current value, or
 * undefined while the indicator is warming up; `value` is the same, without feeding.
 */
export interface Indicator<In, Out> {
  update(input: In): Out | undefined;
  readonly value: Out | undefined;
  readonly isReady: boolean;
  reset(): void;
}

/** `value` and `isReady` over the last output, which `update` stores in `cur`. */
export abstract class IndicatorBase<In, Out> implements Indicator<In, Out> {
  protected cur: Out | undefined = undefined;

  abstract update(input: In): Out | undefined;
  abstract reset(): void;

  get value(): Out | undefined {
    return this.cur;
  }

  get isReady(): boolean {
    return this.cur !== undefined;
  }
}

export function isCandle(x: Bar | Candle): x is Candle {
  return typeof (x as Candle).priceScale === 'number';
}

/** 10^n as a double; exact for n ≤ 22, so raw / pow is the correctly rounded decimal. */
function pow10f(n: number): number {
  return 10 ** n;
}

/**
 * Converts a candle's raws to floats once per field. The divisors are cached per scale, so a
 * stream of one symbol's candles costs one division per field and no allocation. Indicator
 * values are floats because they are signals, not money: exact prices and quantities stay in
 * the order engine and the ledger.
 */
export class CandleReader {
  private ps = -1;
  private pDiv = 1;
  private qs = -1;
  private qDiv = 1;
  private qqs = -1;
  private qqDiv = 1;

  price(raw: number, scale: number): number {
    if (scale !== this.ps) {
      this.ps = scale;
      this.pDiv = pow10f(scale);
    }
    return raw / this.pDiv;
  }

  qty(raw: bigint, scale: number): number {
    if (scale !== this.qs) {
      this.qs = scale;
      this.qDiv = pow10f(scale);
    }
    return Number(raw) / this.qDiv;
  }

  /** A quote volume, whose raw is at priceScale + qtyScale (an exact product). */
  quote(raw: bigint, priceScale: number, qtyScale: number): number {
    const s = priceScale + qtyScale;
    if (s !== this.qqs) {
      this.qqs = s;
      this.qqDiv = pow10f(s);
    }
    return Number(raw) / this.qqDiv;
  }

  close(x: Bar | Candle): number {
    return isCandle(x) ? this.price(x.close, x.priceScale) : x.close;
  }
}

export function badInput(what: string, x: unknown): QtradeError {
  return new QtradeError('INDICATOR_INPUT', `${what}: not a finite number (${String(x)})`, {
    hint: 'a NaN or infinite price would poison every later value; check the data source feeding the strategy',
  });
}

/** Validates a period-like option (a positive integer). */
export function checkPeriod(name: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new QtradeError('INDICATOR_PARAM', `${name} must be an integer ≥ ${min}, got ${value}`, {
      hint: 'pass a whole number of bars, e.g. 14',
    });
  }
  return value;
}

/** Reads high, low, close (and volume when `withVolume`) from a Bar or Candle into `out`. */
export interface Hlcv {
  high: number;
  low: number;
  close: number;
  volume: number;
}

export function readBar(reader: CandleReader, x: BarInput, out: Hlcv, withVolume: boolean): Hlcv {
  if (isCandle(x)) {
    const s = x.priceScale;
    out.high = reader.price(x.high, s);
    out.low = reader.price(x.low, s);
    out.close = reader.price(x.close, s);
    out.volume = withVolume ? reader.qty(x.volume, x.qtyScale) : 0;
  } else {
    out.high = x.high;
    out.low = x.low;
    out.close = x.close;
    out.volume = withVolume ? (x.volume ?? 0) : 0;
  }
  // x - x is NaN exactly when x is NaN or ±Infinity.
  if (out.high - out.high !== 0 || out.low - out.low !== 0 || out.close - out.close !== 0 || out.volume - out.volume !== 0) {
    throw badInput('bar', `${out.high}/${out.low}/${out.close}/${out.volume}`);
  }
  return out;
}

import type { Candle } from '../candles/types.js';
import { UsageError } from '../errors.js';
import { parseFixed } from '../fixed.js';
import type { BookLevel, BookTop, Instrument, Trade } from '../market/types.js';
import type { BookSideName, BookView } from '../orders/matching.js';

/**
 * Market models for data that carries no order book. They are approximations, stated here so
 * reports can say what they assumed; a recording with depth needs none of this.
 */

export interface SyntheticBookOptions {
  instrument: Instrument;
  /** Ticks between the last trade price and the best bid/ask a taker meets; default 0. */
  slippageTicks?: number;
  /** Levels per side; default 1. */
  levels?: number;
  /** Base quantity per level (decimal string); default: unlimited (a market order never walks). */
  levelQty?: string;
}

/**
 * A book centred on the last trade price: `levels` levels per side, one tick apart, starting
 * `slippageTicks` ticks away from the price, each holding `levelQty`. A market BUY pays the trade
 * price plus the slippage (and walks further levels when it is larger than one level).
 */
export class SyntheticBook implements BookView {
  readonly symbol: string;
  private readonly tick: number;
  private readonly slip: number;
  private readonly n: number;
  private readonly qty: number;
  private price = 0;
  private updateId = 0;

  constructor(opts: SyntheticBookOptions) {
    this.symbol = opts.instrument.symbol;
    this.tick = parseFixed(opts.instrument.tickSize, opts.instrument.priceScale) || 1;
    this.slip = opts.slippageTicks ?? 0;
    this.n = opts.levels ?? 1;
    if (!Number.isInteger(this.slip) || this.slip < 0) throw new UsageError(`slippage must be a whole number of ticks ≥ 0, got ${this.slip}`);
    if (!Number.isInteger(this.n) || this.n < 1 || this.n > 10_000) throw new UsageError(`book levels must be an integer from 1 to 10000, got ${this.n}`);
    this.qty = opts.levelQty === undefined ? Number.MAX_SAFE_INTEGER : parseFixed(opts.levelQty, opts.instrument.qtyScale);
    if (!(this.qty > 0)) throw new UsageError(`book level quantity must be positive, got ${opts.levelQty}`);
  }

  /** Moves the book to a new last price (raw). */
  set(price: number): void {
    this.price = price;
    this.updateId++;
  }

  get ready(): boolean {
    return this.price > 0;
  }

  levels(side: BookSideName, n: number): BookLevel[] {
    if (this.price <= 0) return [];
    const out: BookLevel[] = [];
    const count = Math.min(n, this.n);
    for (let i = 0; i < count; i++) {
      const off = (this.slip + i) * this.tick;
      const p = side === 'ask' ? this.price + off : this.price - off;
      if (p <= 0) break;
      out.push({ price: p, qty: this.qty });
    }
    return out;
  }

  top(): BookTop | undefined {
    if (this.price <= 0) return undefined;
    const bid = this.levels('bid', 1)[0];
    const ask = this.levels('ask', 1)[0]!;
    return { symbol: this.symbol, updateId: this.updateId, bid: bid ?? { price: 0, qty: 0 }, ask };
  }
}

/**
 * The prints a candle stands for, in the order the market most plausibly took: open, then the
 * extreme against the candle's direction, then the other extreme, then close (O→L→H→C for an up
 * candle, O→H→L→C for a down one). Times are spread evenly inside the candle and the last print is
 * at its closeTime, so everything a print fills happens inside the candle it came from. Each print
 * carries the candle's whole volume, so a resting order fills at most the candle's volume per
 * print. A candle without trades has no prints. Ids count up from `firstId`.
 *
 * This is an approximation: the real path between O, H, L and C is unknown, so a candle backtest
 * cannot tell whether a stop or a take-profit inside the same candle came first. Trade and
 * recording backtests replay the real prints and are exact.
 */
export function candlePrints(c: Candle, firstId: number): Trade[] {
  const prices: number[] = [];
  const times: number[] = [];
  const n = candlePath(c, prices, times);
  const qty = printQty(c);
  const out: Trade[] = [];
  let prev = c.open;
  for (let i = 0; i < n; i++) {
    const price = prices[i]!;
    const id = firstId + i;
    out.push({ symbol: c.symbol, id, price, qty, firstId: id, lastId: id, time: times[i]!, buyerMaker: price < prev });
    prev = price;
  }
  return out;
}

/** The quantity each of a candle's prints carries (see candlePrints). */
export function printQty(c: Candle): number {
  // Compared as a number, not as a bigint (the slower operation): a volume up to 2^53 − 1
  // converts exactly, and any larger one converts to at least 2^53.
  const vol = Number(c.volume);
  return vol > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : vol > 0 ? vol : 1;
}

/**
 * candlePrints without the Trade objects: writes the prints' prices and times into `prices` and
 * `times` (from index 0) and returns how many there are. Hot loops reuse the two arrays.
 */
export function candlePath(c: Candle, prices: number[], times: number[]): number {
  if (c.trades === 0 && c.firstTradeId === -1 && c.volume === 0n) return 0;
  const up = c.close >= c.open;
  const span = c.closeTime - c.openTime;
  let n = 0;
  let prev = c.open;
  for (let i = 0; i < 4; i++) {
    const price = i === 0 ? c.open : i === 1 ? (up ? c.low : c.high) : i === 2 ? (up ? c.high : c.low) : c.close;
    // Drop repeats of the same price (a flat candle is one print, then its close).
    if (i > 0 && i < 3 && price === prev) continue;
    prices[n] = price;
    times[n] = i === 3 ? c.closeTime : c.openTime + Math.floor((span * i) / 3);
    n++;
    prev = price;
  }
  return n;
}

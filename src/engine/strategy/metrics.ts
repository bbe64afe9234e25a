import { pow10n } from '../fixed.js';
import type { Instrument } from '../market/types.js';
import { scalesOf, type Scales } from '../orders/amounts.js';
import { AMOUNT_SCALE, type Amount, type Fill } from '../orders/types.js';
import type { EquitySeries } from './equity.js';

/** One round trip: from flat to flat (see roundTrips). */
export interface RoundTrip {
  entryTime: number;
  exitTime: number;
  side: 'long' | 'short';
  /** Equity change over the trip, fees included, in quote (exact). */
  pnl: Amount;
  fills: number;
}

export interface Metrics {
  startEquity: number;
  endEquity: number;
  /** end / start − 1. */
  totalReturn: number;
  /** (end / start)^(year / span) − 1, year = 365 days (crypto trades every day); null for a span under one bar. */
  cagr: number | null;
  /** mean / sample stdev of per-bar returns × √(bars per year); null without variance. */
  sharpe: number | null;
  /** mean / downside deviation (√(Σ min(r,0)² / n)) × √(bars per year); null without losing bars. */
  sortino: number | null;
  /** Largest peak-to-trough fall of equity as a fraction of the peak (0.25 = 25 %). */
  maxDrawdown: number;
  /** From the peak before the max drawdown to the recovery of that peak (or the end), ms. */
  maxDrawdownDurationMs: number;
  /** CAGR / maxDrawdown; null when there was no drawdown or no CAGR. */
  calmar: number | null;
  /** Closed round trips. */
  trades: number;
  /** Winning share of the closed round trips; null without trades. */
  winRate: number | null;
  /** Σ winning PnL / |Σ losing PnL|; null without losing trades. */
  profitFactor: number | null;
  /** Mean PnL per closed round trip, quote; null without trades. */
  avgTrade: number | null;
  /** Share of bars during which a position was held. */
  exposure: number;
  /** Commissions converted to quote at their fill prices. */
  feesPaid: number;
  feesPaidExact: Amount;
  fills: number;
  bars: number;
  /** True when the last round trip is still open at the end. */
  openTrade: boolean;
}

const YEAR_MS = 365 * 86_400_000;
const ONE = 10 ** AMOUNT_SCALE;

export function amountToNumber(a: Amount): number {
  return Number(a) / ONE;
}

/** Base amount × price raw → quote amount (exact up to truncation at AMOUNT_SCALE). */
function baseValue(base: Amount, price: number, s: Scales): Amount {
  return (base * BigInt(price)) / s.priceDiv;
}

/**
 * Round trips from fills, one symbol: a trip opens when the net position leaves flat and closes
 * when it is back within 1 % of its peak size (commission taken in base leaves dust a spot seller
 * cannot sell), or flips side. Its PnL is the equity change over the trip, exact: quote flows of
 * its fills, fees included, plus the base it leaves or found, valued at the exit or entry price.
 */
export function roundTrips(fills: readonly Fill[], inst: Instrument): { trips: RoundTrip[]; open: boolean } {
  const s = scalesOf(inst);
  const trips: RoundTrip[] = [];
  let pos = 0n; // base, exact (net of base commissions)
  let quote = 0n; // quote flows since the trip opened
  let startBase = 0n;
  let entry: { time: number; price: number; fills: number; peak: bigint; long: boolean } | undefined;
  for (const f of fills) {
    const base = BigInt(f.qty) * s.qtyMul;
    const buy = f.side === 'BUY';
    const baseFee = f.commissionAsset === inst.baseAsset ? f.commission : 0n;
    const quoteFee = f.commissionAsset === inst.quoteAsset ? f.commission : 0n;
    if (!entry) {
      startBase = pos;
      quote = 0n;
      entry = { time: f.time, price: f.price, fills: 0, peak: 0n, long: buy };
    }
    pos += buy ? base - baseFee : -base;
    quote += buy ? -f.quoteQty - quoteFee : f.quoteQty - quoteFee;
    entry.fills++;
    const abs = pos < 0n ? -pos : pos;
    if (abs > entry.peak) entry.peak = abs;
    const flipped = entry.long ? pos < 0n : pos > 0n;
    if (abs * 100n <= entry.peak || flipped) {
      const pnl = quote + baseValue(pos, f.price, s) - baseValue(startBase, entry.price, s);
      trips.push({ entryTime: entry.time, exitTime: f.time, side: entry.long ? 'long' : 'short', pnl, fills: entry.fills });
      entry = undefined;
    }
  }
  return { trips, open: entry !== undefined };
}

/** Commissions in quote: base commissions valued at their fill price. */
export function feesInQuote(fills: readonly Fill[], inst: Instrument): Amount {
  const s = scalesOf(inst);
  let total = 0n;
  for (const f of fills) {
    if (f.commissionAsset === inst.quoteAsset) total += f.commission;
    else if (f.commissionAsset === inst.baseAsset) total += baseValue(f.commission, f.price, s);
  }
  return total;
}

export interface MetricsInput {
  /** The start point first, then one mark per bar. */
  equity: EquitySeries;
  fills: readonly Fill[];
  instrument: Instrument;
  /** Bar length in ms (annualisation). */
  barMs: number;
}

/** What one pass over the marks finds (see scanMarks). */
interface MarkScan {
  /** Σ per-bar returns. */
  sum: number;
  /** Bars flagged exposed. */
  exposed: number;
  /** The largest drawdown in floats. */
  maxDdFloat: number;
  /**
   * Marks whose float drawdown was within 1e-9 of the largest so far, and their peaks. The max
   * drawdown only grows, so every mark within 1e-9 of the final one is among them.
   */
  ddAt: number[];
  ddPeakOf: number[];
}

/*
 * The loops over every mark (525,600 for a year of 1m bars) are functions of their own: they stay
 * optimized from one report to the next, whatever the rest of computeMetrics meets, and allocate
 * nothing per mark.
 */

/** One pass over the marks: the returns' sum, exposure, and the drawdown in floats. */
function scanMarks(series: EquitySeries): MarkScan {
  const n = series.length;
  const eq = series.equity;
  const flags = series.exposed;
  let sum = 0;
  let exposed = 0;
  let peak = 0;
  let peakNum = n > 0 ? eq[0]! : 0;
  let maxDdFloat = 0;
  const ddAt: number[] = [];
  const ddPeakOf: number[] = [];
  for (let i = 0; i < n; i++) {
    const e = eq[i]!;
    if (i > 0) {
      const prev = eq[i - 1]!;
      sum += prev > 0 ? e / prev - 1 : 0;
      exposed += flags[i]!;
    }
    // A new peak when the exact equity is at least the peak's (the floats decide unless they are
    // within rounding of each other).
    if (e > peakNum * (1 + 1e-12) || (e >= peakNum * (1 - 1e-12) && series.compare(i, peak) >= 0)) {
      peak = i;
      peakNum = e;
    } else if (peakNum > 0) {
      const dd = (peakNum - e) / peakNum;
      if (dd > maxDdFloat) maxDdFloat = dd;
      if (dd >= maxDdFloat - 1e-9) {
        ddAt.push(i);
        ddPeakOf.push(peak);
      }
    }
  }
  return { sum, exposed, maxDdFloat, ddAt, ddPeakOf };
}

/**
 * The max drawdown measured on the exact marks: only the marks within rounding of the float
 * maximum can hold it. Returns its depth and its peak's index.
 */
function exactMaxDrawdown(series: EquitySeries, scan: MarkScan): { maxDd: number; ddPeak: number } {
  const eq = series.equity;
  const { maxDdFloat, ddAt, ddPeakOf } = scan;
  let maxDd = 0;
  let ddPeak = 0;
  if (maxDdFloat > 0) {
    let lastPeak = -1;
    let peakExact = 0n;
    for (let k = 0; k < ddAt.length; k++) {
      const i = ddAt[k]!;
      const p = ddPeakOf[k]!;
      if ((eq[p]! - eq[i]!) / eq[p]! < maxDdFloat - 1e-9) continue;
      if (p !== lastPeak) {
        lastPeak = p;
        peakExact = series.exact(p);
      }
      const dd = amountToNumber(peakExact - series.exact(i)) / amountToNumber(peakExact);
      if (dd > maxDd) {
        maxDd = dd;
        ddPeak = p;
      }
    }
  }
  return { maxDd, ddPeak };
}

/** When the equity first regains the peak at mark `peak` (the drawdown's end), else the last mark's time. */
function recoveryTime(series: EquitySeries, peak: number): number {
  const times = series.time;
  for (let i = peak + 1; i < times.length; i++) {
    if (times[i]! > times[peak]! && series.compare(i, peak) >= 0) return times[i]!;
  }
  return times[times.length - 1]!;
}

/** Σ (r − mean)² and Σ min(r, 0)² over the per-bar returns, recomputed from the marks. */
function deviations(eq: Float64Array, mean: number): { sq: number; down: number } {
  let sq = 0;
  let down = 0;
  for (let i = 1; i < eq.length; i++) {
    const prev = eq[i - 1]!;
    const r = prev > 0 ? eq[i]! / prev - 1 : 0;
    const d = r - mean;
    sq += d * d;
    down += r < 0 ? r * r : 0;
  }
  return { sq, down };
}

/**
 * Performance metrics. Returns, Sharpe and Sortino come from the series' float values (a
 * statistics series); start and end equity and the max drawdown's depth are taken from the exact
 * marks. Annualisation assumes 365 days a year and one return per bar (bars per year =
 * year / barMs), risk-free rate 0.
 */
export function computeMetrics(input: MetricsInput): Metrics {
  const series = input.equity;
  const n = series.length;
  const eq = series.equity;
  const times = series.time;
  const scan = scanMarks(series);
  const { maxDd, ddPeak } = exactMaxDrawdown(series, scan);
  const start = n > 0 ? amountToNumber(series.exact(0)) : 0;
  const end = n > 0 ? amountToNumber(series.exact(n - 1)) : 0;
  const bars = Math.max(0, n - 1);
  const totalReturn = start > 0 ? end / start - 1 : 0;
  const span = n > 1 ? times[n - 1]! - times[0]! : 0;
  const cagr = start > 0 && span >= input.barMs && span > 0 ? Math.pow(end / start, YEAR_MS / span) - 1 : null;

  const perYear = Math.sqrt(YEAR_MS / input.barMs);
  let sharpe: number | null = null;
  let sortino: number | null = null;
  if (bars >= 2) {
    const mean = scan.sum / bars;
    const dev = deviations(eq, mean);
    const variance = dev.sq / (bars - 1);
    if (variance > 0) sharpe = (mean / Math.sqrt(variance)) * perYear;
    const down = dev.down / bars;
    if (down > 0) sortino = (mean / Math.sqrt(down)) * perYear;
  }

  const ddEnd = maxDd > 0 ? recoveryTime(series, ddPeak) : n > 0 ? times[n - 1]! : 0;
  const calmar = maxDd > 0 && cagr !== null ? cagr / maxDd : null;

  const { trips, open } = roundTrips(input.fills, input.instrument);
  // One loop over the trips, summing in their order (as reduce would): map/filter/reduce made
  // arrays whose element kinds differ from run to run, and each new kind deoptimized this function.
  let wins = 0;
  let grossWin = 0;
  let lossSum = 0;
  let pnlSum = 0;
  for (let k = 0; k < trips.length; k++) {
    const x = amountToNumber(trips[k]!.pnl);
    pnlSum += x;
    if (x > 0) {
      wins++;
      grossWin += x;
    } else if (x < 0) lossSum += x;
  }
  const grossLoss = -lossSum;
  const fees = feesInQuote(input.fills, input.instrument);

  return {
    startEquity: start,
    endEquity: end,
    totalReturn,
    cagr,
    sharpe,
    sortino,
    maxDrawdown: maxDd,
    maxDrawdownDurationMs: maxDd > 0 ? ddEnd - times[ddPeak]! : 0,
    calmar,
    trades: trips.length,
    winRate: trips.length ? wins / trips.length : null,
    profitFactor: grossLoss > 0 ? grossWin / grossLoss : null,
    avgTrade: trips.length ? pnlSum / trips.length : null,
    exposure: bars ? scan.exposed / bars : 0,
    feesPaid: amountToNumber(fees),
    feesPaidExact: fees,
    fills: input.fills.length,
    bars,
    openTrade: open,
  };
}

/** 10^AMOUNT_SCALE as a bigint, for callers building exact equity by hand (tests). */
export const AMOUNT_UNIT = pow10n(AMOUNT_SCALE);

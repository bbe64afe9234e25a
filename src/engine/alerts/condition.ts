import type { RiskStateName } from '../bus.js';
import type { Interval } from '../candles/types.js';

/**
 * A parsed condition, bound to its symbol's scales: price levels are raw integers at the
 * symbol's priceScale, quantities raws at its qtyScale (bigint), PnL levels Amounts (16 decimals),
 * percentages and multipliers exact decimals { raw, scale }. Indicator values are floats (signals,
 * not money), so only comparisons that involve an indicator are made in floating point.
 */

export type LevelCmp = '>' | '>=' | '<' | '<=';
export type Cmp = LevelCmp | 'crosses above' | 'crosses below';

/** An exact decimal: raw / 10^scale. */
export interface Decimal {
  raw: bigint;
  scale: number;
}

export type IndicatorName = 'rsi' | 'sma' | 'ema';

/** A value that changes when a candle of `interval` closes. */
export type SeriesRef = { kind: 'close'; interval: Interval } | { kind: IndicatorName; period: number; interval: Interval };

/** A constant on the right of a series comparison: `raw` at priceScale for prices (exact), `value` for indicators. */
export interface SeriesLevel {
  kind: 'level';
  /** Raw at the symbol's priceScale when the level is a price; undefined for oscillators (RSI). */
  raw: number | undefined;
  value: number;
  text: string;
}

export type Condition =
  | { kind: 'price'; cmp: Cmp; level: number }
  | { kind: 'change'; windowMs: number; cmp: LevelCmp; pct: Decimal }
  | { kind: 'series'; left: SeriesRef; cmp: Cmp; right: SeriesRef | SeriesLevel }
  | { kind: 'volume'; interval: Interval; cmp: LevelCmp; rhs: { kind: 'qty'; raw: bigint } | { kind: 'avg'; mult: Decimal; count: number } }
  | { kind: 'spread'; cmp: LevelCmp; raw: number; ticks: number | undefined }
  | { kind: 'order'; event: 'filled' | 'partially filled' | 'rejected' }
  | { kind: 'pnl'; symbol: string; cmp: Cmp; amount: bigint }
  | { kind: 'risk'; state: RiskStateName | 'changed' }
  | { kind: 'feed-down'; ms: number }
  | { kind: 'candle-mismatch' };

export type ConditionKind = Condition['kind'];

/** Conditions about the account or the platform rather than one symbol's market. */
export function isAccountCondition(c: Condition): boolean {
  return c.kind === 'order' || c.kind === 'pnl' || c.kind === 'risk' || c.kind === 'feed-down';
}

/** Intervals a condition reads candles of. */
export function seriesIntervals(c: Condition): Interval[] {
  if (c.kind === 'volume') return [c.interval];
  if (c.kind !== 'series') return [];
  const out = [c.left.interval];
  if (c.right.kind !== 'level' && c.right.interval !== c.left.interval) out.push(c.right.interval);
  return out;
}

/** Compares with the right comparator (crossings compare as their strict side). */
export function compare(a: number | bigint, cmp: Cmp, b: number | bigint): boolean {
  switch (cmp) {
    case '>':
    case 'crosses above':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
    case 'crosses below':
      return a < b;
    case '<=':
      return a <= b;
  }
}

/** A crossing fires only on a change of side seen from both sides; a level comparison also when first seen true. */
export function firesWhenFirstTrue(cmp: Cmp): boolean {
  return cmp !== 'crosses above' && cmp !== 'crosses below';
}

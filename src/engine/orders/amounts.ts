import { formatFixed, parseFixedBig, pow10n } from '../fixed.js';
import type { Instrument } from '../market/types.js';
import { AMOUNT_SCALE, type Amount } from './types.js';

/**
 * Conversions between an instrument's raws (price at priceScale, qty at qtyScale) and exact asset
 * amounts at AMOUNT_SCALE. Hot paths multiply in plain numbers while the product is a safe integer
 * and only then lift it into a bigint.
 */
export interface Scales {
  priceScale: number;
  qtyScale: number;
  /** 10^(AMOUNT_SCALE − priceScale − qtyScale): lifts price × qty to an amount. */
  notionalMul: bigint;
  /** 10^(AMOUNT_SCALE − qtyScale): lifts a qty to a base amount. */
  qtyMul: bigint;
  /** 10^priceScale. */
  priceDiv: bigint;
}

export function scalesOf(inst: Instrument): Scales {
  const extra = AMOUNT_SCALE - inst.priceScale - inst.qtyScale;
  if (extra < 0) {
    throw new RangeError(
      `${inst.symbol}: priceScale ${inst.priceScale} + qtyScale ${inst.qtyScale} exceeds the ledger's ${AMOUNT_SCALE} decimals`,
    );
  }
  return {
    priceScale: inst.priceScale,
    qtyScale: inst.qtyScale,
    notionalMul: pow10n(extra),
    qtyMul: pow10n(AMOUNT_SCALE - inst.qtyScale),
    priceDiv: pow10n(inst.priceScale),
  };
}

/** price × qty as an exact quote amount. */
export function notional(price: number, qty: number, s: Scales): Amount {
  const p = price * qty;
  if (p <= Number.MAX_SAFE_INTEGER) return BigInt(p) * s.notionalMul;
  return BigInt(price) * BigInt(qty) * s.notionalMul;
}

/** A base quantity raw as an amount. */
export function qtyAmount(qty: number, s: Scales): Amount {
  return BigInt(qty) * s.qtyMul;
}

/** The largest qty raw (a multiple of `step` when step > 0) whose notional at `price` is ≤ `budget`. */
export function maxQtyFor(budget: Amount, price: number, step: number, s: Scales): number {
  if (budget <= 0n || price <= 0) return 0;
  let q = Number(budget / (BigInt(price) * s.notionalMul));
  if (step > 1) q -= q % step;
  return q;
}

/** Parses a decimal asset amount ("10000", "0.5") exactly. */
export function parseAmount(s: string): Amount {
  return parseFixedBig(s, AMOUNT_SCALE);
}

/** Prints an amount with Binance's 8 decimals, more only when the value has them. */
export function formatAmount(a: Amount, minDecimals = 8): string {
  return formatFixed(a, AMOUNT_SCALE, minDecimals);
}

/**
 * Parses a filter bound ("0.00001000") to a raw at `scale`, rounding toward the inside of the
 * allowed range when the bound has more decimals than the scale (min up, max down), and clamping
 * to the safe-integer range.
 */
export function parseBound(s: string, scale: number, mode: 'ceil' | 'floor'): number {
  const wide = parseFixedBig(s, 18);
  const div = pow10n(18 - scale);
  let raw = wide / div;
  if (mode === 'ceil' && raw * div !== wide) raw += 1n;
  if (raw > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  return Number(raw);
}

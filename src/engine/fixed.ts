import { ParseError } from './errors.js';

/**
 * Exact fixed-point numbers: a value is an integer `raw` with a decimal `scale`,
 * so 61837.63 at scale 2 is raw 6183763. Prices and quantities of one symbol share a
 * scale taken from exchangeInfo (tickSize / stepSize), which keeps raws well inside
 * 2^53 and lets hot paths use plain number arithmetic; products and long sums that
 * could leave the safe range go through bigint (see SafeSum).
 */

const POW10: number[] = Array.from({ length: 16 }, (_, i) => 10 ** i);
const POW10N: bigint[] = Array.from({ length: 40 }, (_, i) => 10n ** BigInt(i));

export function pow10(n: number): number {
  const p = POW10[n];
  if (p === undefined) throw new RangeError(`scale ${n} out of range 0..15`);
  return p;
}

export function pow10n(n: number): bigint {
  return POW10N[n] ?? 10n ** BigInt(n);
}

/**
 * Parses a decimal string ("61837.63000000", "-0.5", "12") into a raw integer at `scale`.
 * Trailing zeros beyond the scale are accepted; a non-zero digit beyond it is an error,
 * since rounding a price or quantity silently is never right.
 * Returns a number; throws when the raw would not be a safe integer (use parseFixedBig).
 */
export function parseFixed(s: string, scale: number): number {
  const len = s.length;
  let i = 0;
  let neg = false;
  if (len === 0) throw new ParseError(`empty decimal`);
  const c0 = s.charCodeAt(0);
  if (c0 === 45 /* - */) {
    neg = true;
    i = 1;
  } else if (c0 === 43 /* + */) {
    i = 1;
  }
  let raw = 0;
  let digits = 0;
  let frac = -1;
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (frac !== -1) throw new ParseError(`not a decimal: "${s}"`);
      frac = 0;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9) throw new ParseError(`not a decimal: "${s}"`);
    digits++;
    if (frac !== -1) {
      if (frac >= scale) {
        if (d !== 0) throw new ParseError(`"${s}" has more than ${scale} decimals`);
        continue;
      }
      frac++;
    }
    raw = raw * 10 + d;
  }
  if (digits === 0) throw new ParseError(`not a decimal: "${s}"`);
  if (frac === -1) frac = 0;
  if (frac < scale) raw *= pow10(scale - frac);
  if (!Number.isSafeInteger(raw)) throw new ParseError(`"${s}" is too large for scale ${scale}`);
  return neg && raw !== 0 ? -raw : raw;
}

/** Like parseFixed, for values beyond 2^53 (totals, balances). */
export function parseFixedBig(s: string, scale: number): bigint {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new ParseError(`not a decimal: "${s}"`);
  const intPart = m[2] ?? '';
  let fracPart = m[3] ?? '';
  if (fracPart.length > scale) {
    if (/[1-9]/.test(fracPart.slice(scale))) throw new ParseError(`"${s}" has more than ${scale} decimals`);
    fracPart = fracPart.slice(0, scale);
  }
  const raw = BigInt((intPart || '0') + fracPart.padEnd(scale, '0'));
  return m[1] === '-' ? -raw : raw;
}

/** Number of decimals a step such as "0.01000000" allows: 2. "1.00000000" gives 0. */
export function scaleOfStep(step: string): number {
  const dot = step.indexOf('.');
  if (dot === -1) return 0;
  const frac = step.slice(dot + 1).replace(/0+$/, '');
  return frac.length;
}

/**
 * Prints a raw integer at `scale` as an exact decimal string with at least `minDecimals`
 * decimals (Binance prints 8), and more only when the value needs them.
 */
export function formatFixed(raw: number | bigint, scale: number, minDecimals = scale): string {
  let big = typeof raw === 'bigint' ? raw : BigInt(raw);
  const neg = big < 0n;
  if (neg) big = -big;
  let digits = big.toString();
  if (digits.length <= scale) digits = digits.padStart(scale + 1, '0');
  const intPart = digits.slice(0, digits.length - scale);
  let frac = digits.slice(digits.length - scale);
  if (frac.length > minDecimals) {
    let end = frac.length;
    while (end > minDecimals && frac.charCodeAt(end - 1) === 48) end--;
    frac = frac.slice(0, end);
  } else if (frac.length < minDecimals) {
    frac = frac.padEnd(minDecimals, '0');
  }
  const body = frac.length > 0 ? `${intPart}.${frac}` : intPart;
  return neg && big !== 0n ? `-${body}` : body;
}

/** Rescales a raw integer from one scale to another; refuses to drop non-zero digits. */
export function rescale(raw: bigint, from: number, to: number): bigint {
  if (to >= from) return raw * pow10n(to - from);
  const div = pow10n(from - to);
  if (raw % div !== 0n) throw new RangeError(`value ${raw} at scale ${from} is not exact at scale ${to}`);
  return raw / div;
}

/**
 * An exact running sum of safe integers. Additions stay in a number until the next one
 * could leave the safe range, then the number spills into a bigint. This keeps the hot
 * path at plain-number speed while a 1d or 1w quote volume stays exact.
 */
export class SafeSum {
  private small = 0;
  private big = 0n;

  add(x: number): void {
    const s = this.small + x;
    if (s > Number.MAX_SAFE_INTEGER || s < -Number.MAX_SAFE_INTEGER) {
      this.big += BigInt(this.small) + BigInt(x);
      this.small = 0;
    } else {
      this.small = s;
    }
  }

  addBig(x: bigint): void {
    this.big += x;
  }

  /** Adds a × b exactly (both safe integers). */
  addProduct(a: number, b: number): void {
    const p = a * b;
    if (p <= Number.MAX_SAFE_INTEGER && p >= -Number.MAX_SAFE_INTEGER) this.add(p);
    else this.big += BigInt(a) * BigInt(b);
  }

  value(): bigint {
    return this.big + BigInt(this.small);
  }

  reset(): void {
    this.small = 0;
    this.big = 0n;
  }
}

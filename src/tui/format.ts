import { QtradeError } from '../engine/errors.js';
import { formatFixed, pow10n } from '../engine/fixed.js';
import type { Instrument } from '../engine/market/types.js';
import { formatAmount } from '../engine/orders/amounts.js';
import { OrderRejectedError } from '../engine/orders/rejections.js';
import type { Amount } from '../engine/orders/types.js';
import { RiskRejectedError } from '../engine/risk/rejections.js';
import { humanPrice, humanQty, roundedAmount } from '../commands/trading-output.js';

/**
 * How the TUI prints numbers: exact decimals at the symbol's tick and step with thousands
 * separators. Only percentages and abbreviated volumes are rounded, and they say so by their form.
 */

/** "60012.40" → "60,012.40"; "-1234" → "-1,234". */
export function group(decimal: string): string {
  const neg = decimal.startsWith('-');
  const body = neg ? decimal.slice(1) : decimal;
  const dot = body.indexOf('.');
  const int = dot === -1 ? body : body.slice(0, dot);
  const frac = dot === -1 ? '' : body.slice(dot);
  let out = '';
  for (let i = 0; i < int.length; i++) {
    if (i > 0 && (int.length - i) % 3 === 0) out += ',';
    out += int[i];
  }
  return (neg ? '-' : '') + out + frac;
}

/** A price at the symbol's tick decimals, grouped: "60,012.40". */
export const fmtPrice = (raw: number, inst: Instrument): string => group(humanPrice(raw, inst));

/** A quantity at the symbol's step decimals, grouped: "0.01000". */
export const fmtQty = (raw: number, inst: Instrument): string => group(humanQty(raw, inst));

/** An exact asset amount with at least `minDecimals` decimals, grouped. */
export const fmtAmount = (a: Amount, minDecimals = 2): string => group(formatAmount(a, minDecimals));

/** A PnL rounded half away from zero to `decimals`, signed: "+9.03", "-0.50". */
export function fmtPnl(a: Amount, decimals = 2): string {
  const s = group(roundedAmount(a, decimals));
  return s.startsWith('-') ? s : `+${s}`;
}

/** A signed base quantity ("+0.01500") from an amount at AMOUNT_SCALE, at the symbol's step decimals. */
export function fmtSignedQty(a: Amount, inst: Instrument, amountScale: number): string {
  const div = pow10n(amountScale - inst.qtyScale);
  const raw = a / div;
  const exact = raw * div === a;
  const s = exact ? group(humanQty(Number(raw), inst)) : group(formatAmount(a));
  return s.startsWith('-') ? s : `+${s}`;
}

/** Change from `open` to `close` in percent with two decimals, rounded half away from zero: "+1.80%". */
export function pctChange(open: number, close: number): string | undefined {
  if (open <= 0) return undefined;
  const num = BigInt(close - open) * 10_000n;
  const den = BigInt(open);
  const abs = num < 0n ? -num : num;
  const hundredths = (abs * 2n + den) / (2n * den);
  return `${num < 0n && hundredths > 0n ? '-' : '+'}${formatFixed(hundredths, 2)}%`;
}

const SUFFIXES = ['', 'K', 'M', 'B', 'T'];

/** A quantity abbreviated for a glance: "12.4K", "3.07M"; below 1000 cut to two decimals ("742.31"). */
export function compactAmount(raw: bigint, scale: number): string {
  const neg = raw < 0n;
  const abs = neg ? -raw : raw;
  const int = abs / pow10n(scale);
  let text: string;
  if (int < 1000n) {
    text = formatFixed(scale > 2 ? abs / pow10n(scale - 2) : abs * pow10n(2 - scale), 2, 0);
  } else {
    let i = 0;
    let unit = 1n;
    while (i < SUFFIXES.length - 1 && int >= unit * 1000n) {
      unit *= 1000n;
      i++;
    }
    const hundredths = (int * 100n) / unit;
    const whole = hundredths / 100n;
    text = (whole >= 100n ? String(whole) : whole >= 10n ? formatFixed(hundredths / 10n, 1) : formatFixed(hundredths, 2)) + SUFFIXES[i];
  }
  return neg ? `-${text}` : text;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** "12:04:31" (UTC). */
export function hms(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}

/** "12:04" (UTC). */
export function hm(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
}

/** "08-09" (UTC month-day). */
export function md(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

/** An error as one line for a panel: refusals as Binance's `code msg`, others with their hint. */
export function describeError(err: unknown): { code: number | undefined; text: string } {
  if (err instanceof OrderRejectedError) return { code: err.binanceCode, text: `${err.binanceCode} ${err.message}` };
  if (err instanceof RiskRejectedError) return { code: err.rejection.code, text: `${err.rejection.code} ${err.rejection.msg}` };
  if (err instanceof QtradeError) return { code: undefined, text: err.hint ? `${err.message} (${err.hint})` : err.message };
  return { code: undefined, text: (err as Error)?.message ?? String(err) };
}

/** Cuts or pads `s` to exactly `width` columns (the TUI's characters are all one column wide). */
export function fit(s: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  if (s.length > width) return width === 1 ? s.slice(0, 1) : s.slice(0, width - 1) + '…';
  return align === 'left' ? s.padEnd(width) : s.padStart(width);
}

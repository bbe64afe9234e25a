import { formatFixed } from '../fixed.js';
import { AMOUNT_SCALE, type Amount } from '../orders/types.js';

/**
 * Exact number formatting for risk messages: thousands separators on the integer part, never a
 * float in between. Quote amounts show at least 2 decimals ("52,000.00"), more when the value has
 * them ("0.0123"); base quantities show only the decimals they have ("1.5").
 */

/** "52000.5" → "52,000.5"; keeps the sign and the fraction untouched. */
export function groupThousands(s: string): string {
  const neg = s.startsWith('-');
  const body = neg ? s.slice(1) : s;
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

/** A quote amount: "52,000.00". */
export function formatQuote(a: Amount): string {
  return groupThousands(formatFixed(a, AMOUNT_SCALE, 2));
}

/** A base amount: "1.5", "2", "-0.25". */
export function formatBase(a: Amount): string {
  return groupThousands(formatFixed(a, AMOUNT_SCALE, 0));
}

/** A price raw at the instrument's price scale: "60,000.00". */
export function formatPrice(raw: number, priceScale: number): string {
  return groupThousands(formatFixed(raw, priceScale));
}

/** A window length: 500 → "500ms", 10000 → "10s", 60000 → "1m", 3600000 → "1h". */
export function formatWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

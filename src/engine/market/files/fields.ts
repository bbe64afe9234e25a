/**
 * A non-negative integer field of a CSV row: one or more ASCII digits and nothing else, as
 * data.binance.vision writes ids, times and counts. Number() would read "" as 0 and accept
 * "1e3", "0x2" or " 1", turning a damaged row into a plausible trade; undefined instead.
 */
export function parseDigits(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const len = s.length;
  if (len === 0 || len > 16) return undefined;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return Number.isSafeInteger(n) ? n : undefined;
}

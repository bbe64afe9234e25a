/**
 * A symbol in Binance's case (upper). Symbols on the order path are almost always upper case
 * already; toUpperCase() would still allocate a new string for each of the several checks an
 * order passes, so an upper-case one is returned as it is.
 */
export function upperSymbol(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x61) return s.toUpperCase(); // a-z, and anything past ASCII upper case
  }
  return s;
}

import { describe, expect, it } from 'vitest';
import { upperSymbol } from './symbol-case.js';

describe('upperSymbol', () => {
  it('upper-cases as toUpperCase does', () => {
    for (const s of ['btcusdt', 'BtcUsdt', 'BTCUSDT', '1inchusdt', 'eth_btc', 'ǆusdt', 'straße', '', 'A{b}']) expect(upperSymbol(s)).toBe(s.toUpperCase());
  });
});

import { describe, expect, it } from 'vitest';
import type { Candle } from '../candles/types.js';
import { printQty } from './market-model.js';

describe('printQty', () => {
  it('is the volume, at least 1, at most 2^53 − 1', () => {
    const q = (volume: bigint): number => printQty({ volume } as Candle);
    expect(q(0n)).toBe(1);
    expect(q(1n)).toBe(1);
    expect(q(4_999_999n)).toBe(4_999_999);
    expect(q(2n ** 53n - 1n)).toBe(Number.MAX_SAFE_INTEGER);
    expect(q(2n ** 53n)).toBe(Number.MAX_SAFE_INTEGER);
    expect(q(2n ** 53n + 1n)).toBe(Number.MAX_SAFE_INTEGER);
    expect(q(10n ** 30n)).toBe(Number.MAX_SAFE_INTEGER);
  });
});

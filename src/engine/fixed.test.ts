import { describe, expect, it } from 'vitest';
import { SafeSum, formatFixed, parseFixed, parseFixedBig, rescale, scaleOfStep } from './fixed.js';

describe('fixed-point parsing and printing', () => {
  it('parses Binance decimal strings into raws at the symbol scale', () => {
    expect(parseFixed('61837.63000000', 2)).toBe(6183763);
    expect(parseFixed('0.02000000', 5)).toBe(2000);
    expect(parseFixed('12', 3)).toBe(12000);
    expect(parseFixed('-0.5', 1)).toBe(-5);
    expect(parseFixed('.5', 1)).toBe(5);
    expect(Object.is(parseFixed('-0', 2), 0)).toBe(true);
  });

  it('refuses to round away a non-zero digit beyond the scale', () => {
    expect(() => parseFixed('61837.631', 2)).toThrow(/more than 2 decimals/);
    expect(() => parseFixedBig('1.001', 2)).toThrow(/more than 2 decimals/);
  });

  it('rejects what is not a decimal', () => {
    for (const bad of ['', '-', '.', '1.2.3', '1e5', 'abc', ' 1']) {
      expect(() => parseFixed(bad, 2), bad).toThrow();
    }
    expect(() => parseFixed('99999999999999999', 2)).toThrow(/too large/);
  });

  it('round-trips: format(parse(s)) === s for random 8-decimal strings', () => {
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 5000; i++) {
      const int = String(rnd() % 1_000_000);
      const frac = String(rnd() % 100_000_000).padStart(8, '0');
      const s = `${int}.${frac}`;
      expect(formatFixed(parseFixed(s, 8), 8)).toBe(s);
      expect(formatFixed(parseFixedBig(s, 8), 8)).toBe(s);
    }
  });

  it('prints with Binance 8 decimals but never drops digits', () => {
    expect(formatFixed(6183763, 2, 8)).toBe('61837.63000000');
    expect(formatFixed(123456789012n, 10, 8)).toBe('12.3456789012');
    expect(formatFixed(-5, 3, 0)).toBe('-0.005');
    expect(formatFixed(0, 2, 0)).toBe('0');
    expect(formatFixed(1200, 2, 0)).toBe('12');
  });

  it('reads scales from exchangeInfo steps', () => {
    expect(scaleOfStep('0.01000000')).toBe(2);
    expect(scaleOfStep('0.00001000')).toBe(5);
    expect(scaleOfStep('1.00000000')).toBe(0);
    expect(scaleOfStep('10')).toBe(0);
  });

  it('rescales exactly or refuses', () => {
    expect(rescale(123n, 2, 5)).toBe(123000n);
    expect(rescale(123000n, 5, 2)).toBe(123n);
    expect(() => rescale(123001n, 5, 2)).toThrow();
  });
});

describe('SafeSum', () => {
  it('stays exact past 2^53 where a float sum drifts', () => {
    const s = new SafeSum();
    let float = 0;
    const x = 2 ** 52 + 1;
    for (let i = 0; i < 1000; i++) {
      s.add(x);
      float += x;
    }
    expect(s.value()).toBe(BigInt(x) * 1000n);
    expect(BigInt(float)).not.toBe(BigInt(x) * 1000n);
  });

  it('adds exact products of large raws', () => {
    const s = new SafeSum();
    s.addProduct(6_183_763_000_000, 2_000_000); // 61837.63 × 0.02 at scale 8 each
    s.addProduct(3, 4);
    expect(s.value()).toBe(6_183_763_000_000n * 2_000_000n + 12n);
  });
});

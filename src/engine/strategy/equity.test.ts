import { describe, expect, it } from 'vitest';
import { parseAmount } from '../orders/amounts.js';
import { bundledMarket } from '../orders/bundled-filters.js';
import { EquitySeries } from './equity.js';
import { amountToNumber } from './metrics.js';

const inst = bundledMarket().instruments.get('BTCUSDT');
const priceDiv = 10n ** BigInt(inst.priceScale);

describe('EquitySeries', () => {
  it('rebuilds every mark exactly from the holdings in force, and its floats stay within rounding of it', () => {
    const s = new EquitySeries(inst.priceScale, 16);
    const want: bigint[] = [];
    let quote = parseAmount('100000');
    let base = 0n;
    let price = 4_250_000; // 42,500.00
    let x = 7;
    const flat: number[] = [];
    for (let i = 0; i < 5000; i++) {
      if (i % 37 === 0) {
        // A "fill": quote moves into base at this price, or back; odd amounts on purpose.
        const q = parseAmount('1234.56789012') + BigInt(i) * 3n;
        if (base === 0n) {
          base = (q * priceDiv) / BigInt(price);
          quote -= q;
        } else {
          quote += (base * BigInt(price)) / priceDiv;
          base = 0n;
        }
        s.hold(quote, base);
      }
      x = (x * 1103515245 + 12345) % 2147483648;
      price = Math.max(1, price + Math.round((x / 2147483648 - 0.5) * 4000));
      s.mark(1_700_000_000_000 + i * 60_000, price, base !== 0n);
      want.push(quote + (base * BigInt(price)) / priceDiv);
      if (base === 0n) flat.push(i);
    }
    expect(s.length).toBe(5000);
    for (let i = 0; i < want.length; i++) {
      expect(s.exact(i)).toBe(want[i]);
      const exact = amountToNumber(want[i]!);
      expect(Math.abs(s.equity[i]! - exact)).toBeLessThanOrEqual(exact * 1e-14);
      expect(s.exposed[i]).toBe(s.point(i).exposed ? 1 : 0);
    }
    expect(s.toPoints().map((p) => p.equity)).toEqual(want);
    // Flat stretches are the quote balance itself, as a number.
    expect(flat.length).toBeGreaterThan(1000);
    for (const i of flat) expect(s.equity[i]).toBe(amountToNumber(want[i]!));
  });

  it('compares marks by their exact equity, also where the floats tie', () => {
    const s = new EquitySeries(2);
    const q = parseAmount('100');
    s.hold(q, 0n);
    s.mark(0, 100, false);
    s.mark(1, 200, false); // same holdings, no base: equal whatever the price
    // One unit (1e-16) more: the same float, a different exact figure.
    s.hold(q + 1n, 0n);
    s.mark(2, 100, false);
    expect(s.equity[2]).toBe(s.equity[0]);
    expect(s.compare(0, 1)).toBe(0);
    expect(s.compare(2, 0)).toBe(1);
    expect(s.compare(0, 2)).toBe(-1);
    // Holdings set twice without a mark in between: the later ones count.
    s.hold(parseAmount('1'), 0n);
    s.hold(parseAmount('50'), parseAmount('1'));
    s.mark(3, 5000, true); // 50 + 1 × 50.00
    expect(s.exact(3)).toBe(parseAmount('100'));
    expect(s.compare(3, 0)).toBe(0);
    expect(() => s.exact(4)).toThrow(RangeError);
  });
});

import { describe, expect, it } from 'vitest';
import { SMA } from './sma.js';
import { CompensatedSum, RingWindow } from './window.js';

/** The SMA as RingWindow and CompensatedSum compose it; SMA writes both out and must match it bit for bit. */
function reference(period: number): (x: number) => number | undefined {
  const win = new RingWindow(period);
  const sum = new CompensatedSum();
  return (x) => {
    const full = win.full;
    const o = win.push(x);
    sum.add(x);
    if (full) sum.add(-o);
    return win.full ? sum.value / period : undefined;
  };
}

describe('SMA', () => {
  it('gives the same bits as RingWindow + CompensatedSum, over mixed magnitudes and signs, and after reset', () => {
    let seed = 3;
    const rnd = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (const period of [1, 2, 3, 10, 30, 257]) {
      const sma = new SMA(period);
      for (let round = 0; round < 2; round++) {
        const ref = reference(period);
        for (let i = 0; i < 5000; i++) {
          const u = rnd();
          const x = u < 0.1 ? (rnd() - 0.5) * 1e12 : u < 0.2 ? (rnd() - 0.5) * 1e-9 : u < 0.25 ? 0 : 42_500 + (rnd() - 0.5) * 100;
          const want = ref(x);
          const got = sma.update(x);
          if (!Object.is(got, want)) expect({ period, i, got }).toEqual({ period, i, got: want });
          expect(Object.is(sma.value, want)).toBe(true);
        }
        sma.reset();
        expect(sma.value).toBeUndefined();
      }
    }
  });
});

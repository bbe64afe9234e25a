import { describe, expect, it } from 'vitest';
import { Bollinger, SMA, WMA } from './index.js';
import { prng } from './test-series.js';

const UPDATES = 1_000_000;
const PERIOD = 50;
const EVERY = 997; // checkpoints, prime so they fall at every ring-buffer offset

/**
 * Feeds UPDATES raws (integers, so the window sum can be computed exactly with bigint) as
 * raw / divisor, and at each checkpoint compares `value()` · divisor · PERIOD with the exact sum.
 * Returns the worst relative error seen.
 */
function run(raws: (i: number) => number, divisor: number, update: (x: number) => void, value: () => number): number {
  const win: number[] = [];
  let worst = 0;
  for (let i = 0; i < UPDATES; i++) {
    const raw = raws(i);
    win.push(raw);
    if (win.length > PERIOD) win.shift();
    update(raw / divisor);
    if (i >= PERIOD && (i % EVERY === 0 || i === UPDATES - 1)) {
      let exact = 0n;
      for (const r of win) exact += BigInt(r);
      const want = Number(exact);
      const got = value() * divisor * PERIOD;
      const rel = Math.abs(got - want) / Math.abs(want);
      if (rel > worst) worst = rel;
    }
  }
  return worst;
}

describe('no drift over 1M updates', () => {
  it('SMA on a BTC-like tape (0.01 tick random walk) stays within 1e-9 of the exact window sum', () => {
    const r = prng(1);
    let raw = 6_183_763; // 61837.63
    const sma = new SMA(PERIOD);
    const worst = run(
      () => (raw = Math.max(1, raw + Math.round((r() - 0.5) * 600))),
      100,
      (x) => sma.update(x),
      () => sma.value!,
    );
    expect(worst).toBeLessThan(1e-9);
  });

  // Bad ticks ~10^10 times the price (near 2^56, where a double's step is 16) pass through the
  // window; a plain running sum keeps the low bits it lost when they entered, and never gets
  // them back.
  const spiky = (seed: number) => {
    const r = prng(seed);
    let raw = 6_183_763;
    return (i: number) => {
      raw = Math.max(1, raw + Math.round((r() - 0.5) * 600));
      return i % 1000 === 500 ? 2 ** 56 + Math.floor(r() * 1e6) : raw;
    };
  };

  it('SMA with 1000 bad ticks of ~7.2e16 passing through stays within 1e-9', () => {
    const sma = new SMA(PERIOD);
    const worst = run(spiky(2), 1, (x) => sma.update(x), () => sma.value!);
    expect(worst).toBeLessThan(1e-9);
  });

  it('…where a plain running sum would not (so the test above can fail)', () => {
    const buf: number[] = [];
    let sum = 0;
    const worst = run(
      spiky(2),
      1,
      (x) => {
        buf.push(x);
        sum += x;
        if (buf.length > PERIOD) sum -= buf.shift()!;
      },
      () => sum / PERIOD,
    );
    expect(worst).toBeGreaterThan(1e-9);
  });

  it('WMA and Bollinger rebuild their sums each lap: still exact-ish after 1M updates', () => {
    const r = prng(3);
    let raw = 6_183_763;
    const xs: number[] = [];
    const wma = new WMA(PERIOD);
    const bb = new Bollinger({ period: PERIOD });
    for (let i = 0; i < UPDATES; i++) {
      raw = Math.max(1, raw + Math.round((r() - 0.5) * 600));
      const x = raw / 100;
      xs.push(x);
      if (xs.length > PERIOD) xs.shift();
      wma.update(x);
      bb.update(x);
    }
    const w = xs.reduce((a, x, j) => a + (j + 1) * x, 0) / ((PERIOD * (PERIOD + 1)) / 2);
    expect(Math.abs(wma.value! - w) / w).toBeLessThan(1e-12);
    const mean = xs.reduce((a, b) => a + b, 0) / PERIOD;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / PERIOD);
    expect(Math.abs(bb.value!.middle - mean) / mean).toBeLessThan(1e-12);
    expect(Math.abs(bb.stdDev! - sd) / sd).toBeLessThan(1e-6);
  });
});

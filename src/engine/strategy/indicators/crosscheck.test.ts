import * as ti from 'technicalindicators';
import * as ts from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { ATR, Bollinger, EMA, MACD, OBV, RSI, SMA, Stochastic, VWAP, WMA, type Bar } from './index.js';
import { prng } from './test-series.js';

// Every indicator against trading-signals 8.x and technicalindicators 3.x on one long random
// series. Tolerances:
// - 1e-9 relative where both sides compute the same formula: the only differences are the order
//   of float operations (running sums vs window rescans), whose error is ~1e-13 relative here;
//   1e-9 leaves room for that and still fails on any formula or off-by-one difference (those show
//   up at 1e-3 or worse).
// - where a peer seeds differently (noted per case), values are compared after a burn-in long
//   enough for the seed's influence to decay below 1e-12 (it decays geometrically).
// - technicalindicators' RSI rounds to two decimals, so that comparison allows 0.005.
const N = 20_000;

/** A BTC-like random walk of 1m bars: price near 60,000, heavy-ish moves, volumes 0.01–50. */
function bars(n: number, seed: number): Required<Pick<Bar, 'open' | 'high' | 'low' | 'close' | 'volume'>>[] {
  const r = prng(seed);
  let close = 60_000;
  const out = [];
  for (let i = 0; i < n; i++) {
    const open = close;
    close = Math.max(1, open + (r() - 0.5) * 60 * (r() < 0.05 ? 8 : 1));
    const high = Math.max(open, close) + r() * 20;
    const low = Math.min(open, close) - r() * 20;
    out.push({ open, high, low, close, volume: 0.01 + r() * r() * 50 });
  }
  return out;
}

const B = bars(N, 7);
const C = B.map((b) => b.close);

/** Relative tolerance, scaled by max(1, |a|, |b|); `abs` adds an absolute allowance. */
function close(a: number, b: number, rel: number, abs = 0): boolean {
  return Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b)) + abs;
}

/** Compares two aligned series (undefined = not ready) from index `from`; returns the worst gap. */
function compare(
  ours: (number | undefined)[],
  theirs: (number | null | undefined)[],
  rel: number,
  from = 0,
  abs = 0,
): number {
  expect(ours.length).toBe(theirs.length);
  let worst = 0;
  let compared = 0;
  for (let i = from; i < ours.length; i++) {
    const a = ours[i];
    const b = theirs[i];
    if (a === undefined || b === undefined || b === null) {
      expect(a === undefined, `index ${i}: ours ${a}, theirs ${b}`).toBe(b === undefined || b === null);
      continue;
    }
    const gap = Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));
    if (gap > worst) worst = gap;
    if (!close(a, b, rel, abs)) throw new Error(`index ${i}: ours ${a} vs theirs ${b} (gap ${gap})`);
    compared++;
  }
  expect(compared).toBeGreaterThan((ours.length - from) * 0.9);
  return worst;
}

describe('cross-check against trading-signals and technicalindicators', () => {
  it('SMA(20)', () => {
    const ours = new SMA(20);
    const a = new ts.SMA(20);
    const b = new ti.SMA({ period: 20, values: [] });
    const o = C.map((x) => ours.update(x));
    compare(o, C.map((x) => a.update(x, false)), 1e-9);
    compare(o, C.map((x) => b.nextValue(x)), 1e-9);
  });

  it('EMA(20): technicalindicators seeds with the SMA like us; trading-signals from the first price', () => {
    const ours = new EMA(20);
    const a = new ts.EMA(20);
    const b = new ti.EMA({ period: 20, values: [] });
    const o = C.map((x) => ours.update(x));
    compare(o, C.map((x) => b.nextValue(x)), 1e-9);
    const tsv = C.map((x, i) => (a.update(x, false), i >= 19 ? a.getResult() : undefined));
    // (19/21)^600 < 1e-26: the first-price seed is gone after 600 inputs
    compare(o, tsv, 1e-9, 600);
  });

  it('WMA(20)', () => {
    const ours = new WMA(20);
    const a = new ts.WMA(20);
    const b = new ti.WMA({ period: 20, values: [] });
    const o = C.map((x) => ours.update(x));
    compare(o, C.map((x) => a.update(x, false)), 1e-9);
    compare(o, C.map((x) => b.nextValue(x)), 1e-9);
  });

  it('RSI(14)', () => {
    const ours = new RSI(14);
    const a = new ts.RSI(14);
    const b = new ti.RSI({ period: 14, values: [] });
    const o = C.map((x) => ours.update(x));
    compare(o, C.map((x) => a.update(x, false)), 1e-9);
    // technicalindicators prints RSI with toFixed(2)
    compare(o, C.map((x) => b.nextValue(x)), 1e-9, 0, 0.005);
  });

  it('MACD(12, 26, 9)', () => {
    const ours = new MACD();
    const a = new ts.MACD(new ts.EMA(12), new ts.EMA(26), new ts.EMA(9));
    const b = new ti.MACD({ values: [], fastPeriod: 12, slowPeriod: 26, signalPeriod: 9, SimpleMAOscillator: false, SimpleMASignal: false });
    const o = C.map((x) => ours.update(x));
    const bv = C.map((x) => b.nextValue(x));
    // technicalindicators: same SMA-seeded EMAs, same start (input 34 for the signal)
    compare(o.map((v) => v?.macd), bv.map((v) => (v?.signal === undefined ? undefined : v.MACD)), 1e-9);
    compare(o.map((v) => v?.signal), bv.map((v) => v?.signal), 1e-9);
    compare(o.map((v) => v?.histogram), bv.map((v) => v?.histogram), 1e-9);
    // trading-signals: first-price-seeded EMAs; compare after the seeds have decayed
    const av = C.map((x) => a.update(x, false));
    compare(o.map((v) => v?.signal), av.map((v, i) => (i < 33 ? undefined : v?.signal)), 1e-9, 2000);
    compare(o.map((v) => v?.macd), av.map((v, i) => (i < 33 ? undefined : v?.macd)), 1e-9, 2000);
  });

  it('Bollinger(20, 2): population σ on both sides', () => {
    const ours = new Bollinger({ period: 20, k: 2 });
    const a = new ts.BollingerBands(20, 2);
    const b = new ti.BollingerBands({ period: 20, stdDev: 2, values: [] });
    const o = C.map((x) => ours.update(x));
    const av = C.map((x) => a.update(x, false));
    const bv = C.map((x) => b.nextValue(x));
    for (const key of ['middle', 'upper', 'lower'] as const) {
      compare(o.map((v) => v?.[key]), av.map((v) => v?.[key]), 1e-9);
      compare(o.map((v) => v?.[key]), bv.map((v) => v?.[key]), 1e-9);
    }
  });

  it('ATR(14): trading-signals starts at bar 14 like us; technicalindicators skips bar 1', () => {
    const ours = new ATR(14);
    const a = new ts.ATR(14);
    const b = new ti.ATR({ period: 14, high: [], low: [], close: [] });
    const o = B.map((x) => ours.update(x));
    compare(o, B.map((x) => a.update(x, false)), 1e-9);
    // (13/14)^1000 < 1e-32
    compare(o, B.map((x, i) => (i === 0 ? (b.nextValue(x), undefined) : b.nextValue(x))), 1e-9, 1000);
  });

  it('Stochastic(14, 1, 3)', () => {
    const ours = new Stochastic({ kPeriod: 14, kSmoothing: 1, dPeriod: 3 });
    const a = new ts.StochasticOscillator({ kPeriod: 14, kSlowingPeriod: 1, dPeriod: 3 });
    const b = new ti.Stochastic({ period: 14, signalPeriod: 3, high: [], low: [], close: [] });
    const o = B.map((x) => ours.update(x));
    const av = B.map((x) => a.update(x, false));
    // technicalindicators types nextValue's argument as its constructor input; it reads high/low/close
    const bv = B.map((x) => b.nextValue(x as unknown as Parameters<typeof b.nextValue>[0]));
    compare(o.map((v) => v?.k), av.map((v) => v?.stochK), 1e-9);
    compare(o.map((v) => v?.d), av.map((v) => v?.stochD), 1e-9);
    compare(o.map((v) => v?.k), bv.map((v) => (v?.d === undefined ? undefined : v.k)), 1e-9);
    compare(o.map((v) => v?.d), bv.map((v) => v?.d), 1e-9);
  });

  it('VWAP, anchored at the first bar (no sessions on the peers)', () => {
    const ours = new VWAP({ session: 'none' });
    const a = new ts.VWAP();
    const b = new ti.VWAP({ high: [], low: [], close: [], volume: [] });
    const o = B.map((x) => ours.update(x));
    compare(o, B.map((x) => a.update(x, false)), 1e-9);
    compare(o, B.map((x) => b.nextValue(x)), 1e-9);
  });

  it('OBV: ours is 0 on bar 1; technicalindicators starts on bar 2, trading-signals with interval 2', () => {
    const ours = new OBV();
    const a = new ts.OBV(2);
    const b = new ti.OBV({ close: [], volume: [] });
    const o = B.map((x) => ours.update(x));
    expect(o[0]).toBe(0);
    compare(o.slice(1), B.map((x) => a.update(x, false)).slice(1), 1e-9);
    compare(o.slice(1), B.map((x) => b.nextValue(x)).slice(1), 1e-9);
  });
});

#!/usr/bin/env node
// Streaming indicator benchmarks. Imports the build output (dist/): run `npm run build` first.
//
// Updates per second of qtrade's SMA, EMA and RSI (src/engine/strategy/indicators) against
// trading-signals 8.x (its number-based classes: `new SMA(n).update(price, false)`, the call
// `add()` wraps; 8.x has no separate "Faster*" classes any more) and technicalindicators 3.x
// (its streaming `nextValue` API), on the same 1M-price BTC-like tape in the same run. Before
// timing, every pair is checked to agree on the values. Target: at least as fast as the faster
// peer for each indicator.
//
// Every case runs several rounds, interleaved with the others; the table shows each case's best
// round (the least disturbed by other processes on the machine), and the ratios of those.
import * as ti from 'technicalindicators';
import * as ts from 'trading-signals';
import { EMA, RSI, SMA } from '../dist/src/engine/strategy/indicators/index.js';
import { prng, rounds, table } from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const timeRounds = (cases) => rounds(cases, ROUNDS);
const UPDATES = Number(process.env.BENCH_UPDATES ?? 1_000_000);


/** 1m closes of a BTCUSDT-like random walk on a 0.01 tick, as plain numbers (what every library takes). */
function closes(n, seed) {
  const r = prng(seed);
  let raw = 6_183_763;
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    raw = Math.max(1, raw + Math.round((r() - 0.5) * 4000));
    out[i] = raw / 100;
  }
  return out;
}

const xs = closes(UPDATES, 42);
const n = xs.length;

/** Runs one indicator over the tape (untimed); returns every output so values can be compared. */
function all(ind, call) {
  const step = new Function('ind', 'xs', 'i', `return ind.${call};`);
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = step(ind, xs, i);
  return out;
}

function agree(name, a, b, { from = 0, rel = 1e-9, abs = 0 } = {}) {
  let worst = 0;
  for (let i = from; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x == null || y == null) continue;
    const gap = Math.abs(x - y) - abs;
    const tol = rel * Math.max(1, Math.abs(x), Math.abs(y));
    if (gap > tol) throw new Error(`${name}: values differ at ${i}: ${x} vs ${y}`);
    worst = Math.max(worst, Math.abs(x - y));
  }
  return worst;
}

/**
 * A timed loop over the tape that sums the defined outputs (so no engine can skip the work).
 * Each case gets its own compiled loop, so every call site stays monomorphic and the JIT can
 * inline each library's update as it would in a user's own loop.
 */
function timed(make, call) {
  const loop = new Function(
    'ind',
    'xs',
    `let s = 0; for (let i = 0; i < xs.length; i++) { const v = ind.${call}; if (v !== undefined && v !== null) s += v; } return s;`,
  );
  return () => loop(make(), xs);
}

// Hand-inlined loops with no object, no checks and no warm-up bookkeeping, state in locals: the
// limit for each indicator's recurrence. A streaming class keeps its state in an object between
// calls, so it cannot reach this; the row shows how much is left.
const BARE = {
  sma: (period) => () => {
    const buf = new Float64Array(period);
    let sum = 0;
    let s = 0;
    let j = 0;
    for (let i = 0; i < n; i++) {
      const x = xs[i];
      sum += x - buf[j];
      buf[j] = x;
      j = j + 1 === period ? 0 : j + 1;
      if (i >= period - 1) s += sum / period;
    }
    return s;
  },
  ema: (period) => () => {
    const a = 2 / (period + 1);
    const k = 1 - a;
    let e = 0;
    let s = 0;
    for (let i = 0; i < period; i++) e += xs[i];
    e /= period;
    for (let i = period; i < n; i++) s += e = xs[i] * a + e * k;
    return s;
  },
  rsi: (period) => () => {
    const keep = (period - 1) / period;
    const inv = 1 / period;
    let g = 0;
    let l = 0;
    let s = 0;
    for (let i = 1; i <= period; i++) {
      const d = xs[i] - xs[i - 1];
      if (d > 0) g += d;
      else l -= d;
    }
    g *= inv;
    l *= inv;
    for (let i = period + 1; i < n; i++) {
      const d = xs[i] - xs[i - 1];
      g = g * keep + (d > 0 ? d : 0) * inv;
      l = l * keep + (d < 0 ? -d : 0) * inv;
      s += (100 * g) / (g + l);
    }
    return s;
  },
};

const SPECS = [
  {
    title: 'SMA(20)',
    bare: BARE.sma(20),
    ours: [() => new SMA(20), 'update(xs[i])'],
    ts: [() => new ts.SMA(20), 'update(xs[i], false)'],
    ti: [() => new ti.SMA({ period: 20, values: [] }), 'nextValue(xs[i])'],
    check: (o, a, b) => [agree('SMA vs trading-signals', o, a), agree('SMA vs technicalindicators', o, b)],
  },
  {
    title: 'SMA(200)',
    bare: BARE.sma(200),
    ours: [() => new SMA(200), 'update(xs[i])'],
    ts: [() => new ts.SMA(200), 'update(xs[i], false)'],
    ti: [() => new ti.SMA({ period: 200, values: [] }), 'nextValue(xs[i])'],
    check: (o, a, b) => [agree('SMA vs trading-signals', o, a), agree('SMA vs technicalindicators', o, b)],
  },
  {
    title: 'EMA(20)',
    bare: BARE.ema(20),
    ours: [() => new EMA(20), 'update(xs[i])'],
    ts: [() => new ts.EMA(20), 'update(xs[i], false)'],
    ti: [() => new ti.EMA({ period: 20, values: [] }), 'nextValue(xs[i])'],
    // trading-signals seeds its EMA with the first price, not the SMA: compare once that has decayed
    check: (o, a, b) => [agree('EMA vs trading-signals', o, a, { from: 1000 }), agree('EMA vs technicalindicators', o, b)],
  },
  {
    title: 'RSI(14)',
    bare: BARE.rsi(14),
    ours: [() => new RSI(14), 'update(xs[i])'],
    ts: [() => new ts.RSI(14), 'update(xs[i], false)'],
    ti: [() => new ti.RSI({ period: 14, values: [] }), 'nextValue(xs[i])'],
    // technicalindicators rounds RSI to two decimals
    check: (o, a, b) => [agree('RSI vs trading-signals', o, a), agree('RSI vs technicalindicators', o, b, { abs: 0.005 })],
  },
];

console.log(`${n.toLocaleString('en')} streaming updates per case (1m closes of a BTC-like random walk), one core\n`);
let allMet = true;
const summary = [];
for (const spec of SPECS) {
  const [mo, so] = spec.ours;
  const [ma, sa] = spec.ts;
  const [mb, sb] = spec.ti;
  const worst = spec.check(all(mo(), so), all(ma(), sa), all(mb(), sb));
  const [rTs, rTi, rOurs, rBare] = timeRounds([
    { count: n, fn: timed(ma, sa) },
    { count: n, fn: timed(mb, sb) },
    { count: n, fn: timed(mo, so) },
    { count: n, fn: spec.bare },
  ]);
  const best = Math.max(rTs, rTi);
  const fmt = (x) => `${(x / best).toFixed(2)}×`;
  table(`${spec.title}: values agree (largest gap ${worst.map((w) => w.toExponential(1)).join(', ')})`, [
    { name: 'trading-signals 8 (update)', rate: rTs, ratio: fmt(rTs) },
    { name: 'technicalindicators 3 (nextValue)', rate: rTi, ratio: fmt(rTi) },
    { name: 'qtrade', rate: rOurs, ratio: fmt(rOurs) },
    { name: 'bare inlined loop (the limit)', rate: rBare, ratio: fmt(rBare) },
  ]);
  const met = rOurs >= best;
  allMet &&= met;
  summary.push(`${spec.title} ${(rOurs / best).toFixed(2)}×`);
}
console.log(
  `target ≥ the faster peer for each: ${allMet ? 'met' : 'NOT MET'} (qtrade vs the faster peer: ${summary.join(', ')})`,
);

#!/usr/bin/env node
// Alert evaluation benchmarks. Imports the build output (dist/): run `npm run build` first.
//
// 10,000 active price alerts on BTCUSDT over a seeded 1k trades/s stream (event time advances 1 ms
// per trade; a 0.01-tick random walk), through the bus exactly as the kernel publishes trades:
//   (1) cost per trade: the AlertEngine alone on a bus (minus the bare bus), against a naive
//       evaluator in the same run that checks every alert on every trade (the peer);
//   (2) added latency: the live trade path after sequencing (CandleSynthesizer.add, then
//       bus.publish('trade') to the MarketCache) with and without the 10,000 alerts, per trade,
//       median and p99 over sampled trades, and the ratio;
//   (3) scaling: the same 100 alerts near the price plus 0 to 99,900 alerts far from it, to show
//       the cost does not grow with alerts that cannot fire.
// Alert levels in (1) and (2) are spread uniformly over ±10 % of the start price, each waiting for
// the price to reach it; the walk moves a few tenths of a per cent, so the few dozen alerts that
// sit where it goes fire on every crossing and the rest never do.
// Before timing, the indexed engine and the naive evaluator are checked to fire the same alerts at
// the same trades. Rounds interleave the cases; tables show each case's best round.
import { AlertEngine } from '../dist/src/engine/alerts/engine.js';
import { Bus } from '../dist/src/engine/bus.js';
import { CandleSynthesizer } from '../dist/src/engine/candles/synthesizer.js';
import { SimClock } from '../dist/src/engine/clock.js';
import { bundledInstruments } from '../dist/src/engine/market/bundled-instruments.js';
import { MarketCache } from '../dist/src/engine/market/market-cache.js';
import { prng } from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const TRADES = Number(process.env.BENCH_TRADES ?? 300_000);
const ALERTS = 10_000;
const T0 = Date.UTC(2024, 7, 8);
const instruments = bundledInstruments();
const btc = instruments.get('BTCUSDT');

/** 1k trades/s of a BTCUSDT-like walk: raws at priceScale 2, ms event times. */
function tape(n, seed) {
  const r = prng(seed);
  let raw = 6_183_763;
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    raw += r() < 0.5 ? -1 : 1;
    if (r() < 0.02) raw += Math.round((r() - 0.5) * 200);
    const id = 3_000_000_000 + i;
    out[i] = { symbol: 'BTCUSDT', id, price: raw, qty: 1 + Math.floor(r() * 100_000), firstId: id, lastId: id, time: T0 + i, buyerMaker: r() < 0.5 };
  }
  return out;
}

/**
 * Alert levels uniform over `lo`..`hi` (fractions of the start price, either side), each with a
 * comparator that is false at the start, as people set alerts: a level above the price waits for
 * a rise (>, >=, crosses above), one below for a fall (<, <=, crosses below).
 */
function alertSet(n, seed, lo = 0, hi = 0.1) {
  const r = prng(seed);
  const out = [];
  for (let i = 0; i < n; i++) {
    const off = lo + r() * (hi - lo);
    const up = r() < 0.5;
    const level = Math.round(6_183_763 * (1 + (up ? off : -off)));
    const cmp = up ? ['>', '>=', 'crosses above'][i % 3] : ['<', '<=', 'crosses below'][i % 3];
    out.push({ cmp, level });
  }
  return out;
}

function engineWith(alerts, bus) {
  const e = new AlertEngine({ bus, clock: new SimClock(), instruments });
  alerts.forEach((a, i) => {
    e.add({
      alert: { id: `a${i + 1}`, symbol: 'BTCUSDT', condition: `price ${a.cmp} ${(a.level / 100).toFixed(2)}`, mode: { kind: 'until-cancelled' }, notify: ['tui'], createdAt: 0 },
      fired: 0,
      lastFiredAt: undefined,
    });
  });
  return e;
}

/** The peer: every alert checked on every trade, with the same once-per-crossing rule. */
function naive(alerts) {
  const n = alerts.length;
  const above = new Uint8Array(n);
  const thr = new Float64Array(n);
  const first = new Uint8Array(n);
  const state = new Int8Array(n).fill(-1);
  alerts.forEach((a, i) => {
    const up = a.cmp === '>' || a.cmp === '>=' || a.cmp === 'crosses above';
    above[i] = up ? 1 : 0;
    thr[i] = a.cmp === '>=' ? a.level - 1 : a.cmp === '<=' ? a.level + 1 : a.level;
    first[i] = a.cmp.startsWith('crosses') ? 0 : 1;
  });
  let fired = 0;
  const fires = [];
  return {
    fires,
    get fired() {
      return fired;
    },
    onTrade(t, record) {
      const p = t.price;
      for (let i = 0; i < n; i++) {
        const s = above[i] === 1 ? p > thr[i] : p < thr[i];
        const prev = state[i];
        state[i] = s ? 1 : 0;
        if (s && (prev === 0 || (prev === -1 && first[i] === 1))) {
          fired++;
          if (record) fires.push(`a${i + 1}@${t.time}`);
        }
      }
    },
  };
}

const trades = tape(TRADES, 20240808);
const alerts = alertSet(ALERTS, 7);

// ------------------------------------------------------------------ correctness first
{
  const bus = new Bus();
  const fired = [];
  bus.subscribe('alert.fired', (f) => fired.push(`${f.alertId}@${f.time}`));
  engineWith(alerts, bus);
  for (const t of trades) bus.publish('trade', t);
  const peer = naive(alerts);
  for (const t of trades) peer.onTrade(t, true);
  const key = (s) => s.split('@');
  const sort = (xs) => [...xs].sort((a, b) => Number(key(a)[1]) - Number(key(b)[1]) || Number(key(a)[0].slice(1)) - Number(key(b)[0].slice(1)));
  const a = sort(fired);
  const b = sort(peer.fires);
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) throw new Error(`indexed and naive evaluation disagree: ${a.length} vs ${b.length} firings`);
  console.log(`${TRADES.toLocaleString('en-US')} trades at 1k/s (${(TRADES / 60_000).toFixed(1)} min of event time), ${ALERTS.toLocaleString('en-US')} price alerts: ${a.length.toLocaleString('en-US')} firings, identical in both evaluators\n`);
}

// ------------------------------------------------------------------ timing helpers
/** Best ns per trade of each case over the rounds; a case runs `count` trades (default all). */
function best(cases) {
  const res = cases.map(() => Infinity);
  for (let r = 0; r < ROUNDS + 1; r++) {
    cases.forEach((c, i) => {
      const run = c.setup();
      const t0 = process.hrtime.bigint();
      run();
      const ns = Number(process.hrtime.bigint() - t0);
      if (r > 0) res[i] = Math.min(res[i], ns / (c.count ?? TRADES));
    });
  }
  return res;
}

function printTable(title, head, rows) {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  console.log(title);
  console.log(`| ${head.map((h, i) => h.padEnd(w[i])).join(' | ')} |`);
  console.log(`|${w.map((x, i) => (i === 0 ? '-'.repeat(x + 2) : '-'.repeat(x + 1) + ':')).join('|')}|`);
  for (const r of rows) console.log(`| ${r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ')} |`);
  console.log('');
}

const ns = (x) => (x >= 1000 ? `${(x / 1000).toFixed(2)} µs` : `${x.toFixed(1)} ns`);

// ------------------------------------------------------------------ (1) cost per trade
{
  // Trade 0 goes out untimed: it files every new alert in the index (a one-time cost, below).
  const loop = (bus, n = trades.length) => {
    bus.publish('trade', trades[0]);
    return () => {
      for (let i = 1; i < n; i++) bus.publish('trade', trades[i]);
    };
  };
  // The peer checks 10,000 alerts per trade: a slice of the tape is plenty to time it.
  const PEER_TRADES = Math.min(TRADES, 10_000);
  const STEADY = TRADES - 1;
  const [bare, indexed, peer] = best([
    { setup: () => loop(new Bus()), count: STEADY },
    {
      setup: () => {
        const bus = new Bus();
        engineWith(alerts, bus);
        return loop(bus);
      },
      count: STEADY,
    },
    {
      setup: () => {
        const bus = new Bus();
        const p = naive(alerts);
        bus.subscribe('trade', (t) => p.onTrade(t, false));
        return loop(bus, PEER_TRADES);
      },
      count: PEER_TRADES - 1,
    },
  ]);
  // The bare bus has no subscriber: its publish is the floor both alert cases pay too.
  const idx = indexed - bare;
  const nv = peer - bare;
  printTable(`(1) evaluation cost per trade, ${ALERTS.toLocaleString('en-US')} price alerts, one core`, ['case', 'per trade', 'vs naive'], [
    ['naive: every alert checked on every trade (peer)', ns(nv), '1.00×'],
    ['AlertEngine: alerts indexed by symbol and level', ns(idx), `${(nv / idx).toFixed(0)}× faster`],
  ]);
}

// ------------------------------------------------------------------ (2) added latency on the live trade path
{
  const SAMPLE = 16; // every 16th trade is timed on its own
  const path = (withAlerts) => () => {
    const bus = new Bus();
    const cache = new MarketCache(bus);
    void cache;
    if (withAlerts) engineWith(alerts, bus);
    const synth = new CandleSynthesizer({ instrument: btc, graceMs: 0, onClosed: (c) => bus.publish('candle.closed', c) });
    const lat = new Float64Array(Math.ceil(trades.length / SAMPLE));
    synth.add(trades[0]);
    bus.publish('trade', trades[0]);
    return {
      run() {
        let k = 0;
        for (let i = 1; i < trades.length; i++) {
          const t = trades[i];
          if ((i & (SAMPLE - 1)) === 0) {
            const t0 = process.hrtime.bigint();
            synth.add(t);
            bus.publish('trade', t);
            lat[k++] = Number(process.hrtime.bigint() - t0);
          } else {
            synth.add(t);
            bus.publish('trade', t);
          }
        }
        return lat.subarray(0, k);
      },
    };
  };
  const pct = (xs, p) => {
    const s = Float64Array.from(xs).sort();
    return s[Math.min(s.length - 1, Math.floor(p * s.length))];
  };
  const runs = [path(false), path(true)];
  const stats = runs.map(() => ({ perTrade: Infinity, p50: Infinity, p99: Infinity }));
  for (let r = 0; r < ROUNDS + 1; r++) {
    runs.forEach((mk, i) => {
      const p = mk();
      const t0 = process.hrtime.bigint();
      const lat = p.run();
      const per = Number(process.hrtime.bigint() - t0) / (TRADES - 1);
      if (r === 0) return;
      const s = stats[i];
      s.perTrade = Math.min(s.perTrade, per);
      s.p50 = Math.min(s.p50, pct(lat, 0.5));
      s.p99 = Math.min(s.p99, pct(lat, 0.99));
    });
  }
  const [off, on] = stats;
  printTable(`(2) live trade path (CandleSynthesizer.add + bus.publish('trade') to MarketCache), with and without ${ALERTS.toLocaleString('en-US')} alerts`, ['case', 'per trade (loop)', 'median (timed)', 'p99 (timed)', 'ratio'], [
    ['no alerts', ns(off.perTrade), ns(off.p50), ns(off.p99), '1.00×'],
    [`${ALERTS.toLocaleString('en-US')} price alerts`, ns(on.perTrade), ns(on.p50), ns(on.p99), `${(on.perTrade / off.perTrade).toFixed(2)}×`],
  ]);
  console.log(`Added latency per trade: ${ns(on.perTrade - off.perTrade)} (loop), ${ns(on.p99 - off.p99)} at p99 (timed trades include ~${ns(off.p50 - off.perTrade)} of clock reads). At 1k trades/s that is ${(((on.perTrade - off.perTrade) * 1000) / 1e6).toFixed(4)} % of one core.\n`);
}

// ------------------------------------------------------------------ (3) scaling
{
  const near = alertSet(100, 11, 0, 0.003); // where the walk goes: these fire
  const farCounts = [0, 900, 9_900, 99_900];
  const sets = farCounts.map((n, i) => [...near, ...alertSet(n, 200 + i, 0.02, 0.1)]);
  const loop = (bus) => {
    bus.publish('trade', trades[0]);
    return () => {
      for (let i = 1; i < trades.length; i++) bus.publish('trade', trades[i]);
    };
  };
  const filing = [];
  const fired = sets.map((set) => {
    const bus = new Bus();
    let n = 0;
    bus.subscribe('alert.fired', () => n++);
    engineWith(set, bus);
    const t0 = process.hrtime.bigint();
    bus.publish('trade', trades[0]);
    filing.push(Number(process.hrtime.bigint() - t0) / 1e6);
    for (let i = 1; i < trades.length; i++) bus.publish('trade', trades[i]);
    return n;
  });
  const res = best([
    { setup: () => loop(new Bus()), count: TRADES - 1 },
    ...sets.map((set) => ({
      setup: () => {
        const bus = new Bus();
        engineWith(set, bus);
        return loop(bus);
      },
      count: TRADES - 1,
    })),
  ]);
  const bare = res[0];
  const base = res[1] - bare;
  printTable(
    '(3) AlertEngine cost per trade: 100 alerts near the price, plus alerts 2–10 % away that cannot fire',
    ['alerts (near + far)', 'firings', 'per trade', 'vs 100', 'first trade (files them)'],
    farCounts.map((n, i) => [
      `${(100 + n).toLocaleString('en-US')} (100 + ${n.toLocaleString('en-US')})`,
      fired[i].toLocaleString('en-US'),
      ns(res[i + 1] - bare),
      `${((res[i + 1] - bare) / base).toFixed(2)}×`,
      `${filing[i].toFixed(2)} ms`,
    ]),
  );
}

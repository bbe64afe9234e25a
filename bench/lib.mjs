/** What every benchmark shares: seeded data, timing rounds and the ratio tables. */
import { Rng } from '../dist/src/engine/market/replay/generator.js';

/** A seeded uniform [0, 1) source, so every run measures the same data. */
export function prng(seed) {
  const r = new Rng(seed);
  return () => r.next();
}

/** Runs fn once; returns its throughput for `count` items and what it returned. */
export function rate(count, fn) {
  const t0 = process.hrtime.bigint();
  const sink = fn();
  const ns = Number(process.hrtime.bigint() - t0);
  return { perSec: (count / ns) * 1e9, sink };
}

export function fmtRate(x) {
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)} M/s` : `${(x / 1e3).toFixed(0)} k/s`;
}

/** Prints rows {name, rate, ratio} as a markdown table. */
export function table(title, rows) {
  const head = ['case', 'rate', 'ratio'];
  const body = rows.map((r) => [r.name, fmtRate(r.rate), r.ratio]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  console.log(title);
  console.log(`| ${head.map((h, i) => h.padEnd(w[i])).join(' | ')} |`);
  console.log(`|${w.map((x, i) => (i === 0 ? '-'.repeat(x + 2) : '-'.repeat(x + 1) + ':')).join('|')}|`);
  for (const b of body) console.log(`| ${b.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ')} |`);
  console.log('');
}

/**
 * Times every case `n` rounds after a warm-up round, interleaved so load on the machine hits
 * all cases alike; returns each case's best rate (other processes only ever make a round slower).
 */
export function rounds(cases, n) {
  const rates = cases.map(() => []);
  for (let r = 0; r < n + 1; r++) {
    cases.forEach((c, i) => {
      const { perSec } = rate(c.count, c.fn);
      if (r > 0) rates[i].push(perSec);
    });
  }
  return rates.map((xs) => Math.max(...xs));
}

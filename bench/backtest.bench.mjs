#!/usr/bin/env node
// Candle backtest benchmark. Imports the build output (dist/): run `npm run build` first.
//
// One year of 1m candles (525,600, a seeded BTCUSDT-like random walk on the 0.01 tick), the same
// SMA cross (fast 10, slow 30, long only, enter on the cross up, exit on the cross down, orders at
// the next candle's open) through:
//  (a) qtrade `runBacktest({ candles })` with the built-in `sma-cross`: the StrategyRunner, the
//      PaperEngine (filters, balances, locks, fees, fills) behind the synthetic book, four prints per
//      candle, equity marks and the metrics report: the full order simulation;
//  (b) grademark 0.3 `backtest(strategy, dataFrame)`, SMAs prepared with data-forge (rollingWindow →
//      average, what data-forge-indicators' `sma` does), cross rules on a 2-bar lookback;
//  (c) a bare loop over Float64Arrays: running sums, the cross and a float cash/position (the limit).
// Each library gets the candles in its own input type, built once, untimed. Candles per second,
// best of several interleaved rounds, and the trade counts of each (they must be in the same
// ballpark, or the comparison is void).
import dataForge from 'data-forge';
import grademark from 'grademark';
import { bundledMarket } from '../dist/src/engine/orders/bundled-filters.js';
import { parseAmount } from '../dist/src/engine/orders/amounts.js';
import { runBacktest } from '../dist/src/engine/strategy/backtest.js';
import { smaCross } from '../dist/src/engine/strategy/builtins/index.js';
import { fmtRate, prng } from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const N = Number(process.env.BENCH_CANDLES ?? 525_600);
const FAST = 10;
const SLOW = 30;
const SIZE = 0.95;

const inst = bundledMarket().instruments.get('BTCUSDT');

/** 1m candles of a random walk: 0.01 tick, ~±$10 per minute, wicks past open/close, volume on the lot step. */
function makeCandles(n, seed) {
  const r = prng(seed);
  const t0 = 1_704_067_200_000; // 2024-01-01
  let price = 4_250_000; // 42,500.00
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const open = price;
    const close = Math.max(100, open + Math.round((r() - 0.5) * 2000));
    const high = Math.max(open, close) + Math.round(r() * 600);
    const low = Math.max(1, Math.min(open, close) - Math.round(r() * 600));
    const volume = BigInt(1 + Math.floor(r() * r() * 5_000_000)); // qtyScale 5: up to 50 BTC
    const trades = 1 + Math.floor(r() * 900);
    const openTime = t0 + i * 60_000;
    out[i] = {
      symbol: 'BTCUSDT',
      interval: '1m',
      priceScale: inst.priceScale,
      qtyScale: inst.qtyScale,
      openTime,
      closeTime: openTime + 59_999,
      open,
      high,
      low,
      close,
      volume,
      quoteVolume: volume * BigInt(close),
      trades,
      takerBuyVolume: volume / 2n,
      takerBuyQuoteVolume: (volume / 2n) * BigInt(close),
      firstTradeId: i * 1000,
      lastTradeId: i * 1000 + trades - 1,
      closed: true,
    };
    price = close;
  }
  return out;
}

const candles = makeCandles(N, 'backtest-bench');
const pMul = 10 ** inst.priceScale;

// ---------------------------------------------------------------- (a) qtrade
async function qtrade() {
  const r = await runBacktest({
    strategy: smaCross,
    params: { fast: FAST, slow: SLOW, size: SIZE },
    symbol: 'BTCUSDT',
    candles,
    // Fee-free like grademark and the bare loop: at 0.1 % a side ~10,000 round trips on a random walk
    // would take the account under the 10 USDT minimum half way through the year, and it stops trading.
    fees: { maker: '0', taker: '0' },
    initialBalances: { USDT: parseAmount('100000') },
  });
  if (r.error) throw new Error(`qtrade backtest paused: ${r.error.message}`);
  // A round trip is a buy then a sell; the last one may still be open (grademark closes it as "finalize").
  const buys = r.fills.filter((f) => f.side === 'BUY').length;
  return { trades: buys, fills: r.fills.length, candles: r.candles };
}

// ---------------------------------------------------------------- (b) grademark
const bars = new dataForge.DataFrame(
  candles.map((c) => ({ time: new Date(c.openTime), open: c.open / pMul, high: c.high / pMul, low: c.low / pMul, close: c.close / pMul, volume: Number(c.volume) / 1e5 })),
);
// data-forge-indicators' `sma`, written out (that package is not installed).
const sma = (closes, n) =>
  closes
    .rollingWindow(n)
    .select((w) => [w.getIndex().last(), w.average()])
    .withIndex((p) => p[0])
    .select((p) => p[1]);
const gmStrategy = {
  lookbackPeriod: 3,
  prepIndicators: ({ inputSeries }) => {
    const closes = inputSeries.getSeries('close');
    return inputSeries.withSeries('fast', sma(closes, FAST)).withSeries('slow', sma(closes, SLOW)).skip(SLOW - 1);
  },
  entryRule: (enter, { lookback }) => {
    const [p2, prev, bar] = lookback.toArray();
    if (bar.fast <= bar.slow) return;
    // The cross on this bar, or on the previous one still holding: grademark runs no rule on the
    // bar it exits on, so a cross there would otherwise be lost (qtrade buys on it).
    if (prev.fast <= prev.slow || p2.fast <= p2.slow) enter();
  },
  exitRule: (exit, { bar }) => {
    // Level, not edge: grademark skips the rules on the bar it enters on, so an edge there would be lost.
    if (bar.fast <= bar.slow) exit();
  },
};
function grademarkRun() {
  return { trades: grademark.backtest(gmStrategy, bars).length };
}

// ---------------------------------------------------------------- (c) bare loop
const open = Float64Array.from(candles, (c) => c.open / pMul);
const close = Float64Array.from(candles, (c) => c.close / pMul);
function bare() {
  let sf = 0;
  let ss = 0;
  let cash = 100_000;
  let qty = 0;
  let was = -1; // -1 unknown, 0 below, 1 above
  let pending = 0; // 1 buy, 2 sell at the next open
  let trades = 0;
  for (let i = 0; i < N; i++) {
    const px = open[i];
    if (pending === 1) {
      qty = (cash * SIZE) / px;
      cash -= qty * px;
      trades++;
    } else if (pending === 2) {
      cash += qty * px;
      qty = 0;
    }
    pending = 0;
    const c = close[i];
    sf += c;
    ss += c;
    if (i >= FAST) sf -= close[i - FAST];
    if (i >= SLOW) ss -= close[i - SLOW];
    if (i < SLOW - 1) continue;
    const above = sf / FAST > ss / SLOW ? 1 : 0;
    if (was !== -1 && was !== above) pending = above ? (qty === 0 ? 1 : 0) : qty > 0 ? 2 : 0;
    was = above;
  }
  return { trades, equity: cash + qty * close[N - 1] };
}

// ---------------------------------------------------------------- timing
const cases = [
  { name: `qtrade runBacktest, sma-cross ${FAST}/${SLOW}, full order simulation`, fn: qtrade },
  { name: `grademark 0.3 backtest + data-forge SMA ${FAST}/${SLOW}`, fn: grademarkRun },
  { name: 'bare loop: running sums + cross + float position (limit)', fn: bare },
];
const best = cases.map(() => 0);
const out = cases.map(() => undefined);
for (let r = 0; r <= ROUNDS; r++) {
  for (let i = 0; i < cases.length; i++) {
    const t0 = process.hrtime.bigint();
    out[i] = await cases[i].fn();
    const ns = Number(process.hrtime.bigint() - t0);
    if (r > 0) best[i] = Math.max(best[i], (N / ns) * 1e9);
  }
}

const [q, g] = best;
const rows = cases.map((c, i) => [c.name, fmtRate(best[i]), `${(best[i] / g).toFixed(2)}×`, `${(best[i] / q).toFixed(2)}×`, out[i].trades.toLocaleString('en-US')]);
const head = ['case', 'candles', 'vs grademark', 'vs qtrade', 'trades'];
const w = head.map((h, i) => Math.max(h.length, ...rows.map((b) => b[i].length)));
console.log(`${N.toLocaleString('en-US')} 1m candles, SMA cross ${FAST}/${SLOW}, best of ${ROUNDS} rounds, one core\n`);
console.log(`| ${head.map((h, i) => h.padEnd(w[i])).join(' | ')} |`);
console.log(`|${w.map((x, i) => (i === 0 ? '-'.repeat(x + 2) : '-'.repeat(x + 1) + ':')).join('|')}|`);
for (const b of rows) console.log(`| ${b.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ')} |`);
console.log('');
console.log(`qtrade: ${out[0].candles.toLocaleString('en-US')} candles, ${out[0].fills.toLocaleString('en-US')} fills; trades = entries (round trips, the last may be open)`);
console.log(`qtrade ${(q / 1e6).toFixed(2)} M candles/s (target ≥ 2 M/s): ${q >= 2e6 ? 'met' : 'NOT met'}; ${(q / g).toFixed(1)}× grademark (target ≥ 20×): ${q / g >= 20 ? 'met' : 'NOT met'}; ${((q / best[2]) * 100).toFixed(1)} % of the bare loop`);

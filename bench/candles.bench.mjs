#!/usr/bin/env node
// Candle synthesis benchmarks. Imports the build output (dist/): run `npm run build` first.
//
// (1) raw aggTrade frames (combined-stream text, as received) → decodeFrame → CandleSynthesizer →
//     closed 1m candles, against a loop that only JSON.parses the same frames. Target ≥ 70 %.
// (2) 1M pre-parsed trades → 1m candles: CandleSynthesizer (exact) against ccxt's buildOHLCVC
//     (floats) on the same trades, each library's parsed form of the same raw aggTrades, checking
//     both give the same OHLCV. Target ≥ 10×. ccxt on bare 3-field objects and a plain float loop
//     are shown as references.
//
// Every case runs several rounds, interleaved with the others; the table shows each case's best round
// (the least disturbed by other processes on the machine), and the ratios of those.
import ccxt from 'ccxt';
import { CandleSynthesizer } from '../dist/src/engine/candles/synthesizer.js';
import { parseFixed } from '../dist/src/engine/fixed.js';
import { decodeFrame } from '../dist/src/engine/market/binance/parse.js';
import { bundledInstruments } from '../dist/src/engine/market/bundled-instruments.js';
import { prng, rounds, table } from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const timeRounds = (cases) => rounds(cases, ROUNDS);
const FRAMES = Number(process.env.BENCH_FRAMES ?? 300_000);
const TRADES = Number(process.env.BENCH_TRADES ?? 1_000_000);


/**
 * A BTCUSDT-like tape: price random walk on a 0.01 tick, quantities on a 0.00001 step with a
 * heavy tail, bursts of trades in the same millisecond, quiet gaps, 1–3 raw trades per aggTrade.
 */
function tape(n, seed, { single = false, qtyScale = 5 } = {}) {
  const qf = 10 ** (qtyScale - 5);
  const r = prng(seed);
  const out = [];
  let time = Date.parse('2024-08-08T23:54:14Z');
  let price = 6_183_763; // 61837.63
  let id = 3_100_000_000;
  let tid = 3_735_683_259;
  for (let i = 0; i < n; i++) {
    const u = r();
    time += u < 0.4 ? 0 : u < 0.97 ? Math.floor(r() * 60) : Math.floor(r() * 5000);
    price += Math.round((r() - 0.5) * 6);
    const qty = (r() < 0.9 ? 1 + Math.floor(r() * 2000) : 1 + Math.floor(r() * 200_000)) * qf; // 0.00001 step
    const k = single ? 1 : 1 + Math.floor(r() * r() * 3);
    out.push({ id: id++, price, qty, firstId: tid, lastId: tid + k - 1, time, buyerMaker: r() < 0.5 });
    tid += k;
  }
  return out;
}

function dec8(raw, scale) {
  const s = String(raw).padStart(scale + 1, '0');
  return `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale).padEnd(8, '0')}`;
}

function frames(n) {
  return tape(n, 42).map(
    (t) =>
      `{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":${t.time + 1},"s":"BTCUSDT","a":${t.id},"p":"${dec8(t.price, 2)}","q":"${dec8(t.qty, 5)}","f":${t.firstId},"l":${t.lastId},"T":${t.time},"m":${t.buyerMaker},"M":true}}`,
  );
}

// ---------------------------------------------------------------- (1) frames → candles
{
  const instruments = bundledInstruments();
  const btc = instruments.get('BTCUSDT');
  const fs = frames(FRAMES);
  let closed = 0;
  const parseOnly = () => {
    let s = 0;
    for (let i = 0; i < fs.length; i++) s += JSON.parse(fs[i]).data.a;
    return s;
  };
  const pipeline = () => {
    const synth = new CandleSynthesizer({ instrument: btc, onClosed: () => void closed++ });
    for (let i = 0; i < fs.length; i++) {
      const ev = decodeFrame(fs[i], instruments);
      if (ev !== null && ev.kind === 'trade') synth.add(ev.trade);
    }
    synth.flush();
    return synth;
  };
  const [parse, ours] = timeRounds([
    { count: fs.length, fn: parseOnly },
    { count: fs.length, fn: pipeline },
  ]);
  const pct = (ours / parse) * 100;
  table(`(1) ${FRAMES.toLocaleString('en')} aggTrade frames → closed 1m candles, one core`, [
    { name: 'JSON.parse only (floor)', rate: parse, ratio: '100 %' },
    { name: 'decodeFrame → CandleSynthesizer', rate: ours, ratio: `${pct.toFixed(0)} %` },
  ]);
  console.log(`target ≥ 70 % of JSON.parse-only: ${pct >= 70 ? 'met' : 'NOT MET'} (${pct.toFixed(1)} %)\n`);
}

// ---------------------------------------------------------------- (2) trades → candles vs ccxt
{
  const btc = bundledInstruments().get('BTCUSDT');
  // The same 1M aggTrades as Binance's REST /api/v3/aggTrades returns them, parsed once by each
  // library into its own trade type: ours with parseFixed, ccxt with binance.parseTrade (its
  // unified trade structure, what fetchTrades hands a ccxt user). Parsing is not timed.
  const raw = tape(TRADES, 7, { single: true }).map((t) => ({
    a: t.id,
    p: dec8(t.price, 2),
    q: dec8(t.qty, 5),
    f: t.firstId,
    l: t.lastId,
    T: t.time,
    m: t.buyerMaker,
    M: true,
  }));
  const trades = raw.map((r) => ({
    symbol: 'BTCUSDT',
    id: r.a,
    price: parseFixed(r.p, btc.priceScale),
    qty: parseFixed(r.q, btc.qtyScale),
    firstId: r.f,
    lastId: r.l,
    time: r.T,
    buyerMaker: r.m,
  }));
  const binance = new ccxt.binance();
  const market = { id: 'BTCUSDT', symbol: 'BTC/USDT', base: 'BTC', quote: 'USDT', type: 'spot', spot: true };
  const unified = raw.map((r) => binance.parseTrade(r, market));
  // ccxt's best case: bare {timestamp, price, amount} objects, all buildOHLCVC reads.
  const bare = unified.map((t) => ({ timestamp: t.timestamp, price: t.price, amount: t.amount }));
  const pf = 10 ** btc.priceScale;
  const qf = 10 ** btc.qtyScale;

  const ours = () => {
    const out = [];
    const synth = new CandleSynthesizer({ instrument: btc, onClosed: (c) => void out.push(c) });
    synth.addMany(trades);
    synth.flush();
    return out;
  };
  const oursOneByOne = () => {
    const out = [];
    const synth = new CandleSynthesizer({ instrument: btc, onClosed: (c) => void out.push(c) });
    for (let i = 0; i < trades.length; i++) synth.add(trades[i]);
    synth.flush();
    return out;
  };
  const theirs = () => binance.buildOHLCVC(unified, '1m');
  const theirsBare = () => binance.buildOHLCVC(bare, '1m');
  const floats = () => {
    const out = [];
    let cur;
    for (let i = 0; i < bare.length; i++) {
      const t = bare[i];
      const open = t.timestamp - (t.timestamp % 60000);
      if (cur === undefined || cur[0] !== open) {
        cur = [open, t.price, t.price, t.price, t.price, t.amount, 1];
        out.push(cur);
      } else {
        if (t.price > cur[2]) cur[2] = t.price;
        if (t.price < cur[3]) cur[3] = t.price;
        cur[4] = t.price;
        cur[5] += t.amount;
        cur[6]++;
      }
    }
    return out;
  };

  // Same candles? ccxt skips minutes without trades; Binance (and we) keep them with zero volume.
  const a = ours().filter((c) => c.trades > 0);
  const same = JSON.stringify(oursOneByOne(), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
  if (same !== JSON.stringify(ours(), (_k, v) => (typeof v === 'bigint' ? String(v) : v))) throw new Error('addMany and add disagree');
  let maxRel = 0;
  for (const b of [theirs(), theirsBare()]) {
    if (a.length !== b.length) throw new Error(`candle counts differ: ours ${a.length}, ccxt ${b.length}`);
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      const y = b[i];
      const ohlc = [x.openTime, x.open / pf, x.high / pf, x.low / pf, x.close / pf, x.trades];
      const want = [y[0], y[1], y[2], y[3], y[4], y[6]];
      if (ohlc.some((v, j) => v !== want[j])) throw new Error(`candle ${i} differs: ours ${ohlc}, ccxt ${want}`);
      const vol = Number(x.volume) / qf;
      maxRel = Math.max(maxRel, Math.abs(vol - y[5]) / vol);
    }
  }
  if (maxRel > 1e-9) throw new Error(`volumes differ by ${maxRel}`);

  const [o, o1, c, cb, f] = timeRounds([
    { count: trades.length, fn: ours },
    { count: trades.length, fn: oursOneByOne },
    { count: trades.length, fn: theirs },
    { count: trades.length, fn: theirsBare },
    { count: trades.length, fn: floats },
  ]);
  table(`(2) ${TRADES.toLocaleString('en')} pre-parsed trades → ${a.length.toLocaleString('en')} 1m candles, one core`, [
    { name: 'ccxt buildOHLCVC, ccxt unified trades', rate: c, ratio: '1.0×' },
    { name: 'CandleSynthesizer.addMany, our Trades (exact)', rate: o, ratio: `${(o / c).toFixed(1)}×` },
    { name: 'CandleSynthesizer.add per trade (exact)', rate: o1, ratio: `${(o1 / c).toFixed(1)}×` },
    { name: 'ccxt buildOHLCVC, bare {timestamp,price,amount}', rate: cb, ratio: `${(cb / c).toFixed(1)}×` },
    { name: 'plain float loop on bare objects (reference)', rate: f, ratio: `${(f / c).toFixed(1)}×` },
  ]);
  console.log(
    `same OHLC and trade counts on all ${a.length} candles; volumes equal up to ccxt's float rounding (max relative difference ${maxRel.toExponential(1)})`,
  );
  console.log(`target ≥ 10× ccxt: ${o / c >= 10 ? 'met' : 'NOT MET'} (${(o / c).toFixed(1)}× on ccxt's own trades, ${(o / cb).toFixed(1)}× on bare objects)`);
}

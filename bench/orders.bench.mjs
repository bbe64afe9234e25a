#!/usr/bin/env node
// Paper order engine throughput. Imports the build output (dist/): run `npm run build` first.
//
// One deterministic order stream (limit GTC both sides, some crossing; market orders; cancels of
// older orders) is run through:
//   - qtrade's PaperEngine: parameter + exchange filter checks (real BTCUSDT filters), balance locks,
//     matching against a LocalOrderBook and prints, every event and ledger entry (no persistence);
//     market data (a trade print every 4 orders, a book update every 20) is fed in but not counted;
//   - nodejs-order-book's OrderBook add/match/cancel on the same orders (floats, no balances, no
//     filters, no events), matching the stream's orders against each other.
//   - qtrade's durable OrderService: the same PaperEngine work plus every event encoded and appended to a
//     SQLite WAL event log before the call resolves (group commit: the stream is issued in windows of
//     BENCH_WINDOW calls, and a window is issued while the previous one waits for its commit, as
//     concurrent clients would; cancels name their order by clientOrderId), with synchronous=NORMAL
//     (default: survives kill -9) and FULL (fsync per commit: survives power loss).
//   - the headline: OrderService + RiskEngine. Every new order first passes riskPreTrade (every rule
//     enabled: order rate, open orders, price band, order notional, position qty and notional, daily
//     loss, all set loose enough that the stream passes them), the risk engine is fed every durable fill
//     from the bus (its realized PnL), and the SQLite writes run on the store's writer thread
//     (SqliteStore eventWriter: 'thread'), so a batch commits while the next one is computed, and WAL
//     checkpoints run on a thread of their own (checkpoints: 'background', as the daemon's store). A call
//     still resolves only after its batch committed.
//     Each round writes a fresh database in the OS temp dir; opening it is not timed. A last line times
//     rebuilding the account from the log that round wrote (OrderService.open).
// On Linux the main thread's CPU time per order is printed too: on a shared machine a row's wall time
// also counts the time the thread waited for a CPU, its CPU time does not.
// The stream cancels the oldest order to stay under MAX_NUM_ORDERS, so almost every order is accepted.
// Each case runs several rounds interleaved; the table shows each case's best round. Target ≥ 100k orders/s.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { OrderBook } from 'nodejs-order-book';
import { LocalOrderBook } from '../dist/src/engine/market/orderbook.js';
import { PaperEngine, bundledMarket, parseAmount } from '../dist/src/engine/orders/index.js';
import { OrderService } from '../dist/src/engine/orders/service.js';
import { SqliteStore } from '../dist/src/engine/store/sqlite.js';
import { RiskEngine, emptyLimits, riskPreTrade, setLimit } from '../dist/src/engine/risk/index.js';
import { Bus } from '../dist/src/engine/bus.js';
import { prng } from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const ORDERS = Number(process.env.BENCH_ORDERS ?? 200_000);
const DURABLE_ROUNDS = Number(process.env.BENCH_DURABLE_ROUNDS ?? 3);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 512);
const T0 = Date.parse('2024-08-08T12:00:00Z');
const MID = 6_000_000; // 60000.00 at priceScale 2

/** ops: {k:'limit'|'market'|'cancel', side, qty (raw, 8 dp), price (raw, 2 dp), target} plus market data. */
function stream(n, seed) {
  const r = prng(seed);
  const ops = [];
  const resting = [];
  let mid = MID;
  for (let i = 0; i < n; i++) {
    mid += Math.round((r() - 0.5) * 4);
    const side = r() < 0.5 ? 'BUY' : 'SELL';
    const qty = (1 + Math.floor(r() * 500)) * 100_000; // 0.001 .. 0.5 BTC
    const u = r();
    // Cancel the oldest order once ~120 could be resting (Binance allows 200 per symbol).
    if (resting.length > 120 && (i % 3 === 2 || resting.length > 150)) ops.push({ k: 'cancel', target: resting.shift() });
    else if (u < 0.25) ops.push({ k: 'market', side, qty });
    else {
      const off = Math.floor(r() * 40) - 8; // mostly passive, some crossing
      ops.push({ k: 'limit', side, qty, price: side === 'BUY' ? mid - off : mid + off, id: i });
      resting.push(i);
    }
    if (i % 4 === 3) ops.push({ k: 'trade', price: mid + Math.round((r() - 0.5) * 30), qty: (1 + Math.floor(r() * 300)) * 100_000, buyerMaker: r() < 0.5 });
    if (i % 20 === 19) ops.push({ k: 'book', mid });
  }
  return ops;
}

function bookAt(mid, id) {
  const b = new LocalOrderBook('BTCUSDT');
  const asks = [];
  const bids = [];
  for (let i = 0; i < 20; i++) {
    asks.push({ price: mid + 1 + i, qty: 200_000_000 });
    bids.push({ price: mid - 1 - i, qty: 200_000_000 });
  }
  b.applySnapshot({ symbol: 'BTCUSDT', lastUpdateId: id, asks, bids });
  return b;
}

const { instruments, filters } = bundledMarket();
const ops = stream(ORDERS, 11);
const books = new Map();
for (const op of ops) if (op.k === 'book' && !books.has(op.mid)) books.set(op.mid, bookAt(op.mid, books.size + 1));
const orderCount = ops.filter((o) => o.k !== 'trade' && o.k !== 'book').length;

let stats;
function ours() {
  const e = new PaperEngine({ instruments: instruments.all(), filters, initialBalances: { USDT: parseAmount('1000000000000'), BTC: parseAmount('10000000') } });
  e.onBook(bookAt(MID, 0));
  e.onTrade({ symbol: 'BTCUSDT', id: 0, price: MID, qty: 100_000, firstId: 0, lastId: 0, time: T0, buyerMaker: false });
  const ids = new Array(ORDERS);
  let events = 0;
  let accepted = 0;
  let rejected = 0;
  let fills = 0;
  let t = T0;
  let tid = 1;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    t += 1;
    switch (op.k) {
      case 'limit': {
        const r = e.submit({ symbol: 'BTCUSDT', side: op.side, type: 'LIMIT', timeInForce: 'GTC', qty: op.qty, price: op.price }, t);
        events += r.events.length;
        fills += r.fills.length;
        if (r.ok) {
          accepted++;
          ids[op.id] = r.order.orderId;
        } else rejected++;
        break;
      }
      case 'market': {
        const r = e.submit({ symbol: 'BTCUSDT', side: op.side, type: 'MARKET', qty: op.qty }, t);
        events += r.events.length;
        fills += r.fills.length;
        if (r.ok) accepted++;
        else rejected++;
        break;
      }
      case 'cancel': {
        const id = ids[op.target];
        if (id !== undefined) events += e.cancel('BTCUSDT', { orderId: id }, t).events.length;
        break;
      }
      case 'trade':
        events += e.onTrade({ symbol: 'BTCUSDT', id: tid, price: op.price, qty: op.qty, firstId: tid, lastId: tid++, time: t, buyerMaker: op.buyerMaker }).length;
        break;
      case 'book':
        e.onBook(books.get(op.mid));
        break;
    }
  }
  stats = { events, accepted, rejected, fills, open: e.openOrders().length };
  return e;
}

function theirs() {
  const ob = new OrderBook();
  const pf = 100;
  const qf = 1e8;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    switch (op.k) {
      case 'limit':
        ob.limit({ id: String(op.id), side: op.side === 'BUY' ? 'buy' : 'sell', size: op.qty / qf, price: op.price / pf });
        break;
      case 'market':
        ob.market({ side: op.side === 'BUY' ? 'buy' : 'sell', size: op.qty / qf });
        break;
      case 'cancel':
        ob.cancel(String(op.target));
        break;
    }
  }
  return ob;
}

/**
 * CPU time of this thread (µs; Linux /proc, undefined elsewhere). On a shared machine a case's
 * wall time also counts the time the thread waited for a CPU; its CPU time does not.
 */
function threadCpu() {
  try {
    const f = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return undefined;
  }
}
/** Lowest share of a durable round the engine's thread spent idle, waiting for its commits. */
const idleShare = {};
/** Lowest main-thread CPU per order seen for a case (µs). */
const cpuPerOrder = {};
function noteCpu(key, c0) {
  const c1 = threadCpu();
  if (c0 === undefined || c1 === undefined) return;
  const us = (c1 - c0) / orderCount;
  cpuPerOrder[key] = Math.min(cpuPerOrder[key] ?? Infinity, us);
}

function rate(count, fn, key) {
  const c0 = threadCpu();
  const t0 = process.hrtime.bigint();
  fn();
  const ns = Number(process.hrtime.bigint() - t0);
  if (key) noteCpu(key, c0);
  return (count / ns) * 1e9;
}

const INITIAL = { USDT: parseAmount('1000000000000'), BTC: parseAmount('10000000') };
const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'qtrade-bench-orders-'));
process.on('exit', () => rmSync(tmpRoot, { recursive: true, force: true }));
let dbSeq = 0;
let durableStats;
let lastDb;

/** Every rule on, each loose enough for this stream: the checks all run, almost nothing is refused. */
function riskLimits() {
  let l = emptyLimits();
  l = setLimit(l, 'maxOrderNotional', '1000000');
  l = setLimit(l, 'maxPositionNotional', '100000000000');
  l = setLimit(l, 'maxPositionQty', '1000000', 'BTCUSDT');
  l = setLimit(l, 'maxOpenOrders', '1000');
  l = setLimit(l, 'maxOpenOrders', '200', 'BTCUSDT');
  l = setLimit(l, 'orderRate', '1000000/1m');
  l = setLimit(l, 'orderRate', '500000/1m', 'BTCUSDT');
  l = setLimit(l, 'priceBandPct', '5');
  l = setLimit(l, 'dailyLossLimit', '1000000000');
  return l;
}

let riskStats;

/** The same stream through the durable service; resolves with orders/s (opening the store not timed). */
async function durable(synchronous, { risk = false } = {}) {
  const file = path.join(tmpRoot, `paper-${++dbSeq}.db`);
  // The headline's store is configured as the daemon's is for checkpoints: on a thread of their own, so a
  // commit never stalls for one (SQLite's inline checkpoint held the writer 30-70 ms every ~4 MB of log, and
  // the engine waited on it).
  const store = new SqliteStore(file, { synchronous, eventWriter: risk ? 'thread' : 'inline', checkpoints: risk ? 'background' : 'inline' });
  await store.migrate();
  let t = T0;
  let preTrade;
  let bus;
  let engine;
  let vetoes = 0;
  if (risk) {
    bus = new Bus();
    engine = new RiskEngine({ instruments: instruments.all(), limits: riskLimits() });
    bus.subscribe('fill', (f) => engine.onFill(f));
    bus.subscribe('order.rejected', (r) => {
      if (r.rule !== undefined) vetoes++;
    });
    preTrade = riskPreTrade(engine, { clock: { now: () => t }, instrument: (s) => (instruments.has(s) ? instruments.get(s) : undefined) });
  }
  const svc = await OrderService.open({ store, instruments, filters, initialBalances: INITIAL, bus, preTrade });
  svc.onBook('BTCUSDT', bookAt(MID, 0));
  await svc.onTrade({ symbol: 'BTCUSDT', id: 0, price: MID, qty: 100_000, firstId: 0, lastId: 0, time: T0, buyerMaker: false });
  let tid = 1;
  let pending = [];
  let previous;
  const elu0 = performance.eventLoopUtilization();
  const c0 = threadCpu();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    t += 1;
    switch (op.k) {
      case 'limit':
        pending.push(svc.submit({ symbol: 'BTCUSDT', side: op.side, type: 'LIMIT', timeInForce: 'GTC', qty: op.qty, price: op.price, clientOrderId: `o${op.id}` }, t));
        break;
      case 'market':
        pending.push(svc.submit({ symbol: 'BTCUSDT', side: op.side, type: 'MARKET', qty: op.qty }, t));
        break;
      case 'cancel':
        pending.push(svc.cancel('BTCUSDT', { clientOrderId: `o${op.target}` }, t));
        break;
      case 'trade':
        pending.push(svc.onTrade({ symbol: 'BTCUSDT', id: tid, price: op.price, qty: op.qty, firstId: tid, lastId: tid++, time: t, buyerMaker: op.buyerMaker }));
        break;
      case 'book':
        svc.onBook('BTCUSDT', books.get(op.mid));
        break;
    }
    if (pending.length >= WINDOW) {
      // At most two windows in flight: this one is computed while the previous one commits.
      if (previous) await previous;
      previous = Promise.all(pending);
      pending = [];
    }
  }
  if (previous) await previous;
  await Promise.all(pending);
  const ns = Number(process.hrtime.bigint() - t0);
  const elu = performance.eventLoopUtilization(elu0);
  const key = `${risk ? 'risk' : ''}${synchronous}`;
  noteCpu(key, c0);
  // Time the engine's thread waited for commits: independent of how fast the CPU runs that day.
  idleShare[key] = Math.min(idleShare[key] ?? 1, elu.idle / (elu.idle + elu.active));
  durableStats = { ...svc.stats(), seq: svc.durableSeq };
  if (risk) riskStats = { vetoes, state: engine.state };
  await svc.close();
  await store.close();
  if (lastDb) rmSync(lastDb, { force: true });
  for (const ext of ['-wal', '-shm']) rmSync(file + ext, { force: true });
  lastDb = file;
  return (orderCount / ns) * 1e9;
}

const load0 = os.loadavg()[0];
const fmt = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M/s` : `${(x / 1e3).toFixed(0)} k/s`);
const best = [0, 0];
for (let r = 0; r < ROUNDS + 1; r++) {
  const a = rate(orderCount, ours, r > 0 ? 'ours' : undefined);
  const b = rate(orderCount, theirs, r > 0 ? 'theirs' : undefined);
  if (r > 0) {
    best[0] = Math.max(best[0], a);
    best[1] = Math.max(best[1], b);
  }
}
const bestDurable = { NORMAL: 0, FULL: 0, riskNORMAL: 0, riskFULL: 0 };
for (let r = 0; r < DURABLE_ROUNDS + 1; r++) {
  for (const mode of ['NORMAL', 'FULL']) {
    for (const risk of [true, false]) {
      const x = await durable(mode, { risk });
      const k = risk ? `risk${mode}` : mode;
      if (r > 0) bestDurable[k] = Math.max(bestDurable[k], x);
    }
  }
}
// Between rounds, the same two engines without the store in the same run (for the table's ratios).
const bestAfter = [0, 0];
for (let r = 0; r < 3; r++) {
  bestAfter[0] = Math.max(bestAfter[0], rate(orderCount, ours, 'ours'));
  bestAfter[1] = Math.max(bestAfter[1], rate(orderCount, theirs, 'theirs'));
}
best[0] = Math.max(best[0], bestAfter[0]);
best[1] = Math.max(best[1], bestAfter[1]);
// Rebuild time: open the last round's log (FULL) from scratch.
const rebuildStore = new SqliteStore(lastDb);
await rebuildStore.migrate();
const rb0 = process.hrtime.bigint();
const rebuilt = await OrderService.open({ store: rebuildStore, instruments, filters });
const rebuildMs = Number(process.hrtime.bigint() - rb0) / 1e6;
const rebuiltSeq = rebuilt.durableSeq;
await rebuildStore.close();

const ratio = (x) => `${(x / best[1]).toFixed(2)}×`;
const rows = [
  ['OrderService + RiskEngine, SQLite WAL group commit (writer + checkpoint threads), synchronous=NORMAL', fmt(bestDurable.riskNORMAL), ratio(bestDurable.riskNORMAL)],
  ['OrderService + RiskEngine, SQLite WAL group commit (writer + checkpoint threads), synchronous=FULL', fmt(bestDurable.riskFULL), ratio(bestDurable.riskFULL)],
  ['nodejs-order-book add/match/cancel', fmt(best[1]), '1.00×'],
  ['qtrade PaperEngine (filters, locks, book walk, events)', fmt(best[0]), ratio(best[0])],
  ['qtrade OrderService durable: SQLite WAL, group commit, synchronous=NORMAL', fmt(bestDurable.NORMAL), ratio(bestDurable.NORMAL)],
  ['qtrade OrderService durable: SQLite WAL, group commit, synchronous=FULL', fmt(bestDurable.FULL), ratio(bestDurable.FULL)],
];
const w = [0, 1, 2].map((i) => Math.max(...rows.map((x) => x[i].length), ['case', 'orders', 'ratio'][i].length));
console.log(`${orderCount.toLocaleString('en')} orders (limit GTC / market / cancel), BTCUSDT, one core`);
console.log(`| ${'case'.padEnd(w[0])} | ${'orders'.padStart(w[1])} | ${'ratio'.padStart(w[2])} |`);
console.log(`|${'-'.repeat(w[0] + 2)}|${'-'.repeat(w[1] + 1)}:|${'-'.repeat(w[2] + 1)}:|`);
for (const x of rows) console.log(`| ${x[0].padEnd(w[0])} | ${x[1].padStart(w[1])} | ${x[2].padStart(w[2])} |`);
console.log(
  `\nqtrade per run: ${stats.accepted.toLocaleString('en')} accepted, ${stats.rejected.toLocaleString('en')} rejected by filters/balance, ` +
    `${stats.fills.toLocaleString('en')} taker fills, ${stats.events.toLocaleString('en')} events, ${stats.open} open at the end`,
);
console.log(
  `durable per run: ${durableStats.seq.toLocaleString('en')} events in ${durableStats.batches.toLocaleString('en')} transactions ` +
    `(window ${WINDOW} calls, largest ${durableStats.maxBatchEvents.toLocaleString('en')} events); every call resolved only after its commit`,
);
console.log(`rebuild from the log (OrderService.open): ${rebuiltSeq.toLocaleString('en')} events in ${rebuildMs.toFixed(0)} ms`);
if (cpuPerOrder.riskNORMAL !== undefined) {
  const c = (k) => `${cpuPerOrder[k].toFixed(2)} µs`;
  console.log(
    `main-thread CPU per order (lowest round; the writer thread's work not included): headline ${c('riskNORMAL')} (FULL ${c('riskFULL')}), ` +
      `PaperEngine ${c('ours')}, nodejs-order-book ${c('theirs')} (the headline takes ${(cpuPerOrder.riskNORMAL / cpuPerOrder.theirs).toFixed(1)}× its CPU)`,
  );
}
if (idleShare.riskNORMAL !== undefined) {
  const pct = (k) => `${(idleShare[k] * 100).toFixed(0)} %`;
  console.log(
    `engine thread idle, waiting for commits (lowest round): headline ${pct('riskNORMAL')} (FULL ${pct('riskFULL')}), ` +
      `OrderService alone ${pct('NORMAL')} (FULL ${pct('FULL')})`,
  );
}
console.log(`risk per run: ${riskStats.vetoes.toLocaleString('en')} orders refused by a risk rule, state ${riskStats.state} at the end`);
console.log(
  `target ≥ 100k orders/s with risk checks, matching and durable persistence: ${bestDurable.riskNORMAL >= 100_000 ? 'met' : 'NOT MET'} ` +
    `(${fmt(bestDurable.riskNORMAL)}; synchronous=FULL ${fmt(bestDurable.riskFULL)})`,
);
console.log(`load average (1 min) at the start ${load0.toFixed(1)}, at the end ${os.loadavg()[0].toFixed(1)}, on ${os.cpus().length} CPUs`);

#!/usr/bin/env node
// Floods a durable paper account with orders, for test/orders-crash.test.ts (which kill -9s it).
// Runs the build output: `npm run build` first (npm test does).
//
//   node test/helpers/order-flood.mjs <sqlite file> <data dir> [orders=10000] [seed=7] [slowAfter=3000]
//
// Takes the account's writer lock in <data dir>, opens the service on the SQLite file, and runs a
// seeded stream of limit (GTC and IOC), market and cancel orders, with trade prints that fill
// resting orders and book refreshes. Each line goes to stdout as soon as its call resolved, i.e.
// once its events are durable (stdout to a pipe is synchronous on Linux, so a printed line has
// left the process before the next call):
//   READY <pid>
//   A <orderId> <clientOrderId>              order accepted
//   R <clientOrderId> <code>                 order rejected by the engine (logged too)
//   C <orderId>                              cancel acknowledged
//   F <tradeId> <orderId> <qty> <price>      fill (from a submit or from a trade print)
//   DONE <acks>
// After `slowAfter` acknowledgements it continues in small groups with short pauses, so a test that
// kills it after a few thousand acknowledgements reliably does so while it is still flooding.
import { LocalOrderBook } from '../../dist/src/engine/market/orderbook.js';
import { Rng } from '../../dist/src/engine/market/replay/generator.js';
import { bundledMarket } from '../../dist/src/engine/orders/bundled-filters.js';
import { parseAmount } from '../../dist/src/engine/orders/amounts.js';
import { OrderService } from '../../dist/src/engine/orders/service.js';
import { acquireAccountLock } from '../../dist/src/engine/store/lock.js';
import { openStore } from '../../dist/src/engine/store/open.js';

const [file, dataDir, nArg, seedArg, slowArg] = process.argv.slice(2);
if (!file || !dataDir) {
  process.stderr.write('usage: order-flood.mjs <sqlite file> <data dir> [orders] [seed] [slowAfter]\n');
  process.exit(2);
}
const N = Number(nArg ?? 10_000);
const SLOW_AFTER = Number(slowArg ?? 3_000);
const INITIAL = { USDT: parseAmount('50000000'), BTC: parseAmount('1000') };
const T0 = Date.parse('2024-08-08T12:00:00Z');

const rng = new Rng(Number(seedArg ?? 7));
const rnd = () => rng.next();

function bookAt(mid, id) {
  const b = new LocalOrderBook('BTCUSDT');
  const asks = [];
  const bids = [];
  for (let i = 0; i < 20; i++) {
    asks.push({ price: mid + 1 + i * 50, qty: 30_000_000 + Math.floor(rnd() * 50_000_000) });
    bids.push({ price: mid - 1 - i * 50, qty: 30_000_000 + Math.floor(rnd() * 50_000_000) });
  }
  b.applySnapshot({ symbol: 'BTCUSDT', lastUpdateId: id, asks, bids });
  return b;
}

const out = (line) => process.stdout.write(line + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const lock = await acquireAccountLock({ dataDir, account: 'default' });
const store = await openStore(`sqlite:${file}`);
const { instruments, filters } = bundledMarket();
const svc = await OrderService.open({ store, instruments, filters, initialBalances: INITIAL, lock });
out(`READY ${process.pid}`);

let t = T0;
let mid = 6_000_000; // 60000.00
let tradeId = 1;
let books = 0;
let acks = 0;
const resting = [];

const printFills = (events) => {
  for (const ev of events) if (ev.kind === 'fill') out(`F ${ev.fill.tradeId} ${ev.fill.orderId} ${ev.fill.qty} ${ev.fill.price}`);
};

svc.onBook('BTCUSDT', bookAt(mid, ++books));
printFills(await svc.onTrade({ symbol: 'BTCUSDT', id: 0, price: mid, qty: 100_000, firstId: 0, lastId: 0, time: ++t, buyerMaker: false }));

function isOpen(orderId) {
  const s = svc.order({ orderId })?.status;
  return s === 'NEW' || s === 'PARTIALLY_FILLED';
}

/** Starts op i; returns its promise (which prints its lines once durable). */
function op(i) {
  mid += Math.round((rnd() - 0.5) * 200);
  const now = ++t;
  const u = rnd();
  const side = rnd() < 0.5 ? 'BUY' : 'SELL';
  const qty = (1 + Math.floor(rnd() * 50)) * 100_000; // 0.001 .. 0.05 BTC
  const clientOrderId = `f${i}`;
  const onSubmit = (r) => {
    if (r.ok && !r.duplicate) {
      acks++;
      out(`A ${r.order.orderId} ${r.order.clientOrderId}`);
      if (r.order.status === 'NEW' || r.order.status === 'PARTIALLY_FILLED') resting.push(r.order.orderId);
    } else if (!r.ok) out(`R ${clientOrderId} ${r.rejection.code}`);
    printFills(r.events);
  };
  while (resting.length > 0 && !isOpen(resting[0])) resting.shift();
  if ((u < 0.2 || (u < 0.6 && resting.length > 100)) && resting.length > 0) {
    const orderId = resting.splice(Math.floor(rnd() * resting.length), 1)[0];
    return svc.cancel('BTCUSDT', { orderId }, now).then((r) => {
      if (r.ok) {
        acks++;
        out(`C ${orderId}`);
      }
    });
  }
  if (u < 0.35) return svc.submit({ symbol: 'BTCUSDT', side, type: 'MARKET', qty, clientOrderId }, now).then(onSubmit);
  const off = Math.floor(rnd() * 3000) - 500; // mostly passive, some crossing
  const price = side === 'BUY' ? mid - off : mid + off;
  const timeInForce = u < 0.45 ? 'IOC' : 'GTC';
  return svc.submit({ symbol: 'BTCUSDT', side, type: 'LIMIT', timeInForce, price, qty, clientOrderId }, now).then(onSubmit);
}

function print(i) {
  const price = mid + Math.round((rnd() - 0.5) * 3000);
  const id = tradeId++;
  const qty = (1 + Math.floor(rnd() * 30)) * 1_000_000;
  return svc.onTrade({ symbol: 'BTCUSDT', id, price, qty, firstId: id, lastId: id, time: ++t, buyerMaker: i % 2 === 0 }).then(printFills);
}

let i = 0;
while (i < N) {
  const slow = acks >= SLOW_AFTER;
  const group = slow ? 25 : 200;
  const calls = [];
  for (let k = 0; k < group && i < N; k++, i++) {
    calls.push(op(i));
    if (i % 3 === 2) calls.push(print(i));
    if (i % 50 === 49) svc.onBook('BTCUSDT', bookAt(mid, ++books));
  }
  await Promise.all(calls);
  if (slow) await sleep(5);
}
await svc.close();
await store.close();
out(`DONE ${acks}`);

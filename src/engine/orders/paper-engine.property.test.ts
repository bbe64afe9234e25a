import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LocalOrderBook } from '../market/orderbook.js';
import { parseAmount } from './amounts.js';
import { bundledMarket } from './bundled-filters.js';
import { decodeEvent, encodeEvent, ledgerEntries, type OrderEvent } from './events.js';
import { PaperEngine } from './paper-engine.js';
import { isTerminal, type OrderRequest, type OrderType } from './types.js';

const { instruments, filters } = bundledMarket();
const MID = 6_000_000; // 60000.00
const STEP = 1000; // 0.00001 BTC
const T0 = Date.parse('2024-08-08T12:00:00Z');
const initialBalances = { USDT: parseAmount('20000'), BTC: parseAmount('0.5') };

const tick = fc.integer({ min: -300, max: 300 });
const lots = fc.integer({ min: 1, max: 3000 }).map((n) => n * 10 * STEP); // 0.0001 .. 0.3 BTC

type Op =
  | { op: 'submit'; side: 'BUY' | 'SELL'; type: OrderType; tif: 'GTC' | 'IOC' | 'FOK'; qty: number; price: number; stop: number; quote: boolean; cid: number | null }
  | { op: 'trade'; price: number; qty: number; buyerMaker: boolean }
  | { op: 'book'; shift: number; depth: number[] }
  | { op: 'cancel'; pick: number }
  | { op: 'cancelAll' }
  | { op: 'deposit'; usdt: boolean; amount: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('submit' as const),
      side: fc.constantFrom('BUY' as const, 'SELL' as const),
      type: fc.constantFrom<OrderType>('MARKET', 'LIMIT', 'LIMIT', 'LIMIT_MAKER', 'STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT'),
      tif: fc.constantFrom('GTC' as const, 'IOC' as const, 'FOK' as const),
      qty: lots,
      price: tick,
      stop: tick,
      quote: fc.boolean(),
      cid: fc.option(fc.integer({ min: 0, max: 15 })),
    }),
  },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('trade' as const), price: tick, qty: lots, buyerMaker: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('book' as const),
      shift: fc.integer({ min: -200, max: 200 }),
      depth: fc.array(fc.integer({ min: 0, max: 2_000_000 }), { minLength: 1, maxLength: 8 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ op: 'cancelAll' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('deposit' as const), usdt: fc.boolean(), amount: fc.integer({ min: 1, max: 1000 }) }) },
);

function bookAt(mid: number, depth: number[], id: number): LocalOrderBook {
  const b = new LocalOrderBook('BTCUSDT');
  b.applySnapshot({
    symbol: 'BTCUSDT',
    lastUpdateId: id,
    asks: depth.map((q, i) => ({ price: mid + 1 + i * 3, qty: q * 10 })),
    bids: depth.map((q, i) => ({ price: mid - 1 - i * 3, qty: q * 10 })),
  });
  return b;
}

function request(o: Extract<Op, { op: 'submit' }>): OrderRequest {
  const price = MID + o.price;
  const stop = MID + o.stop;
  const r: OrderRequest = { symbol: 'BTCUSDT', side: o.side, type: o.type };
  if (o.cid !== null) r.clientOrderId = `c${o.cid}`;
  switch (o.type) {
    case 'MARKET':
      if (o.quote) r.quoteOrderQty = (BigInt(o.qty) * BigInt(MID) * 10n ** 6n);
      else r.qty = o.qty;
      break;
    case 'LIMIT':
      Object.assign(r, { qty: o.qty, price, timeInForce: o.tif });
      break;
    case 'LIMIT_MAKER':
      Object.assign(r, { qty: o.qty, price });
      break;
    case 'STOP_LOSS':
    case 'TAKE_PROFIT':
      Object.assign(r, { qty: o.qty, stopPrice: stop });
      break;
    default:
      Object.assign(r, { qty: o.qty, price, stopPrice: stop, timeInForce: o.tif });
  }
  return r;
}

function check(e: PaperEngine, log: OrderEvent[]): void {
  // Balances equal the initial balances plus the ledger, exactly; nothing is ever negative.
  const sum = new Map<string, { free: bigint; locked: bigint }>();
  for (const [a, v] of Object.entries(initialBalances)) sum.set(a, { free: v, locked: 0n });
  for (const ev of log) {
    for (const entry of ledgerEntries(ev)) {
      const s = sum.get(entry.asset) ?? { free: 0n, locked: 0n };
      s.free += entry.dFree;
      s.locked += entry.dLocked;
      sum.set(entry.asset, s);
    }
  }
  for (const b of e.balances()) {
    expect(b.free >= 0n, `${b.asset} free ${b.free}`).toBe(true);
    expect(b.locked >= 0n, `${b.asset} locked ${b.locked}`).toBe(true);
    expect({ free: b.free, locked: b.locked }).toEqual(sum.get(b.asset) ?? { free: 0n, locked: 0n });
  }
  // Independently of the ledger: each asset's total is the initial balance plus deposits plus what
  // the fills moved, minus commissions. A leak in settlement or locking shows up here.
  const btc = instruments.get('BTCUSDT');
  const qm = 10n ** BigInt(16 - btc.qtyScale);
  const total = new Map<string, bigint>(Object.entries(initialBalances));
  const add = (a: string, v: bigint) => total.set(a, (total.get(a) ?? 0n) + v);
  for (const ev of log) {
    if (ev.kind === 'ledger' && ev.entry.reason === 'deposit') add(ev.entry.asset, ev.entry.dFree);
    if (ev.kind !== 'fill') continue;
    const f = ev.fill;
    const sign = f.side === 'BUY' ? 1n : -1n;
    add('BTC', sign * BigInt(f.qty) * qm);
    add('USDT', -sign * f.quoteQty);
    add(f.commissionAsset, -f.commission);
  }
  for (const b of e.balances()) expect(b.free + b.locked, `${b.asset} total`).toBe(total.get(b.asset) ?? 0n);
  // Fills never exceed the order; locked funds belong to open orders and add up.
  const filled = new Map<number, number>();
  for (const ev of log) if (ev.kind === 'fill') filled.set(ev.fill.orderId, (filled.get(ev.fill.orderId) ?? 0) + ev.fill.qty);
  const lockedByAsset = new Map<string, bigint>();
  for (const o of e.state.orders.values()) {
    expect(o.executedQty).toBeLessThanOrEqual(o.origQty);
    expect(filled.get(o.orderId) ?? 0).toBe(o.executedQty);
    expect(o.locked >= 0n).toBe(true);
    if (isTerminal(o.status)) expect(o.locked).toBe(0n);
    lockedByAsset.set(o.lockAsset, (lockedByAsset.get(o.lockAsset) ?? 0n) + o.locked);
  }
  for (const b of e.balances()) expect(b.locked).toBe(lockedByAsset.get(b.asset) ?? 0n);
}

describe('PaperEngine properties', () => {
  it('random order/trade/book sequences keep the ledger exact and the state replayable', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 5, maxLength: 80, size: 'max' }), fc.boolean(), (ops, queueModel) => {
        const e = new PaperEngine({ instruments: instruments.all(), filters, initialBalances, queueModel });
        const log: OrderEvent[] = [];
        let t = T0;
        let bookId = 1;
        e.onBook(bookAt(MID, [50_000, 100_000, 300_000], bookId++));
        log.push(...e.onTrade({ symbol: 'BTCUSDT', id: 1, price: MID, qty: STEP, firstId: 1, lastId: 1, time: t, buyerMaker: false }));
        let tradeId = 2;
        for (const op of ops) {
          t += 250;
          switch (op.op) {
            case 'submit': {
              const r = e.submit(request(op), t);
              log.push(...r.events);
              if (r.duplicate) expect(r.events).toEqual([]);
              break;
            }
            case 'trade':
              log.push(...e.onTrade({ symbol: 'BTCUSDT', id: tradeId, price: MID + op.price, qty: op.qty, firstId: tradeId, lastId: tradeId++, time: t, buyerMaker: op.buyerMaker }));
              break;
            case 'book':
              log.push(...e.onBook(bookAt(MID + op.shift, op.depth, bookId++)));
              break;
            case 'cancel': {
              const open = e.openOrders();
              if (open.length > 0) log.push(...e.cancel('BTCUSDT', { orderId: open[op.pick % open.length]!.orderId }, t).events);
              break;
            }
            case 'cancelAll':
              log.push(...e.cancelAll('BTCUSDT', t).events);
              break;
            case 'deposit':
              log.push(...e.deposit(op.usdt ? 'USDT' : 'BTC', parseAmount(String(op.amount)), t));
              break;
          }
          check(e, log);
        }
        // Rebuilt from the (serialized) log, the state is identical.
        const rebuilt = PaperEngine.fromEvents(
          { instruments: instruments.all(), filters, initialBalances },
          log.map((ev) => decodeEvent(encodeEvent(ev))),
        );
        expect(rebuilt.snapshot()).toEqual(e.snapshot());
        // Canceling everything returns every lock exactly.
        log.push(...e.cancelAll(undefined, t + 1).events);
        check(e, log);
        for (const b of e.balances()) expect(b.locked).toBe(0n);
        expect(e.openOrders()).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

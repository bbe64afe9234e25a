import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LocalOrderBook } from '../market/orderbook.js';
import { buildRiskView } from '../risk/view.js';
import { parseAmount } from './amounts.js';
import { bundledMarket } from './bundled-filters.js';
import { eventRecords } from '../store/rows.js';
import { EventEncoder, encodeEventV2 } from './event-codec.js';
import { decodeEvent, encodeEvent, type OrderEvent } from './events.js';
import { PaperEngine } from './paper-engine.js';
import type { OrderRequest, OrderType } from './types.js';

const { instruments, filters } = bundledMarket();
const MID = 6_000_000;
const STEP = 1000;
const T0 = Date.parse('2024-08-08T12:00:00Z');
const initialBalances = { USDT: parseAmount('20000'), BTC: parseAmount('0.5') };

type Op =
  | { op: 'submit'; side: 'BUY' | 'SELL'; type: OrderType; tif: 'GTC' | 'IOC' | 'FOK'; qty: number; price: number; stop: number; quote: boolean; cid: string | null }
  | { op: 'trade'; price: number; qty: number; buyerMaker: boolean }
  | { op: 'cancel'; pick: number }
  | { op: 'deposit'; amount: number };

const tick = fc.integer({ min: -300, max: 300 });
const lots = fc.integer({ min: 1, max: 3000 }).map((n) => n * 10 * STEP);
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
      // Client ids JSON must escape (quotes, backslashes, controls, non-ASCII) as well as plain ones.
      cid: fc.option(fc.oneof(fc.constantFrom('a', 'b"q', 'c\\d', 'e\nf', 'ü€', '\u2028'), fc.string({ maxLength: 6 }))),
    }),
  },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('trade' as const), price: tick, qty: lots, buyerMaker: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('deposit' as const), amount: fc.integer({ min: -5, max: 1000 }) }) },
);

function request(o: Extract<Op, { op: 'submit' }>): OrderRequest {
  const price = MID + o.price;
  const stop = MID + o.stop;
  const r: OrderRequest = { symbol: 'BTCUSDT', side: o.side, type: o.type };
  if (o.cid !== null) r.clientOrderId = o.cid;
  if (o.type === 'MARKET') {
    if (o.quote) r.quoteOrderQty = BigInt(o.qty) * BigInt(MID) * 10n ** 6n;
    else r.qty = o.qty;
  } else if (o.type === 'LIMIT') Object.assign(r, { qty: o.qty, price, timeInForce: o.tif });
  else if (o.type === 'LIMIT_MAKER') Object.assign(r, { qty: o.qty, price });
  else if (o.type === 'STOP_LOSS' || o.type === 'TAKE_PROFIT') Object.assign(r, { qty: o.qty, stopPrice: stop });
  else Object.assign(r, { qty: o.qty, price, stopPrice: stop, timeInForce: o.tif });
  return r;
}

/** What buildRiskView computed before openTotals existed: one pass over copies of the open orders. */
function countedTotals(e: PaperEngine, symbol: string) {
  let openBuyQty = 0;
  let openSellQty = 0;
  const all = e.openOrders();
  const mine = all.filter((o) => o.symbol === symbol);
  for (const o of mine) {
    if (o.side === 'BUY') openBuyQty += o.origQty - o.executedQty;
    else openSellQty += o.origQty - o.executedQty;
  }
  return { openOrders: mine.length, openOrdersTotal: all.length, openBuyQty, openSellQty, positionQty: e.position(symbol)?.qty ?? 0n };
}

describe('event encoding and open totals', () => {
  it('events read back exactly in format 3 and format 2, and openTotals equals counting the open orders, live and rebuilt', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 5, maxLength: 80 }), (ops) => {
        const e = new PaperEngine({ instruments: instruments.all(), filters, initialBalances });
        const book = new LocalOrderBook('BTCUSDT');
        book.applySnapshot({
          symbol: 'BTCUSDT',
          lastUpdateId: 1,
          asks: [1, 2, 3].map((i) => ({ price: MID + i * 3, qty: 300_000 })),
          bids: [1, 2, 3].map((i) => ({ price: MID - i * 3, qty: 300_000 })),
        });
        e.onBook(book);
        const log: OrderEvent[] = [...e.onTrade({ symbol: 'BTCUSDT', id: 1, price: MID, qty: STEP, firstId: 1, lastId: 1, time: T0, buyerMaker: false })];
        let t = T0;
        let id = 2;
        for (const op of ops) {
          t += 250;
          if (op.op === 'submit') log.push(...e.submit(request(op), t).events);
          else if (op.op === 'trade') log.push(...e.onTrade({ symbol: 'BTCUSDT', id, price: MID + op.price, qty: op.qty, firstId: id, lastId: id++, time: t, buyerMaker: op.buyerMaker }));
          else if (op.op === 'cancel') {
            const open = e.openOrders();
            if (open.length > 0) log.push(...e.cancel('BTCUSDT', { orderId: open[op.pick % open.length]!.orderId }, t).events);
          } else if (op.amount >= 0 || e.balance('USDT').free >= parseAmount(String(-op.amount))) {
            log.push(...e.deposit('USDT', parseAmount(String(op.amount)), t));
          }
          expect(e.openTotals('btcusdt')).toEqual(countedTotals(e, 'BTCUSDT'));
          expect(e.openTotals('ETHUSDT')).toEqual(countedTotals(e, 'ETHUSDT'));
        }
        for (const ev of log) {
          expect(decodeEvent(encodeEvent(ev))).toEqual(ev);
          expect(decodeEvent(encodeEventV2(ev))).toEqual(ev);
        }
        // The batch writer (tiny buffers, so they grow) writes the same rows as encodeEvent, one by one.
        const batch = new EventEncoder(64, 2);
        for (const ev of log) batch.add(ev);
        const rows = eventRecords(batch.take());
        expect(rows.map((r) => [r.seq, r.time, r.kind])).toEqual(log.map((ev) => [ev.seq, ev.time, ev.kind]));
        expect(rows.map((r) => r.body)).toEqual(log.map((ev) => encodeEvent(ev)));
        // A log begun in format 2 and continued in format 3 rebuilds the same account.
        const half = log.length >> 1;
        const mixed = log.map((ev, i) => decodeEvent(i < half ? encodeEventV2(ev) : encodeEvent(ev)));
        const rebuilt = PaperEngine.fromEvents({ instruments: instruments.all(), filters, initialBalances }, mixed);
        expect(rebuilt.snapshot()).toEqual(e.snapshot());
        expect(rebuilt.openTotals('BTCUSDT')).toEqual(e.openTotals('BTCUSDT'));
        // The risk view is the same whether built from the counters or from the order list.
        const args = { symbol: 'BTCUSDT', now: t, instrument: instruments.get('BTCUSDT'), bestBid: MID - 3 };
        const slow = { openOrders: e.openOrders.bind(e), position: e.position.bind(e), lastPrice: e.lastPrice.bind(e) };
        expect(buildRiskView(e, args)).toEqual(buildRiskView(slow, args));
      }),
      { numRuns: 150 },
    );
  });

  it('keeps every kind and optional field exact, including strings JSON escapes', () => {
    const order = {
      symbol: 'BTCUSDT',
      orderId: 7,
      clientOrderId: 'x"\\\u0001\ud800y',
      side: 'BUY' as const,
      type: 'MARKET' as const,
      timeInForce: undefined,
      price: 0,
      stopPrice: 0,
      origQty: 5,
      origQuoteOrderQty: 12345678901234567890123n,
      executedQty: 0,
      cumQuote: -1n,
      status: 'NEW' as const,
      isWorking: true,
      time: 1,
      updateTime: 1,
      workingTime: -1,
      lockAsset: 'USDT',
      locked: 0n,
    };
    const events: OrderEvent[] = [
      { seq: 1, kind: 'accepted', time: 1, order },
      { seq: 2, kind: 'accepted', time: 1, order: { ...order, timeInForce: 'GTC' } },
      { seq: 3, kind: 'ledger', time: 2, entry: { asset: 'US"DT', dFree: -5n, dLocked: 5n, reason: 'lock', orderId: 7 } },
      { seq: 4, kind: 'ledger', time: 2, entry: { asset: 'USDT', dFree: 5n, dLocked: 0n, reason: 'deposit' } },
      { seq: 5, kind: 'ledger', time: 2, entry: { asset: 'BTC', dFree: 5n, dLocked: 0n, reason: 'trade', orderId: 7, tradeId: 3 } },
      {
        seq: 6,
        kind: 'fill',
        time: 3,
        fill: { symbol: 'BTCUSDT', orderId: 7, clientOrderId: 'é', tradeId: 3, side: 'SELL', price: 1, qty: 2, quoteQty: 3n, commission: 0n, commissionAsset: 'USDT', isMaker: false, time: 2 },
        status: 'FILLED',
      },
      { seq: 7, kind: 'triggered', time: 4, orderId: 7 },
      { seq: 8, kind: 'canceled', time: 4, orderId: 7 },
      { seq: 16, kind: 'accepted', time: 9, order: { ...order, cumQuote: 0n, time: 9, updateTime: 9, workingTime: 9 } },
      { seq: 17, kind: 'accepted', time: 9, order: { ...order, cumQuote: 0n, time: 9, updateTime: 9, isWorking: false } },
      { seq: 11, kind: 'accepted', time: 1, order, ledger: [{ asset: 'USDT', dFree: -5n, dLocked: 5n, reason: 'lock', orderId: 7 }] },
      {
        seq: 12,
        kind: 'fill',
        time: 3,
        fill: { symbol: 'BTCUSDT', orderId: 7, clientOrderId: 'x', tradeId: 3, side: 'BUY', price: 1, qty: 2, quoteQty: 3n, commission: 1n, commissionAsset: 'BTC', isMaker: true, time: 3 },
        status: 'PARTIALLY_FILLED',
        ledger: [
          { asset: 'USDT', dFree: 0n, dLocked: -3n, reason: 'trade', orderId: 7, tradeId: 3 },
          { asset: 'B"TC', dFree: 2n, dLocked: 0n, reason: 'trade', orderId: 7, tradeId: 3 },
          { asset: 'BTC', dFree: -1n, dLocked: 0n, reason: 'fee' },
          { asset: 'BTC', dFree: 0n, dLocked: 0n, reason: 'trade', tradeId: 4 },
        ],
      },
      { seq: 13, kind: 'canceled', time: 4, orderId: 7, ledger: [] },
      { seq: 14, kind: 'expired', time: 4, orderId: 7, ledger: [{ asset: 'USDT', dFree: 2n, dLocked: -2n, reason: 'unlock', orderId: 7 }] },
      { seq: 15, kind: 'triggered', time: 4, orderId: 7, ledger: [{ asset: 'USDT', dFree: 2n, dLocked: -2n, reason: 'unlock', orderId: 7 }] },
      { seq: 9, kind: 'expired', time: 4, orderId: 7 },
      { seq: 10, kind: 'rejected', time: 5, symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', clientOrderId: undefined, code: -1013, msg: 'Filter failure: "LOT_SIZE"' },
    ];
    for (const ev of events) {
      expect(decodeEvent(encodeEvent(ev))).toEqual(decodeEvent(encodeEventV2(ev)));
      expect(decodeEvent(encodeEvent(ev))).toEqual(ev);
    }
    // Parts longer than the encoder's buffer: the event is written again, whole, into a larger one.
    const huge = 10n ** 700n + 1n;
    const long: OrderEvent[] = [
      { seq: 1, kind: 'accepted', time: 1, order: { ...order, clientOrderId: 'é"\\x'.repeat(900), origQuoteOrderQty: -huge } },
      { seq: 2, kind: 'ledger', time: 2, entry: { asset: 'A'.repeat(3000), dFree: huge, dLocked: -huge, reason: 'deposit' } },
      { seq: 3, kind: 'canceled', time: 3, orderId: 7, ledger: Array.from({ length: 40 }, () => ({ asset: 'USDT', dFree: huge, dLocked: -huge, reason: 'unlock' as const, orderId: 7 })) },
    ];
    const batch = new EventEncoder(16, 1);
    for (const ev of long) batch.add(ev);
    expect(eventRecords(batch.take()).map((r) => decodeEvent(r.body))).toEqual(long);
    expect(long.map((ev) => decodeEvent(encodeEvent(ev)))).toEqual(long);
  });
});

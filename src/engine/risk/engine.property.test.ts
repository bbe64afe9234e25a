import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LocalOrderBook } from '../market/orderbook.js';
import { parseAmount } from '../orders/amounts.js';
import { bundledMarket } from '../orders/bundled-filters.js';
import type { OrderEvent } from '../orders/events.js';
import { PaperEngine } from '../orders/paper-engine.js';
import type { Fill, OrderRequest, Side } from '../orders/types.js';
import { RiskEngine } from './engine.js';
import { emptyLimits, formatLimitValue, setLimit } from './limits.js';
import { buildRiskView } from './view.js';

/**
 * The risk engine in front of the real paper engine: whatever random orders, trades, book changes
 * and cancels happen, the orders it admits never take a position beyond maxPositionQty, nor the
 * open orders beyond maxOpenOrders, per symbol or in total. Views come from the paper engine's
 * public queries, the book's best prices from the book the test feeds it.
 */

const { instruments } = bundledMarket();
const SYMBOLS = ['BTCUSDT', 'ETHUSDT'] as const;
type Sym = (typeof SYMBOLS)[number];
const MID: Record<Sym, number> = { BTCUSDT: 6_000_000, ETHUSDT: 300_000 }; // 60000.00, 3000.00
const LOT: Record<Sym, number> = { BTCUSDT: 1_000_000, ETHUSDT: 10_000_000 }; // 0.01 BTC, 0.1 ETH
const MAX_POS: Record<Sym, bigint> = { BTCUSDT: parseAmount('0.3'), ETHUSDT: parseAmount('2') };
const MAX_OPEN: Record<Sym, number> = { BTCUSDT: 4, ETHUSDT: 3 };
const MAX_OPEN_TOTAL = 6;
const T0 = Date.parse('2024-08-08T23:00:00Z');

type Op =
  | { op: 'submit'; sym: Sym; side: Side; kind: 'limit' | 'ioc' | 'market' | 'quote' | 'stop' | 'stopLimit'; lots: number; price: number; stop: number }
  | { op: 'trade'; sym: Sym; price: number; lots: number; buyerMaker: boolean }
  | { op: 'book'; sym: Sym; shift: number; depth: number[] }
  | { op: 'cancel'; pick: number };

const sym = fc.constantFrom<Sym>(...SYMBOLS);
const offset = fc.integer({ min: -400, max: 400 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('submit' as const),
      sym,
      side: fc.constantFrom<Side>('BUY', 'SELL'),
      kind: fc.constantFrom('limit' as const, 'limit' as const, 'ioc' as const, 'market' as const, 'quote' as const, 'stop' as const, 'stopLimit' as const),
      lots: fc.integer({ min: 1, max: 8 }),
      price: offset,
      stop: offset,
    }),
  },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('trade' as const), sym, price: offset, lots: fc.integer({ min: 1, max: 40 }), buyerMaker: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('book' as const),
      sym,
      shift: fc.integer({ min: -300, max: 300 }),
      depth: fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 6 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('cancel' as const), pick: fc.nat() }) },
);

function request(o: Extract<Op, { op: 'submit' }>): OrderRequest {
  const qty = o.lots * LOT[o.sym];
  const price = MID[o.sym] + o.price;
  const base = { symbol: o.sym, side: o.side };
  switch (o.kind) {
    case 'limit':
      return { ...base, type: 'LIMIT', timeInForce: 'GTC', qty, price };
    case 'ioc':
      return { ...base, type: 'LIMIT', timeInForce: 'IOC', qty, price };
    case 'market':
      return { ...base, type: 'MARKET', qty };
    case 'quote':
      // quote = lots × 0.01 × mid: about the same size as the other orders. Only BUYs: a SELL's
      // size is an estimate (see RiskView.bestBid), not a bound.
      return { ...base, side: 'BUY', type: 'MARKET', quoteOrderQty: BigInt(o.lots) * BigInt(MID[o.sym]) * 10n ** 12n };
    case 'stop':
      return { ...base, type: o.side === 'BUY' ? 'TAKE_PROFIT' : 'STOP_LOSS', qty, stopPrice: MID[o.sym] - Math.abs(o.stop) - 1 };
    case 'stopLimit':
      return { ...base, type: 'STOP_LOSS_LIMIT', timeInForce: 'GTC', qty, price, stopPrice: o.side === 'BUY' ? MID[o.sym] + Math.abs(o.stop) + 1 : MID[o.sym] - Math.abs(o.stop) - 1 };
  }
}

function bookAt(s: Sym, mid: number, depth: number[], id: number): LocalOrderBook {
  const b = new LocalOrderBook(s);
  b.applySnapshot({
    symbol: s,
    lastUpdateId: id,
    asks: depth.map((q, i) => ({ price: mid + 1 + i * 5, qty: q * LOT[s] })),
    bids: depth.map((q, i) => ({ price: mid - 1 - i * 5, qty: q * LOT[s] })),
  });
  return b;
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

describe('RiskEngine in front of the paper engine', () => {
  it('admitted orders never exceed maxPositionQty or maxOpenOrders', () => {
    const seen = { admitted: 0, maxPositionQty: 0, maxOpenOrders: 0, reducing: 0, dailyLossLimit: 0, filled: 0 };
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 10, maxLength: 120, size: 'max' }), fc.boolean(), (ops, lossLimit) => {
        const paper = new PaperEngine({
          instruments: instruments.all(),
          initialBalances: { USDT: parseAmount('100000000'), BTC: parseAmount('1000'), ETH: parseAmount('10000') },
        });
        let limits = emptyLimits();
        for (const s of SYMBOLS) {
          limits = setLimit(limits, 'maxPositionQty', formatLimitValue('maxPositionQty', MAX_POS[s]), s);
          limits = setLimit(limits, 'maxOpenOrders', String(MAX_OPEN[s]), s);
        }
        limits = setLimit(limits, 'maxOpenOrders', String(MAX_OPEN_TOTAL));
        // Sometimes a small loss limit, so REDUCING (automatic) is part of the runs.
        if (lossLimit) limits = setLimit(limits, 'dailyLossLimit', '20');
        const risk = new RiskEngine({ instruments: instruments.all(), limits });
        const tops = new Map<Sym, { bid: number; ask: number }>();
        const onEvents = (events: readonly OrderEvent[]): void => {
          for (const ev of events) {
            if (ev.kind !== 'fill') continue;
            seen.filled++;
            const change = risk.onFill(ev.fill as Fill);
            if (change) expect(change.state).toBe('REDUCING');
          }
        };
        let t = T0;
        let id = 1;
        for (const s of SYMBOLS) {
          paper.onBook(bookAt(s, MID[s], [10, 10, 10], id));
          tops.set(s, { bid: MID[s] - 1, ask: MID[s] + 1 });
          onEvents(paper.onTrade({ symbol: s, id, price: MID[s], qty: LOT[s], firstId: id, lastId: id++, time: t, buyerMaker: false }));
        }
        for (const op of ops) {
          t += 60_000; // crosses midnight UTC in long runs: the loss limit resets
          switch (op.op) {
            case 'submit': {
              const req = request(op);
              const top = tops.get(op.sym);
              const v = buildRiskView(paper, { symbol: op.sym, now: t, instrument: instruments.get(op.sym), bestBid: top?.bid, bestAsk: top?.ask });
              const r = risk.admit(req, v);
              if (r) {
                if (r.rule in seen) seen[r.rule as keyof typeof seen]++;
                break;
              }
              seen.admitted++;
              const res = paper.submit(req, t);
              onEvents(res.events);
              break;
            }
            case 'trade':
              onEvents(
                paper.onTrade({ symbol: op.sym, id, price: MID[op.sym] + op.price, qty: op.lots * LOT[op.sym], firstId: id, lastId: id++, time: t, buyerMaker: op.buyerMaker }),
              );
              break;
            case 'book': {
              const mid = MID[op.sym] + op.shift;
              paper.onBook(bookAt(op.sym, mid, op.depth, id++));
              tops.set(op.sym, { bid: mid - 1, ask: mid + 1 });
              break;
            }
            case 'cancel': {
              const open = paper.openOrders();
              const o = open[op.pick % Math.max(1, open.length)];
              if (o) onEvents(paper.cancel(o.symbol, { orderId: o.orderId }, t).events);
              break;
            }
          }
          for (const s of SYMBOLS) {
            const pos = paper.position(s)?.qty ?? 0n;
            expect(abs(pos) <= MAX_POS[s], `${s} position ${pos}`).toBe(true);
            expect(paper.openOrders(s).length).toBeLessThanOrEqual(MAX_OPEN[s]);
          }
          expect(paper.openOrders().length).toBeLessThanOrEqual(MAX_OPEN_TOTAL);
        }
      }),
      { numRuns: 150 },
    );
    // The property is not vacuous: orders got through, filled, and both limits did refuse some.
    expect(seen.admitted).toBeGreaterThan(1000);
    expect(seen.filled).toBeGreaterThan(500);
    expect(seen.maxPositionQty).toBeGreaterThan(50);
    expect(seen.maxOpenOrders).toBeGreaterThan(20);
    expect(seen.reducing).toBeGreaterThan(20);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Candle } from '../engine/candles/types.js';
import { Instruments } from '../engine/market/instruments.js';
import { decodeFrame } from '../engine/market/binance/parse.js';
import type { BookLevel, Instrument, Trade } from '../engine/market/types.js';
import { LocalOrderBook } from '../engine/market/orderbook.js';
import { parseAmount } from '../engine/orders/amounts.js';
import { bundledMarket } from '../engine/orders/bundled-filters.js';
import { applyEvent, createState, type OrderEvent } from '../engine/orders/events.js';
import { PaperEngine } from '../engine/orders/paper-engine.js';
import type { Order, OrderRequest } from '../engine/orders/types.js';
import {
  aggTradeJson,
  BookSideShadow,
  bookTickerJson,
  depthUpdateJson,
  errorJson,
  ExecutionReports,
  executionReportJson,
  klineJson,
  miniTickerJson,
  partialDepthJson,
  resultJson,
  tradeJson,
} from './stream-payloads.js';

const BTC: Instrument = { symbol: 'BTCUSDT', baseAsset: 'BTC', quoteAsset: 'USDT', priceScale: 2, qtyScale: 5, tickSize: '0.01000000', stepSize: '0.00001000', status: 'TRADING' };
const instruments = new Instruments([BTC]);
const T = Date.UTC(2024, 0, 1, 0, 0, 5);

const trade: Trade = { symbol: 'BTCUSDT', id: 7, price: 4_200_010, qty: 1_234, firstId: 100, lastId: 102, time: T, buyerMaker: true };

describe('market payloads', () => {
  it('aggTrade: Binance fields in Binance order, 8-decimal strings, decoding back to the same trade', () => {
    const text = aggTradeJson(trade, BTC);
    const v = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['e', 'E', 's', 'a', 'p', 'q', 'f', 'l', 'T', 'm', 'M']);
    expect(v).toEqual({ e: 'aggTrade', E: T, s: 'BTCUSDT', a: 7, p: '42000.10000000', q: '0.01234000', f: 100, l: 102, T, m: true, M: true });
    expect(decodeFrame(text, instruments)).toEqual({ kind: 'trade', trade });
  });

  it('trade: a raw trade maps exactly; an aggregate goes out once under its last trade id', () => {
    const raw = { ...trade, firstId: 55, lastId: 55 };
    const v = JSON.parse(tradeJson(raw, BTC)) as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['e', 'E', 's', 't', 'p', 'q', 'T', 'm', 'M']);
    expect(v).toEqual({ e: 'trade', E: T, s: 'BTCUSDT', t: 55, p: '42000.10000000', q: '0.01234000', T, m: true, M: true });
    expect(decodeFrame(tradeJson(raw, BTC), instruments)).toEqual({ kind: 'trade', trade: { ...raw, id: 55 } });
    expect((JSON.parse(tradeJson(trade, BTC)) as { t: number }).t).toBe(102);
  });

  const candle: Candle = {
    symbol: 'BTCUSDT',
    interval: '1m',
    priceScale: 2,
    qtyScale: 5,
    openTime: Date.UTC(2024, 0, 1, 0, 0),
    closeTime: Date.UTC(2024, 0, 1, 0, 0) + 59_999,
    open: 4_200_000,
    high: 4_200_500,
    low: 4_199_000,
    close: 4_200_010,
    volume: 3_000n,
    // Quote volumes are at priceScale + qtyScale = 7 decimals: 1260.0123456 needs all of them.
    quoteVolume: 12_600_123_456n,
    trades: 4,
    takerBuyVolume: 1_000n,
    takerBuyQuoteVolume: 4_200_000_000n,
    firstTradeId: 10,
    lastTradeId: 13,
    closed: false,
  };

  it('kline: every field, exact quote volumes beyond 8 decimals only when needed, and a round trip', () => {
    const text = klineJson(candle, T);
    const v = JSON.parse(text) as { k: Record<string, unknown> } & Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['e', 'E', 's', 'k']);
    expect(Object.keys(v.k)).toEqual(['t', 'T', 's', 'i', 'f', 'L', 'o', 'c', 'h', 'l', 'v', 'n', 'x', 'q', 'V', 'Q', 'B']);
    expect(v).toEqual({
      e: 'kline',
      E: T,
      s: 'BTCUSDT',
      k: {
        t: candle.openTime,
        T: candle.closeTime,
        s: 'BTCUSDT',
        i: '1m',
        f: 10,
        L: 13,
        o: '42000.00000000',
        c: '42000.10000000',
        h: '42005.00000000',
        l: '41990.00000000',
        v: '0.03000000',
        n: 4,
        x: false,
        q: '1260.01234560',
        V: '0.01000000',
        Q: '420.00000000',
        B: '0',
      },
    });
    expect(decodeFrame(text, instruments)).toEqual({ kind: 'kline', candle });
    const empty = { ...candle, trades: 0, firstTradeId: -1, lastTradeId: -1, volume: 0n, quoteVolume: 0n, takerBuyVolume: 0n, takerBuyQuoteVolume: 0n, closed: true };
    expect(JSON.parse(klineJson(empty, T)).k).toMatchObject({ f: -1, L: -1, n: 0, v: '0.00000000', q: '0.00000000', x: true });
    expect(decodeFrame(klineJson(empty, T), instruments)).toEqual({ kind: 'kline', candle: empty });
  });

  it('bookTicker, miniTicker, depthUpdate and partial depth decode back to what was encoded', () => {
    const top = { symbol: 'BTCUSDT', updateId: 400900217, bid: { price: 4_200_000, qty: 150_000 }, ask: { price: 4_200_001, qty: 5 } };
    const bt = bookTickerJson(top, BTC);
    expect(JSON.parse(bt)).toEqual({ u: 400900217, s: 'BTCUSDT', b: '42000.00000000', B: '1.50000000', a: '42000.01000000', A: '0.00005000' });
    expect(decodeFrame(bt, instruments)).toEqual({ kind: 'bookTicker', top });

    const ticker = { symbol: 'BTCUSDT', time: T, open: 4_100_000, high: 4_300_000, low: 4_000_000, close: 4_200_000, volume: 123_456_789n, quoteVolume: 51_234_567_890_123_456n };
    const mt = miniTickerJson(ticker, BTC);
    expect(Object.keys(JSON.parse(mt) as object)).toEqual(['e', 'E', 's', 'c', 'o', 'h', 'l', 'v', 'q']);
    expect(JSON.parse(mt)).toMatchObject({ e: '24hrMiniTicker', E: T, c: '42000.00000000', v: '1234.56789000', q: '5123456789.01234560' });
    expect(decodeFrame(mt, instruments)).toEqual({ kind: 'miniTicker', ticker });

    const bids = [{ price: 4_200_000, qty: 0 }, { price: 4_199_999, qty: 100 }];
    const asks = [{ price: 4_200_001, qty: 7 }];
    const du = depthUpdateJson({ symbol: 'BTCUSDT', eventTime: T, firstUpdateId: 101, lastUpdateId: 105, bids, asks }, BTC);
    expect(JSON.parse(du)).toEqual({
      e: 'depthUpdate',
      E: T,
      s: 'BTCUSDT',
      U: 101,
      u: 105,
      b: [['42000.00000000', '0.00000000'], ['41999.99000000', '0.00100000']],
      a: [['42000.01000000', '0.00007000']],
    });
    expect(decodeFrame(du, instruments)).toEqual({ kind: 'depth', diff: { symbol: 'BTCUSDT', eventTime: T, firstUpdateId: 101, lastUpdateId: 105, bids, asks } });
    expect(JSON.parse(partialDepthJson(9, bids.slice(1), [], BTC))).toEqual({ lastUpdateId: 9, bids: [['41999.99000000', '0.00100000']], asks: [] });
  });

  it('control replies', () => {
    expect(resultJson(null, 1)).toBe('{"result":null,"id":1}');
    expect(resultJson(['btcusdt@aggTrade'], 'a1')).toBe('{"result":["btcusdt@aggTrade"],"id":"a1"}');
    expect(errorJson(2, 'Invalid request: x', null)).toBe('{"error":{"code":2,"msg":"Invalid request: x"},"id":null}');
  });
});

describe('BookSideShadow', () => {
  const side = (bids: boolean) =>
    fc
      .uniqueArray(fc.record({ price: fc.integer({ min: 1, max: 40 }), qty: fc.integer({ min: 1, max: 5 }) }), { selector: (l) => l.price, maxLength: 25 })
      .map((ls) => ls.sort((a, b) => (bids ? b.price - a.price : a.price - b.price)));

  for (const bids of [true, false]) {
    it(`turns one ${bids ? 'bid' : 'ask'} side into the next: applying its diffs to a book reproduces every state`, () => {
      fc.assert(
        fc.property(side(bids), fc.array(side(bids), { minLength: 1, maxLength: 8 }), (first, nexts) => {
          const shadow = new BookSideShadow(bids);
          shadow.reset(first);
          // The client's view: a LocalOrderBook fed the diffs as a Binance client would.
          const book = new LocalOrderBook('BTCUSDT');
          const other = { price: bids ? 1000 : 0, qty: 1 };
          book.applySnapshot({ symbol: 'BTCUSDT', lastUpdateId: 1, bids: bids ? first : [other], asks: bids ? [other] : first });
          let u = 1;
          let prev = first;
          for (const next of nexts) {
            const changes = shadow.diff(next);
            // Only real changes, each at most once, in book order.
            const prevQty = new Map(prev.map((l) => [l.price, l.qty]));
            const nextQty = new Map(next.map((l) => [l.price, l.qty]));
            for (const c of changes) expect(c.qty === 0 ? prevQty.has(c.price) && !nextQty.has(c.price) : nextQty.get(c.price) === c.qty && prevQty.get(c.price) !== c.qty).toBe(true);
            expect(new Set(changes.map((c) => c.price)).size).toBe(changes.length);
            const order = changes.map((c) => c.price);
            expect(order).toEqual([...order].sort((a, b) => (bids ? b - a : a - b)));
            book.applyDiff({ symbol: 'BTCUSDT', eventTime: 0, firstUpdateId: u + 1, lastUpdateId: u + 1, bids: bids ? changes : [], asks: bids ? [] : changes });
            u++;
            expect(book.levels(bids ? 'bid' : 'ask', Infinity)).toEqual(next);
            prev = next;
          }
        }),
        { numRuns: 300 },
      );
    });
  }

  it('reports nothing when nothing changed', () => {
    const s = new BookSideShadow(true);
    const levels: BookLevel[] = [{ price: 3, qty: 1 }, { price: 2, qty: 2 }];
    s.reset(levels);
    expect(s.diff(levels)).toEqual([]);
    expect(s.diff([])).toEqual([{ price: 3, qty: 0 }, { price: 2, qty: 0 }]);
  });
});

describe('executionReport', () => {
  const base: Order = {
    symbol: 'BTCUSDT',
    orderId: 4293153,
    clientOrderId: 'mUvoqJxFIILMdfAW5iGSOW',
    side: 'BUY',
    type: 'LIMIT',
    timeInForce: 'GTC',
    price: 4_200_000,
    stopPrice: 0,
    origQty: 100_000,
    origQuoteOrderQty: 0n,
    executedQty: 0,
    cumQuote: 0n,
    status: 'NEW',
    isWorking: true,
    time: T,
    updateTime: T,
    workingTime: T,
    lockAsset: 'USDT',
    locked: parseAmount('420'),
  };

  it('a new resting limit order, field for field in Binance order', () => {
    const v = JSON.parse(executionReportJson(base, BTC, 'NEW', T)) as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['e', 'E', 's', 'c', 'S', 'o', 'f', 'q', 'p', 'P', 'F', 'g', 'C', 'x', 'X', 'r', 'i', 'l', 'z', 'L', 'n', 'N', 'T', 't', 'w', 'm', 'M', 'O', 'Z', 'Y', 'Q', 'W', 'V']);
    expect(v).toEqual({
      e: 'executionReport',
      E: T,
      s: 'BTCUSDT',
      c: 'mUvoqJxFIILMdfAW5iGSOW',
      S: 'BUY',
      o: 'LIMIT',
      f: 'GTC',
      q: '1.00000000',
      p: '42000.00000000',
      P: '0.00000000',
      F: '0.00000000',
      g: -1,
      C: '',
      x: 'NEW',
      X: 'NEW',
      r: 'NONE',
      i: 4293153,
      l: '0.00000000',
      z: '0.00000000',
      L: '0.00000000',
      n: '0',
      N: null,
      T,
      t: -1,
      w: true,
      m: false,
      M: false,
      O: T,
      Z: '0.00000000',
      Y: '0.00000000',
      Q: '0.00000000',
      W: T,
      V: 'NONE',
    });
  });

  it('an untriggered stop has no working time; a cancel names the canceled order in C', () => {
    const stop = { ...base, type: 'STOP_LOSS_LIMIT' as const, stopPrice: 4_100_000, isWorking: false, workingTime: -1 };
    const v = JSON.parse(executionReportJson(stop, BTC, 'NEW', T)) as Record<string, unknown>;
    expect(v).not.toHaveProperty('W');
    expect(v).toMatchObject({ P: '41000.00000000', w: false });
    const c = JSON.parse(executionReportJson({ ...base, status: 'CANCELED' }, BTC, 'CANCELED', T + 1)) as Record<string, unknown>;
    expect(c).toMatchObject({ x: 'CANCELED', X: 'CANCELED', C: base.clientOrderId, w: false, T: T + 1 });
  });

  it("reports each change with the order as it was right after it, matching the engine's own state, for random order flow", () => {
    const { instruments: ins, filters } = bundledMarket();
    const inst = ins.get('BTCUSDT');
    const MID = 6_000_000;
    const T0 = Date.parse('2024-08-08T12:00:00Z');
    const initialBalances = { USDT: parseAmount('50000'), BTC: parseAmount('1') };
    const op = fc.oneof(
      fc.record({ k: fc.constant('limit' as const), side: fc.constantFrom('BUY' as const, 'SELL' as const), off: fc.integer({ min: -20, max: 20 }), lots: fc.integer({ min: 1, max: 50 }) }),
      fc.record({ k: fc.constant('market' as const), side: fc.constantFrom('BUY' as const, 'SELL' as const), lots: fc.integer({ min: 1, max: 80 }) }),
      fc.record({ k: fc.constant('stop' as const), side: fc.constantFrom('BUY' as const, 'SELL' as const), off: fc.integer({ min: -20, max: 20 }), lots: fc.integer({ min: 1, max: 50 }) }),
      fc.record({ k: fc.constant('trade' as const), off: fc.integer({ min: -25, max: 25 }), lots: fc.integer({ min: 1, max: 100 }), buyerMaker: fc.boolean() }),
      fc.record({ k: fc.constant('cancel' as const), pick: fc.nat() }),
    );
    fc.assert(
      // `listening`: whether someone listens at each event (cycled); unheard events build no report but move the mirror.
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), fc.integer({ min: 0, max: 10 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), (ops, seedAt, listening) => {
        const engine = new PaperEngine({ instruments: ins.all(), filters, initialBalances });
        const book = new LocalOrderBook('BTCUSDT');
        book.applySnapshot({
          symbol: 'BTCUSDT',
          lastUpdateId: 1,
          asks: [1, 2, 3, 4].map((i) => ({ price: MID + i * 5, qty: 2_000 })),
          bids: [1, 2, 3, 4].map((i) => ({ price: MID - i * 5, qty: 2_000 })),
        });
        engine.onBook(book);
        const oracle = createState({ instruments: ins.all(), initialBalances });
        let reports: ExecutionReports | undefined;
        let t = T0;
        let id = 1;
        let n = 0;
        const feed = (events: readonly OrderEvent[]): void => {
          for (const ev of events) {
            applyEvent(oracle, ev);
            const heard = listening[n++ % listening.length]!;
            const r = reports?.onEvent(ev, heard);
            const orderId = ev.kind === 'accepted' ? ev.order.orderId : ev.kind === 'fill' ? ev.fill.orderId : 'orderId' in ev ? ev.orderId : undefined;
            if (!reports || orderId === undefined) continue;
            if (!heard) {
              expect(r).toBeUndefined();
              continue;
            }
            expect(r).toBeDefined();
            const o = oracle.orders.get(orderId)!;
            const v = JSON.parse(r!) as Record<string, unknown>;
            const x = { accepted: 'NEW', triggered: 'NEW', fill: 'TRADE', canceled: 'CANCELED', expired: 'EXPIRED' }[ev.kind as string];
            expect(v).toMatchObject(JSON.parse(executionReportJson(o, inst, x as 'NEW', ev.time, ev.kind === 'fill' ? ev.fill : undefined)) as object);
          }
        };
        feed(engine.onTrade({ symbol: 'BTCUSDT', id, price: MID, qty: 1_000, firstId: id, lastId: id++, time: t, buyerMaker: false }));
        ops.forEach((o, i) => {
          // The mirror starts part way through, from the open orders, as the daemon's does.
          if (i === Math.min(seedAt, ops.length - 1) && !reports) {
            reports = new ExecutionReports((s) => ins.get(s), engine.openOrders(), (orderId) => engine.state.orders.get(orderId));
          }
          t += 100;
          const qty = 'lots' in o ? o.lots * 1_000 : 0;
          if (o.k === 'limit') feed(engine.submit({ symbol: 'BTCUSDT', side: o.side, type: 'LIMIT', timeInForce: 'GTC', qty, price: MID + o.off }, t).events);
          else if (o.k === 'market') feed(engine.submit({ symbol: 'BTCUSDT', side: o.side, type: 'MARKET', qty }, t).events);
          else if (o.k === 'stop') {
            const req: OrderRequest = { symbol: 'BTCUSDT', side: o.side, type: 'STOP_LOSS_LIMIT', timeInForce: 'GTC', qty, price: MID + o.off, stopPrice: MID + o.off };
            feed(engine.submit(req, t).events);
          } else if (o.k === 'trade') feed(engine.onTrade({ symbol: 'BTCUSDT', id, price: MID + o.off, qty, firstId: id, lastId: id++, time: t, buyerMaker: o.buyerMaker }));
          else {
            const open = engine.openOrders();
            if (open.length > 0) feed(engine.cancel('BTCUSDT', { orderId: open[o.pick % open.length]!.orderId }, t).events);
          }
        });
        // Terminal orders leave the mirror.
        expect(reports!.size).toBe(engine.openOrders().length);
      }),
      { numRuns: 200 },
    );
  });
});

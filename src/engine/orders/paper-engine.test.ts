import { describe, expect, it } from 'vitest';
import { parseFixed } from '../fixed.js';
import { LocalOrderBook } from '../market/orderbook.js';
import type { Trade } from '../market/types.js';
import { formatAmount, parseAmount } from './amounts.js';
import { bundledMarket } from './bundled-filters.js';
import { ledgerEntries, type OrderEvent } from './events.js';
import { PaperEngine, type PaperEngineOptions } from './paper-engine.js';
import type { OrderRequest } from './types.js';

const { instruments, filters } = bundledMarket();
const btc = instruments.get('BTCUSDT');
const P = (s: string): number => parseFixed(s, btc.priceScale);
const Q = (s: string): number => parseFixed(s, btc.qtyScale);
const A = parseAmount;
const T0 = Date.parse('2024-08-08T12:00:00Z');

function book(asks: Array<[string, string]>, bids: Array<[string, string]>, id = 1): LocalOrderBook {
  const b = new LocalOrderBook('BTCUSDT');
  b.applySnapshot({
    symbol: 'BTCUSDT',
    lastUpdateId: id,
    asks: asks.map(([p, q]) => ({ price: P(p), qty: Q(q) })),
    bids: bids.map(([p, q]) => ({ price: P(p), qty: Q(q) })),
  });
  return b;
}

const standardBook = (): LocalOrderBook =>
  book(
    [
      ['60000', '0.5'],
      ['60001', '1'],
      ['60005', '2'],
    ],
    [
      ['59999', '0.4'],
      ['59998', '1'],
    ],
  );

let tradeId = 1000;
function trade(price: string, qty: string, buyerMaker: boolean, time = T0): Trade {
  const id = tradeId++;
  return { symbol: 'BTCUSDT', id, price: P(price), qty: Q(qty), firstId: id, lastId: id, time, buyerMaker };
}

/** An engine with a book and a last trade at 60000, and a log of every event it produced. */
function setup(opts: Partial<PaperEngineOptions> = {}) {
  const e = new PaperEngine({
    instruments: instruments.all(),
    filters,
    initialBalances: { USDT: A('1000000'), BTC: A('10') },
    ...opts,
  });
  const log: OrderEvent[] = [];
  log.push(...e.onTrade(trade('60000', '0.01', false)));
  e.onBook(standardBook());
  const submit = (r: Omit<OrderRequest, 'symbol'>, t = T0) => {
    const res = e.submit({ symbol: 'BTCUSDT', ...r }, t);
    log.push(...res.events);
    return res;
  };
  const onTrade = (t: Trade) => {
    const ev = e.onTrade(t);
    log.push(...ev);
    return ev;
  };
  const bal = (asset: string) => {
    const b = e.balance(asset);
    return { free: formatAmount(b.free), locked: formatAmount(b.locked) };
  };
  return { e, log, submit, onTrade, bal };
}

describe('PaperEngine: taker orders walk the book', () => {
  it('MARKET BUY walks levels with real slippage, taker fee in base', () => {
    const { e, submit, bal } = setup();
    const r = submit({ side: 'BUY', type: 'MARKET', qty: Q('1') });
    expect(r.ok).toBe(true);
    expect(r.order?.status).toBe('FILLED');
    expect(r.fills.map((f) => [f.price, f.qty, f.isMaker])).toEqual([
      [P('60000'), Q('0.5'), false],
      [P('60001'), Q('0.5'), false],
    ]);
    expect(formatAmount(r.order!.cumQuote)).toBe('60000.50000000');
    expect(r.fills.map((f) => [formatAmount(f.commission), f.commissionAsset])).toEqual([
      ['0.00050000', 'BTC'],
      ['0.00050000', 'BTC'],
    ]);
    expect(bal('USDT')).toEqual({ free: '939999.50000000', locked: '0.00000000' });
    expect(bal('BTC')).toEqual({ free: '10.99900000', locked: '0.00000000' });
    // Each event carries the balance changes it causes: the lock, each fill's settlement and fee.
    expect(r.events.map((x) => [x.kind, ledgerEntries(x).map((l) => l.reason)])).toEqual([
      ['accepted', ['lock']],
      ['fill', ['trade', 'trade', 'fee']],
      ['fill', ['trade', 'trade', 'fee']],
    ]);
    expect(e.position('BTCUSDT')?.qty).toBe(A('0.999'));
  });

  it('a book thinner than the order fills what is there and expires the rest', () => {
    const { submit, bal } = setup();
    const r = submit({ side: 'BUY', type: 'MARKET', qty: Q('5') });
    expect(r.order?.status).toBe('EXPIRED');
    expect(r.order?.executedQty).toBe(Q('3.5'));
    expect(bal('USDT').locked).toBe('0.00000000');
    expect(bal('USDT').free).toBe(formatAmount(A('1000000') - A('210011')));
  });

  it('liquidity taken by a paper fill is not taken again until the book updates', () => {
    const { e, submit } = setup();
    submit({ side: 'BUY', type: 'MARKET', qty: Q('0.5') });
    const second = submit({ side: 'BUY', type: 'MARKET', qty: Q('0.5') });
    expect(second.fills[0]?.price).toBe(P('60001'));
    e.onBook(standardBook());
    const third = submit({ side: 'BUY', type: 'MARKET', qty: Q('0.5') });
    expect(third.fills[0]?.price).toBe(P('60000'));
  });

  it('MARKET with quoteOrderQty spends at most the quote amount, on the lot step', () => {
    const { submit } = setup();
    const r = submit({ side: 'BUY', type: 'MARKET', quoteOrderQty: A('30060') });
    expect(r.order?.status).toBe('FILLED');
    // 0.5 @ 60000 = 30000, then floor(60 / 60001, step 0.00001) = 0.00099 @ 60001.
    expect(r.fills.map((f) => f.qty)).toEqual([Q('0.5'), Q('0.00099')]);
    expect(r.order?.origQty).toBe(Q('0.50099'));
    expect(r.order!.cumQuote <= A('30060')).toBe(true);
  });

  it('MARKET SELL walks the bids and pays the fee in quote', () => {
    const { submit, bal } = setup();
    const r = submit({ side: 'SELL', type: 'MARKET', qty: Q('1') });
    expect(r.fills.map((f) => [f.price, f.qty])).toEqual([
      [P('59999'), Q('0.4')],
      [P('59998'), Q('0.6')],
    ]);
    const gross = A('23999.6') + A('35998.8');
    const fee = A('23.9996') + A('35.9988');
    expect(bal('USDT').free).toBe(formatAmount(A('1000000') + gross - fee));
    expect(bal('BTC')).toEqual({ free: '9.00000000', locked: '0.00000000' });
  });
});

describe('PaperEngine: limit orders', () => {
  it('a crossing GTC LIMIT takes up to its price as taker and rests the remainder', () => {
    const { e, submit, bal } = setup();
    const r = submit({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: Q('2'), price: P('60001') });
    expect(r.fills.map((f) => [f.price, f.qty, f.isMaker])).toEqual([
      [P('60000'), Q('0.5'), false],
      [P('60001'), Q('1'), false],
    ]);
    expect(r.order?.status).toBe('PARTIALLY_FILLED');
    expect(e.openOrders('BTCUSDT').map((o) => o.orderId)).toEqual([r.order!.orderId]);
    // Locked: the resting 0.5 at 60001; the 0.5 × (60001 − 60000) price improvement came back.
    expect(bal('USDT')).toEqual({ free: formatAmount(A('1000000') - A('30000') - A('60001') - A('30000.5')), locked: '30000.50000000' });
  });

  it('IOC expires what does not cross; FOK is all or nothing', () => {
    const { submit, bal } = setup();
    const ioc = submit({ side: 'BUY', type: 'LIMIT', timeInForce: 'IOC', qty: Q('2'), price: P('60001') });
    expect(ioc.order?.status).toBe('EXPIRED');
    expect(ioc.order?.executedQty).toBe(Q('1.5'));
    expect(bal('USDT').locked).toBe('0.00000000');

    const s2 = setup();
    const fok = s2.submit({ side: 'BUY', type: 'LIMIT', timeInForce: 'FOK', qty: Q('2'), price: P('60001') });
    expect(fok.order?.status).toBe('EXPIRED');
    expect(fok.fills).toEqual([]);
    expect(s2.bal('USDT')).toEqual({ free: '1000000.00000000', locked: '0.00000000' });
    const fok2 = s2.submit({ side: 'BUY', type: 'LIMIT', timeInForce: 'FOK', qty: Q('1.5'), price: P('60001') });
    expect(fok2.order?.status).toBe('FILLED');
  });

  it('LIMIT_MAKER is rejected when it would cross', () => {
    const { submit } = setup();
    expect(submit({ side: 'BUY', type: 'LIMIT_MAKER', qty: Q('1'), price: P('60000') }).rejection).toEqual({
      code: -2010,
      msg: 'Order would immediately match and take.',
    });
    const ok = submit({ side: 'BUY', type: 'LIMIT_MAKER', qty: Q('1'), price: P('59999.99') });
    expect(ok.ok).toBe(true);
    expect(ok.order?.status).toBe('NEW');
  });

  it('a resting limit fills only on trades through its price, at its price, as maker', () => {
    const { submit, onTrade, bal } = setup();
    const r = submit({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: Q('1'), price: P('59990') });
    expect(onTrade(trade('59990', '5', true))).toEqual([]);
    const ev = onTrade(trade('59989.99', '0.3', true));
    const fills = ev.flatMap((x) => (x.kind === 'fill' ? [x] : []));
    expect(fills.map((f) => [f.fill.price, f.fill.qty, f.fill.isMaker, f.status])).toEqual([[P('59990'), Q('0.3'), true, 'PARTIALLY_FILLED']]);
    onTrade(trade('59980', '2', true));
    expect(bal('USDT')).toEqual({ free: formatAmount(A('1000000') - A('59990')), locked: '0.00000000' });
    expect(bal('BTC').free).toBe('10.99900000');
    expect(r.order?.orderId).toBeDefined();
  });

  it('queue model: at-price trades fill after the volume ahead has traded, only when our side is hit', () => {
    const { e, submit, onTrade } = setup({ queueModel: true });
    const r = submit({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: Q('1'), price: P('59999') });
    const id = r.order!.orderId;
    expect(onTrade(trade('59999', '0.3', true))).toEqual([]); // 0.4 ahead → 0.1
    expect(onTrade(trade('59999', '0.3', false))).toEqual([]); // buyer aggressed: not our side
    onTrade(trade('59999', '0.3', true)); // 0.1 ahead, 0.2 for us
    expect(e.order({ orderId: id })?.executedQty).toBe(Q('0.2'));
    onTrade(trade('59999', '5', true));
    expect(e.order({ orderId: id })?.status).toBe('FILLED');
  });

  it('without the queue model an at-price trade never fills', () => {
    const { e, submit, onTrade } = setup();
    const r = submit({ side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', qty: Q('1'), price: P('60010') });
    onTrade(trade('60010', '50', false));
    expect(e.order({ orderId: r.order!.orderId })?.executedQty).toBe(0);
    onTrade(trade('60010.01', '0.25', false));
    expect(e.order({ orderId: r.order!.orderId })?.executedQty).toBe(Q('0.25'));
  });
});

describe('PaperEngine: stops', () => {
  it('STOP_LOSS waits untriggered (NEW, not working), triggers on the last trade and sells at market', () => {
    const { e, submit, onTrade } = setup();
    const r = submit({ side: 'SELL', type: 'STOP_LOSS', qty: Q('0.5'), stopPrice: P('59000') });
    expect(r.order).toMatchObject({ status: 'NEW', isWorking: false, workingTime: -1 });
    expect(onTrade(trade('59000.01', '1', true)).length).toBe(0);
    const ev = onTrade(trade('59000', '1', true, T0 + 5));
    expect(ev[0]).toMatchObject({ kind: 'triggered', time: T0 + 5 });
    const o = e.order({ orderId: r.order!.orderId })!;
    expect(o).toMatchObject({ status: 'FILLED', isWorking: true, workingTime: T0 + 5 });
    expect(ev.flatMap((x) => (x.kind === 'fill' ? [[x.fill.price, x.fill.qty]] : []))).toEqual([
      [P('59999'), Q('0.4')],
      [P('59998'), Q('0.1')],
    ]);
  });

  it('STOP_LOSS_LIMIT BUY triggers at or above the stop and then works as a limit', () => {
    const { e, submit, onTrade, bal } = setup();
    const r = submit({ side: 'BUY', type: 'STOP_LOSS_LIMIT', timeInForce: 'GTC', qty: Q('1'), price: P('60000.5'), stopPrice: P('60000.5') });
    expect(bal('USDT').locked).toBe('60000.50000000');
    onTrade(trade('60000.5', '0.01', false));
    const o = e.order({ orderId: r.order!.orderId })!;
    expect(o.executedQty).toBe(Q('0.5'));
    expect(o.status).toBe('PARTIALLY_FILLED');
    expect(e.openOrders().length).toBe(1);
  });

  it('TAKE_PROFIT triggers the other way; a stop that would trigger immediately is rejected', () => {
    const { submit } = setup();
    expect(submit({ side: 'SELL', type: 'STOP_LOSS', qty: Q('0.5'), stopPrice: P('60500') }).rejection).toEqual({
      code: -2010,
      msg: 'Order would trigger immediately.',
    });
    expect(submit({ side: 'SELL', type: 'TAKE_PROFIT', qty: Q('0.5'), stopPrice: P('60500') }).ok).toBe(true);
    expect(submit({ side: 'SELL', type: 'TAKE_PROFIT', qty: Q('0.5'), stopPrice: P('59500') }).rejection?.code).toBe(-2010);
  });
});

describe('PaperEngine: cancel, cancel-replace, idempotency, rejections', () => {
  it('cancel unlocks exactly; unknown orders get -2011', () => {
    const { e, submit, bal, log } = setup();
    const r = submit({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: Q('0.12345'), price: P('59000.01'), clientOrderId: 'a1' });
    expect(bal('USDT').locked).toBe(formatAmount(A('0.12345') * 5900001n / 100n));
    const c = e.cancel('BTCUSDT', { clientOrderId: 'a1' }, T0 + 1);
    log.push(...c.events);
    expect(c.order?.status).toBe('CANCELED');
    expect(bal('USDT')).toEqual({ free: '1000000.00000000', locked: '0.00000000' });
    expect(e.cancel('BTCUSDT', { orderId: r.order!.orderId }, T0 + 2).rejection).toEqual({ code: -2011, msg: 'Unknown order sent.' });
    expect(e.cancel('BTCUSDT', { orderId: 999 }, T0).rejection?.code).toBe(-2011);
    expect(e.cancel('NOPE', { orderId: 1 }, T0).rejection).toEqual({ code: -1121, msg: 'Invalid symbol.' });
  });

  it('cancelAll cancels every open order and returns every lock', () => {
    const { e, submit, bal } = setup();
    submit({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: Q('0.1'), price: P('59000') });
    submit({ side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', qty: Q('0.2'), price: P('61000') });
    submit({ side: 'SELL', type: 'STOP_LOSS', qty: Q('0.3'), stopPrice: P('58000') });
    const r = e.cancelAll('BTCUSDT', T0);
    expect(r.orders.map((o) => o.status)).toEqual(['CANCELED', 'CANCELED', 'CANCELED']);
    expect(bal('USDT').locked).toBe('0.00000000');
    expect(bal('BTC')).toEqual({ free: '10.00000000', locked: '0.00000000' });
  });

  it('cancelReplace: success, -2022 when the cancel fails, -2021 when only the new order fails', () => {
    const { e, submit } = setup();
    const r = submit({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: Q('0.1'), price: P('59000') });
    const newOrder = { symbol: 'BTCUSDT', side: 'BUY' as const, type: 'LIMIT' as const, timeInForce: 'GTC' as const, qty: Q('0.1'), price: P('59100') };
    const ok = e.cancelReplace({ symbol: 'BTCUSDT', cancel: { orderId: r.order!.orderId }, order: newOrder }, T0);
    expect(ok.ok).toBe(true);
    expect(e.openOrders().map((o) => o.price)).toEqual([P('59100')]);
    const failed = e.cancelReplace({ symbol: 'BTCUSDT', cancel: { orderId: r.order!.orderId }, order: newOrder }, T0);
    expect(failed.rejection).toEqual({ code: -2022, msg: 'Order cancel-replace failed.' });
    expect(failed.submit).toBeUndefined();
    const partial = e.cancelReplace(
      { symbol: 'BTCUSDT', cancel: { orderId: ok.submit!.order!.orderId }, order: { ...newOrder, qty: Q('0.000015') } },
      T0,
    );
    expect(partial.rejection).toEqual({ code: -2021, msg: 'Order cancel-replace partially failed.' });
    expect(partial.submit?.rejection).toEqual({ code: -1013, msg: 'Filter failure: LOT_SIZE' });
    expect(e.openOrders()).toEqual([]);
  });

  it('resubmitting a clientOrderId returns the existing order and places nothing', () => {
    const { e, submit } = setup();
    const a = submit({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: Q('0.1'), price: P('59000'), clientOrderId: 'same' });
    const b = submit({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: Q('0.1'), price: P('59000'), clientOrderId: 'same' });
    expect(b).toMatchObject({ ok: true, duplicate: true, events: [] });
    expect(b.order?.orderId).toBe(a.order?.orderId);
    expect(e.openOrders().length).toBe(1);
    // Even once the order is done, the id still names it.
    e.cancel('BTCUSDT', { clientOrderId: 'same' }, T0);
    expect(submit({ side: 'SELL', type: 'MARKET', qty: Q('1'), clientOrderId: 'same' }).order?.status).toBe('CANCELED');
  });

  it('rejects with Binance codes: balance, symbol, filters, market closed', () => {
    const { e, submit } = setup();
    expect(submit({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: Q('20'), price: P('60000') }).rejection).toEqual({
      code: -2010,
      msg: 'Account has insufficient balance for requested action.',
    });
    expect(submit({ side: 'SELL', type: 'MARKET', qty: Q('10.00001') }).rejection?.code).toBe(-2010);
    expect(e.submit({ symbol: 'FOOBAR', side: 'BUY', type: 'MARKET', qty: 1 }, T0).rejection).toEqual({ code: -1121, msg: 'Invalid symbol.' });
    expect(submit({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: Q('0.1'), price: P('1') }).rejection).toEqual({
      code: -1013,
      msg: 'Filter failure: PERCENT_PRICE_BY_SIDE',
    });
    const r = submit({ side: 'BUY', type: 'MARKET', qty: Q('0.00001') });
    expect(r.rejection).toEqual({ code: -1013, msg: 'Filter failure: NOTIONAL' });
    expect(r.events.map((x) => x.kind)).toEqual(['rejected']);
  });
});

describe('PaperEngine: positions and replay', () => {
  it('average entry, realized PnL net of fees, unrealized marked to the last trade', () => {
    const { e, submit, onTrade } = setup({ fees: { maker: '0', taker: '0' } });
    submit({ side: 'BUY', type: 'MARKET', qty: Q('1') }); // 0.5@60000 + 0.5@60001
    let p = e.position('BTCUSDT')!;
    expect(formatAmount(p.avgEntry)).toBe('60000.50000000');
    onTrade(trade('61000', '0.01', false));
    p = e.position('BTCUSDT')!;
    expect(formatAmount(p.unrealizedPnl)).toBe('999.50000000');
    e.onBook(book([['61001', '5']], [['61000', '5']], 2));
    submit({ side: 'SELL', type: 'MARKET', qty: Q('0.4') });
    p = e.position('BTCUSDT')!;
    expect(formatAmount(p.realizedPnl)).toBe('399.80000000');
    expect(formatAmount(p.unrealizedPnl)).toBe('599.70000000');
    expect(formatAmount(p.qty)).toBe('0.60000000');
  });

  it('rebuilds the identical account state from the event log', () => {
    const { e, submit, onTrade, log } = setup({ queueModel: true });
    submit({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: Q('2'), price: P('60001'), clientOrderId: 'x' });
    submit({ side: 'SELL', type: 'STOP_LOSS_LIMIT', timeInForce: 'GTC', qty: Q('0.3'), price: P('59000'), stopPrice: P('59500') });
    onTrade(trade('59500', '0.2', true));
    onTrade(trade('60000.99', '3', true));
    submit({ side: 'SELL', type: 'MARKET', qty: Q('0.7') });
    log.push(...e.cancelAll(undefined, T0 + 9).events);
    const rebuilt = PaperEngine.fromEvents({ instruments: instruments.all(), filters, initialBalances: { USDT: A('1000000'), BTC: A('10') } }, log);
    expect(rebuilt.snapshot()).toEqual(e.snapshot());
    expect(log.map((x) => x.seq)).toEqual(log.map((_x, i) => i + 1));
  });

  it('a log with every ledger entry as its own event (the unfolded form) rebuilds the same account', () => {
    const { e, submit, onTrade, log } = setup();
    submit({ side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: Q('2'), price: P('60001') });
    submit({ side: 'SELL', type: 'STOP_LOSS', qty: Q('0.3'), stopPrice: P('59500') });
    onTrade(trade('59500', '0.2', true));
    log.push(...e.cancelAll(undefined, T0 + 9).events);
    expect(log.some((x) => ledgerEntries(x).length > 0 && x.kind !== 'ledger')).toBe(true);
    const unfolded: OrderEvent[] = [];
    for (const x of log) {
      const { ledger, ...own } = x as OrderEvent & { ledger?: unknown };
      unfolded.push({ ...own, seq: unfolded.length + 1 } as OrderEvent);
      if (x.kind === 'ledger') continue;
      for (const entry of (ledger ?? []) as ReturnType<typeof ledgerEntries>) unfolded.push({ seq: unfolded.length + 1, kind: 'ledger', time: x.time, entry });
    }
    expect(unfolded.length).toBeGreaterThan(log.length);
    const rebuilt = PaperEngine.fromEvents({ instruments: instruments.all(), filters, initialBalances: { USDT: A('1000000'), BTC: A('10') } }, unfolded);
    const bare = (snap: unknown) => ({ ...(snap as Record<string, unknown>), seq: 0 });
    expect(bare(rebuilt.snapshot())).toEqual(bare(e.snapshot()));
  });
});

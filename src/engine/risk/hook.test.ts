import { describe, expect, it } from 'vitest';
import { Bus } from '../bus.js';
import { SimClock } from '../clock.js';
import { parseFixed } from '../fixed.js';
import { LocalOrderBook } from '../market/orderbook.js';
import { parseAmount } from '../orders/amounts.js';
import { bundledMarket } from '../orders/bundled-filters.js';
import { PaperEngine } from '../orders/paper-engine.js';
import type { PreTradeHook } from '../orders/service.js';
import type { OrderRequest } from '../orders/types.js';
import { RiskEngine } from './engine.js';
import { riskPreTrade } from './hook.js';
import { emptyLimits, setLimit } from './limits.js';
import { buildRiskView } from './view.js';

const { instruments } = bundledMarket();
const P = (s: string): number => parseFixed(s, 2);
const Q = (s: string): number => parseFixed(s, 8);
const T0 = Date.parse('2024-08-08T12:00:00Z');

function setup() {
  const paper = new PaperEngine({
    instruments: instruments.all(),
    initialBalances: { USDT: parseAmount('1000000'), BTC: parseAmount('10'), ETH: parseAmount('100') },
  });
  const clock = new SimClock(T0);
  let id = 1;
  const trade = (symbol: string, price: string, qty: string) => {
    clock.advance(clock.now() + 1000);
    return paper.onTrade({ symbol, id, price: P(price), qty: Q(qty), firstId: id, lastId: id++, time: clock.now(), buyerMaker: false });
  };
  trade('BTCUSDT', '60000', '0.01');
  trade('ETHUSDT', '3000', '0.01');
  return { paper, clock, trade };
}

const limitBuy = (qty: string, price: string, symbol = 'BTCUSDT'): OrderRequest => ({
  symbol,
  side: 'BUY',
  type: 'LIMIT',
  timeInForce: 'GTC',
  qty: Q(qty),
  price: P(price),
});

describe('buildRiskView from the paper engine', () => {
  it('reads position, open quantities per side and open order counts', () => {
    const { paper, clock, trade } = setup();
    paper.submit(limitBuy('0.5', '59000'), clock.now());
    paper.submit(limitBuy('0.25', '58000'), clock.now());
    paper.submit({ symbol: 'BTCUSDT', side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', qty: Q('0.1'), price: P('61000') }, clock.now());
    paper.submit(limitBuy('1', '2900', 'ETHUSDT'), clock.now());
    // A trade through 59000 fills 0.2 of the first order.
    trade('BTCUSDT', '58999', '0.2');
    const v = buildRiskView(paper, { symbol: 'btcusdt', now: clock.now(), instrument: instruments.get('BTCUSDT'), bestAsk: P('59000.5') });
    expect(v).toEqual({
      now: clock.now(),
      instrument: instruments.get('BTCUSDT'),
      lastPrice: P('58999'),
      // 0.2 BTC bought, less the 0.1 % fee taken in BTC.
      position: parseAmount('0.1998'),
      openBuyQty: Q('0.55'),
      openSellQty: Q('0.1'),
      openOrders: 3,
      openOrdersTotal: 4,
      bestBid: undefined,
      bestAsk: P('59000.5'),
    });
  });
});

describe('riskPreTrade', () => {
  it('plugs into OrderService as its pre-trade hook and admits through the risk engine', () => {
    const { paper, clock } = setup();
    let limits = setLimit(emptyLimits(), 'maxOpenOrders', '1', 'BTCUSDT');
    limits = setLimit(limits, 'orderRate', '3/1m');
    const risk = new RiskEngine({ instruments: instruments.all(), limits });
    const hook: PreTradeHook = riskPreTrade(risk, { clock, instrument: (s) => (instruments.has(s) ? instruments.get(s) : undefined) });
    expect(hook(limitBuy('0.1', '59000'), paper)).toBeUndefined();
    paper.submit(limitBuy('0.1', '59000'), clock.now());
    expect(hook(limitBuy('0.1', '59000'), paper)).toEqual({
      code: -31005,
      rule: 'maxOpenOrders',
      symbol: 'BTCUSDT',
      msg: 'open orders on BTCUSDT would reach 2, exceeds max 1 (rule maxOpenOrders, BTCUSDT)',
    });
    // Admitted orders count toward the rate; the refused one did not.
    expect(hook(limitBuy('1', '2900', 'ETHUSDT'), paper)).toBeUndefined();
    expect(hook(limitBuy('1', '2900', 'ETHUSDT'), paper)).toBeUndefined();
    expect(hook(limitBuy('1', '2900', 'ETHUSDT'), paper)?.rule).toBe('orderRate');
    // An explicit event time wins over the clock.
    expect(riskPreTrade(risk, { clock, instrument: (s) => instruments.get(s) })(limitBuy('1', '2900', 'ETHUSDT'), paper, clock.now() + 60_000)).toBeUndefined();
  });

  it('halt: the engine rejects, the caller cancels every open order and publishes the change', () => {
    const { paper, clock } = setup();
    const bus = new Bus();
    const seen: unknown[] = [];
    bus.subscribe('risk.state', (c) => seen.push(c));
    const risk = new RiskEngine({ instruments: instruments.all() });
    const hook = riskPreTrade(risk, { clock, instrument: (s) => instruments.get(s) });
    paper.submit(limitBuy('0.1', '59000'), clock.now());
    paper.submit(limitBuy('1', '2900', 'ETHUSDT'), clock.now());
    // What `qtrade risk halt` does with the engine's answer:
    const change = risk.halt('operator', clock.now());
    if (change) {
      paper.cancelAll(undefined, clock.now());
      bus.publish('risk.state', change);
    }
    expect(paper.openOrders()).toEqual([]);
    expect(seen).toEqual([{ state: 'HALTED', previous: 'ACTIVE', reason: 'operator', time: clock.now() }]);
    expect(hook(limitBuy('0.1', '59000'), paper)?.msg).toBe('trading halted: operator (rule halted)');
    risk.resume(clock.now());
    expect(hook(limitBuy('0.1', '59000'), paper)).toBeUndefined();
  });

  it('sizes quoteOrderQty BUYs at the best ask from the book when it is below the last trade', () => {
    const { paper, clock } = setup();
    const book = new LocalOrderBook('BTCUSDT');
    book.applySnapshot({ symbol: 'BTCUSDT', lastUpdateId: 1, asks: [{ price: P('50000'), qty: Q('5') }], bids: [{ price: P('49999'), qty: Q('5') }] });
    paper.onBook(book);
    const risk = new RiskEngine({ instruments: instruments.all(), limits: setLimit(emptyLimits(), 'maxPositionQty', '1', 'BTCUSDT') });
    const top = () => ({ bid: P('49999'), ask: P('50000') });
    const hook = riskPreTrade(risk, { clock, instrument: (s) => instruments.get(s), top });
    const quote = (a: string): OrderRequest => ({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quoteOrderQty: parseAmount(a) });
    expect(hook(quote('50000.01'), paper)?.rule).toBe('maxPositionQty');
    expect(hook(quote('50000'), paper)).toBeUndefined();
    const r = paper.submit(quote('50000'), clock.now());
    expect(r.ok).toBe(true);
    expect(paper.position('BTCUSDT')!.qty <= parseAmount('1')).toBe(true);
  });
});

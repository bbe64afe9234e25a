import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Bus, type RiskStateChange } from './bus.js';
import { formatFixed } from './fixed.js';
import { Instruments, type ExchangeInfo } from './market/instruments.js';
import { LocalOrderBook } from './market/orderbook.js';
import type { Trade } from './market/types.js';
import { OrderRejectedError } from './orders/rejections.js';
import { AMOUNT_SCALE } from './orders/types.js';
import { RiskRejectedError } from './risk/rejections.js';
import { openStore } from './store/open.js';
import type { Store } from './store/types.js';
import { PaperTrading, orderRequestFromText } from './trading.js';

const info = JSON.parse(readFileSync(new URL('../../fixtures/binance/exchangeInfo.json', import.meta.url), 'utf8')) as ExchangeInfo;
const instruments = Instruments.fromExchangeInfo(info);
const BTC = instruments.get('BTCUSDT');
const T0 = Date.UTC(2024, 7, 8, 12, 0, 0);

function book(): LocalOrderBook {
  const b = new LocalOrderBook('BTCUSDT');
  b.applySnapshot({
    symbol: 'BTCUSDT',
    lastUpdateId: 1,
    bids: [{ price: 5_999_000, qty: 50_000_000 }],
    asks: [
      { price: 6_000_000, qty: 500_000 },
      { price: 6_001_000, qty: 20_000_000 },
    ],
  });
  return b;
}

const trade = (time: number, price = 5_999_500): Trade => ({ symbol: 'BTCUSDT', id: time, price, qty: 1_000_000, firstId: time, lastId: time, time, buyerMaker: false });

let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

async function open(bus = new Bus()): Promise<PaperTrading> {
  store ??= await openStore('sqlite::memory:');
  return PaperTrading.open({ store, instruments, exchangeSymbols: info.symbols, bus });
}

/** Buys 0.01 BTC up the asks and sells it back into the bid: a realized loss of 1.3492001 USDT with fees. */
async function roundTrip(t: PaperTrading, at: number): Promise<void> {
  await t.onMarket('BTCUSDT', { book: book(), trade: trade(at) });
  await t.place(orderRequestFromText(BTC, { side: 'BUY', qty: '0.01' }), at);
  await t.place(orderRequestFromText(BTC, { side: 'SELL', qty: '0.00999' }), at);
}

describe('PaperTrading', () => {
  it('replays the fills through risk on open: today\'s realized PnL survives a restart', async () => {
    const bus = new Bus();
    const changes: RiskStateChange[] = [];
    bus.subscribe('risk.state', (c) => changes.push(c));
    const a = await open(bus);
    await a.setLimit('dailyLossLimit', '1');
    await roundTrip(a, T0);
    const loss = a.risk.realizedToday('BTCUSDT', T0);
    expect(formatFixed(loss, AMOUNT_SCALE, 2)).toBe('-1.3492001');
    expect(changes.map((c) => c.state)).toEqual(['REDUCING']);
    expect(a.status().state).toBe('REDUCING');
    await a.close();

    const b = await open();
    expect(b.risk.realizedToday('BTCUSDT', T0)).toBe(loss);
    expect(b.status()).toEqual(a.status());
    expect(b.fills().map((f) => f.side)).toEqual(['BUY', 'BUY', 'SELL']);
    expect(b.orders().map((o) => o.status)).toEqual(['FILLED', 'FILLED']);
    await b.close();
  });

  it('a resume survives a restart: replayed losses do not re-enter REDUCING, the loss rule still holds', async () => {
    const a = await open();
    await a.setLimit('dailyLossLimit', '1');
    await roundTrip(a, T0);
    await a.resume(T0 + 1000);
    await a.close();

    const b = await open();
    expect(b.status()).toEqual({ state: 'ACTIVE', reason: 'resumed by operator', since: T0 + 1000 });
    await b.onMarket('BTCUSDT', { book: book(), trade: trade(T0 + 2000) });
    const err = await b.place(orderRequestFromText(BTC, { side: 'BUY', qty: '0.001' }), T0 + 2000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RiskRejectedError);
    expect((err as RiskRejectedError).rejection.rule).toBe('dailyLossLimit');
    await b.close();
  });

  it('halt persists before it cancels, and blocks every order until resume', async () => {
    const a = await open();
    await a.onMarket('BTCUSDT', { book: book(), trade: trade(T0) });
    await a.place(orderRequestFromText(BTC, { side: 'BUY', qty: '0.01', limit: '59000' }), T0);
    const { change, canceled } = await a.halt('test', T0 + 1);
    expect(change).toMatchObject({ state: 'HALTED', previous: 'ACTIVE', reason: 'test' });
    expect(canceled.map((o) => o.status)).toEqual(['CANCELED']);
    await a.close();
    const b = await open();
    expect(b.status().state).toBe('HALTED');
    await expect(b.place(orderRequestFromText(BTC, { side: 'BUY', qty: '0.001' }), T0 + 2)).rejects.toThrow('trading halted: test (rule halted)');
    await b.resume(T0 + 3);
    await b.onMarket('BTCUSDT', { book: book(), trade: trade(T0 + 3) });
    await expect(b.place(orderRequestFromText(BTC, { side: 'BUY', qty: '0.001' }), T0 + 3)).resolves.toMatchObject({ order: { status: 'FILLED' } });
    await b.close();
  });

  it('a market snapshot marks price and time but fills no resting order', async () => {
    const a = await open();
    await a.onMarket('BTCUSDT', { book: book(), trade: trade(T0) });
    await a.place(orderRequestFromText(BTC, { side: 'BUY', qty: '0.01', limit: '59000' }), T0);
    await a.onMarket('BTCUSDT', { trade: trade(T0 + 5, 5_800_000) });
    expect(a.openOrders()).toHaveLength(1);
    expect(a.positions()).toEqual([]);
    await a.close();
  });
});

describe('orderRequestFromText', () => {
  it('infers the type and parses exactly at the instrument scales', () => {
    expect(orderRequestFromText(BTC, { side: 'BUY', qty: '0.01' })).toEqual({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', qty: 1_000_000 });
    expect(orderRequestFromText(BTC, { side: 'SELL', qty: '1', limit: '60000.5' })).toEqual({ symbol: 'BTCUSDT', side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', qty: 100_000_000, price: 6_000_050 });
    expect(orderRequestFromText(BTC, { side: 'SELL', qty: '1', stop: '59000' }).type).toBe('STOP_LOSS');
    expect(orderRequestFromText(BTC, { side: 'SELL', qty: '1', stop: '59000', limit: '58900', tif: 'ioc' })).toMatchObject({ type: 'STOP_LOSS_LIMIT', timeInForce: 'IOC', stopPrice: 5_900_000, price: 5_890_000 });
    expect(orderRequestFromText(BTC, { side: 'BUY', quoteQty: '100.5' }).quoteOrderQty).toBe(1005n * 10n ** 15n);
  });

  it("refuses as Binance does: too many decimals is -1111, off the tick grid is PRICE_FILTER", () => {
    const rej = (f: () => unknown): unknown => {
      try {
        f();
      } catch (e) {
        return e instanceof OrderRejectedError ? e.toJSON() : (e as Error).message;
      }
      return undefined;
    };
    expect(rej(() => orderRequestFromText(BTC, { side: 'BUY', qty: '0.000000001' }))).toEqual({ code: -1111, msg: "Parameter 'quantity' has too much precision." });
    expect(rej(() => orderRequestFromText(BTC, { side: 'BUY', qty: '1', limit: '60000.000000001' }))).toEqual({ code: -1111, msg: "Parameter 'price' has too much precision." });
    expect(rej(() => orderRequestFromText(BTC, { side: 'BUY', qty: '1', limit: '60000.001' }))).toEqual({ code: -1013, msg: 'Filter failure: PRICE_FILTER' });
    expect(rej(() => orderRequestFromText(BTC, { side: 'BUY', qty: '1e3' }))).toMatch(/not a positive decimal/);
    expect(rej(() => orderRequestFromText(BTC, { side: 'BUY', qty: '1', type: 'ICEBERG' }))).toMatch(/unknown order type/);
  });
});

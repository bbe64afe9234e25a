import { INTERVAL_MS } from '../../src/engine/candles/intervals.js';
import { queryCandles } from '../../src/engine/candles/query.js';
import type { Candle, Interval } from '../../src/engine/candles/types.js';
import type { TickerView } from '../../src/engine/ai/view.js';
import type { EngineView } from '../../src/engine/ai/view.js';
import { bundledExchangeInfo, bundledInstruments } from '../../src/engine/market/bundled-instruments.js';
import type { BookLevel } from '../../src/engine/market/types.js';
import type { Amount } from '../../src/engine/orders/types.js';
import { openStore } from '../../src/engine/store/open.js';
import type { Store } from '../../src/engine/store/types.js';
import { PaperTrading } from '../../src/engine/trading.js';

/**
 * An engine view for the assistant's tests: a real paper account (PaperTrading over a SQLite
 * store in memory), candles in that store, and tickers and books set by the test.
 */

export const instruments = bundledInstruments();

/** A declarative spec (5m EMA(3)/SMA(10) cross, half the quote per entry) the backtest tests run. */
export const CROSS_5M_SPEC = {
  name: 'cross-5m',
  interval: '5m',
  indicators: { fast: { type: 'ema', period: 3 }, slow: { type: 'sma', period: 10 } },
  entry: { all: [{ left: 'fast', op: 'crossesAbove', right: 'slow' }] },
  exit: { any: [{ left: 'fast', op: 'crossesBelow', right: 'slow' }] },
  sizing: { type: 'fraction', value: 0.5 },
};

/** Closed candles whose closes are `closes` (raws): open = previous close, high/low bracket both. */
export function candleSeries(symbol: string, interval: Interval, closes: readonly number[], start = Date.UTC(2024, 7, 1)): Candle[] {
  const inst = instruments.get(symbol);
  const len = INTERVAL_MS[interval];
  return closes.map((close, i) => {
    const open = i === 0 ? close : closes[i - 1]!;
    return {
      symbol: inst.symbol,
      interval,
      priceScale: inst.priceScale,
      qtyScale: inst.qtyScale,
      openTime: start + i * len,
      closeTime: start + (i + 1) * len - 1,
      open,
      high: Math.max(open, close),
      low: Math.min(open, close),
      close,
      volume: 10n ** BigInt(inst.qtyScale),
      quoteVolume: BigInt(close) * 10n ** BigInt(inst.qtyScale),
      trades: 1,
      takerBuyVolume: 0n,
      takerBuyQuoteVolume: 0n,
      firstTradeId: i,
      lastTradeId: i,
      closed: true,
    };
  });
}

export interface Fixture {
  store: Store;
  trading: PaperTrading;
  view: EngineView;
  tickers: Map<string, TickerView>;
  books: Map<string, { bids: BookLevel[]; asks: BookLevel[] }>;
  now: { value: number };
  close(): Promise<void>;
}

export async function openFixture(opts: { balances?: Record<string, Amount>; candles?: Candle[]; storeUrl?: string } = {}): Promise<Fixture> {
  const store = await openStore(opts.storeUrl ?? 'sqlite::memory:');
  if (opts.candles) await store.upsertCandles(opts.candles);
  const trading = await PaperTrading.open({
    store,
    instruments,
    exchangeSymbols: bundledExchangeInfo().symbols,
    account: 'default',
    ...(opts.balances ? { initialBalances: opts.balances } : {}),
  });
  const tickers = new Map<string, TickerView>();
  const books = new Map<string, { bids: BookLevel[]; asks: BookLevel[] }>();
  const now = { value: Date.UTC(2024, 7, 8, 12) };
  const view: EngineView = {
    now: () => now.value,
    instrument: (s) => instruments.get(s),
    async ticker(s) {
      const t = tickers.get(instruments.get(s).symbol);
      if (!t) throw new Error(`fixture: no ticker of ${s}`);
      return t;
    },
    async candles(s, interval, limit) {
      const r = await queryCandles(store, { symbol: instruments.get(s).symbol, interval, limit });
      return { candles: r.candles, source: 'store' };
    },
    async book(s) {
      const b = books.get(instruments.get(s).symbol);
      if (!b) throw new Error(`fixture: no book of ${s}`);
      return { ...b, source: 'fixture' };
    },
    balances: async () => trading.balances(),
    positions: async () => trading.positions(),
    openOrders: async (s) => trading.openOrders(s),
    risk: async () => ({ status: trading.status(), limits: trading.limits() }),
    backtestCandles: (s, count) => store.candles({ symbol: instruments.get(s).symbol, interval: '1m', limit: count }),
  };
  return {
    store,
    trading,
    view,
    tickers,
    books,
    now,
    close: async () => {
      await trading.close();
      await store.close();
    },
  };
}

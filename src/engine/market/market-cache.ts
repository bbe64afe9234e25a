import type { Bus } from '../bus.js';
import type { Candle } from '../candles/types.js';
import type { BookTop, MiniTicker, Trade } from './types.js';

/**
 * The latest market state per symbol as the bus delivered it: recent trades, the last trade,
 * the 24h rolling ticker, the best bid/ask and the last closed 1m candles. Read by the daemon's
 * REST and WS views and by the TUI; written only from bus events.
 */
export interface SymbolMarket {
  symbol: string;
  /** Newest last, at most `maxTrades`. */
  trades: Trade[];
  lastTrade: Trade | undefined;
  ticker: MiniTicker | undefined;
  top: BookTop | undefined;
  /** Closed 1m candles, newest last, at most `maxCandles`. */
  candles: Candle[];
  /** The open 1m candle (partial). */
  partial: Candle | undefined;
}

export interface MarketCacheOptions {
  maxTrades?: number;
  maxCandles?: number;
}

export class MarketCache {
  private readonly symbols = new Map<string, SymbolMarket>();
  private readonly maxTrades: number;
  private readonly maxCandles: number;
  private readonly unsubscribe: Array<() => void>;

  constructor(bus: Bus, opts: MarketCacheOptions = {}) {
    this.maxTrades = opts.maxTrades ?? 1000;
    this.maxCandles = opts.maxCandles ?? 1000;
    this.unsubscribe = [
      bus.subscribe('trade', (t) => {
        const m = this.entry(t.symbol);
        m.trades.push(t);
        if (m.trades.length > this.maxTrades * 2) m.trades.splice(0, m.trades.length - this.maxTrades);
        m.lastTrade = t;
      }),
      bus.subscribe('ticker', (t) => {
        this.entry(t.symbol).ticker = t;
      }),
      bus.subscribe('book.top', (t) => {
        this.entry(t.symbol).top = t;
      }),
      bus.subscribe('candle.partial', (c) => {
        this.entry(c.symbol).partial = c;
      }),
      bus.subscribe('candle.closed', (c) => this.onClosed(c)),
      bus.subscribe('candle.incomplete', (c) => this.onClosed(c)),
    ];
  }

  /** What is known of a symbol (uppercase); undefined before its first event. */
  get(symbol: string): SymbolMarket | undefined {
    const m = this.symbols.get(symbol.toUpperCase());
    if (!m) return undefined;
    if (m.trades.length > this.maxTrades) m.trades.splice(0, m.trades.length - this.maxTrades);
    return m;
  }

  /** Symbols with any event, sorted. */
  list(): string[] {
    return [...this.symbols.keys()].sort();
  }

  /** Last trade price (raw) of every symbol that has one. */
  lastPrices(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [s, m] of this.symbols) if (m.lastTrade) out.set(s, m.lastTrade.price);
    return out;
  }

  close(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  private onClosed(c: Candle): void {
    const m = this.entry(c.symbol);
    m.candles.push(c);
    if (m.candles.length > this.maxCandles) m.candles.shift();
    if (m.partial && m.partial.openTime <= c.openTime) m.partial = undefined;
  }

  private entry(symbol: string): SymbolMarket {
    let m = this.symbols.get(symbol);
    if (!m) this.symbols.set(symbol, (m = { symbol, trades: [], lastTrade: undefined, ticker: undefined, top: undefined, candles: [], partial: undefined }));
    return m;
  }
}

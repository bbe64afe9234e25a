/**
 * Market-data value types shared by the engines. Prices and quantities are raw
 * integers at the symbol's scales (see Instrument); times are the exchange's, in ms
 * (or µs where a source says so, see TimeUnit).
 */

/** Decimal places of a symbol's prices and quantities, from exchangeInfo tickSize / stepSize. */
export interface Instrument {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  priceScale: number;
  qtyScale: number;
  /** tickSize / stepSize as Binance prints them, kept for filters and display. */
  tickSize: string;
  stepSize: string;
  status: string;
}

/** 'ms' for live data and files before 2025; data.binance.vision spot files from 2025 on use 'us'. */
export type TimeUnit = 'ms' | 'us';

/** One aggregated trade (Binance aggTrade); a raw trade is the case firstId === lastId. */
export interface Trade {
  symbol: string;
  /** Aggregate trade id (or the trade id for raw `trade` events); contiguous per symbol. */
  id: number;
  price: number;
  qty: number;
  firstId: number;
  lastId: number;
  /** Trade time. */
  time: number;
  /** True when the buyer was the maker, i.e. the taker sold. */
  buyerMaker: boolean;
}

export interface BookLevel {
  price: number;
  qty: number;
}

export interface BookTop {
  symbol: string;
  updateId: number;
  bid: BookLevel;
  ask: BookLevel;
}

export interface MiniTicker {
  symbol: string;
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: bigint;
  quoteVolume: bigint;
}

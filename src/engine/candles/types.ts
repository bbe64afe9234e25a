/** Interval names as Binance spells them. */
export const INTERVALS = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '1w'] as const;
export type Interval = (typeof INTERVALS)[number];

/**
 * A kline, field for field as Binance's: prices are raws at `priceScale`, volumes at
 * `qtyScale`, quote volumes at priceScale + qtyScale (exact products). Times are in the
 * source's unit (ms, or µs for data.binance.vision spot files from 2025 on).
 */
export interface Candle {
  symbol: string;
  interval: Interval;
  priceScale: number;
  qtyScale: number;
  openTime: number;
  closeTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: bigint;
  quoteVolume: bigint;
  /** Number of raw trades (Σ lastId − firstId + 1 over aggTrades). */
  trades: number;
  takerBuyVolume: bigint;
  takerBuyQuoteVolume: bigint;
  /** First and last trade id in the candle, −1 when it has no trades (as Binance's WS kline). */
  firstTradeId: number;
  lastTradeId: number;
  closed: boolean;
}

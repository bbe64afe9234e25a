/** Interval names as Binance spells them. */
export const INTERVALS = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '1w'] as const;
export type Interval = (typeof INTERVALS)[number];

/**
 * A kline, field for field as Binance's: prices are raws at the symbol's price scale,
 * volumes at its qty scale, quote volumes at priceScale + qtyScale (exact products).
 */
export interface Candle {
  symbol: string;
  interval: Interval;
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

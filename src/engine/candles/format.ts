import { formatFixed } from '../fixed.js';
import type { Candle } from './types.js';

/** Binance prints every decimal with 8 places; formatFixed adds more only when a value needs them. */
const BINANCE_DECIMALS = 8;

function dec(raw: number | bigint, scale: number): string {
  return formatFixed(raw, scale, BINANCE_DECIMALS);
}

/**
 * One data.binance.vision klines CSV row (no newline): open time, open, high, low, close,
 * volume, close time, quote volume, trades, taker-buy base volume, taker-buy quote volume, ignore.
 */
export function klineCsvRow(c: Candle): string {
  const ps = c.priceScale;
  const qs = c.qtyScale;
  const xs = ps + qs;
  return (
    `${c.openTime},${dec(c.open, ps)},${dec(c.high, ps)},${dec(c.low, ps)},${dec(c.close, ps)},` +
    `${dec(c.volume, qs)},${c.closeTime},${dec(c.quoteVolume, xs)},${c.trades},` +
    `${dec(c.takerBuyVolume, qs)},${dec(c.takerBuyQuoteVolume, xs)},0`
  );
}

export interface CandleJson {
  symbol: string;
  interval: string;
  openTime: number;
  closeTime: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  quoteVolume: string;
  trades: number;
  takerBuyVolume: string;
  takerBuyQuoteVolume: string;
  firstTradeId: number;
  lastTradeId: number;
  closed: boolean;
}

/** A candle with named fields and exact decimal strings, for --json output. */
export function candleJson(c: Candle): CandleJson {
  const ps = c.priceScale;
  const qs = c.qtyScale;
  const xs = ps + qs;
  return {
    symbol: c.symbol,
    interval: c.interval,
    openTime: c.openTime,
    closeTime: c.closeTime,
    open: dec(c.open, ps),
    high: dec(c.high, ps),
    low: dec(c.low, ps),
    close: dec(c.close, ps),
    volume: dec(c.volume, qs),
    quoteVolume: dec(c.quoteVolume, xs),
    trades: c.trades,
    takerBuyVolume: dec(c.takerBuyVolume, qs),
    takerBuyQuoteVolume: dec(c.takerBuyQuoteVolume, xs),
    firstTradeId: c.firstTradeId,
    lastTradeId: c.lastTradeId,
    closed: c.closed,
  };
}

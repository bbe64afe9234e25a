import { rescale } from '../fixed.js';
import type { Candle } from './types.js';

const PRICE_FIELDS = ['open', 'high', 'low', 'close'] as const;

function sameValue(a: number | bigint, aScale: number, b: number | bigint, bScale: number): boolean {
  if (aScale === bScale) return BigInt(a) === BigInt(b);
  const s = Math.max(aScale, bScale);
  return rescale(BigInt(a), aScale, s) === rescale(BigInt(b), bScale, s);
}

/**
 * Names of the fields where two candles differ, values compared exactly after bringing
 * both to the finer scale. Trade ids are compared only when both sides know them (klines
 * from REST or files carry none).
 */
export function compareCandles(ours: Candle, theirs: Candle): string[] {
  const diff: string[] = [];
  if (ours.symbol !== theirs.symbol) diff.push('symbol');
  if (ours.interval !== theirs.interval) diff.push('interval');
  if (ours.openTime !== theirs.openTime) diff.push('openTime');
  if (ours.closeTime !== theirs.closeTime) diff.push('closeTime');
  const oq = ours.priceScale + ours.qtyScale;
  const tq = theirs.priceScale + theirs.qtyScale;
  for (const f of PRICE_FIELDS) {
    if (!sameValue(ours[f], ours.priceScale, theirs[f], theirs.priceScale)) diff.push(f);
  }
  if (!sameValue(ours.volume, ours.qtyScale, theirs.volume, theirs.qtyScale)) diff.push('volume');
  if (!sameValue(ours.quoteVolume, oq, theirs.quoteVolume, tq)) diff.push('quoteVolume');
  if (ours.trades !== theirs.trades) diff.push('trades');
  if (!sameValue(ours.takerBuyVolume, ours.qtyScale, theirs.takerBuyVolume, theirs.qtyScale)) diff.push('takerBuyVolume');
  if (!sameValue(ours.takerBuyQuoteVolume, oq, theirs.takerBuyQuoteVolume, tq)) diff.push('takerBuyQuoteVolume');
  for (const f of ['firstTradeId', 'lastTradeId'] as const) {
    const known = (c: Candle): boolean => c[f] !== -1 || c.trades === 0;
    if (known(ours) && known(theirs) && ours[f] !== theirs[f]) diff.push(f);
  }
  return diff;
}

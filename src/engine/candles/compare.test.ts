import { describe, expect, it } from 'vitest';
import { compareCandles } from './compare.js';
import { candleJson, klineCsvRow } from './format.js';
import type { Candle } from './types.js';
import { GOLDEN_2355, GOLDEN_KLINE_ROWS } from '../../../test/helpers/golden-klines.js';

const base: Candle = {
  symbol: 'BTCUSDT',
  interval: '1m',
  priceScale: 2,
  qtyScale: 5,
  openTime: 1723161300000,
  closeTime: 1723161359999,
  open: 6182800,
  high: 6186080,
  low: 6178000,
  close: 6178225,
  volume: 1507702n,
  quoteVolume: 9321480644641n,
  trades: 1255,
  takerBuyVolume: 663029n,
  takerBuyQuoteVolume: 4099575914273n,
  firstTradeId: 3735684134,
  lastTradeId: 3735685388,
  closed: true,
};

/** The same candle at Binance's 8/8 wire scales, as a kline parsed without exchangeInfo would be. */
const wire: Candle = {
  ...base,
  priceScale: 8,
  qtyScale: 8,
  open: 6182800000000,
  high: 6186080000000,
  low: 6178000000000,
  close: 6178225000000,
  volume: 1507702000n,
  quoteVolume: 9321480644641n * 10n ** 9n,
  takerBuyVolume: 663029000n,
  takerBuyQuoteVolume: 4099575914273n * 10n ** 9n,
  firstTradeId: -1,
  lastTradeId: -1,
};

describe('compareCandles', () => {
  it('finds no difference between equal candles, across scales and without trade ids', () => {
    expect(compareCandles(base, { ...base })).toEqual([]);
    expect(compareCandles(base, wire)).toEqual([]);
  });

  it('names every differing field', () => {
    expect(compareCandles(base, { ...wire, high: wire.high + 1, trades: 1254, takerBuyQuoteVolume: 0n })).toEqual([
      'high',
      'trades',
      'takerBuyQuoteVolume',
    ]);
    expect(compareCandles(base, { ...base, openTime: 0, lastTradeId: 1, volume: 1n })).toEqual(['openTime', 'volume', 'lastTradeId']);
    const empty = { ...base, trades: 0, firstTradeId: -1, lastTradeId: -1 };
    expect(compareCandles(empty, { ...base, trades: 0 })).toEqual(['firstTradeId', 'lastTradeId']);
  });
});

describe('format', () => {
  it('prints klines CSV rows as data.binance.vision does', () => {
    expect(klineCsvRow(base)).toBe(GOLDEN_KLINE_ROWS[0]);
    expect(klineCsvRow(wire)).toBe(klineCsvRow(base));
    // more than 8 decimals only when the exact value needs them
    expect(klineCsvRow({ ...wire, quoteVolume: 10n ** 16n + 1n }).split(',')[7]).toBe('1.0000000000000001');
  });

  it('prints JSON with named fields and decimal strings', () => {
    expect(candleJson(base)).toEqual({
      symbol: 'BTCUSDT',
      interval: '1m',
      openTime: 1723161300000,
      closeTime: 1723161359999,
      ...GOLDEN_2355,
      firstTradeId: 3735684134,
      lastTradeId: 3735685388,
      closed: true,
    });
  });
});

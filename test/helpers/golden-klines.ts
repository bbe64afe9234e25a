/**
 * BTCUSDT 1m klines 2024-08-08 23:55–23:57 UTC, computed independently (Python, decimal.Decimal) from every trade
 * in fixtures/binance/BTCUSDT-trades-2024-08-08-excerpt.csv (real Binance trades), in data.binance.vision's
 * klines CSV column order. Tests of the synthesizer, file readers, formatting, `candles` and `replay` check against
 * these rows.
 */
export const GOLDEN_KLINE_ROWS = [
  '1723161300000,61828.00000000,61860.80000000,61780.00000000,61782.25000000,15.07702000,1723161359999,932148.06446410,1255,6.63029000,409957.59142730,0',
  '1723161360000,61782.25000000,61782.26000000,61723.99000000,61727.66000000,15.49778000,1723161419999,957049.46856370,1011,6.32524000,390617.13319790,0',
  '1723161420000,61727.66000000,61735.99000000,61651.01000000,61652.01000000,59.29235000,1723161479999,3658317.73032700,2069,29.50278000,1820067.40579740,0',
] as const;

/** The 23:55 row's decimal fields as `candleJson` names them. */
export const GOLDEN_2355 = {
  open: '61828.00000000',
  high: '61860.80000000',
  low: '61780.00000000',
  close: '61782.25000000',
  volume: '15.07702000',
  quoteVolume: '932148.06446410',
  trades: 1255,
  takerBuyVolume: '6.63029000',
  takerBuyQuoteVolume: '409957.59142730',
} as const;

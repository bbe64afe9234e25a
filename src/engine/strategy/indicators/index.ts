/**
 * Streaming technical indicators for strategies, O(1) per update (amortised where a window sum
 * is rebuilt once per lap): SMA, EMA, WMA, RSI, MACD, Bollinger, ATR, Stochastic, VWAP, OBV.
 *
 * Library: qtrade's own, not trading-signals or technicalindicators, decided by
 * bench/indicators.bench.mjs (same data, same run; see bench/README.md): SMA is 2× (period 20)
 * to 13× (period 200) the faster peer, RSI ~9×, and EMA ties trading-signals (both at ~4 ns per
 * update). Ours also take Candles directly, never drift (compensated/rebuilt sums), and agree
 * with both peers within floating-point noise where the conventions match (crosscheck.test.ts
 * says where they differ and why). Values are validated against published worked examples
 * (StockCharts ChartSchool spreadsheets, Wilder's RSI table) in reference.test.ts.
 *
 * Values are floats: indicators are signals, not money. Exact prices, quantities and balances
 * stay in the order engine and the ledger. Each indicator takes numbers, plain float Bars, or
 * Candles (raws converted with the candle's scales, divisors cached per scale).
 */
export { type Bar, type BarInput, type Indicator, type PriceInput, CandleReader } from './input.js';
export { SMA } from './sma.js';
export { EMA } from './ema.js';
export { WMA } from './wma.js';
export { RSI } from './rsi.js';
export { MACD, type MacdOptions, type MacdValue } from './macd.js';
export { Bollinger, type BollingerOptions, type BollingerValue } from './bollinger.js';
export { ATR } from './atr.js';
export { Stochastic, type StochasticOptions, type StochasticValue } from './stochastic.js';
export { VWAP, type VwapOptions } from './vwap.js';
export { OBV } from './obv.js';

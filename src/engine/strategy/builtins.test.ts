import { describe, expect, it } from 'vitest';
import { parseAmount } from '../orders/amounts.js';
import { bundledMarket } from '../orders/bundled-filters.js';
import { runBacktest } from './backtest.js';
import { BUILTIN_STRATEGIES } from './builtins/index.js';
import { candlesOf, generatedTrades } from './test-data.js';

const inst = bundledMarket().instruments.get('BTCUSDT');
const trades = generatedTrades(inst, { seed: 'builtins', count: 30_000, volatility: 3e-4 });
const candles = candlesOf(inst, trades);

const params: Record<string, Record<string, unknown>> = {
  'sma-cross': { fast: 5, slow: 20 },
  'ema-cross': { fast: 5, slow: 20 },
  'rsi-reversion': { period: 7, oversold: 35, overbought: 65 },
  'bollinger-breakout': { period: 10, k: 1.5 },
  grid: { levels: 5, spacing: 0.1, orderQuote: 200 },
  dca: { every: 10, amount: 100 },
};

describe('built-in strategies on generated data', () => {
  it('has the six built-ins', () => {
    expect([...BUILTIN_STRATEGIES.keys()].sort()).toEqual(['bollinger-breakout', 'dca', 'ema-cross', 'grid', 'rsi-reversion', 'sma-cross']);
  });

  for (const [name, strategy] of BUILTIN_STRATEGIES) {
    it(`${name} trades, deterministically, on candles and on trades`, async () => {
      const run = (src: 'candles' | 'trades') =>
        runBacktest({
          strategy,
          params: params[name],
          symbol: 'BTCUSDT',
          ...(src === 'candles' ? { candles } : { trades }),
          initialBalances: { USDT: parseAmount('10000') },
          slippageTicks: 1,
        });
      for (const src of ['candles', 'trades'] as const) {
        const a = await run(src);
        const b = await run(src);
        expect(a.status, `${src}: ${a.error?.message}`).toBe('running');
        expect(a.fills.length, src).toBeGreaterThan(1);
        expect(b.fills).toEqual(a.fills);
        expect(b.equity.toPoints()).toEqual(a.equity.toPoints());
        expect(b.metrics).toEqual(a.metrics);
        expect(a.equity.length).toBeGreaterThan(100);
        expect(a.model).toBe(src === 'candles' ? 'candle-approximation' : 'exact');
      }
    });
  }
});

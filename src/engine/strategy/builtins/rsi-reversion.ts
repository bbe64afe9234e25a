import { defineStrategy } from '../api.js';
import { SIZE_PARAM, enterOrExitLong } from './common.js';

/** Buys when RSI falls below `oversold`, sells when it rises above `overbought`. */
export const rsiReversion = defineStrategy({
  name: 'rsi-reversion',
  description: 'RSI mean reversion, long only',
  params: {
    period: { type: 'int', default: 14, min: 2, max: 200 },
    oversold: { type: 'number', default: 30, min: 1, max: 50 },
    overbought: { type: 'number', default: 70, min: 50, max: 99 },
    size: SIZE_PARAM,
  },
  validate: (p) => (p.oversold >= p.overbought ? 'oversold must be below overbought' : undefined),
  onCandle(ctx) {
    const rsi = ctx.indicator.rsi(ctx.params.period);
    if (!rsi.isReady) return;
    const v = rsi.value!;
    enterOrExitLong(ctx, v < ctx.params.oversold, v > ctx.params.overbought, ctx.params.size);
  },
});

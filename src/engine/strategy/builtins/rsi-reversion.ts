import { defineStrategy } from '../api.js';
import { buyWithFraction, isLong, sellAll } from './common.js';

/** Buys when RSI falls below `oversold`, sells when it rises above `overbought`. */
export const rsiReversion = defineStrategy({
  name: 'rsi-reversion',
  description: 'RSI mean reversion, long only',
  params: {
    period: { type: 'int', default: 14, min: 2, max: 200 },
    oversold: { type: 'number', default: 30, min: 1, max: 50 },
    overbought: { type: 'number', default: 70, min: 50, max: 99 },
    size: { type: 'number', default: 0.95, min: 0.01, max: 1 },
  },
  validate: (p) => (p.oversold >= p.overbought ? 'oversold must be below overbought' : undefined),
  onCandle(ctx) {
    const rsi = ctx.indicator.rsi(ctx.params.period);
    if (!rsi.isReady) return;
    const v = rsi.value!;
    if (v < ctx.params.oversold && !isLong(ctx)) buyWithFraction(ctx, ctx.params.size);
    else if (v > ctx.params.overbought && isLong(ctx)) sellAll(ctx);
  },
});

import { defineStrategy } from '../api.js';
import { buyWithFraction, isLong, sellAll } from './common.js';

/** Buys a close above the upper band, exits on a close below the middle band. */
export const bollingerBreakout = defineStrategy({
  name: 'bollinger-breakout',
  description: 'Bollinger band breakout, long only',
  params: {
    period: { type: 'int', default: 20, min: 2, max: 500 },
    k: { type: 'number', default: 2, min: 0.5, max: 5 },
    size: { type: 'number', default: 0.95, min: 0.01, max: 1 },
  },
  onCandle(ctx, candle) {
    const bb = ctx.indicator.bollinger({ period: ctx.params.period, k: ctx.params.k });
    if (!bb.isReady) return;
    const close = candle.close / 10 ** candle.priceScale;
    const { upper, middle } = bb.value!;
    if (close > upper && !isLong(ctx)) buyWithFraction(ctx, ctx.params.size);
    else if (close < middle && isLong(ctx)) sellAll(ctx);
  },
});

import { defineStrategy } from '../api.js';
import { SIZE_PARAM, enterOrExitLong } from './common.js';

/** Buys a close above the upper band, exits on a close below the middle band. */
export const bollingerBreakout = defineStrategy({
  name: 'bollinger-breakout',
  description: 'Bollinger band breakout, long only',
  params: {
    period: { type: 'int', default: 20, min: 2, max: 500 },
    k: { type: 'number', default: 2, min: 0.5, max: 5 },
    size: SIZE_PARAM,
  },
  onCandle(ctx, candle) {
    const bb = ctx.indicator.bollinger({ period: ctx.params.period, k: ctx.params.k });
    if (!bb.isReady) return;
    const close = candle.close / 10 ** candle.priceScale;
    const { upper, middle } = bb.value!;
    enterOrExitLong(ctx, close > upper, close < middle, ctx.params.size);
  },
});

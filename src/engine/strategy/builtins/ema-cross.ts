import { defineStrategy } from '../api.js';
import { buyWithFraction, isLong, sellAll } from './common.js';

/** Long when the fast EMA crosses above the slow one, flat when it crosses back below. */
export const emaCross = defineStrategy({
  name: 'ema-cross',
  description: 'fast/slow exponential moving average crossover, long only',
  params: {
    fast: { type: 'int', default: 10, min: 2, max: 500, step: 1 },
    slow: { type: 'int', default: 30, min: 3, max: 2000, step: 1 },
    size: { type: 'number', default: 0.95, min: 0.01, max: 1, description: 'share of the free quote balance per entry' },
  },
  validate: (p) => (p.fast >= p.slow ? `fast (${p.fast}) must be below slow (${p.slow})` : undefined),
  onCandle(ctx) {
    const fast = ctx.indicator.ema(ctx.params.fast);
    const slow = ctx.indicator.ema(ctx.params.slow);
    if (!fast.isReady || !slow.isReady) return;
    const above = fast.value! > slow.value!;
    const was = ctx.state.above;
    ctx.state.above = above;
    if (was === undefined || was === above) return;
    if (above && !isLong(ctx)) buyWithFraction(ctx, ctx.params.size);
    else if (!above && isLong(ctx)) sellAll(ctx);
  },
});

import { defineStrategy } from '../api.js';
import { SIZE_PARAM, enterOrExitLong } from './common.js';

/** Long when the fast average crosses above the slow one, flat when it crosses back below. */
function movingAverageCross(name: string, description: string, average: 'sma' | 'ema') {
  return defineStrategy({
    name,
    description,
    params: {
      fast: { type: 'int', default: 10, min: 2, max: 500, step: 1 },
      slow: { type: 'int', default: 30, min: 3, max: 2000, step: 1 },
      size: { ...SIZE_PARAM, description: 'share of the free quote balance per entry' },
    },
    validate: (p) => (p.fast >= p.slow ? `fast (${p.fast}) must be below slow (${p.slow})` : undefined),
    onCandle(ctx) {
      const fast = ctx.indicator[average](ctx.params.fast);
      const slow = ctx.indicator[average](ctx.params.slow);
      if (!fast.isReady || !slow.isReady) return;
      const above = fast.value! > slow.value!;
      const was = ctx.state.above;
      ctx.state.above = above;
      if (was === undefined || was === above) return;
      enterOrExitLong(ctx, above, !above, ctx.params.size);
    },
  });
}

/** Long when the fast SMA crosses above the slow one, flat when it crosses back below. */
export const smaCross = movingAverageCross('sma-cross', 'fast/slow simple moving average crossover, long only', 'sma');

/** Long when the fast EMA crosses above the slow one, flat when it crosses back below. */
export const emaCross = movingAverageCross('ema-cross', 'fast/slow exponential moving average crossover, long only', 'ema');

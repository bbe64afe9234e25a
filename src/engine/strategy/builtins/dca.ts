import { defineStrategy } from '../api.js';

/** Dollar-cost averaging: buys `amount` of quote worth every `every` candles. */
export const dca = defineStrategy({
  name: 'dca',
  description: 'buy a fixed quote amount at a fixed candle interval',
  params: {
    every: { type: 'int', default: 60, min: 1, max: 100_000 },
    amount: { type: 'number', default: 50, min: 10, max: 1e9, description: 'quote per buy' },
  },
  onCandle(ctx) {
    const n = ((ctx.state.n as number | undefined) ?? 0) + 1;
    ctx.state.n = n;
    if ((n - 1) % ctx.params.every !== 0) return;
    if (ctx.balance(ctx.instrument.quoteAsset).free >= ctx.params.amount) ctx.buy({ quoteQty: ctx.params.amount });
  },
});

import { defineStrategy, type StrategyContext } from '../api.js';

interface Level {
  buy: number;
  sell: number;
  phase: 'buy' | 'sell';
  cid?: string;
}

/**
 * A long grid: `levels` buy limits spaced `spacing` % below the price the grid started at; each
 * filled buy is followed by a sell limit one spacing above it, each filled sell by the buy again.
 * Works from order states each candle (no onFill), so it behaves the same in every driver.
 */
export const grid = defineStrategy({
  name: 'grid',
  description: 'buy-low/sell-high limit order grid below the start price',
  params: {
    levels: { type: 'int', default: 5, min: 1, max: 50 },
    spacing: { type: 'number', default: 0.2, min: 0.01, max: 20, description: '% between levels' },
    orderQuote: { type: 'number', default: 100, min: 10, max: 1e9, description: 'quote per level' },
  },
  onCandle(ctx, candle) {
    const p = ctx.params;
    let levels = ctx.state.levels as unknown as Level[] | undefined;
    if (!levels) {
      const center = candle.close / 10 ** candle.priceScale;
      levels = [];
      for (let i = 1; i <= p.levels; i++) {
        const buy = center * (1 - (i * p.spacing) / 100);
        levels.push({ buy, sell: buy * (1 + p.spacing / 100), phase: 'buy' });
      }
    }
    for (const l of levels) step(ctx, l, p.orderQuote);
    ctx.state.levels = levels as unknown as never;
  },
});

function step(ctx: StrategyContext<{ orderQuote: number }>, l: Level, quote: number): void {
  if (l.cid) {
    const o = ctx.order(l.cid);
    if (o && (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED')) return;
    if (o && o.status === 'FILLED') l.phase = l.phase === 'buy' ? 'sell' : 'buy';
    delete l.cid;
  }
  if (l.phase === 'buy') {
    if (ctx.balance(ctx.instrument.quoteAsset).free < quote) return;
    l.cid = ctx.buy({ qty: quote / l.buy, limit: l.buy }).clientOrderId;
  } else {
    const qty = Math.min(quote / l.buy, ctx.position().qty) * 0.998;
    if (qty * l.sell < 10) {
      l.phase = 'buy';
      return;
    }
    l.cid = ctx.sell({ qty, limit: l.sell }).clientOrderId;
  }
}

import type { StrategyContext } from '../api.js';

/** The least a built-in trades or counts as a position: 10 quote units (over dust, near most minimum notionals). */
const MIN_QUOTE = 10;

/** Whether `qty` of base is worth at least MIN_QUOTE at the last price. */
function worthTrading(ctx: StrategyContext<unknown>, qty: number): boolean {
  return qty * (ctx.lastPrice() ?? 0) >= MIN_QUOTE;
}

/** Buys with `fraction` of the free quote balance at market; no-op below MIN_QUOTE. */
export function buyWithFraction(ctx: StrategyContext<unknown>, fraction: number): void {
  const free = ctx.balance(ctx.instrument.quoteAsset).free;
  const spend = free * fraction;
  if (spend >= MIN_QUOTE) ctx.buy({ quoteQty: spend });
}

/** Sells the whole long position (down to the lot step) at market. */
export function sellAll(ctx: StrategyContext<unknown>): void {
  const qty = ctx.position().qty;
  if (qty > 0 && worthTrading(ctx, qty)) ctx.sell({ qty });
}

/** Long when the position is worth at least MIN_QUOTE. */
export function isLong(ctx: StrategyContext<unknown>): boolean {
  return worthTrading(ctx, ctx.position().qty);
}

/** The `size` param of the long-only signal strategies: share of the free quote balance per entry. */
export const SIZE_PARAM = { type: 'number', default: 0.95, min: 0.01, max: 1 } as const;

/** Buys `fraction` of the free quote on `enter` when flat, else sells everything on `exit` when long. */
export function enterOrExitLong(ctx: StrategyContext<unknown>, enter: boolean, exit: boolean, fraction: number): void {
  if (!enter && !exit) return;
  // isLong and sellAll in one: a single read of the position and the price (nothing can change
  // between the check and the sale), where calling both read each twice.
  const qty = ctx.position().qty;
  const long = worthTrading(ctx, qty);
  if (enter && !long) buyWithFraction(ctx, fraction);
  else if (exit && long && qty > 0) ctx.sell({ qty });
}

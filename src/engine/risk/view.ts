import type { Instrument } from '../market/types.js';
import type { OpenTotals } from '../orders/paper-engine.js';
import type { Amount, Order, Position } from '../orders/types.js';
import { upperSymbol } from '../market/symbol-case.js';

/**
 * Everything the risk engine reads about the account and the market for one request, at one
 * moment. Built by the caller from the venue's state (see buildRiskView for the paper engine);
 * the engine itself keeps only what no venue query gives: today's realized PnL and the order-rate
 * windows.
 */
export interface RiskView {
  /** Exchange event time of the request, ms (the kernel's Clock.now()). */
  now: number;
  /** The request's instrument; undefined for a symbol the venue does not list (the venue rejects it). */
  instrument: Instrument | undefined;
  /** Last trade price, raw at the instrument's priceScale; undefined before the first trade. */
  lastPrice: number | undefined;
  /** Net position in base (Position.qty): what trading has bought minus sold, net of base fees. */
  position: Amount;
  /** Unfilled base quantity (origQty − executedQty, raws at qtyScale) of the symbol's open BUY orders. */
  openBuyQty: number;
  /** Same for open SELL orders. */
  openSellQty: number;
  /** Open orders on the symbol (resting limits and untriggered stops). */
  openOrders: number;
  /** Open orders on every symbol. */
  openOrdersTotal: number;
  /**
   * Best bid and ask (raws at priceScale), when the caller has the book ('book.top'). They size a
   * quoteOrderQty order: a BUY fills at the ask or above, so quote / min(last, ask) bounds what it
   * can buy; a SELL is estimated at min(last, bid).
   */
  bestBid?: number;
  bestAsk?: number;
}

/** The venue queries a view needs; PaperEngine has them all, a live router can too. */
export interface RiskViewSource {
  openOrders(symbol?: string): readonly Order[];
  position(symbol: string): Position | undefined;
  lastPrice(symbol: string): number | undefined;
  /**
   * Optional: the open-order counts and quantities, and the position, from counters the source
   * keeps (PaperEngine.openTotals). Must equal what the queries above give; when present the
   * view is built without copying every open order.
   */
  openTotals?(symbol: string): OpenTotals;
}


export interface RiskViewArgs {
  symbol: string;
  /** Exchange event time of the request. */
  now: number;
  instrument: Instrument | undefined;
  bestBid?: number;
  bestAsk?: number;
}

/**
 * A view from the paper engine's public queries (PaperEngine is a RiskViewSource). A source with
 * openTotals costs a few map reads; otherwise one pass over copies of the open orders.
 */
export function buildRiskView(src: RiskViewSource, args: RiskViewArgs): RiskView {
  const { now, instrument } = args;
  const sym = upperSymbol(args.symbol);
  if (typeof src.openTotals === 'function') {
    const t = src.openTotals(sym);
    return {
      now,
      instrument,
      lastPrice: src.lastPrice(sym),
      position: t.positionQty,
      openBuyQty: t.openBuyQty,
      openSellQty: t.openSellQty,
      openOrders: t.openOrders,
      openOrdersTotal: t.openOrdersTotal,
      bestBid: args.bestBid,
      bestAsk: args.bestAsk,
    };
  }
  let openBuyQty = 0;
  let openSellQty = 0;
  let openOrders = 0;
  const all = src.openOrders();
  for (const o of all) {
    if (o.symbol !== sym) continue;
    openOrders++;
    const left = o.origQty - o.executedQty;
    if (o.side === 'BUY') openBuyQty += left;
    else openSellQty += left;
  }
  return {
    now,
    instrument,
    lastPrice: src.lastPrice(sym),
    position: src.position(sym)?.qty ?? 0n,
    openBuyQty,
    openSellQty,
    openOrders,
    openOrdersTotal: all.length,
    bestBid: args.bestBid,
    bestAsk: args.bestAsk,
  };
}

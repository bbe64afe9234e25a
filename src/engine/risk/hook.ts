import type { Instrument } from '../market/types.js';
import type { OrderRequest } from '../orders/types.js';
import type { RiskEngine } from './engine.js';
import type { RiskRejection } from './rejections.js';
import { buildRiskView, type RiskViewSource } from './view.js';
import { upperSymbol } from '../market/symbol-case.js';

export interface RiskHookOptions {
  /** Event time for callers that do not pass one (the kernel's Clock). */
  clock: { now(): number };
  /** The instrument of a symbol, undefined when unlisted (e.g. Instruments.has/get). */
  instrument(symbol: string): Instrument | undefined;
  /** Best bid and ask of a symbol, raws (the latest 'book.top'), to size quoteOrderQty orders. */
  top?(symbol: string): { bid?: number; ask?: number } | undefined;
}

/**
 * The OrderService pre-trade hook: builds the view from the account's queries and admits the
 * order (check, then count it in the rate windows). A PaperEngine, or the service's AccountView,
 * is the source. `now`, when the caller passes it, is the request's event time.
 */
export function riskPreTrade(
  risk: RiskEngine,
  opts: RiskHookOptions,
): (req: OrderRequest, src: RiskViewSource, now?: number) => RiskRejection | undefined {
  return (req, src, now) => {
    const symbol = typeof req.symbol === 'string' ? upperSymbol(req.symbol) : '';
    const top = opts.top?.(symbol);
    const view = buildRiskView(src, {
      symbol,
      now: now ?? opts.clock.now(),
      instrument: opts.instrument(symbol),
      bestBid: top?.bid,
      bestAsk: top?.ask,
    });
    return risk.admit(req, view);
  };
}

import type { PreTradeHook } from '../orders/service.js';
import type { CancelResult, OrderRef, PaperEngine, SubmitResult } from '../orders/paper-engine.js';
import { Rejections } from '../orders/rejections.js';
import type { OrderEvent } from '../orders/events.js';
import type { Amount, Balance, Order, OrderRequest, Position } from '../orders/types.js';

type Maybe<T> = T | Promise<T>;

/**
 * What a strategy runner trades against. Both the pure PaperEngine (backtests: results come back
 * synchronously) and the durable OrderService (paper trading: results resolve once in the store)
 * satisfy it as they are; the live router will too. Queries read the engine's in-memory state.
 */
export interface OrderSink {
  submit(req: OrderRequest, now: number): Maybe<SubmitResult>;
  cancel(symbol: string, ref: OrderRef, now: number): Maybe<CancelResult>;
  cancelAll(symbol: string | undefined, now: number): Maybe<{ orders: Order[]; events: OrderEvent[] }>;
  order(ref: OrderRef): Order | undefined;
  openOrders(symbol?: string): Order[];
  balance(asset: string): Balance;
  position(symbol: string): Position | undefined;
  lastPrice(symbol: string): number | undefined;
  /** Optional fast paths for per-candle readers. position(symbol)?.qty ?? 0n without the view; symbol as the instrument spells it. */
  positionQty?(symbol: string): Amount;
  /** A number that changes whenever balances or positions may have (the engine's event seq). */
  stateVersion?(): number;
}

/**
 * A PaperEngine behind a pre-trade hook (e.g. `riskPreTrade(risk, …)`), as OrderService applies
 * it: the hook sees the request and the account; a refusal never reaches the engine. Backtests
 * use this so risk limits act exactly as in paper trading.
 */
export function withPreTrade(engine: PaperEngine, hook: PreTradeHook | undefined): OrderSink {
  if (!hook) return engine;
  return {
    submit(req, now) {
      const known = req.clientOrderId !== undefined && engine.order({ clientOrderId: req.clientOrderId }) !== undefined;
      const veto = known ? undefined : hook(req, engine, now);
      if (veto) return { ok: false, rejection: { code: veto.code, msg: veto.msg }, duplicate: false, fills: [], events: [] };
      return engine.submit(req, now);
    },
    cancel: (symbol, ref, now) => engine.cancel(symbol, ref, now),
    cancelAll: (symbol, now) => engine.cancelAll(symbol, now),
    order: (ref) => engine.order(ref),
    openOrders: (symbol) => engine.openOrders(symbol),
    balance: (asset) => engine.balance(asset),
    position: (symbol) => engine.position(symbol),
    lastPrice: (symbol) => engine.lastPrice(symbol),
  };
}

/** For callers that must refuse an order before it reaches any engine (a paused strategy's queue). */
export function refused(msg: string): SubmitResult {
  const r = Rejections.marketClosed();
  return { ok: false, rejection: { code: r.code, msg }, duplicate: false, fills: [], events: [] };
}

import {
  balancesMapFromWire,
  balancesReplyToWire,
  errorToWire,
  fillsReplyToWire,
  haltReplyToWire,
  orderTextFromWire,
  ordersReplyToWire,
  placedReplyToWire,
  pnlReplyToWire,
  positionsReplyToWire,
  resumeReplyToWire,
  riskReplyToWire,
  type WireErrorBody,
} from '../../client/wire.js';
import { ParseError } from '../../engine/errors.js';
import type { Instrument } from '../../engine/market/types.js';
import type { OrderRef } from '../../engine/orders/paper-engine.js';
import { OrderRejectedError, Rejections } from '../../engine/orders/rejections.js';
import { DEFAULT_PAPER_BALANCES, orderRequestFromText } from '../../engine/trading.js';
import { intParam, optionalParam } from '../http.js';
import { ApiError, ApiErrors, type ApiRequest, type ApiResult, type DaemonContext, type Route } from '../types.js';

/**
 * The paper account under /api/qtrade/: what `qtrade order|orders|cancel|fills|balance|positions|
 * pnl|risk|paper` do embedded, done by the daemon's running account. Bodies and answers are the
 * exact codec of client/wire.ts; refusals answer 400 with the typed error's fields so the CLI
 * rethrows the very error embedded mode throws.
 */

/** A typed engine error's answer: `{code, msg}` plus what the client needs to rebuild it. */
class AccountApiError extends ApiError {
  constructor(
    status: number,
    private readonly body: WireErrorBody,
  ) {
    super(status, body.code, body.msg);
  }

  override toJSON(): WireErrorBody {
    return this.body;
  }
}

/** Answers the engine's typed errors (refusals, usage) with their wire codec, so a client rethrows the very error. */
export function guarded(handle: (req: ApiRequest) => Promise<ApiResult> | ApiResult): (req: ApiRequest) => Promise<ApiResult> {
  return async (req) => {
    try {
      return await handle(req);
    } catch (err) {
      const w = errorToWire(err);
      if (w) throw new AccountApiError(w.status, w.body);
      throw err;
    }
  };
}

function boolParam(req: ApiRequest, name: string): boolean {
  const v = optionalParam(req, name);
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  throw ApiErrors.badParam(name, 'expected true or false');
}

/** A JSON object body (the client always sends one); a missing one reads as {}. */
function jsonBody(req: ApiRequest): Record<string, unknown> {
  const b = req.json ?? {};
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new ParseError('body is not a JSON object');
  return b as Record<string, unknown>;
}

function optionalText(body: Record<string, unknown>, name: string, max: number): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > max) throw new ParseError(`body.${name} is not a string of at most ${max} characters`);
  return v;
}

export function qtradeAccountRoutes(ctx: DaemonContext): Route[] {
  const node = ctx.node;
  const trading = node.trading;
  const symbolOf = (req: ApiRequest): string | undefined => {
    const s = optionalParam(req, 'symbol');
    return s === undefined ? undefined : node.instruments.get(s).symbol;
  };
  const instrumentsOf = (symbols: Iterable<string>): Instrument[] => [...new Set(symbols)].sort().map((s) => node.instruments.get(s));
  const limitOf = (req: ApiRequest): number => intParam(req, 'limit', { min: 1, fallback: 500 })!;
  // Cancels, halts and resumes have no market event of their own: they carry the exchange time the
  // node has reached, so the account's log stays in event-time order; before any event (nothing
  // has traded here yet) the local clock, as embedded commands use.
  const now = (): number => {
    const t = node.clock.now();
    return t > 0 ? t : ctx.wallNow();
  };

  return [
    {
      method: 'POST',
      path: '/api/qtrade/orders',
      scope: 'trade',
      summary: 'Place a paper order given as the CLI takes it (JSON {symbol, side, qty|quoteQty, limit, stop, type, tif, clientId}, decimals as strings)',
      handle: guarded(async (req) => {
        const text = orderTextFromWire(req.json);
        const inst = node.instruments.get(text.symbol);
        const placed = await node.placeOrder(orderRequestFromText(inst, text));
        return { body: placedReplyToWire({ ...placed, instruments: [inst] }) };
      }),
    },
    {
      method: 'GET',
      path: '/api/qtrade/orders',
      scope: 'read',
      summary: "The paper account's orders of this generation, oldest first (only open ones with open=true)",
      params: { open: 'true: only open orders', symbol: 'only this symbol', limit: 'at most the last N (default 500)' },
      handle: guarded((req) => {
        const symbol = symbolOf(req);
        const limit = limitOf(req);
        const orders = boolParam(req, 'open') ? trading.openOrders(symbol).slice(-limit) : trading.orders({ symbol, limit });
        return { body: ordersReplyToWire(orders, instrumentsOf(orders.map((o) => o.symbol))) };
      }),
    },
    {
      method: 'DELETE',
      path: '/api/qtrade/orders',
      scope: 'trade',
      summary: 'Cancel one open order (orderId and/or clientOrderId) or every open one (all=true), of symbol when given',
      params: { orderId: 'the order id', clientOrderId: 'the client order id', all: 'true: every open order', symbol: "the order's symbol (optional)" },
      handle: guarded(async (req) => {
        const symbol = symbolOf(req);
        const orderId = intParam(req, 'orderId', { min: 0 });
        const clientOrderId = optionalParam(req, 'clientOrderId');
        if (boolParam(req, 'all')) {
          if (orderId !== undefined || clientOrderId !== undefined) throw ApiErrors.badParam('all', 'give all=true or an order, not both');
          const orders = await trading.cancelAll(symbol, now());
          return { body: ordersReplyToWire(orders, instrumentsOf(orders.map((o) => o.symbol))) };
        }
        if (orderId === undefined && clientOrderId === undefined) throw ApiErrors.mandatory('orderId');
        const ref: OrderRef = orderId !== undefined ? { orderId, ...(clientOrderId === undefined ? {} : { clientOrderId }) } : { clientOrderId: clientOrderId! };
        const on = symbol ?? trading.order(ref)?.symbol;
        if (on === undefined) throw new OrderRejectedError(Rejections.unknownOrder());
        const order = await trading.cancel(on, ref, now());
        return { body: ordersReplyToWire([order], instrumentsOf([order.symbol])) };
      }),
    },
    {
      method: 'GET',
      path: '/api/qtrade/fills',
      scope: 'read',
      summary: "The paper account's fills of this generation, oldest first",
      params: { symbol: 'only this symbol', limit: 'at most the last N (default 500)' },
      handle: guarded((req) => {
        const fills = trading.fills({ symbol: symbolOf(req), limit: limitOf(req) });
        return { body: fillsReplyToWire(fills, instrumentsOf(fills.map((f) => f.symbol))) };
      }),
    },
    {
      method: 'GET',
      path: '/api/qtrade/balances',
      scope: 'read',
      summary: 'Free and locked balance per asset (assets with any)',
      handle: guarded(() => ({ body: balancesReplyToWire(trading.balances()) })),
    },
    {
      method: 'GET',
      path: '/api/qtrade/positions',
      scope: 'read',
      summary: "Every traded symbol's position, marked to the feed's last trade (mark null when none is known)",
      handle: guarded(() => ({ body: positionsReplyToWire(trading.positions(node.market.lastPrices())) })),
    },
    {
      method: 'GET',
      path: '/api/qtrade/pnl',
      scope: 'read',
      summary: 'Realized and unrealized PnL per symbol (marked to the last trade) and totals per quote asset',
      handle: guarded(() => {
        const positions = trading.positions(node.market.lastPrices());
        return { body: pnlReplyToWire({ positions, totals: trading.pnlTotals(positions) }) };
      }),
    },
    {
      method: 'GET',
      path: '/api/qtrade/risk',
      scope: 'read',
      summary: 'Risk state (ACTIVE, REDUCING, HALTED) and every limit set',
      handle: guarded(() => ({ body: riskReplyToWire({ status: trading.status(), limits: trading.limits() }) })),
    },
    {
      method: 'POST',
      path: '/api/qtrade/risk/halt',
      scope: 'admin',
      summary: 'HALTED: cancel every open order and refuse new ones until resumed (JSON {reason})',
      handle: guarded(async (req) => {
        const reason = optionalText(jsonBody(req), 'reason', 500) ?? 'halted by operator';
        const { canceled } = await trading.halt(reason, now());
        return { body: haltReplyToWire({ status: trading.status(), canceled, instruments: instrumentsOf(canceled.map((o) => o.symbol)) }) };
      }),
    },
    {
      method: 'POST',
      path: '/api/qtrade/risk/resume',
      scope: 'admin',
      summary: 'Back to ACTIVE after a halt or REDUCING',
      handle: guarded(async () => {
        const change = await trading.resume(now());
        return { body: resumeReplyToWire({ status: trading.status(), previous: change?.previous }) };
      }),
    },
    {
      method: 'PUT',
      path: '/api/qtrade/risk/limits',
      scope: 'admin',
      summary: 'Set one risk limit (JSON {key, value, symbol}; value "off" removes it)',
      handle: guarded(async (req) => {
        const body = jsonBody(req);
        const key = optionalText(body, 'key', 64);
        const value = optionalText(body, 'value', 64);
        if (key === undefined) throw ApiErrors.mandatory('key');
        if (value === undefined) throw ApiErrors.mandatory('value');
        await trading.setLimit(key, value, optionalText(body, 'symbol', 32));
        return { body: riskReplyToWire({ status: trading.status(), limits: trading.limits() }) };
      }),
    },
    {
      method: 'POST',
      path: '/api/qtrade/paper/reset',
      scope: 'admin',
      summary: 'Start the paper account afresh (JSON {balances: {ASSET: amount}}, amounts as integer strings at 16 decimals; default 10000 USDT)',
      handle: guarded(async (req) => {
        const body = jsonBody(req);
        const balances = body.balances === undefined ? { ...DEFAULT_PAPER_BALANCES } : balancesMapFromWire(body.balances, 'body.balances');
        await trading.reset(balances);
        return { body: balancesReplyToWire(trading.balances()) };
      }),
    },
  ];
}

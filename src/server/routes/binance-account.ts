import { formatAmount } from '../../engine/orders/amounts.js';
import { cancelJson, fillJson, orderJson, orderResponseJson } from '../../engine/orders/binance-json.js';
import { checkFilters, parseSymbolFilters, permissiveFilters } from '../../engine/orders/filters.js';
import type { OrderRef } from '../../engine/orders/paper-engine.js';
import { OrderRejectedError, Rejections } from '../../engine/orders/rejections.js';
import { isStopType, isTerminal, ORDER_TYPES, type Order, type OrderRequest } from '../../engine/orders/types.js';
import { validateRequest } from '../../engine/orders/validate.js';
import type { Instrument } from '../../engine/market/types.js';
import { orderRequestFromText, type PlacedOrder } from '../../engine/trading.js';
import { intParam, optionalParam, requiredParam } from '../http.js';
import { ApiError, ApiErrors, type ApiRequest, type DaemonContext, type Route } from '../types.js';
import { instrumentParam } from './binance-market.js';

/**
 * Binance's spot account endpoints (/api/v3 order, openOrders, allOrders, myTrades, account) on the
 * daemon's paper account. Parameters are Binance's; `timestamp`, `signature` and `recvWindow` were
 * already checked by the authenticator (tokens.ts). Every change happens at exchange event time
 * (the node's clock), never the wall clock. Refusals keep Binance's codes: the engine's rejections
 * map through http.ts, parameter errors here use the same codes Binance sends.
 */

type RespType = 'ACK' | 'RESULT' | 'FULL';
const RESP_TYPES: readonly string[] = ['ACK', 'RESULT', 'FULL'];
const TIFS: readonly string[] = ['GTC', 'IOC', 'FOK'];
const STP_MODES: readonly string[] = ['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH', 'DECREMENT'];

const rejected = (r: { code: number; msg: string }): OrderRejectedError => new OrderRejectedError(r);
const noSuchOrder = (): ApiError => new ApiError(400, -2013, 'Order does not exist.');

interface ParsedOrder {
  request: OrderRequest;
  respType: RespType;
}

/** POST /api/v3/order's parameters as an exact OrderRequest (decimal strings parsed at the symbol's scales). */
function parseOrder(inst: Instrument, req: ApiRequest): ParsedOrder {
  const side = requiredParam(req, 'side').toUpperCase();
  if (side !== 'BUY' && side !== 'SELL') throw rejected(Rejections.invalidSide());
  const type = requiredParam(req, 'type').toUpperCase();
  if (!(ORDER_TYPES as readonly string[]).includes(type)) throw rejected(Rejections.invalidType());
  const tif = optionalParam(req, 'timeInForce');
  if (tif !== undefined && !TIFS.includes(tif.toUpperCase())) throw rejected(Rejections.invalidTif());
  // The paper engine has no iceberg, trailing or strategy-labelled orders: refuse rather than drop them.
  if (optionalParam(req, 'icebergQty') !== undefined) throw rejected({ code: -2010, msg: 'Iceberg orders are not supported for this symbol.' });
  if (optionalParam(req, 'trailingDelta') !== undefined) throw rejected({ code: -2010, msg: 'Trailing stop orders are not supported for this symbol.' });
  for (const p of ['strategyId', 'strategyType', 'pegPriceType', 'pegOffsetValue', 'pegOffsetType']) {
    if (optionalParam(req, p) !== undefined) throw rejected(Rejections.notRequired(p));
  }
  // Paper orders never trade against each other, so self-trade prevention never has anything to prevent.
  const stp = optionalParam(req, 'selfTradePreventionMode');
  if (stp !== undefined && !STP_MODES.includes(stp)) throw ApiErrors.badParam('selfTradePreventionMode', `expected one of ${STP_MODES.join(', ')}`);
  const resp = optionalParam(req, 'newOrderRespType')?.toUpperCase();
  if (resp !== undefined && !RESP_TYPES.includes(resp)) throw ApiErrors.badParam('newOrderRespType', 'expected ACK, RESULT or FULL');
  const request = orderRequestFromText(inst, {
    side,
    type,
    qty: optionalParam(req, 'quantity'),
    quoteQty: optionalParam(req, 'quoteOrderQty'),
    limit: optionalParam(req, 'price'),
    stop: optionalParam(req, 'stopPrice'),
    tif,
    // Sent but empty is Binance's -1118, which validation reports.
    clientId: req.params.get('newClientOrderId') ?? undefined,
  });
  // Binance's default: FULL for MARKET and LIMIT, ACK for every other type.
  const respType = (resp ?? (type === 'MARKET' || type === 'LIMIT' ? 'FULL' : 'ACK')) as RespType;
  return { request, respType };
}

/**
 * The answer to a placed order in the requested shape. A newClientOrderId the account already
 * knows returns that order (the engine's exactly-once retry) with every fill it has had.
 */
function placedJson(ctx: DaemonContext, p: PlacedOrder, inst: Instrument, respType: RespType): Record<string, unknown> {
  const o = p.order;
  const fills = p.duplicate ? ctx.node.trading.fills({ symbol: o.symbol }).filter((f) => f.orderId === o.orderId) : p.fills;
  const full = orderResponseJson(o, inst, fills);
  if (respType === 'FULL') return full;
  if (respType === 'RESULT') {
    const { fills: _fills, ...result } = full;
    return result;
  }
  return { symbol: o.symbol, orderId: o.orderId, orderListId: -1, clientOrderId: o.clientOrderId, transactTime: full.transactTime };
}

/**
 * POST /api/v3/order/test: the checks a placement makes before it touches the book, without placing.
 * Filters that compare against the engine's reference price (PERCENT_PRICE, market NOTIONAL) are
 * the engine's own state and run only on placement; balances are not checked, as on Binance.
 */
function testOrder(ctx: DaemonContext, inst: Instrument, r: OrderRequest): void {
  const bad = validateRequest(r);
  if (bad) throw rejected(bad);
  const raw = ctx.node.exchangeSymbols.find((s) => s.symbol === inst.symbol);
  const f = raw ? parseSymbolFilters(raw, inst) : permissiveFilters(inst);
  if (f.status !== 'TRADING') throw rejected(Rejections.marketClosed());
  if (!f.orderTypes.has(r.type)) throw rejected(Rejections.orderTypeNotSupported(r.type));
  if (r.quoteOrderQty !== undefined && !f.quoteOrderQtyMarketAllowed) throw rejected(Rejections.quoteOrderQtyNotSupported());
  const open = ctx.node.trading.openOrders(inst.symbol);
  const failed = checkFilters(
    f,
    inst,
    { side: r.side, type: r.type, qty: r.qty, quoteOrderQty: r.quoteOrderQty, price: r.price, stopPrice: r.stopPrice },
    { openOrders: open.length, openAlgoOrders: open.filter((o) => isStopType(o.type)).length, refPrice: () => undefined },
  );
  if (failed) throw rejected(failed);
}

/** orderId or origClientOrderId; orderId wins when both are sent, as on Binance. */
function orderRef(req: ApiRequest): OrderRef {
  const orderId = intParam(req, 'orderId', { min: 0 });
  if (orderId !== undefined) return { orderId };
  const clientOrderId = optionalParam(req, 'origClientOrderId');
  if (clientOrderId !== undefined) return { clientOrderId };
  throw rejected(Rejections.eitherParam('orderId', 'origClientOrderId'));
}

function findOrder(ctx: DaemonContext, inst: Instrument, ref: OrderRef): Order {
  const o = ctx.node.trading.order(ref);
  if (!o || o.symbol !== inst.symbol) throw noSuchOrder();
  return o;
}

/**
 * A cancel has no market event of its own: it happens at the exchange time the node has reached,
 * and never before the orders it touches changed (after a restart the clock starts at 0 until the
 * feed's first event), so the account's log stays in event-time order.
 */
function cancelTime(ctx: DaemonContext, orders: ReadonlyArray<Order | undefined>): number {
  let t = ctx.node.clock.now();
  for (const o of orders) if (o && o.updateTime > t) t = o.updateTime;
  return t;
}

function instrumentFor(ctx: DaemonContext, symbol: string): Instrument {
  return ctx.node.instruments.get(symbol);
}

/**
 * Binance's list windows: `fromParam` (orderId / fromId) → the first `limit` from it; startTime → the
 * first `limit` from it; otherwise the latest `limit`. Times bound the item's time, inclusive.
 */
function listWindow<T>(list: T[], req: ApiRequest, key: (t: T) => number, time: (t: T) => number, fromParam: string): T[] {
  const from = intParam(req, fromParam, { min: 0 });
  const startTime = intParam(req, 'startTime', { min: 0 });
  const endTime = intParam(req, 'endTime', { min: 0 });
  const limit = Math.min(intParam(req, 'limit', { min: 1, fallback: 500 })!, 1000);
  let out = list;
  if (from !== undefined) out = out.filter((t) => key(t) >= from);
  if (startTime !== undefined) out = out.filter((t) => time(t) >= startTime);
  if (endTime !== undefined) out = out.filter((t) => time(t) <= endTime);
  return from !== undefined || startTime !== undefined ? out.slice(0, limit) : out.slice(-limit);
}

function account(ctx: DaemonContext, req: ApiRequest): Record<string, unknown> {
  const omit = optionalParam(req, 'omitZeroBalances');
  if (omit !== undefined && omit !== 'true' && omit !== 'false') throw ApiErrors.badParam('omitZeroBalances', 'expected true or false');
  const trading = ctx.node.trading;
  const list = omit === 'true' ? trading.balances() : trading.service.balances();
  // The account changes only through its orders, so its last change is their latest update.
  let updateTime = 0;
  for (const o of trading.orders()) if (o.updateTime > updateTime) updateTime = o.updateTime;
  // Commission fields (makerCommission … commissionRates) are left out: the fee schedule is the
  // paper engine's and not visible here, and a guessed rate would misprice a client's fills.
  return {
    canTrade: true,
    canWithdraw: false,
    canDeposit: false,
    brokered: false,
    requireSelfTradePrevention: false,
    preventSor: false,
    updateTime,
    accountType: 'SPOT',
    balances: list.map((b) => ({ asset: b.asset, free: formatAmount(b.free), locked: formatAmount(b.locked) })),
    permissions: ['SPOT'],
  };
}

export function binanceAccountRoutes(ctx: DaemonContext): Route[] {
  const node = ctx.node;
  const symbol = { symbol: 'symbol, e.g. BTCUSDT (required)' };
  const orderParams = {
    ...symbol,
    side: 'BUY or SELL (required)',
    type: 'MARKET, LIMIT, LIMIT_MAKER, STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT or TAKE_PROFIT_LIMIT (required)',
    timeInForce: 'GTC, IOC or FOK',
    quantity: 'base quantity (decimal)',
    quoteOrderQty: 'MARKET only: quote amount to spend or receive',
    price: 'limit price',
    stopPrice: 'trigger price of stop types',
    newClientOrderId: 'client order id (an id the account knows returns that order)',
    newOrderRespType: 'ACK, RESULT or FULL (FULL for MARKET and LIMIT by default)',
  };
  const ref = { ...symbol, orderId: 'order id', origClientOrderId: 'client order id (orderId or this is required)' };
  return [
    {
      method: 'POST',
      path: '/api/v3/order',
      scope: 'trade',
      signed: true,
      summary: 'Place a paper order at the current exchange time',
      params: orderParams,
      handle: async (req) => {
        const inst = instrumentParam(ctx, req);
        const { request, respType } = parseOrder(inst, req);
        return { body: placedJson(ctx, await node.placeOrder(request), inst, respType) };
      },
    },
    {
      method: 'POST',
      path: '/api/v3/order/test',
      scope: 'trade',
      signed: true,
      summary: "Check an order's parameters and filters without placing it: {}",
      params: orderParams,
      handle: (req) => {
        const inst = instrumentParam(ctx, req);
        if (optionalParam(req, 'computeCommissionRates') === 'true') {
          throw new ApiError(400, -1106, "Parameter 'computeCommissionRates' sent when not required: the daemon does not publish its commission rates.");
        }
        testOrder(ctx, inst, parseOrder(inst, req).request);
        return { body: {} };
      },
    },
    {
      method: 'GET',
      path: '/api/v3/order',
      scope: 'read',
      signed: true,
      summary: 'One order by orderId or origClientOrderId',
      params: ref,
      handle: (req) => {
        const inst = instrumentParam(ctx, req);
        return { body: orderJson(findOrder(ctx, inst, orderRef(req)), inst) };
      },
    },
    {
      method: 'DELETE',
      path: '/api/v3/order',
      scope: 'trade',
      signed: true,
      summary: 'Cancel one open order',
      params: { ...ref, newClientOrderId: 'id of this cancel, echoed as clientOrderId', cancelRestrictions: 'ONLY_NEW or ONLY_PARTIALLY_FILLED' },
      handle: async (req) => {
        const inst = instrumentParam(ctx, req);
        const r = orderRef(req);
        const restriction = optionalParam(req, 'cancelRestrictions');
        if (restriction !== undefined) {
          const wanted = restriction === 'ONLY_NEW' ? 'NEW' : restriction === 'ONLY_PARTIALLY_FILLED' ? 'PARTIALLY_FILLED' : undefined;
          if (wanted === undefined) throw new ApiError(400, -1145, 'Invalid cancelRestrictions');
          const o = node.trading.order(r);
          if (o && o.symbol === inst.symbol && !isTerminal(o.status) && o.status !== wanted) {
            throw rejected({ code: -2011, msg: 'Order was not canceled due to cancel restrictions.' });
          }
        }
        const o = await node.trading.cancel(inst.symbol, r, cancelTime(ctx, [node.trading.order(r)]));
        const body = cancelJson(o, inst);
        const cancelId = optionalParam(req, 'newClientOrderId');
        return { body: cancelId === undefined ? body : { ...body, clientOrderId: cancelId } };
      },
    },
    {
      method: 'GET',
      path: '/api/v3/openOrders',
      scope: 'read',
      signed: true,
      summary: 'Open orders of one symbol, or of all',
      params: { symbol: 'symbol, e.g. BTCUSDT' },
      handle: (req) => {
        const sym = optionalParam(req, 'symbol') === undefined ? undefined : instrumentParam(ctx, req).symbol;
        return { body: node.trading.openOrders(sym).map((o) => orderJson(o, instrumentFor(ctx, o.symbol))) };
      },
    },
    {
      method: 'DELETE',
      path: '/api/v3/openOrders',
      scope: 'trade',
      signed: true,
      summary: 'Cancel every open order of a symbol',
      params: symbol,
      handle: async (req) => {
        const inst = instrumentParam(ctx, req);
        const canceled = await node.trading.cancelAll(inst.symbol, cancelTime(ctx, node.trading.openOrders(inst.symbol)));
        // Binance answers a symbol without open orders with -2011 rather than an empty list.
        if (canceled.length === 0) throw rejected(Rejections.unknownOrder());
        return { body: canceled.map((o) => cancelJson(o, inst)) };
      },
    },
    {
      method: 'GET',
      path: '/api/v3/allOrders',
      scope: 'read',
      signed: true,
      summary: "Every order of a symbol in this account generation, oldest first",
      params: { ...symbol, orderId: 'orders from this id', startTime: 'created from (ms)', endTime: 'created until (ms)', limit: 'default 500, max 1000' },
      handle: (req) => {
        const inst = instrumentParam(ctx, req);
        const list = listWindow(node.trading.orders({ symbol: inst.symbol }), req, (o) => o.orderId, (o) => o.time, 'orderId');
        return { body: list.map((o) => orderJson(o, inst)) };
      },
    },
    {
      method: 'GET',
      path: '/api/v3/myTrades',
      scope: 'read',
      signed: true,
      summary: "The account's fills on a symbol, oldest first",
      params: { ...symbol, orderId: 'fills of this order only', fromId: 'trade id from', startTime: 'from (ms)', endTime: 'until (ms)', limit: 'default 500, max 1000' },
      handle: (req) => {
        const inst = instrumentParam(ctx, req);
        const orderId = intParam(req, 'orderId', { min: 0 });
        let fills = node.trading.fills({ symbol: inst.symbol });
        if (orderId !== undefined) fills = fills.filter((f) => f.orderId === orderId);
        return { body: listWindow(fills, req, (f) => f.tradeId, (f) => f.time, 'fromId').map((f) => fillJson(f, inst)) };
      },
    },
    {
      method: 'GET',
      path: '/api/v3/account',
      scope: 'read',
      signed: true,
      summary: 'The paper account: balances and permissions',
      params: { omitZeroBalances: 'true to list only non-zero balances' },
      handle: (req) => ({ body: account(ctx, req) }),
    },
  ];
}

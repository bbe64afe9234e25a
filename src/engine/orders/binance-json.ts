import { formatFixed } from '../fixed.js';
import type { Instrument } from '../market/types.js';
import type { MarkedPosition, PnlTotal } from '../trading.js';
import { formatAmount } from './amounts.js';
import type { Amount, Balance, Fill, Order } from './types.js';

/**
 * Orders, fills and balances in Binance's REST response shapes, with exact decimal strings (prices
 * and quantities at Binance's 8 decimals): what `--json` prints and what the daemon's /api/v3 answers.
 */

const W = 8;
const jsonPrice = (raw: number, inst: Instrument): string => formatFixed(raw, inst.priceScale, W);
const jsonQty = (raw: number, inst: Instrument): string => formatFixed(raw, inst.qtyScale, W);

/** Binance echoes GTC for types without a time in force. */
const tifOf = (o: Order): string => o.timeInForce ?? 'GTC';

/** The order fields POST /api/v3/order and DELETE /api/v3/order answer with, in Binance's order. */
function ackFields(o: Order, inst: Instrument): Record<string, unknown> {
  return {
    orderId: o.orderId,
    orderListId: -1,
    clientOrderId: o.clientOrderId,
    transactTime: o.updateTime,
    price: jsonPrice(o.price, inst),
    origQty: jsonQty(o.origQty, inst),
    executedQty: jsonQty(o.executedQty, inst),
    origQuoteOrderQty: formatAmount(o.origQuoteOrderQty),
    cummulativeQuoteQty: formatAmount(o.cumQuote),
    status: o.status,
    timeInForce: tifOf(o),
    type: o.type,
    side: o.side,
    ...(o.stopPrice !== 0 ? { stopPrice: jsonPrice(o.stopPrice, inst) } : {}),
  };
}

/** POST /api/v3/order (newOrderRespType FULL). */
export function orderResponseJson(o: Order, inst: Instrument, fills: readonly Fill[]): Record<string, unknown> {
  return {
    symbol: o.symbol,
    ...ackFields(o, inst),
    workingTime: o.workingTime,
    selfTradePreventionMode: 'NONE',
    fills: fills.map((f) => ({
      price: jsonPrice(f.price, inst),
      qty: jsonQty(f.qty, inst),
      commission: formatAmount(f.commission),
      commissionAsset: f.commissionAsset,
      tradeId: f.tradeId,
    })),
  };
}

/** GET /api/v3/order, openOrders, allOrders. */
export function orderJson(o: Order, inst: Instrument): Record<string, unknown> {
  return {
    symbol: o.symbol,
    orderId: o.orderId,
    orderListId: -1,
    clientOrderId: o.clientOrderId,
    price: jsonPrice(o.price, inst),
    origQty: jsonQty(o.origQty, inst),
    executedQty: jsonQty(o.executedQty, inst),
    cummulativeQuoteQty: formatAmount(o.cumQuote),
    status: o.status,
    timeInForce: tifOf(o),
    type: o.type,
    side: o.side,
    stopPrice: jsonPrice(o.stopPrice, inst),
    icebergQty: formatFixed(0, 0, W),
    time: o.time,
    updateTime: o.updateTime,
    isWorking: o.isWorking,
    workingTime: o.workingTime,
    origQuoteOrderQty: formatAmount(o.origQuoteOrderQty),
    selfTradePreventionMode: 'NONE',
  };
}

/** DELETE /api/v3/order (and each entry of DELETE /api/v3/openOrders). */
export function cancelJson(o: Order, inst: Instrument): Record<string, unknown> {
  return { symbol: o.symbol, origClientOrderId: o.clientOrderId, ...ackFields(o, inst), selfTradePreventionMode: 'NONE' };
}

/** GET /api/v3/myTrades. */
export function fillJson(f: Fill, inst: Instrument): Record<string, unknown> {
  return {
    symbol: f.symbol,
    id: f.tradeId,
    orderId: f.orderId,
    orderListId: -1,
    price: jsonPrice(f.price, inst),
    qty: jsonQty(f.qty, inst),
    quoteQty: formatAmount(f.quoteQty),
    commission: formatAmount(f.commission),
    commissionAsset: f.commissionAsset,
    time: f.time,
    isBuyer: f.side === 'BUY',
    isMaker: f.isMaker,
    isBestMatch: true,
  };
}

/** The `balances` of GET /api/v3/account. */
export function balancesJson(list: readonly Balance[]): Record<string, unknown> {
  return { balances: list.map((b) => ({ asset: b.asset, free: formatAmount(b.free), locked: formatAmount(b.locked) })) };
}

const amountOrNull = (a: Amount | undefined): string | null => (a === undefined ? null : formatAmount(a));

export function positionJson(p: MarkedPosition): Record<string, unknown> {
  return {
    symbol: p.symbol,
    baseAsset: p.baseAsset,
    quoteAsset: p.quoteAsset,
    qty: formatAmount(p.qty),
    avgEntryPrice: formatAmount(p.avgEntry),
    cost: formatAmount(p.cost),
    markPrice: p.mark === undefined ? null : formatFixed(p.mark, p.priceScale, W),
    unrealizedPnl: amountOrNull(p.unrealizedPnl),
    realizedPnl: formatAmount(p.realizedPnl),
    fees: formatAmount(p.fees),
  };
}

export function pnlJson(positions: readonly MarkedPosition[], totals: readonly PnlTotal[]): Record<string, unknown> {
  return {
    symbols: positions.map((p) => ({
      symbol: p.symbol,
      quoteAsset: p.quoteAsset,
      realizedPnl: formatAmount(p.realizedPnl),
      unrealizedPnl: amountOrNull(p.unrealizedPnl),
      totalPnl: p.unrealizedPnl === undefined ? null : formatAmount(p.realizedPnl + p.unrealizedPnl),
    })),
    totals: totals.map((t) => ({
      quoteAsset: t.quoteAsset,
      realizedPnl: formatAmount(t.realizedPnl),
      unrealizedPnl: amountOrNull(t.unrealizedPnl),
      totalPnl: amountOrNull(t.totalPnl),
    })),
  };
}

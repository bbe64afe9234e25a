import { formatFixed, scaleOfStep } from '../engine/fixed.js';
import type { Instrument } from '../engine/market/types.js';
import { formatAmount } from '../engine/orders/amounts.js';
import { AMOUNT_SCALE, type Amount, type Balance, type Fill, type Order } from '../engine/orders/types.js';
import type { MarkedPosition, PnlTotal } from '../engine/trading.js';
import { utcTime } from './format.js';

/**
 * How the trading commands print: --json in Binance's response shapes with exact decimal strings
 * (prices and quantities with Binance's 8 decimals), human output as aligned tables.
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

// ------------------------------------------------------------------ human

/** A price at the symbol's tick decimals: "60000.00". */
export const humanPrice = (raw: number, inst: Instrument): string => formatFixed(raw, inst.priceScale);
/** A quantity with at least the step's decimals: "0.01000". */
export const humanQty = (raw: number, inst: Instrument): string => formatFixed(raw, inst.qtyScale, scaleOfStep(inst.stepSize));
/** An asset amount, exact, at least 8 decimals. */
export const humanAmount = (a: Amount): string => formatAmount(a);

/** An amount rounded half away from zero to `decimals` (display of averages, which are not exact anyway). */
export function roundedAmount(a: Amount, decimals: number): string {
  const div = 10n ** BigInt(AMOUNT_SCALE - decimals);
  const neg = a < 0n;
  const abs = neg ? -a : a;
  const q = (abs + div / 2n) / div;
  return formatFixed(neg ? -q : q, decimals);
}

/** Aligned columns; numeric columns (by index) right-aligned. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, right: ReadonlySet<number> = new Set()): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

export function orderTable(orders: readonly Order[], instOf: (symbol: string) => Instrument): string[] {
  const rows = orders.map((o) => {
    const inst = instOf(o.symbol);
    return [
      String(o.orderId),
      utcTime(o.time),
      o.symbol,
      o.side,
      o.type,
      o.price === 0 ? '-' : humanPrice(o.price, inst),
      o.stopPrice === 0 ? '-' : humanPrice(o.stopPrice, inst),
      humanQty(o.origQty, inst),
      humanQty(o.executedQty, inst),
      o.status,
      o.clientOrderId,
    ];
  });
  return table(['orderId', 'time (UTC)', 'symbol', 'side', 'type', 'price', 'stop', 'qty', 'executed', 'status', 'clientOrderId'], rows, new Set([0, 5, 6, 7, 8]));
}

export function fillTable(fills: readonly Fill[], instOf: (symbol: string) => Instrument): string[] {
  const rows = fills.map((f) => {
    const inst = instOf(f.symbol);
    return [
      String(f.tradeId),
      utcTime(f.time),
      f.symbol,
      f.side,
      humanPrice(f.price, inst),
      humanQty(f.qty, inst),
      humanAmount(f.quoteQty),
      `${humanAmount(f.commission)} ${f.commissionAsset}`,
      f.isMaker ? 'maker' : 'taker',
      String(f.orderId),
    ];
  });
  return table(['tradeId', 'time (UTC)', 'symbol', 'side', 'price', 'qty', 'quote', 'fee', 'role', 'orderId'], rows, new Set([0, 4, 5, 6, 7, 9]));
}

export function balanceTable(list: readonly Balance[]): string[] {
  return table(
    ['asset', 'free', 'locked', 'total'],
    list.map((b) => [b.asset, humanAmount(b.free), humanAmount(b.locked), humanAmount(b.free + b.locked)]),
    new Set([1, 2, 3]),
  );
}

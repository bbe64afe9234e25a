import { formatFixed, scaleOfStep } from '../engine/fixed.js';
import type { Instrument } from '../engine/market/types.js';
import { formatAmount } from '../engine/orders/amounts.js';
import { AMOUNT_SCALE, type Amount, type Balance, type Fill, type Order } from '../engine/orders/types.js';
import { utcTime } from './format.js';

/**
 * How the trading commands print: human output as aligned tables; --json in Binance's response
 * shapes (engine/orders/binance-json.ts, re-exported here for the commands).
 */
export { balancesJson, cancelJson, fillJson, orderJson, orderResponseJson, pnlJson, positionJson } from '../engine/orders/binance-json.js';

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

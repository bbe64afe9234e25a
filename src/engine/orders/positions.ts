import { qtyAmount, type Scales } from './amounts.js';
import type { Amount, Fill, Position } from './types.js';

/**
 * Positions per symbol by the average-cost method, in exact amounts. `cost` is the quote paid for
 * the open quantity (negative when the account is net short, i.e. it sold holdings it had before
 * trading). A reduction removes cost in proportion to the quantity closed, truncated at the
 * ledger's scale; what the truncation leaves stays in `cost`, so realized + unrealized is exact.
 */
export interface PositionState {
  qty: Amount;
  cost: Amount;
  realized: Amount;
  fees: Amount;
}

export function emptyPosition(): PositionState {
  return { qty: 0n, cost: 0n, realized: 0n, fees: 0n };
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

/** avgEntry's scale: quote per unit of base, at 16 decimals (a constant, not a power per view). */
const AVG_MUL = 10n ** 16n;

/** Folds one fill into the symbol's position. */
export function applyFillToPosition(pos: PositionState, fill: Fill, baseAsset: string, s: Scales): void {
  // Every bigint operation allocates: a fill (twice per fill, here and in the risk engine) does only the ones it needs.
  const buy = fill.side === 'BUY';
  const base = qtyAmount(fill.qty, s);
  let dq = buy ? base : -base;
  let dc = buy ? -fill.quoteQty : fill.quoteQty;
  const fee = fill.commission;
  if (fee !== 0n) {
    if (fill.commissionAsset === baseAsset) {
      dq -= fee;
      pos.fees += (fee * BigInt(fill.price)) / s.priceDiv;
    } else {
      dc -= fee;
      pos.fees += fee;
    }
  }
  moveBy(pos, dq, dc);
}

/** Adds a base change dq paid with a quote change dc (both signed, from the account's view). */
export function moveBy(pos: PositionState, dq: Amount, dc: Amount): void {
  const q = pos.qty;
  if (dq === 0n) {
    pos.realized += dc;
    return;
  }
  if (q === 0n || q > 0n === dq > 0n) {
    pos.qty = q + dq;
    pos.cost -= dc;
    return;
  }
  const absQ = abs(q);
  const absD = abs(dq);
  if (absD <= absQ) {
    const removed = (pos.cost * absD) / absQ;
    pos.realized += dc - removed;
    pos.cost -= removed;
    pos.qty = q + dq;
    return;
  }
  // The fill closes the position and opens one on the other side: split its cash by quantity.
  const dcClose = (dc * absQ) / absD;
  pos.realized += dcClose - pos.cost;
  pos.qty = q + dq;
  pos.cost = -(dc - dcClose);
}

/** The Position view, marked to `mark` (a price raw; undefined before any trade). */
export function positionView(symbol: string, pos: PositionState, mark: number | undefined, s: Scales): Position {
  const unrealized = mark === undefined || pos.qty === 0n ? 0n : (pos.qty * BigInt(mark)) / s.priceDiv - pos.cost;
  return {
    symbol,
    qty: pos.qty,
    cost: pos.cost,
    avgEntry: pos.qty === 0n ? 0n : roundDiv(pos.cost * AVG_MUL, pos.qty),
    realizedPnl: pos.realized,
    unrealizedPnl: unrealized,
    fees: pos.fees,
  };
}

function roundDiv(a: bigint, b: bigint): bigint {
  const neg = a < 0n !== b < 0n;
  const q = (abs(a) * 2n + abs(b)) / (abs(b) * 2n);
  return neg ? -q : q;
}

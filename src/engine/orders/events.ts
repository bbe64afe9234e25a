import type { Instrument } from '../market/types.js';
import { scalesOf, type Scales } from './amounts.js';
import { ClientIdTable } from './client-id-table.js';
import { OrderTable } from './order-table.js';
import { applyFillToPosition, emptyPosition, type PositionState } from './positions.js';
import {
  hasLimitPrice,
  isStopType,
  isTerminal,
  type Amount,
  type Balance,
  type Fill,
  type LedgerEntry,
  type Order,
  type OrderStatus,
  type OrderType,
  type Side,
} from './types.js';

/**
 * The order engine's event log. Every change to account state (orders, balances, positions,
 * id counters) is one of these events, and `applyEvent` is the only code that changes that state:
 * the engine builds events and applies them, and a restart rebuilds the identical state by
 * applying the persisted events to `createState(sameConfig)`.
 *
 * Market-model state (last trade, reference price, order-book consumption, queue positions) is not
 * account state and is not in the log; see PaperEngine.
 */

interface Base {
  /** Position in the log, 1, 2, 3, … without gaps. */
  seq: number;
  /** Exchange event time of the input that caused it. */
  time: number;
}

/**
 * The balance changes an order event causes (the acceptance's lock, a fill's settlement and fee,
 * a cancel's unlock), carried by the event itself in the order they apply, after the event's own
 * change. They are ledger entries like a standalone `ledger` event's, just without a seq of their
 * own: one log row per order change instead of one per balance change.
 */
interface Folded {
  ledger?: LedgerEntry[];
}

export type OrderEvent =
  | (Base & Folded & { kind: 'accepted'; order: Order })
  | (Base & { kind: 'rejected'; symbol: string; side: Side; type: OrderType; clientOrderId: string | undefined; code: number; msg: string })
  | (Base & Folded & { kind: 'triggered'; orderId: number })
  | (Base & Folded & { kind: 'fill'; fill: Fill; status: Extract<OrderStatus, 'PARTIALLY_FILLED' | 'FILLED'> })
  | (Base & Folded & { kind: 'canceled'; orderId: number })
  | (Base & Folded & { kind: 'expired'; orderId: number })
  | (Base & { kind: 'ledger'; entry: LedgerEntry });

/** Every ledger entry an event carries: a `ledger` event's entry, or the entries folded into an order event. */
export function ledgerEntries(ev: OrderEvent): readonly LedgerEntry[] {
  if (ev.kind === 'ledger') return [ev.entry];
  if (ev.kind === 'rejected') return [];
  return ev.ledger ?? [];
}


export type OrderEventKind = OrderEvent['kind'];

/** Open orders of one symbol, in matching priority. */
export interface SymbolOrders {
  /** Working limit BUYs, best (highest) price first, then oldest first. */
  bids: Order[];
  /** Working limit SELLs, best (lowest) price first, then oldest first. */
  asks: Order[];
  /** Stops waiting for their trigger, oldest first. */
  stops: Order[];
  /** Open orders of a STOP_LOSS/TAKE_PROFIT type (triggered or not), for MAX_NUM_ALGO_ORDERS. */
  algo: number;
  /**
   * Unfilled base quantity (origQty − executedQty, raws) of the BUY and of the SELL orders in the
   * three lists above, kept exact as they change so pre-trade checks need no pass over the orders.
   */
  buyQty: number;
  sellQty: number;
}

export interface SymbolInfo {
  inst: Instrument;
  scales: Scales;
}

export interface EngineConfig {
  instruments: Iterable<Instrument>;
  /** Starting balances (free), by asset. */
  initialBalances?: Record<string, Amount>;
}

export interface EngineState {
  readonly symbols: ReadonlyMap<string, SymbolInfo>;
  readonly initialBalances: ReadonlyMap<string, Amount>;
  /** seq of the last applied event. */
  seq: number;
  nextOrderId: number;
  nextTradeId: number;
  orders: OrderTable;
  byClientId: ClientIdTable;
  balances: Map<string, Balance>;
  positions: Map<string, PositionState>;
  open: Map<string, SymbolOrders>;
}

export function createState(config: EngineConfig): EngineState {
  const symbols = new Map<string, SymbolInfo>();
  for (const inst of config.instruments) symbols.set(inst.symbol, { inst, scales: scalesOf(inst) });
  const initial = new Map<string, Amount>();
  const balances = new Map<string, Balance>();
  for (const [asset, amount] of Object.entries(config.initialBalances ?? {})) {
    if (amount < 0n) throw new RangeError(`initial balance of ${asset} is negative`);
    initial.set(asset, amount);
    balances.set(asset, { asset, free: amount, locked: 0n });
  }
  return {
    symbols,
    initialBalances: initial,
    seq: 0,
    nextOrderId: 1,
    nextTradeId: 1,
    orders: new OrderTable(),
    byClientId: new ClientIdTable(),
    balances,
    positions: new Map(),
    open: new Map(),
  };
}

export function symbolOrders(state: EngineState, symbol: string): SymbolOrders {
  let s = state.open.get(symbol);
  if (!s) state.open.set(symbol, (s = { bids: [], asks: [], stops: [], algo: 0, buyQty: 0, sellQty: 0 }));
  return s;
}

export function balanceOf(state: EngineState, asset: string): Balance {
  let b = state.balances.get(asset);
  if (!b) state.balances.set(asset, (b = { asset, free: 0n, locked: 0n }));
  return b;
}

/** Thrown when an event does not fit the state: a gap in seq, an unknown order. */
export class EventLogError extends Error {}

function orderOf(state: EngineState, orderId: number, ev: OrderEvent): Order {
  const o = state.orders.get(orderId);
  if (!o) throw new EventLogError(`event ${ev.seq} (${ev.kind}) names unknown order ${orderId}`);
  return o;
}

/** Applies one event. Throws EventLogError when the event does not follow the state. */
export function applyEvent(state: EngineState, ev: OrderEvent): void {
  if (ev.seq !== state.seq + 1) throw new EventLogError(`event seq ${ev.seq} does not follow ${state.seq}`);
  state.seq = ev.seq;
  switch (ev.kind) {
    case 'accepted': {
      const o = stateOrder(ev.order);
      state.orders.set(o.orderId, o);
      state.byClientId.set(o.clientOrderId, o);
      if (o.orderId >= state.nextOrderId) state.nextOrderId = o.orderId + 1;
      const so = symbolOrders(state, o.symbol);
      if (isStopType(o.type)) so.algo++;
      if (!o.isWorking) {
        so.stops.push(o);
        countOpen(so, o, 1);
      } else if (hasLimitPrice(o.type)) insertResting(so, o);
      break;
    }
    case 'rejected':
      break;
    case 'triggered': {
      const o = orderOf(state, ev.orderId, ev);
      o.isWorking = true;
      o.workingTime = ev.time;
      o.updateTime = ev.time;
      const so = symbolOrders(state, o.symbol);
      removeFrom(so, so.stops, o);
      if (hasLimitPrice(o.type)) insertResting(so, o);
      break;
    }
    case 'fill': {
      const f = ev.fill;
      const o = orderOf(state, f.orderId, ev);
      // A fill of a listed order (a resting limit) shrinks its side's open total.
      if (!isTerminal(o.status) && (!o.isWorking || hasLimitPrice(o.type))) {
        const so = state.open.get(o.symbol);
        if (so) countFill(so, o, f.qty);
      }
      o.executedQty += f.qty;
      o.cumQuote += f.quoteQty;
      o.updateTime = ev.time;
      if (f.tradeId >= state.nextTradeId) state.nextTradeId = f.tradeId + 1;
      const info = state.symbols.get(o.symbol);
      if (!info) throw new EventLogError(`event ${ev.seq}: unknown symbol ${o.symbol}`);
      let pos = state.positions.get(o.symbol);
      if (!pos) state.positions.set(o.symbol, (pos = emptyPosition()));
      applyFillToPosition(pos, f, info.inst.baseAsset, info.scales);
      setStatus(state, o, ev.status);
      break;
    }
    case 'canceled':
    case 'expired': {
      const o = orderOf(state, ev.orderId, ev);
      o.updateTime = ev.time;
      setStatus(state, o, ev.kind === 'canceled' ? 'CANCELED' : 'EXPIRED');
      break;
    }
    case 'ledger':
      applyLedgerEntry(state, ev.entry, ev);
      return;
  }
  if (ev.kind !== 'rejected' && ev.ledger) for (const e of ev.ledger) applyLedgerEntry(state, e, ev);
}

/** Applies one ledger entry of `ev` (its own, or one folded into it). */
export function applyLedgerEntry(state: EngineState, e: LedgerEntry, ev: OrderEvent): void {
  const b = balanceOf(state, e.asset);
  b.free += e.dFree;
  b.locked += e.dLocked;
  if (e.orderId !== undefined && e.dLocked !== 0n) orderOf(state, e.orderId, ev).locked += e.dLocked;
}

export function applyEvents(state: EngineState, events: Iterable<OrderEvent>): EngineState {
  for (const ev of events) applyEvent(state, ev);
  return state;
}

/**
 * The state's own copy of an accepted order. The same fields as copyOrder, in a literal of its
 * own: V8 decides per allocation site whether to allocate straight into the old generation. The
 * state keeps every one of these for the account's life, while copyOrder's copies (answers to
 * callers) mostly die young; sharing one site, half of its objects survived and V8 never
 * pretenured them, so every scavenge copied the new orders of the state, twice.
 */
function stateOrder(o: Order): Order {
  return {
    symbol: o.symbol,
    orderId: o.orderId,
    clientOrderId: o.clientOrderId,
    side: o.side,
    type: o.type,
    timeInForce: o.timeInForce,
    price: o.price,
    stopPrice: o.stopPrice,
    origQty: o.origQty,
    origQuoteOrderQty: o.origQuoteOrderQty,
    executedQty: o.executedQty,
    cumQuote: o.cumQuote,
    status: o.status,
    isWorking: o.isWorking,
    time: o.time,
    updateTime: o.updateTime,
    workingTime: o.workingTime,
    lockAsset: o.lockAsset,
    locked: o.locked,
  };
}

/** A field-by-field copy: the event keeps its own snapshot while the state's order changes. */
export function copyOrder(o: Order): Order {
  return {
    symbol: o.symbol,
    orderId: o.orderId,
    clientOrderId: o.clientOrderId,
    side: o.side,
    type: o.type,
    timeInForce: o.timeInForce,
    price: o.price,
    stopPrice: o.stopPrice,
    origQty: o.origQty,
    origQuoteOrderQty: o.origQuoteOrderQty,
    executedQty: o.executedQty,
    cumQuote: o.cumQuote,
    status: o.status,
    isWorking: o.isWorking,
    time: o.time,
    updateTime: o.updateTime,
    workingTime: o.workingTime,
    lockAsset: o.lockAsset,
    locked: o.locked,
  };
}

function setStatus(state: EngineState, o: Order, status: OrderStatus): void {
  const was = isTerminal(o.status);
  o.status = status;
  if (was || !isTerminal(status)) return;
  const so = symbolOrders(state, o.symbol);
  if (isStopType(o.type)) so.algo--;
  if (!o.isWorking) removeFrom(so, so.stops, o);
  else if (hasLimitPrice(o.type)) removeFrom(so, o.side === 'BUY' ? so.bids : so.asks, o);
}

/** Adds (sign 1) or removes (−1) an order's unfilled quantity to its side's open total. */
function countOpen(so: SymbolOrders, o: Order, sign: 1 | -1): void {
  const left = sign * (o.origQty - o.executedQty);
  if (o.side === 'BUY') so.buyQty += left;
  else so.sellQty += left;
}

/** Keeps each side's total equal to Σ (origQty − executedQty) over its listed orders. */
function countFill(so: SymbolOrders, o: Order, qty: number): void {
  if (o.side === 'BUY') so.buyQty -= qty;
  else so.sellQty -= qty;
}

function insertResting(so: SymbolOrders, o: Order): void {
  const list = o.side === 'BUY' ? so.bids : so.asks;
  const buy = o.side === 'BUY';
  // Priority: better price first; equal prices keep arrival order (insertion after equals).
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const p = list[mid]!.price;
    if (buy ? p >= o.price : p <= o.price) lo = mid + 1;
    else hi = mid;
  }
  if (lo === list.length) list.push(o);
  else list.splice(lo, 0, o);
  countOpen(so, o, 1);
}

function removeFrom(so: SymbolOrders, list: Order[], o: Order): void {
  const i = list.indexOf(o);
  if (i === -1) return;
  list.splice(i, 1);
  countOpen(so, o, -1);
}

/** Canonical, JSON-able view of the account state: equal for equal states (used by replay checks). */
export function snapshotState(state: EngineState): unknown {
  const big = (x: bigint): string => x.toString();
  return {
    seq: state.seq,
    nextOrderId: state.nextOrderId,
    nextTradeId: state.nextTradeId,
    orders: [...state.orders.values()]
      .sort((a, b) => a.orderId - b.orderId)
      .map((o) => ({ ...o, origQuoteOrderQty: big(o.origQuoteOrderQty), cumQuote: big(o.cumQuote), locked: big(o.locked) })),
    clientIds: [...state.byClientId.entries()].map(([k, o]) => [k, o.orderId]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    balances: [...state.balances.values()]
      .filter((b) => b.free !== 0n || b.locked !== 0n)
      .sort((a, b) => a.asset.localeCompare(b.asset))
      .map((b) => ({ asset: b.asset, free: big(b.free), locked: big(b.locked) })),
    positions: [...state.positions.entries()]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([symbol, p]) => ({ symbol, qty: big(p.qty), cost: big(p.cost), realized: big(p.realized), fees: big(p.fees) })),
    open: [...state.open.entries()]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([symbol, so]) => ({
        symbol,
        bids: so.bids.map((o) => o.orderId),
        asks: so.asks.map((o) => o.orderId),
        stops: so.stops.map((o) => o.orderId),
        algo: so.algo,
      })),
  };
}

// The log's text form lives in event-codec.ts; re-exported here, where the events are.
export { decodeEvent, encodeEvent } from './event-codec.js';

import type { Instrument, Trade } from '../market/types.js';
import { notional, qtyAmount } from './amounts.js';
import { applyEvent, applyEvents, applyLedgerEntry, balanceOf, copyOrder, createState, snapshotState, type EngineState, type OrderEvent, type SymbolInfo, type SymbolOrders } from './events.js';
import { FeeSchedule, commission, type FeeScheduleOptions } from './fees.js';
import { FilterSet, checkFilters, permissiveFilters, type SymbolFilters } from './filters.js';
import { Consumed, bookQtyAt, walkBook, type BookView, type WalkResult } from './matching.js';
import { positionView } from './positions.js';
import { ReferencePrice } from './reference-price.js';
import { Rejections } from './rejections.js';
import {
  hasLimitPrice,
  isStopType,
  isTerminal,
  type Amount,
  type Balance,
  type Fill,
  type LedgerEntry,
  type Order,
  type OrderRequest,
  type Position,
  type Rejection,
} from './types.js';
import { validateRequest } from './validate.js';
import { upperSymbol } from '../market/symbol-case.js';

export interface PaperEngineOptions {
  instruments: Iterable<Instrument>;
  /** Exchange filters by symbol; a symbol without an entry only gets its tick and step checked. */
  filters?: FilterSet;
  /** Maker/taker rates, default 0.1 % each. */
  fees?: FeeSchedule | FeeScheduleOptions;
  /** Starting free balances by asset, exact amounts (see amounts.ts parseAmount). */
  initialBalances?: Record<string, Amount>;
  /**
   * Queue-position model: a resting order also fills on trades AT its price, once the volume
   * that was ahead of it in the book when it started resting has traded. Off: only trades
   * strictly through the price fill it.
   */
  queueModel?: boolean;
}

/** Open-order totals of one symbol and the account (see PaperEngine.openTotals). */
export interface OpenTotals {
  /** Open orders on the symbol (resting limits and untriggered stops). */
  openOrders: number;
  /** Open orders on every symbol. */
  openOrdersTotal: number;
  /** Unfilled base quantity (raws) of the symbol's open BUY orders, and of its SELL orders. */
  openBuyQty: number;
  openSellQty: number;
  /** Net position in base (Position.qty), 0 when the symbol has none. */
  positionQty: Amount;
}

export interface SubmitResult {
  ok: boolean;
  /** The order as it stands after this call (the existing one for a duplicate clientOrderId). */
  order?: Order;
  rejection?: Rejection;
  /** True when clientOrderId named an existing order: nothing was placed. */
  duplicate: boolean;
  fills: Fill[];
  events: OrderEvent[];
}

export interface CancelResult {
  ok: boolean;
  order?: Order;
  rejection?: Rejection;
  events: OrderEvent[];
}

/** Identifies an order to cancel: Binance's orderId or origClientOrderId. */
export interface OrderRef {
  orderId?: number;
  clientOrderId?: string;
}

export type CancelReplaceMode = 'STOP_ON_FAILURE' | 'ALLOW_FAILURE';

export interface CancelReplaceResult {
  ok: boolean;
  /** -2021 (one side failed) or -2022 (both failed, or the cancel failed with STOP_ON_FAILURE). */
  rejection?: Rejection;
  cancel: CancelResult;
  /** Undefined when not attempted. */
  submit?: SubmitResult;
  events: OrderEvent[];
}

/**
 * The paper trading venue: a pure, deterministic state machine. Inputs are requests (with the
 * exchange time they happen at) and market data; outputs are OrderEvents. No I/O, no timers, no
 * wall clock. Account state changes only through applyEvent, so `PaperEngine.fromEvents(opts, log)`
 * rebuilds it exactly.
 *
 * Market-model state is kept beside the account state and is not logged: last trade and average
 * price per symbol, the latest book view, liquidity our taker fills consumed from it, and queue
 * positions. After a rebuild, queue positions restart from zero ahead (see queueAhead) and the
 * rest refills from the live feed.
 */
export class PaperEngine {
  readonly state: EngineState;
  private readonly fees: FeeSchedule;
  private readonly filterSet: FilterSet;
  private readonly filterCache = new Map<string, SymbolFilters>();
  private readonly queueModel: boolean;
  private readonly books = new Map<string, BookView>();
  private readonly consumed = new Map<string, Consumed>();
  private readonly refs = new Map<string, ReferencePrice>();
  /** Volume ahead of each resting order at its price (queue model). */
  private readonly queueAhead = new Map<number, number>();
  /** What checkFilters reads besides the request, reused by every placement (it keeps nothing of it). */
  private readonly filterCtx = {
    openOrders: 0,
    openAlgoOrders: 0,
    ref: undefined as ReferencePrice | undefined,
    refPrice(mins: number) {
      return this.ref?.get(mins);
    },
  };
  private out: OrderEvent[] = [];
  private fillsOut: Fill[] = [];

  constructor(opts: PaperEngineOptions) {
    this.state = createState({ instruments: opts.instruments, initialBalances: opts.initialBalances });
    this.fees = opts.fees instanceof FeeSchedule ? opts.fees : new FeeSchedule(opts.fees);
    this.filterSet = opts.filters ?? new FilterSet();
    this.queueModel = opts.queueModel ?? false;
  }

  /** An engine whose account state is rebuilt from a persisted event log. */
  static fromEvents(opts: PaperEngineOptions, events: Iterable<OrderEvent>): PaperEngine {
    const e = new PaperEngine(opts);
    applyEvents(e.state, events);
    return e;
  }

  // ------------------------------------------------------------------ inputs

  /**
   * Places an order at exchange time `now`.
   *
   * A clientOrderId names one order for good (within the account generation): resubmitting it
   * returns that order, whatever its status, and places nothing. Binance is looser: it refuses a
   * reused newClientOrderId only while the earlier order is open ("Duplicate order sent.") and
   * accepts it again once that order has FILLED, so a retry after a lost acknowledgement of an
   * order that filled at once (a market order) would trade twice there. The paper venue keeps the
   * id idempotent instead (issue 3); live routing leaves it to Binance (live-router.ts).
   */
  submit(req: OrderRequest, now: number): SubmitResult {
    this.begin();
    if (req.clientOrderId !== undefined) {
      const existing = this.state.byClientId.get(req.clientOrderId);
      if (existing) return { ok: true, order: copyOrder(existing), duplicate: true, fills: [], events: [] };
    }
    const symbol = typeof req.symbol === 'string' ? upperSymbol(req.symbol) : '';
    const rejection = this.place(req, symbol, now);
    if (rejection) {
      this.emit({
        seq: 0,
        kind: 'rejected',
        time: now,
        symbol,
        side: req.side,
        type: req.type,
        clientOrderId: req.clientOrderId,
        code: rejection.code,
        msg: rejection.msg,
      });
      return { ok: false, rejection, duplicate: false, fills: [], events: this.end() };
    }
    const order = this.state.orders.get(this.state.nextOrderId - 1)!;
    const fills = this.fillsOut.slice();
    return { ok: true, order: copyOrder(order), duplicate: false, fills, events: this.end() };
  }

  /** Cancels one open order (Binance DELETE /api/v3/order). */
  cancel(symbol: string, ref: OrderRef, now: number): CancelResult {
    this.begin();
    const r = this.cancelOne(upperSymbol(symbol), ref, now);
    const events = this.end();
    return 'code' in r ? { ok: false, rejection: r, events } : { ok: true, order: copyOrder(r), events };
  }

  /** Cancels every open order of `symbol`, or of all symbols. Returns the canceled orders. */
  cancelAll(symbol: string | undefined, now: number): { orders: Order[]; events: OrderEvent[] } {
    this.begin();
    const orders: Order[] = [];
    for (const o of this.openOrders(symbol)) {
      this.cancelOrder(o, now);
      orders.push(copyOrder(this.state.orders.get(o.orderId)!));
    }
    return { orders, events: this.end() };
  }

  /** Binance's order cancel-replace: cancel, then place the new order. */
  cancelReplace(
    args: { symbol: string; cancel: OrderRef; order: OrderRequest; mode?: CancelReplaceMode },
    now: number,
  ): CancelReplaceResult {
    const mode = args.mode ?? 'STOP_ON_FAILURE';
    const c = this.cancel(args.symbol, args.cancel, now);
    if (!c.ok && mode === 'STOP_ON_FAILURE') {
      return { ok: false, rejection: Rejections.cancelReplaceFailed(), cancel: c, events: c.events };
    }
    const s = this.submit({ ...args.order, symbol: args.symbol }, now);
    const events = [...c.events, ...s.events];
    if (c.ok && s.ok) return { ok: true, cancel: c, submit: s, events };
    const rejection = !c.ok && !s.ok ? Rejections.cancelReplaceFailed() : Rejections.cancelReplacePartial();
    return { ok: false, rejection, cancel: c, submit: s, events };
  }

  /** Adds (or, negative, withdraws) free funds: `qtrade paper reset` and top-ups. */
  deposit(asset: string, amount: Amount, now: number): OrderEvent[] {
    this.begin();
    if (amount < 0n && balanceOf(this.state, asset).free + amount < 0n) {
      throw new RangeError(`cannot withdraw more ${asset} than is free`);
    }
    this.ledger(now, { asset, dFree: amount, dLocked: 0n, reason: 'deposit' });
    return this.end();
  }

  /**
   * A market trade: fills resting orders it prints through (or at, with the queue model), then
   * marks positions and triggers stops at its price.
   */
  onTrade(t: Trade): OrderEvent[] {
    this.begin();
    const so = this.state.open.get(t.symbol);
    if (so && (so.bids.length > 0 || so.asks.length > 0)) {
      this.matchResting(so.bids, t, true);
      this.matchResting(so.asks, t, false);
    }
    let ref = this.refs.get(t.symbol);
    if (!ref) this.refs.set(t.symbol, (ref = new ReferencePrice()));
    ref.onTrade(t);
    if (so && so.stops.length > 0) {
      for (const o of [...so.stops]) if (this.stopTriggered(o, t.price)) this.trigger(o, t.time);
    }
    return this.end();
  }

  /**
   * onTrade for a print that cannot fill or trigger anything, without a Trade object: when the
   * symbol has no open order it only moves the reference price, which is all onTrade would do.
   * Returns false, doing nothing, when the symbol has open orders (call onTrade then).
   */
  onIdlePrint(symbol: string, price: number, qty: number, time: number): boolean {
    const ref = this.idleRef(symbol);
    if (!ref) return false;
    ref.onPrint(price, qty, time);
    return true;
  }

  /** onIdlePrint for the first `n` prints of `prices`/`times`, all of quantity `qty`. */
  onIdlePrints(symbol: string, prices: readonly number[], times: readonly number[], n: number, qty: number): boolean {
    const ref = this.idleRef(symbol);
    if (!ref) return false;
    ref.onPrints(prices, times, n, qty);
    return true;
  }

  /** The symbol's reference price when it has no open order, else undefined. */
  private idleRef(symbol: string): ReferencePrice | undefined {
    const so = this.state.open.get(symbol);
    if (so && (so.bids.length > 0 || so.asks.length > 0 || so.stops.length > 0)) return undefined;
    let ref = this.refs.get(symbol);
    if (!ref) this.refs.set(symbol, (ref = new ReferencePrice()));
    return ref;
  }

  /**
   * The symbol's book changed (LocalOrderBook after a diff or snapshot). Later taker orders walk
   * it; liquidity earlier paper fills took is forgotten, since the exchange's update replaces it.
   */
  onBook(book: BookView): OrderEvent[] {
    this.books.set(book.symbol, book);
    this.consumed.get(book.symbol)?.clear();
    return [];
  }

  // ------------------------------------------------------------------ queries

  order(ref: OrderRef): Order | undefined {
    const o = ref.orderId !== undefined ? this.state.orders.get(ref.orderId) : ref.clientOrderId !== undefined ? this.state.byClientId.get(ref.clientOrderId) : undefined;
    return o ? copyOrder(o) : undefined;
  }

  /** Open orders (resting, and stops waiting for their trigger), oldest first. */
  openOrders(symbol?: string): Order[] {
    const out: Order[] = [];
    for (const [s, so] of this.state.open) {
      if (symbol !== undefined && s !== symbol.toUpperCase()) continue;
      out.push(...so.bids, ...so.asks, ...so.stops);
    }
    return out.sort((a, b) => a.orderId - b.orderId).map(copyOrder);
  }

  /**
   * What a pre-trade check reads of one symbol, from counters applyEvent keeps (no pass over the
   * orders): the same numbers as counting openOrders() and summing their unfilled quantities.
   */
  openTotals(symbol: string): OpenTotals {
    const sym = upperSymbol(symbol);
    let total = 0;
    let mine: SymbolOrders | undefined;
    for (const [s, so] of this.state.open) {
      total += so.bids.length + so.asks.length + so.stops.length;
      if (s === sym) mine = so;
    }
    return {
      openOrders: mine ? mine.bids.length + mine.asks.length + mine.stops.length : 0,
      openOrdersTotal: total,
      openBuyQty: mine ? mine.buyQty : 0,
      openSellQty: mine ? mine.sellQty : 0,
      positionQty: this.state.positions.get(sym)?.qty ?? 0n,
    };
  }

  balance(asset: string): Balance {
    const b = this.state.balances.get(asset);
    return b ? { ...b } : { asset, free: 0n, locked: 0n };
  }

  balances(): Balance[] {
    return [...this.state.balances.values()].map((b) => ({ ...b })).sort((a, b) => a.asset.localeCompare(b.asset));
  }

  position(symbol: string): Position | undefined {
    const s = symbol.toUpperCase();
    const p = this.state.positions.get(s);
    const info = this.state.symbols.get(s);
    if (!p || !info) return undefined;
    return positionView(s, p, this.refs.get(s)?.last, info.scales);
  }

  positions(): Position[] {
    return [...this.state.positions.keys()].sort().map((s) => this.position(s)!);
  }

  /** Last trade price seen for a symbol (price raw). */
  lastPrice(symbol: string): number | undefined {
    return this.refs.get(upperSymbol(symbol))?.last;
  }

  /** Canonical account state (see snapshotState). */
  snapshot(): unknown {
    return snapshotState(this.state);
  }

  // ------------------------------------------------------------------ placement

  private place(req: OrderRequest, symbol: string, now: number): Rejection | undefined {
    const bad = validateRequest(req);
    if (bad) return bad;
    const info = this.state.symbols.get(symbol);
    if (!info) return Rejections.invalidSymbol();
    const f = this.filtersOf(info);
    if (f.status !== 'TRADING') return Rejections.marketClosed();
    if (!f.orderTypes.has(req.type)) return Rejections.orderTypeNotSupported(req.type);
    if (req.quoteOrderQty !== undefined && !f.quoteOrderQtyMarketAllowed) return Rejections.quoteOrderQtyNotSupported();
    const so = this.state.open.get(symbol);
    const ref = this.refs.get(symbol);
    const ctx = this.filterCtx;
    ctx.openOrders = so ? so.bids.length + so.asks.length + so.stops.length : 0;
    ctx.openAlgoOrders = so ? so.algo : 0;
    ctx.ref = ref;
    const failed = checkFilters(f, info.inst, req, ctx);
    ctx.ref = undefined;
    if (failed) return failed;
    if (isStopType(req.type) && ref?.last !== undefined && this.stopTriggeredAt(req.type, req.side, req.stopPrice!, ref.last)) {
      return Rejections.wouldTrigger();
    }
    const book = this.books.get(symbol);
    const consumed = this.consumedOf(symbol);
    const step = this.marketStep(f);
    const { inst, scales } = info;
    const buy = req.side === 'BUY';
    const lockAsset = buy ? inst.quoteAsset : inst.baseAsset;
    const free = balanceOf(this.state, lockAsset).free;

    let lock: Amount;
    let origQty = req.qty ?? 0;
    let plan: WalkResult | undefined;
    if (req.type === 'MARKET') {
      if (req.quoteOrderQty !== undefined) {
        if (buy && free < req.quoteOrderQty) return Rejections.insufficientBalance();
        plan = walkBook(book, req.side, consumed, { quoteCap: req.quoteOrderQty, step }, scales);
        if (plan.qty === 0) return Rejections.noLiquidity();
        origQty = plan.qty;
      } else {
        plan = walkBook(book, req.side, consumed, { qty: req.qty!, step }, scales);
      }
      lock = buy ? plan.quote : qtyAmount(req.quoteOrderQty !== undefined ? plan.qty : req.qty!, scales);
    } else if (req.type === 'LIMIT_MAKER' && this.crosses(book, consumed, req.side, req.price!)) {
      return Rejections.wouldTake();
    } else if (buy) {
      lock = notional(hasLimitPrice(req.type) ? req.price! : req.stopPrice!, req.qty!, scales);
    } else {
      lock = qtyAmount(req.qty!, scales);
    }
    if (free < lock!) return Rejections.insufficientBalance();

    const orderId = this.state.nextOrderId;
    const working = !isStopType(req.type);
    this.emit({
      seq: 0,
      kind: 'accepted',
      time: now,
      order: {
        symbol,
        orderId,
        clientOrderId: req.clientOrderId ?? this.generatedClientId(orderId),
        side: req.side,
        type: req.type,
        timeInForce: req.timeInForce,
        price: req.price ?? 0,
        stopPrice: req.stopPrice ?? 0,
        origQty,
        origQuoteOrderQty: req.quoteOrderQty ?? 0n,
        executedQty: 0,
        cumQuote: 0n,
        status: 'NEW',
        isWorking: working,
        time: now,
        updateTime: now,
        workingTime: working ? now : -1,
        lockAsset,
        locked: 0n,
      },
    });
    const order = this.state.orders.get(orderId)!;
    if (lock! > 0n) this.ledger(now, { asset: lockAsset, dFree: -lock!, dLocked: lock!, reason: 'lock', orderId });
    if (plan) this.executeMarket(order, info, plan, now);
    else if (working) this.work(order, info, now);
    return undefined;
  }

  /** A working limit-type order meets the book: take what crosses, then rest, expire or kill. */
  private work(o: Order, info: SymbolInfo, now: number): void {
    const book = this.books.get(o.symbol);
    const consumed = this.consumedOf(o.symbol);
    const remaining = o.origQty - o.executedQty;
    if (o.type !== 'LIMIT_MAKER') {
      const plan = walkBook(book, o.side, consumed, { limitPrice: o.price, qty: remaining, step: 0 }, info.scales);
      if (o.timeInForce === 'FOK' && plan.qty < remaining) {
        this.finish(o, 'expired', now);
        return;
      }
      if (plan.fills.length > 0) {
        consumed.take(o.side === 'BUY' ? 'ask' : 'bid', plan.fills);
        for (const f of plan.fills) this.fill(o, info, f.price, f.qty, false, now);
      }
    }
    if (isTerminal(o.status)) return;
    if (o.timeInForce === 'IOC' || o.timeInForce === 'FOK') {
      this.finish(o, 'expired', now);
      return;
    }
    if (this.queueModel) this.queueAhead.set(o.orderId, bookQtyAt(book, o.side === 'BUY' ? 'bid' : 'ask', o.price));
  }

  /** Executes a planned market walk; whatever the book could not fill expires, as on Binance. */
  private executeMarket(o: Order, info: SymbolInfo, plan: WalkResult, now: number): void {
    if (plan.fills.length > 0) {
      this.consumedOf(o.symbol).take(o.side === 'BUY' ? 'ask' : 'bid', plan.fills);
      for (const f of plan.fills) this.fill(o, info, f.price, f.qty, false, now);
    }
    if (!isTerminal(o.status)) this.finish(o, 'expired', now);
  }

  private trigger(o: Order, now: number): void {
    const info = this.state.symbols.get(o.symbol)!;
    this.emit({ seq: 0, kind: 'triggered', time: now, orderId: o.orderId });
    if (hasLimitPrice(o.type)) {
      this.work(o, info, now);
      return;
    }
    // A market stop: the walk's cost is only known now. A BUY re-locks exactly that cost, capped
    // by what its lock and free funds can pay; the part it cannot afford expires.
    const consumed = this.consumedOf(o.symbol);
    const book = this.books.get(o.symbol);
    const step = this.marketStep(this.filtersOf(info));
    if (o.side === 'BUY') {
      const quote = info.inst.quoteAsset;
      if (o.locked > 0n) this.ledger(now, { asset: quote, dFree: o.locked, dLocked: -o.locked, reason: 'unlock', orderId: o.orderId });
      const budget = balanceOf(this.state, quote).free;
      const plan = walkBook(book, 'BUY', consumed, { qty: o.origQty, quoteCap: budget, step }, info.scales);
      if (plan.quote > 0n) this.ledger(now, { asset: quote, dFree: -plan.quote, dLocked: plan.quote, reason: 'lock', orderId: o.orderId });
      this.executeMarket(o, info, plan, now);
    } else {
      this.executeMarket(o, info, walkBook(book, 'SELL', consumed, { qty: o.origQty, step }, info.scales), now);
    }
  }

  // ------------------------------------------------------------------ matching resting orders

  private matchResting(list: readonly Order[], t: Trade, bids: boolean): void {
    if (list.length === 0) return;
    const candidates: Order[] = [];
    for (const o of list) {
      if (bids ? o.price < t.price : o.price > t.price) break;
      if (o.price === t.price) {
        // At the price only with the queue model, and only when the trade's aggressor hit our side.
        if (!this.queueModel || t.buyerMaker !== bids) break;
      }
      candidates.push(o);
    }
    if (candidates.length === 0) return;
    const info = this.state.symbols.get(t.symbol)!;
    let left = t.qty;
    for (const o of candidates) {
      if (left <= 0) break;
      let can = left;
      if (o.price === t.price) {
        const ahead = this.queueAhead.get(o.orderId) ?? 0;
        this.queueAhead.set(o.orderId, ahead > t.qty ? ahead - t.qty : 0);
        can = Math.min(left, t.qty - ahead);
        if (can <= 0) continue;
      } else {
        this.queueAhead.set(o.orderId, 0);
      }
      const remaining = o.origQty - o.executedQty;
      const q = can < remaining ? can : remaining;
      this.fill(o, info, o.price, q, true, t.time);
      left -= q;
    }
  }

  // ------------------------------------------------------------------ settlement

  /** One fill: the fill event, then its ledger entries (settlement, then commission). */
  private fill(o: Order, info: SymbolInfo, price: number, qty: number, isMaker: boolean, now: number): void {
    const { inst, scales } = info;
    const quote = notional(price, qty, scales);
    const base = qtyAmount(qty, scales);
    const buy = o.side === 'BUY';
    const rate = this.fees.rate(o.symbol, isMaker);
    const fee = commission(buy ? base : quote, rate);
    const feeAsset = buy ? inst.baseAsset : inst.quoteAsset;
    const tradeId = this.state.nextTradeId;
    const done = o.executedQty + qty >= o.origQty;
    const fill: Fill = {
      symbol: o.symbol,
      orderId: o.orderId,
      clientOrderId: o.clientOrderId,
      tradeId,
      side: o.side,
      price,
      qty,
      quoteQty: quote,
      commission: fee,
      commissionAsset: feeAsset,
      isMaker,
      time: now,
    };
    this.emit({ seq: 0, kind: 'fill', time: now, fill, status: done ? 'FILLED' : 'PARTIALLY_FILLED' });
    this.fillsOut.push(fill);
    const orderId = o.orderId;
    if (buy) {
      // A limit BUY locked price × qty at its limit; a better fill price returns the difference.
      const release = o.price > 0 && hasLimitPrice(o.type) ? notional(o.price, qty, scales) : quote;
      this.ledger(now, { asset: inst.quoteAsset, dFree: release - quote, dLocked: -release, reason: 'trade', orderId, tradeId });
      this.ledger(now, { asset: inst.baseAsset, dFree: base, dLocked: 0n, reason: 'trade', orderId, tradeId });
    } else {
      this.ledger(now, { asset: inst.baseAsset, dFree: 0n, dLocked: -base, reason: 'trade', orderId, tradeId });
      this.ledger(now, { asset: inst.quoteAsset, dFree: quote, dLocked: 0n, reason: 'trade', orderId, tradeId });
    }
    if (fee > 0n) this.ledger(now, { asset: feeAsset, dFree: -fee, dLocked: 0n, reason: 'fee', orderId, tradeId });
    if (done) this.release(o, now);
  }

  private finish(o: Order, how: 'canceled' | 'expired', now: number): void {
    this.emit(how === 'canceled' ? { seq: 0, kind: 'canceled', time: now, orderId: o.orderId } : { seq: 0, kind: 'expired', time: now, orderId: o.orderId });
    this.release(o, now);
  }

  /** Returns whatever an ended order still holds locked. */
  private release(o: Order, now: number): void {
    this.queueAhead.delete(o.orderId);
    if (o.locked !== 0n) {
      this.ledger(now, { asset: o.lockAsset, dFree: o.locked, dLocked: -o.locked, reason: 'unlock', orderId: o.orderId });
    }
  }

  private cancelOne(symbol: string, ref: OrderRef, now: number): Order | Rejection {
    if (ref.orderId === undefined && ref.clientOrderId === undefined) return Rejections.eitherParam('orderId', 'origClientOrderId');
    if (!this.state.symbols.has(symbol)) return Rejections.invalidSymbol();
    const o = ref.orderId !== undefined ? this.state.orders.get(ref.orderId) : this.state.byClientId.get(ref.clientOrderId!);
    if (!o || o.symbol !== symbol || isTerminal(o.status)) return Rejections.unknownOrder();
    if (ref.orderId !== undefined && ref.clientOrderId !== undefined && o.clientOrderId !== ref.clientOrderId) {
      return Rejections.unknownOrder();
    }
    this.cancelOrder(o, now);
    return o;
  }

  private cancelOrder(o: Order, now: number): void {
    const live = this.state.orders.get(o.orderId)!;
    this.finish(live, 'canceled', now);
  }

  // ------------------------------------------------------------------ helpers

  private begin(): void {
    this.out = [];
    this.fillsOut = [];
  }

  /**
   * The call's events, as an array of their exact number. An array grown by push keeps room for
   * 17, and the events of a durable call (OrderService) live until its batch commits: that room
   * was a good part of what every young-generation collection copied.
   */
  private end(): OrderEvent[] {
    const out = this.out.slice();
    this.out = [];
    return out;
  }

  /** Numbers an event (its seq is a placeholder until now), applies it and records it. */
  private emit(ev: OrderEvent): void {
    ev.seq = this.state.seq + 1;
    applyEvent(this.state, ev);
    this.out.push(ev);
  }

  /**
   * A balance change: folded into the event this call emitted last (the change it causes: an
   * acceptance's lock, a fill's settlement, a cancel's unlock), or its own `ledger` event when
   * the call emitted none yet (a deposit). Applied now, as replay applies it after its event.
   */
  private ledger(now: number, entry: LedgerEntry): void {
    const last = this.out.length > 0 ? this.out[this.out.length - 1]! : undefined;
    if (!last || last.kind === 'ledger' || last.kind === 'rejected' || last.time !== now) {
      this.emit({ seq: 0, kind: 'ledger', time: now, entry });
      return;
    }
    applyLedgerEntry(this.state, entry, last);
    // Arrays of their exact length, as in end(): an event has one to three entries.
    const l = last.ledger;
    if (l === undefined) last.ledger = [entry];
    else if (l.length === 1) last.ledger = [l[0]!, entry];
    else if (l.length === 2) last.ledger = [l[0]!, l[1]!, entry];
    else l.push(entry);
  }

  private filtersOf(info: SymbolInfo): SymbolFilters {
    const s = info.inst.symbol;
    let f = this.filterCache.get(s);
    if (!f) this.filterCache.set(s, (f = this.filterSet.get(s) ?? permissiveFilters(info.inst)));
    return f;
  }

  private marketStep(f: SymbolFilters): number {
    return f.marketLot && f.marketLot.step > 0 ? f.marketLot.step : (f.lot?.step ?? 0);
  }

  private consumedOf(symbol: string): Consumed {
    let c = this.consumed.get(symbol);
    if (!c) this.consumed.set(symbol, (c = new Consumed()));
    return c;
  }

  /** Would a limit order at `price` take liquidity from the book right now? */
  private crosses(book: BookView | undefined, consumed: Consumed, side: 'BUY' | 'SELL', price: number): boolean {
    const plan = walkBook(book, side, consumed, { limitPrice: price, qty: 1, step: 0 }, { priceScale: 0, qtyScale: 0, notionalMul: 1n, qtyMul: 1n, priceDiv: 1n });
    return plan.qty > 0;
  }

  private stopTriggered(o: Order, last: number): boolean {
    return this.stopTriggeredAt(o.type, o.side, o.stopPrice, last);
  }

  /** Binance: STOP_LOSS BUY / TAKE_PROFIT SELL trigger at last ≥ stop; STOP_LOSS SELL / TAKE_PROFIT BUY at last ≤ stop. */
  private stopTriggeredAt(type: Order['type'], side: Order['side'], stop: number, last: number): boolean {
    const stopLoss = type === 'STOP_LOSS' || type === 'STOP_LOSS_LIMIT';
    const up = stopLoss === (side === 'BUY');
    return up ? last >= stop : last <= stop;
  }

  private generatedClientId(orderId: number): string {
    let id = `paper_${orderId}`;
    for (let i = 1; this.state.byClientId.has(id); i++) id = `paper_${orderId}_${i}`;
    return id;
  }
}

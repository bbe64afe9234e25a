import { Bus, type RiskStateChange } from './bus.js';
import type { Clock } from './clock.js';
import { ParseError, UsageError, VenueError } from './errors.js';
import { parseFixed, parseFixedBig, pow10n } from './fixed.js';
import type { BinanceRest } from './market/binance/rest-client.js';
import type { ExchangeSymbol, Instruments } from './market/instruments.js';
import { LocalOrderBook } from './market/orderbook.js';
import type { Instrument, Trade } from './market/types.js';
import { decodeEvent, type OrderEvent } from './orders/events.js';
import type { FeeScheduleOptions } from './orders/fees.js';
import { FilterSet } from './orders/filters.js';
import type { BookView } from './orders/matching.js';
import type { OrderRef } from './orders/paper-engine.js';
import { OrderRejectedError, Rejections } from './orders/rejections.js';
import { OrderService, type AccountView, type PreTradeRejection } from './orders/service.js';
import { AMOUNT_SCALE, ORDER_TYPES, WIRE_SCALE, type Amount, type Balance, type Fill, type Order, type OrderRequest, type OrderType, type Position, type TimeInForce } from './orders/types.js';
import { RISK_STATUS_STATE_KEY, RiskEngine, decodeStatus, encodeStatus, type RiskStatus } from './risk/engine.js';
import { riskPreTrade } from './risk/hook.js';
import { RISK_LIMITS_STATE_KEY, decodeLimits, emptyLimits, encodeLimits, setLimit, type RiskLimits } from './risk/limits.js';
import { RiskRejectedError, type RiskRejection, type RiskRule } from './risk/rejections.js';
import type { Store } from './store/types.js';

/**
 * The paper account as the CLI (and later the daemon) uses it: the durable OrderService with the
 * RiskEngine as its pre-trade hook, risk limits and status kept in the store, and the account's
 * fills replayed through the risk engine on open so today's realized PnL is right after a restart.
 * No printing and no wall clock: every time handed in is an exchange event time.
 */

export { EXCHANGE_INFO_STATE_KEY } from './market/market-info.js';

/** A new paper account starts with this when no balance is given: 10000 USDT. */
export const DEFAULT_PAPER_BALANCES: Readonly<Record<string, Amount>> = { USDT: 10_000n * pow10n(AMOUNT_SCALE) };

export interface PaperTradingOptions {
  store: Store;
  instruments: Instruments;
  /** Raw exchangeInfo symbol entries, for Binance's filters; without them only tick and step are checked. */
  exchangeSymbols?: readonly ExchangeSymbol[];
  /** Where the account publishes (order events, fills, risk state); a new bus when absent. */
  bus?: Bus;
  /** Event time for risk checks of callers that pass none (the kernel's clock). */
  clock?: Clock;
  account?: string;
  /** The account's writer lock (store/lock.ts), released by close(). */
  lock?: { release(): void };
  /** Free balances of an account that does not exist yet; DEFAULT_PAPER_BALANCES when absent. */
  initialBalances?: Record<string, Amount>;
  fees?: FeeScheduleOptions;
  queueModel?: boolean;
}

export interface PlacedOrder {
  order: Order;
  /** Fills of this call (a taker order's immediate executions). */
  fills: Fill[];
  /** The clientOrderId named an existing order: it is returned and nothing was placed. */
  duplicate: boolean;
}

/** A position with its mark: unrealized PnL at the last trade, undefined when no trade price is known. */
export interface MarkedPosition {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  priceScale: number;
  qty: Amount;
  cost: Amount;
  avgEntry: Amount;
  realizedPnl: Amount;
  fees: Amount;
  /** Last trade price, raw at priceScale. */
  mark: number | undefined;
  unrealizedPnl: Amount | undefined;
}

export interface PnlTotal {
  quoteAsset: string;
  realizedPnl: Amount;
  /** Undefined when an open position of this quote asset has no mark. */
  unrealizedPnl: Amount | undefined;
  totalPnl: Amount | undefined;
}

export class PaperTrading {
  readonly service: OrderService;
  readonly bus: Bus;
  readonly instruments: Instruments;
  private readonly store: Store;
  private readonly clock: Clock | undefined;
  private riskEngine: RiskEngine;
  private readonly tops = new Map<string, { bid?: number; ask?: number }>();
  private fillLog: Fill[] = [];
  private orderIds: number[] = [];
  private lastTime = 0;
  private persisting: Promise<void> = Promise.resolve();
  private persistError: unknown;
  private readonly unsubscribe: Array<() => void> = [];

  private constructor(opts: PaperTradingOptions, service: OrderService, bus: Bus, risk: RiskEngine) {
    this.service = service;
    this.bus = bus;
    this.instruments = opts.instruments;
    this.store = opts.store;
    this.clock = opts.clock;
    this.riskEngine = risk;
  }

  /** Opens (creating when new) the paper account with risk wired in, and replays its fills through the risk engine. */
  static async open(opts: PaperTradingOptions): Promise<PaperTrading> {
    const bus = opts.bus ?? new Bus();
    const limits = await loadLimits(opts.store);
    const status = await loadStatus(opts.store);
    // Replayed fills must not re-trigger a loss-limit transition the operator already lifted:
    // replay in a non-ACTIVE state, then restore the stored one exactly.
    const risk = new RiskEngine({
      instruments: opts.instruments.all(),
      limits,
      status: status && status.state !== 'ACTIVE' ? status : { state: 'HALTED', reason: 'replay', since: 0 },
    });
    const late: { t?: PaperTrading } = {};
    const filters = opts.exchangeSymbols
      ? FilterSet.fromExchangeSymbols(opts.exchangeSymbols, (s) => (opts.instruments.has(s) ? opts.instruments.get(s) : undefined))
      : undefined;
    const service = await OrderService.open({
      store: opts.store,
      instruments: opts.instruments,
      filters,
      fees: opts.fees,
      bus,
      account: opts.account,
      initialBalances: opts.initialBalances ?? { ...DEFAULT_PAPER_BALANCES },
      queueModel: opts.queueModel,
      preTrade: (req, view, now) => late.t!.preTrade(req, view, now),
      lock: opts.lock,
    });
    const t = new PaperTrading(opts, service, bus, risk);
    late.t = t;
    try {
      await t.replay();
    } catch (err) {
      await service.close();
      throw err;
    }
    if (!status || status.state === 'ACTIVE') risk.resume(status?.since ?? 0, status?.reason ?? 'start');
    t.unsubscribe.push(
      bus.subscribe('order.event', (ev) => t.onEvent(ev)),
      bus.subscribe('book.top', (top) => t.tops.set(top.symbol, { bid: top.bid.price, ask: top.ask.price })),
    );
    return t;
  }

  get risk(): RiskEngine {
    return this.riskEngine;
  }

  get account(): string {
    return this.service.account;
  }

  // ------------------------------------------------------------------ market data

  /**
   * A market snapshot taken at order time (REST depth and the latest aggTrade): the book for taker
   * orders to walk, and the trade as a mark of last price and event time. The mark fills no resting
   * order (its print may already have been seen, and a resting order fills from the trades a feed
   * delivers); stops do trigger on its price. Resolves once anything it caused is durable.
   */
  async onMarket(symbol: string, snap: { book?: BookView; trade?: Trade }): Promise<void> {
    const sym = symbol.toUpperCase();
    if (snap.book) {
      this.service.onBook(sym, snap.book);
      const top = snap.book.top();
      if (top) this.tops.set(sym, { bid: top.bid.price, ask: top.ask.price });
    }
    if (snap.trade) {
      this.clock?.advance(snap.trade.time);
      if (snap.trade.time > this.lastTime) this.lastTime = snap.trade.time;
      await this.service.onTrade({ ...snap.trade, qty: 0 });
    }
  }

  // ------------------------------------------------------------------ orders

  /** Places an order at exchange time `now`; a refusal throws OrderRejectedError or RiskRejectedError (exit 3). */
  async place(req: OrderRequest, now: number): Promise<PlacedOrder> {
    const r = await this.service.submit(req, now);
    if (!r.ok) {
      const rej = r.rejection!;
      if (r.rule !== undefined) {
        throw new RiskRejectedError({ code: rej.code, msg: rej.msg, rule: r.rule as RiskRule, symbol: req.symbol.toUpperCase() });
      }
      throw new OrderRejectedError(rej);
    }
    return { order: r.order!, fills: r.fills, duplicate: r.duplicate };
  }

  /** Cancels one open order; an unknown or closed one throws OrderRejectedError (-2011). */
  async cancel(symbol: string, ref: OrderRef, now: number): Promise<Order> {
    const r = await this.service.cancel(symbol, ref, now);
    if (!r.ok) throw new OrderRejectedError(r.rejection!);
    return r.order!;
  }

  /** Cancels every open order of `symbol`, or of all symbols. */
  async cancelAll(symbol: string | undefined, now: number): Promise<Order[]> {
    return (await this.service.cancelAll(symbol, now)).orders;
  }

  /** The symbol the order with this id or clientOrderId belongs to. */
  order(ref: OrderRef): Order | undefined {
    return this.service.order(ref);
  }

  openOrders(symbol?: string): Order[] {
    return this.service.openOrders(symbol);
  }

  /** Every order of this account generation, oldest first (at most the last `limit`). */
  orders(opts: { symbol?: string; limit?: number } = {}): Order[] {
    const sym = opts.symbol?.toUpperCase();
    const out: Order[] = [];
    for (const id of this.orderIds) {
      const o = this.service.order({ orderId: id });
      if (o && (sym === undefined || o.symbol === sym)) out.push(o);
    }
    return opts.limit !== undefined ? out.slice(-opts.limit) : out;
  }

  /** Fills of this account generation, oldest first (at most the last `limit`). */
  fills(opts: { symbol?: string; limit?: number } = {}): Fill[] {
    const sym = opts.symbol?.toUpperCase();
    const list = sym === undefined ? this.fillLog : this.fillLog.filter((f) => f.symbol === sym);
    return opts.limit !== undefined ? list.slice(-opts.limit) : [...list];
  }

  balances(): Balance[] {
    return this.service.balances().filter((b) => b.free !== 0n || b.locked !== 0n);
  }

  /**
   * Positions marked to `marks` (last trade prices, raws by symbol), falling back to the last
   * price this process saw. Symbols the account never traded are absent.
   */
  positions(marks: ReadonlyMap<string, number> = new Map()): MarkedPosition[] {
    return this.service.positions().map((p) => this.mark(p, marks.get(p.symbol) ?? this.service.lastPrice(p.symbol)));
  }

  /** Realized and unrealized PnL per quote asset, over every position. */
  pnlTotals(positions: readonly MarkedPosition[]): PnlTotal[] {
    return pnlTotals(positions);
  }

  /** `qtrade paper reset`: a fresh account generation with these free balances; limits and risk state stay. */
  async reset(balances: Record<string, Amount>): Promise<void> {
    await this.service.reset({ balances });
    this.fillLog = [];
    this.orderIds = [];
    this.riskEngine = new RiskEngine({ instruments: this.instruments.all(), limits: this.riskEngine.limits, status: this.riskEngine.status() });
  }

  // ------------------------------------------------------------------ risk

  status(): RiskStatus {
    return this.riskEngine.status();
  }

  limits(): RiskLimits {
    return this.riskEngine.limits;
  }

  /** HALTED: persisted first, then every open order is canceled; the change is published. */
  async halt(reason: string, now: number): Promise<{ change: RiskStateChange | undefined; canceled: Order[] }> {
    const change = this.riskEngine.halt(reason, now);
    if (change) await this.persistStatus();
    const canceled = await this.cancelAll(undefined, now);
    if (change) this.bus.publish('risk.state', change);
    return { change, canceled };
  }

  /** Back to ACTIVE (undefined when already ACTIVE). */
  async resume(now: number, reason?: string): Promise<RiskStateChange | undefined> {
    const change = this.riskEngine.resume(now, reason);
    if (change) {
      await this.persistStatus();
      this.bus.publish('risk.state', change);
    }
    return change;
  }

  /** `qtrade risk set KEY VALUE [--symbol S]` ("off" removes it); persisted before it returns. */
  async setLimit(key: string, value: string, symbol?: string): Promise<RiskLimits> {
    const next = setLimit(this.riskEngine.limits, key, value, symbol);
    await this.store.setState(RISK_LIMITS_STATE_KEY, encodeLimits(next));
    this.riskEngine.setLimits(next);
    return next;
  }

  /** Waits for calls and risk-state writes in flight, then releases the account. The store stays open. */
  async close(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    await this.service.close();
    await this.persisting;
    if (this.persistError !== undefined) throw this.persistError;
  }

  // ------------------------------------------------------------------ internals

  private preTrade(req: OrderRequest, view: AccountView, now?: number): PreTradeRejection | undefined {
    const hook = riskPreTrade(this.riskEngine, {
      clock: this.clock ?? { now: () => this.lastTime },
      instrument: (s) => (this.instruments.has(s) ? this.instruments.get(s) : undefined),
      top: (s) => this.tops.get(s),
    });
    return hook(req, view, now);
  }

  /** Reads this generation's log once: order ids, fills (through the risk engine) and order times for the rate windows. */
  private async replay(): Promise<void> {
    const page = 20_000;
    for (let from = 1; ; ) {
      const rows = await this.store.readEvents(this.service.stream, from, page);
      for (const r of rows) {
        if (r.kind !== 'accepted' && r.kind !== 'fill') continue;
        this.apply(decodeEvent(r.body), false);
      }
      if (rows.length < page) return;
      from = rows[rows.length - 1]!.seq + 1;
    }
  }

  private onEvent(ev: OrderEvent): void {
    this.apply(ev, true);
  }

  private apply(ev: OrderEvent, live: boolean): void {
    if (ev.time > this.lastTime) this.lastTime = ev.time;
    if (ev.kind === 'accepted') {
      this.orderIds.push(ev.order.orderId);
      if (!live) this.riskEngine.recordOrder(ev.order.symbol, ev.time);
    } else if (ev.kind === 'fill') {
      this.fillLog.push(ev.fill);
      const change = this.riskEngine.onFill(ev.fill);
      if (change && live) {
        this.bus.publish('risk.state', change);
        void this.persistStatus().catch(() => {});
      }
    }
  }

  private persistStatus(): Promise<void> {
    const json = encodeStatus(this.riskEngine.status());
    const p = this.persisting.then(() => this.store.setState(RISK_STATUS_STATE_KEY, json));
    this.persisting = p.catch((err: unknown) => {
      this.persistError = err;
    });
    return p;
  }

  private mark(p: Position, mark: number | undefined): MarkedPosition {
    const inst = this.instruments.get(p.symbol);
    return markPosition({ ...p, baseAsset: inst.baseAsset, quoteAsset: inst.quoteAsset, priceScale: inst.priceScale }, mark);
  }
}

/** A position marked at `mark` (raw at its priceScale): unrealized PnL, undefined without a mark. */
export function markPosition(p: Omit<MarkedPosition, 'mark' | 'unrealizedPnl'>, mark: number | undefined): MarkedPosition {
  const unrealized = p.qty === 0n ? 0n : mark === undefined ? undefined : (p.qty * BigInt(mark)) / pow10n(p.priceScale) - p.cost;
  return {
    symbol: p.symbol,
    baseAsset: p.baseAsset,
    quoteAsset: p.quoteAsset,
    priceScale: p.priceScale,
    qty: p.qty,
    cost: p.cost,
    avgEntry: p.avgEntry,
    realizedPnl: p.realizedPnl,
    fees: p.fees,
    mark,
    unrealizedPnl: unrealized,
  };
}

/** Realized and unrealized PnL per quote asset, over every position. */
export function pnlTotals(positions: readonly MarkedPosition[]): PnlTotal[] {
  const by = new Map<string, PnlTotal>();
  for (const p of positions) {
    let t = by.get(p.quoteAsset);
    if (!t) by.set(p.quoteAsset, (t = { quoteAsset: p.quoteAsset, realizedPnl: 0n, unrealizedPnl: 0n, totalPnl: 0n }));
    t.realizedPnl += p.realizedPnl;
    t.unrealizedPnl = t.unrealizedPnl === undefined || p.unrealizedPnl === undefined ? undefined : t.unrealizedPnl + p.unrealizedPnl;
    t.totalPnl = t.unrealizedPnl === undefined ? undefined : t.realizedPnl + t.unrealizedPnl;
  }
  return [...by.values()].sort((a, b) => a.quoteAsset.localeCompare(b.quoteAsset));
}

// ------------------------------------------------------------------ store state

async function loadLimits(store: Store): Promise<RiskLimits> {
  const raw = await store.getState(RISK_LIMITS_STATE_KEY);
  return raw === undefined ? emptyLimits() : decodeLimits(raw);
}

async function loadStatus(store: Store): Promise<RiskStatus | undefined> {
  const raw = await store.getState(RISK_STATUS_STATE_KEY);
  return raw === undefined ? undefined : decodeStatus(raw);
}

/**
 * The persisted risk state's verdict on a live (testnet/mainnet) order: live routing has no paper
 * positions to check limits against, but a halt stops every venue.
 */
export async function liveRiskGate(store: Store, symbol: string): Promise<RiskRejectedError | undefined> {
  const st = await loadStatus(store);
  if (st?.state !== 'HALTED') return undefined;
  const rejection: RiskRejection = { code: -31001, msg: `trading halted: ${st.reason} (rule halted)`, rule: 'halted', symbol: symbol.toUpperCase() };
  return new RiskRejectedError(rejection);
}

// ------------------------------------------------------------------ market snapshot

/**
 * What a paper order needs from Binance at order time: the depth snapshot (limit 100) as a local
 * book and the latest aggTrade, whose time is the order's event time. Unreachable → VenueError.
 */
export async function fetchMarketSnapshot(rest: BinanceRest, symbol: string, depthLimit = 100): Promise<{ book: LocalOrderBook; trade: Trade }> {
  const [depth, trades] = await Promise.all([rest.depth(symbol, depthLimit), rest.aggTrades({ symbol, limit: 1 })]);
  const book = new LocalOrderBook(depth.symbol);
  book.applySnapshot(depth);
  const trade = trades[trades.length - 1];
  if (!trade) {
    throw new VenueError('NO_TRADES', `Binance returned no recent trade for ${depth.symbol}; a paper order needs the last price and its time`, {
      hint: 'check that the symbol is trading on Binance',
    });
  }
  return { book, trade };
}

/** The latest trade price of each symbol (raws), for marking positions; symbols that fail are left out. */
export async function fetchMarks(rest: BinanceRest, symbols: readonly string[]): Promise<{ marks: Map<string, number>; failed: string[]; error?: unknown }> {
  const marks = new Map<string, number>();
  const failed: string[] = [];
  let error: unknown;
  await Promise.all(
    symbols.map(async (s) => {
      try {
        const t = (await rest.aggTrades({ symbol: s, limit: 1 })).at(-1);
        if (t) marks.set(s, t.price);
        else failed.push(s);
      } catch (err) {
        failed.push(s);
        error ??= err;
      }
    }),
  );
  return { marks, failed: failed.sort(), error };
}

// ------------------------------------------------------------------ order text

/** An order as typed on the command line: decimal strings, names as given. */
export interface OrderText {
  side: 'BUY' | 'SELL';
  qty?: string;
  quoteQty?: string;
  limit?: string;
  stop?: string;
  type?: string;
  tif?: string;
  clientId?: string;
}

const TIFS: readonly TimeInForce[] = ['GTC', 'IOC', 'FOK'];
const DECIMAL = /^\d+(\.\d+)?$|^\.\d+$/;

/**
 * Builds the request exactly at the instrument's scales. The type is inferred when not given:
 * --limit and --stop → STOP_LOSS_LIMIT, --limit → LIMIT, --stop → STOP_LOSS, neither → MARKET;
 * types that need a time in force get GTC. Decimals beyond Binance's precision are refused as
 * Binance refuses them (-1111); a price within precision but off the tick grid is a PRICE_FILTER
 * failure (-1013), as on Binance. Malformed text is a UsageError.
 */
export function orderRequestFromText(inst: Instrument, t: OrderText): OrderRequest {
  let type: OrderType;
  if (t.type !== undefined) {
    const up = t.type.trim().toUpperCase();
    if (!(ORDER_TYPES as readonly string[]).includes(up)) {
      throw new UsageError(`unknown order type "${t.type}"`, { hint: `use one of ${ORDER_TYPES.join(', ')}` });
    }
    type = up as OrderType;
  } else if (t.limit !== undefined && t.stop !== undefined) type = 'STOP_LOSS_LIMIT';
  else if (t.limit !== undefined) type = 'LIMIT';
  else if (t.stop !== undefined) type = 'STOP_LOSS';
  else type = 'MARKET';

  let timeInForce: TimeInForce | undefined;
  if (t.tif !== undefined) {
    const up = t.tif.trim().toUpperCase();
    if (!(TIFS as readonly string[]).includes(up)) throw new UsageError(`unknown time in force "${t.tif}"`, { hint: 'use GTC, IOC or FOK' });
    timeInForce = up as TimeInForce;
  } else if (type === 'LIMIT' || type === 'STOP_LOSS_LIMIT' || type === 'TAKE_PROFIT_LIMIT') {
    timeInForce = 'GTC';
  }

  const req: OrderRequest = { symbol: inst.symbol, side: t.side, type };
  if (timeInForce !== undefined) req.timeInForce = timeInForce;
  if (t.qty !== undefined) req.qty = decimalParam(t.qty, 'quantity', inst.qtyScale, inst.qtyScale, 'LOT_SIZE');
  if (t.quoteQty !== undefined) req.quoteOrderQty = BigInt(decimalParam(t.quoteQty, 'quoteOrderQty', WIRE_SCALE, WIRE_SCALE, 'NOTIONAL')) * pow10n(AMOUNT_SCALE - WIRE_SCALE);
  if (t.limit !== undefined) req.price = decimalParam(t.limit, 'price', WIRE_SCALE, inst.priceScale, 'PRICE_FILTER');
  if (t.stop !== undefined) req.stopPrice = decimalParam(t.stop, 'stopPrice', WIRE_SCALE, inst.priceScale, 'PRICE_FILTER');
  if (t.clientId !== undefined) req.clientOrderId = t.clientId;
  return req;
}

/**
 * A decimal parameter: more decimals than `precision` is Binance's -1111; within precision but
 * not representable at `scale` (or too large) is the filter that bounds it.
 */
function decimalParam(text: string, param: string, precision: number, scale: number, filter: string): number {
  const s = text.trim();
  if (!DECIMAL.test(s)) throw new UsageError(`${param} "${text}" is not a positive decimal number`, { hint: 'write plain decimals such as 0.001 or 60000.5 (no signs, separators or exponents)' });
  try {
    parseFixedBig(s, precision);
  } catch {
    throw new OrderRejectedError(Rejections.badPrecision(param));
  }
  try {
    return parseFixed(s, scale);
  } catch (err) {
    if (err instanceof ParseError) throw new OrderRejectedError(Rejections.filter(filter));
    throw err;
  }
}

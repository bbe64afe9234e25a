import type { RiskStateChange, RiskStateName } from '../bus.js';
import { ParseError } from '../errors.js';
import { formatFixed } from '../fixed.js';
import type { Instrument } from '../market/types.js';
import { notional, qtyAmount, scalesOf, type Scales } from '../orders/amounts.js';
import { applyFillToPosition, emptyPosition, type PositionState } from '../orders/positions.js';
import { hasLimitPrice, type Amount, type Fill, type OrderRequest } from '../orders/types.js';
import { formatBase, formatPrice, formatQuote, formatWindow } from './format.js';
import { PCT_SCALE, emptyLimits, type LimitSet, type RiskLimits } from './limits.js';
import { RISK_CODES, type RiskRejection, type RiskRule } from './rejections.js';
import type { RiskView } from './view.js';
import { upperSymbol } from '../market/symbol-case.js';

/**
 * Pre-trade risk: a pure, deterministic state machine. No I/O, no clock of its own: every time it
 * sees is an exchange event time handed in (view.now, fill.time, the `now` of a transition).
 *
 * States:
 *  - ACTIVE: every rule below applies.
 *  - REDUCING: additionally, only orders that reduce the symbol's position are admitted.
 *  - HALTED: every order is rejected. `qtrade risk halt` must also cancel all open orders: the
 *    engine only holds the state, the caller cancels (venue.cancelAll) and publishes the change.
 *
 * "Reduce" on spot: the position is the net base quantity trading has bought minus sold
 * (Position.qty; negative after selling holdings the account had before trading). An order reduces
 * it when it moves it toward zero without crossing zero, counting the open orders on the same side:
 * a SELL reduces a long position p > 0 when open SELLs + its qty ≤ p; a BUY reduces a negative
 * position when open BUYs + its qty ≤ −p. Nothing reduces a flat position.
 *
 * The daily realized-loss limit, when hit, moves ACTIVE to REDUCING automatically (never to HALTED:
 * halting cancels every open order, protective stops included, which must stay a human decision).
 * REDUCING then stays until `resume`. Independently of the state, the dailyLossLimit rule admits
 * only reducing orders for the breached symbol (or quote asset) until the UTC day ends, so a resume
 * on the same day lifts REDUCING only where no loss limit is breached.
 *
 * Rules, in the order checked (first failure wins, codes in RISK_CODES): halted, reducing,
 * dailyLossLimit (non-reducing orders), orderRate, maxOpenOrders (orders that can rest),
 * priceBandPct (limit prices), maxOrderNotional, maxPositionQty, maxPositionNotional.
 */

const DAY_MS = 86_400_000;

/** Store key under which the service keeps the encoded status (store.getState/setState). */
export const RISK_STATUS_STATE_KEY = 'risk.status';

export interface RiskStatus {
  state: RiskStateName;
  /** Why the engine is in this state (operator text, or the limit that was hit). */
  reason: string;
  /** Event time of the transition into it; 0 for the initial ACTIVE. */
  since: number;
}

export interface RiskEngineOptions {
  /** Symbols whose fills onFill may see (instruments met in views are added as they come). */
  instruments?: Iterable<Instrument>;
  limits?: RiskLimits;
  /** A persisted status (decodeStatus) to start from; ACTIVE otherwise. */
  status?: RiskStatus;
}

interface SymbolInfo {
  inst: Instrument;
  scales: Scales;
}

interface DayPnl {
  day: number;
  pnl: Amount;
}

/** Admission times, ascending, for a rolling window. */
class TimeWindow {
  private times: number[] = [];
  private head = 0;

  /** Entries with time in (now − windowMs, …]. */
  count(now: number, windowMs: number): number {
    const from = now - windowMs;
    let lo = this.head;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid]! > from) hi = mid;
      else lo = mid + 1;
    }
    return this.times.length - lo;
  }

  push(t: number, keepMs: number): void {
    const n = this.times.length;
    if (n === this.head || this.times[n - 1]! <= t) this.times.push(t);
    else {
      let i = n;
      while (i > this.head && this.times[i - 1]! > t) i--;
      this.times.splice(i, 0, t);
    }
    const newest = this.times[this.times.length - 1]!;
    while (this.head < this.times.length && this.times[this.head]! <= newest - keepMs) this.head++;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }
}

/** What check() derives from a request once. */
interface OrderCtx {
  symbol: string;
  inst: Instrument;
  scales: Scales;
  buy: boolean;
  /**
   * Base quantity. A quoteOrderQty order's is quote / min(last, best opposite price), rounded up:
   * a bound for a BUY when the ask is known (it cannot fill below it), an estimate for a SELL (a
   * walk down the bids sells more).
   */
  qty: Amount | undefined;
  /** Price the order is valued at: its limit price, a market stop's stop price, else the last trade. */
  price: number | undefined;
  notional: Amount | undefined;
  /** True when the request carries a size at all (malformed ones are left to the venue's validation). */
  sized: boolean;
  reduces: boolean;
  /** Unfilled base of open orders on the order's side. */
  openSameSide: Amount;
}

const scalesCache = new WeakMap<Instrument, Scales>();
function scalesFor(inst: Instrument): Scales {
  let s = scalesCache.get(inst);
  if (!s) scalesCache.set(inst, (s = scalesOf(inst)));
  return s;
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);
/** 100 % at PCT_SCALE: |price − ref| / ref ≤ band / PCT_DIV. */
const PCT_DIV = 100n * 10n ** BigInt(PCT_SCALE);
const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;
const dayOf = (t: number): number => Math.floor(t / DAY_MS);

export class RiskEngine {
  private lim: RiskLimits;
  private st: RiskStatus;
  private readonly infos = new Map<string, SymbolInfo>();
  private readonly positions = new Map<string, PositionState>();
  private readonly realized = new Map<string, DayPnl>();
  private readonly rateBySymbol = new Map<string, TimeWindow>();
  private readonly rateGlobal = new TimeWindow();

  constructor(opts: RiskEngineOptions = {}) {
    this.lim = opts.limits ?? emptyLimits();
    this.st = opts.status ? { ...opts.status } : { state: 'ACTIVE', reason: 'start', since: 0 };
    for (const inst of opts.instruments ?? []) this.addInstrument(inst);
  }

  get limits(): RiskLimits {
    return this.lim;
  }

  /** Replaces the limits (after `qtrade risk set`); history (rate windows, PnL) is kept. */
  setLimits(limits: RiskLimits): void {
    this.lim = limits;
  }

  get state(): RiskStateName {
    return this.st.state;
  }

  status(): RiskStatus {
    return { ...this.st };
  }

  addInstrument(inst: Instrument): void {
    if (!this.infos.has(inst.symbol)) this.infos.set(inst.symbol, { inst, scales: scalesFor(inst) });
  }

  // ------------------------------------------------------------------ pre-trade

  /** The first rule `req` breaks, or undefined when it may go to the venue. Records nothing (it only learns view.instrument). */
  check(req: OrderRequest, view: RiskView): RiskRejection | undefined {
    const symbol = typeof req.symbol === 'string' ? upperSymbol(req.symbol) : '';
    if (this.st.state === 'HALTED') return reject('halted', symbol, `trading halted: ${this.st.reason} (rule halted)`);
    const inst = view.instrument;
    if (inst) this.addInstrument(inst);
    const o = inst ? this.context(req, view, symbol, inst) : undefined;
    if (this.st.state === 'REDUCING' && !o?.reduces) return this.notReducing(req, view, symbol, o);
    if (!o) return undefined;
    return (
      this.checkDailyLoss(o, view) ??
      this.checkRate(o, view) ??
      this.checkOpenOrders(req, o, view) ??
      this.checkBand(req, o, view) ??
      this.checkNotional(req, o, view) ??
      this.checkPositionQty(o, view) ??
      this.checkPositionNotional(o, view)
    );
  }

  /** check(), and when it passes, counts the order in the rate windows: the OrderService pre-trade hook. */
  admit(req: OrderRequest, view: RiskView): RiskRejection | undefined {
    const r = this.check(req, view);
    if (!r) this.recordOrder(req.symbol, view.now);
    return r;
  }

  /**
   * Counts an order in the rate windows at event time `time`. admit() does it; a restarted service
   * calls it for the orders its log accepted within the last window. Only scopes with an orderRate
   * limit keep times.
   */
  recordOrder(symbol: string, time: number): void {
    const sym = upperSymbol(symbol);
    const own = this.lim.symbols[sym]?.orderRate;
    if (own) {
      let w = this.rateBySymbol.get(sym);
      if (!w) this.rateBySymbol.set(sym, (w = new TimeWindow()));
      w.push(time, own.windowMs);
    }
    const g = this.lim.global.orderRate;
    if (g) this.rateGlobal.push(time, g.windowMs);
  }

  // ------------------------------------------------------------------ bookkeeping

  /**
   * Folds a fill into the engine's own average-cost positions (the paper engine's method) to learn
   * its realized PnL, net of fees. Feed every fill of the account in order, and on restart replay
   * the fill log, so the cost basis matches. Use this or onRealizedPnl, not both.
   * Returns the automatic ACTIVE → REDUCING change when the fill hits a daily loss limit.
   */
  onFill(fill: Fill): RiskStateChange | undefined {
    const info = this.infos.get(fill.symbol);
    if (!info) throw new RangeError(`risk engine: fill for unknown symbol ${fill.symbol}; pass its instrument in RiskEngineOptions.instruments`);
    let pos = this.positions.get(fill.symbol);
    if (!pos) this.positions.set(fill.symbol, (pos = emptyPosition()));
    const before = pos.realized;
    applyFillToPosition(pos, fill, info.inst.baseAsset, info.scales);
    return this.onRealizedPnl(fill.symbol, pos.realized - before, fill.time);
  }

  /**
   * Adds realized PnL (quote asset, negative for a loss) of `symbol` at event time `time` to that
   * UTC day. Late PnL for a day already behind the symbol's latest is dropped: that day is over.
   */
  onRealizedPnl(symbol: string, delta: Amount, time: number): RiskStateChange | undefined {
    const sym = symbol.toUpperCase();
    if (!this.infos.has(sym)) throw new RangeError(`risk engine: PnL for unknown symbol ${sym}; pass its instrument in RiskEngineOptions.instruments`);
    const day = dayOf(time);
    const cur = this.realized.get(sym);
    if (!cur || cur.day < day) this.realized.set(sym, { day, pnl: delta });
    else if (cur.day === day) cur.pnl += delta;
    else return undefined;
    if (delta >= 0n || this.st.state !== 'ACTIVE') return undefined;
    const hit = this.lossBreach(sym, day);
    return hit ? this.transition('REDUCING', hit.reason, time) : undefined;
  }

  /** Realized PnL of `symbol` in the UTC day of `now`. */
  realizedToday(symbol: string, now: number): Amount {
    const e = this.realized.get(symbol.toUpperCase());
    return e && e.day === dayOf(now) ? e.pnl : 0n;
  }

  /** Realized PnL of every symbol quoted in `quoteAsset`, in the UTC day of `now`. */
  realizedTodayByQuote(quoteAsset: string, now: number): Amount {
    const day = dayOf(now);
    let sum = 0n;
    for (const [sym, e] of this.realized) {
      if (e.day === day && this.infos.get(sym)?.inst.quoteAsset === quoteAsset) sum += e.pnl;
    }
    return sum;
  }

  // ------------------------------------------------------------------ transitions

  /** HALTED: every order rejected. The caller cancels all open orders and publishes the change. */
  halt(reason: string, now: number): RiskStateChange | undefined {
    return this.transition('HALTED', reason, now);
  }

  /** REDUCING by hand: only orders that reduce a position. */
  reduceOnly(reason: string, now: number): RiskStateChange | undefined {
    return this.transition('REDUCING', reason, now);
  }

  /** Back to ACTIVE from HALTED or REDUCING. */
  resume(now: number, reason = 'resumed by operator'): RiskStateChange | undefined {
    return this.transition('ACTIVE', reason, now);
  }

  /** Undefined when the engine is already in `to`. */
  private transition(to: RiskStateName, reason: string, now: number): RiskStateChange | undefined {
    if (this.st.state === to) return undefined;
    const change: RiskStateChange = { state: to, previous: this.st.state, reason, time: now };
    this.st = { state: to, reason, since: now };
    return change;
  }

  // ------------------------------------------------------------------ rules

  private context(req: OrderRequest, view: RiskView, symbol: string, inst: Instrument): OrderCtx {
    const scales = scalesFor(inst);
    const buy = req.side === 'BUY';
    const last = view.lastPrice;
    const validQty = typeof req.qty === 'number' && Number.isSafeInteger(req.qty) && req.qty > 0;
    const validQuote = typeof req.quoteOrderQty === 'bigint' && req.quoteOrderQty > 0n;
    let price: number | undefined;
    if (hasLimitPrice(req.type)) price = req.price;
    else if (req.type === 'STOP_LOSS' || req.type === 'TAKE_PROFIT') price = req.stopPrice;
    else price = last;
    if (price !== undefined && !(Number.isSafeInteger(price) && price > 0)) price = undefined;
    let qty: Amount | undefined;
    let orderNotional: Amount | undefined;
    if (validQty) {
      qty = qtyAmount(req.qty!, scales);
      if (price !== undefined) orderNotional = notional(price, req.qty!, scales);
    } else if (validQuote) {
      orderNotional = req.quoteOrderQty!;
      const best = buy ? view.bestAsk : view.bestBid;
      const at = best !== undefined && best > 0 && (last === undefined || best < last) ? best : last;
      if (at !== undefined && at > 0) qty = ceilDiv(req.quoteOrderQty! * scales.priceDiv, BigInt(at));
    }
    const openSameSide = qtyAmount(buy ? view.openBuyQty : view.openSellQty, scales);
    const pos = view.position;
    let reduces = false;
    if (qty !== undefined) reduces = buy ? pos < 0n && openSameSide + qty <= -pos : pos > 0n && openSameSide + qty <= pos;
    return { symbol, inst, scales, buy, qty, price, notional: orderNotional, sized: validQty || validQuote, reduces, openSameSide };
  }

  private notReducing(req: OrderRequest, view: RiskView, symbol: string, o: OrderCtx | undefined): RiskRejection {
    const head = `state REDUCING (${this.st.reason}):`;
    const tail = `(rule reducing, ${symbol})`;
    if (!o) return reject('reducing', symbol, `${head} ${symbol} is not a listed symbol, no position to reduce ${tail}`);
    const base = o.inst.baseAsset;
    const side = o.buy ? 'BUY' : 'SELL';
    const pos = `position ${formatBase(view.position)} ${base}`;
    if (o.qty === undefined) return reject('reducing', symbol, `${head} cannot size the ${side} order without a last trade price to check it reduces ${pos} ${tail}`);
    return reject(
      'reducing',
      symbol,
      `${head} ${side} ${formatBase(o.qty)} ${base} does not reduce ${pos} with open ${side} orders ${formatBase(o.openSameSide)} ${base} ${tail}`,
    );
  }

  /** The limit set a rule of `key` uses for `symbol`: its own, or the global default. */
  private pick<K extends 'maxOrderNotional' | 'maxPositionNotional' | 'priceBandPct'>(
    key: K,
    symbol: string,
  ): { value: NonNullable<LimitSet[K]>; scope: string } | undefined {
    const own = this.lim.symbols[symbol]?.[key];
    if (own !== undefined) return { value: own as NonNullable<LimitSet[K]>, scope: symbol };
    const g = this.lim.global[key];
    return g !== undefined ? { value: g as NonNullable<LimitSet[K]>, scope: 'global' } : undefined;
  }

  /** The daily loss limit `symbol` breaches on `day`, own first, then its quote asset's global one. */
  private lossBreach(symbol: string, day: number): { rule: 'dailyLossLimit'; msg: string; reason: string } | undefined {
    const info = this.infos.get(symbol);
    if (!info) return undefined;
    const quote = info.inst.quoteAsset;
    const own = this.lim.symbols[symbol]?.dailyLossLimit;
    const dayStart = day * DAY_MS;
    if (own !== undefined) {
      const loss = -this.realizedToday(symbol, dayStart);
      if (loss >= own) {
        const what = `realized loss today ${formatQuote(loss)} ${quote} reached max ${formatQuote(own)} ${quote}`;
        return {
          rule: 'dailyLossLimit',
          msg: `${what}, only reducing orders until 00:00 UTC (rule dailyLossLimit, ${symbol})`,
          reason: `${what} (rule dailyLossLimit, ${symbol})`,
        };
      }
    }
    const g = this.lim.global.dailyLossLimit;
    if (g !== undefined) {
      const loss = -this.realizedTodayByQuote(quote, dayStart);
      if (loss >= g) {
        const what = `realized loss today on ${quote} symbols ${formatQuote(loss)} ${quote} reached max ${formatQuote(g)} ${quote}`;
        return {
          rule: 'dailyLossLimit',
          msg: `${what}, only reducing orders until 00:00 UTC (rule dailyLossLimit, global)`,
          reason: `${what} (rule dailyLossLimit, global)`,
        };
      }
    }
    return undefined;
  }

  private checkDailyLoss(o: OrderCtx, view: RiskView): RiskRejection | undefined {
    if (o.reduces) return undefined;
    const hit = this.lossBreach(o.symbol, dayOf(view.now));
    return hit ? reject('dailyLossLimit', o.symbol, hit.msg) : undefined;
  }

  private checkRate(o: OrderCtx, view: RiskView): RiskRejection | undefined {
    const own = this.lim.symbols[o.symbol]?.orderRate;
    if (own) {
      const n = (this.rateBySymbol.get(o.symbol)?.count(view.now, own.windowMs) ?? 0) + 1;
      if (n > own.count) {
        const w = formatWindow(own.windowMs);
        return reject('orderRate', o.symbol, `orders on ${o.symbol} in the last ${w} would reach ${n}, exceeds max ${own.count} per ${w} (rule orderRate, ${o.symbol})`);
      }
    }
    const g = this.lim.global.orderRate;
    if (g) {
      const n = this.rateGlobal.count(view.now, g.windowMs) + 1;
      if (n > g.count) {
        const w = formatWindow(g.windowMs);
        return reject('orderRate', o.symbol, `orders in the last ${w} would reach ${n} across all symbols, exceeds max ${g.count} per ${w} (rule orderRate, global)`);
      }
    }
    return undefined;
  }

  private checkOpenOrders(req: OrderRequest, o: OrderCtx, view: RiskView): RiskRejection | undefined {
    // Orders that cannot rest (MARKET, IOC/FOK limits) never become open orders.
    const rests = req.type !== 'MARKET' && !(req.type === 'LIMIT' && (req.timeInForce === 'IOC' || req.timeInForce === 'FOK'));
    if (!rests) return undefined;
    const own = this.lim.symbols[o.symbol]?.maxOpenOrders;
    if (own !== undefined && view.openOrders + 1 > own) {
      return reject('maxOpenOrders', o.symbol, `open orders on ${o.symbol} would reach ${view.openOrders + 1}, exceeds max ${own} (rule maxOpenOrders, ${o.symbol})`);
    }
    const g = this.lim.global.maxOpenOrders;
    if (g !== undefined && view.openOrdersTotal + 1 > g) {
      return reject('maxOpenOrders', o.symbol, `open orders would reach ${view.openOrdersTotal + 1} across all symbols, exceeds max ${g} (rule maxOpenOrders, global)`);
    }
    return undefined;
  }

  /**
   * A limit price within the band around its reference: the last trade for LIMIT and LIMIT_MAKER;
   * for stop-limits the stop price, since the limit only works once the market is there. Market
   * types carry no price to check.
   */
  private checkBand(req: OrderRequest, o: OrderCtx, view: RiskView): RiskRejection | undefined {
    const band = this.pick('priceBandPct', o.symbol);
    if (!band || !hasLimitPrice(req.type) || o.price === undefined) return undefined;
    const stopLimit = req.type === 'STOP_LOSS_LIMIT' || req.type === 'TAKE_PROFIT_LIMIT';
    const ref = stopLimit ? req.stopPrice : view.lastPrice;
    if (ref !== undefined && ref > 0) {
      const r = BigInt(ref);
      if (abs(BigInt(o.price) - r) * PCT_DIV <= band.value * r) return undefined;
    }
    // Messages are built only for a rejection.
    const tail = `(rule priceBandPct, ${band.scope})`;
    const bandStr = `${formatFixed(band.value, PCT_SCALE, 0)}%`;
    const refName = stopLimit ? 'stop price' : 'last trade';
    if (ref === undefined || ref <= 0) {
      return reject('priceBandPct', o.symbol, `no ${refName} for ${o.symbol} to check the ${bandStr} band against ${tail}`);
    }
    const diff = abs(BigInt(o.price) - BigInt(ref));
    const r = BigInt(ref);
    // Shown rounded up to 0.01 %, so a price just outside never reads as exactly the band.
    const pct = formatFixed(ceilDiv(diff * 10_000n, r), 2);
    const dir = o.price > ref ? 'above' : 'below';
    const ps = o.inst.priceScale;
    return reject(
      'priceBandPct',
      o.symbol,
      `price ${formatPrice(o.price, ps)} is ${pct}% ${dir} ${refName} ${formatPrice(ref, ps)}, outside the ${bandStr} band ${tail}`,
    );
  }

  private checkNotional(req: OrderRequest, o: OrderCtx, view: RiskView): RiskRejection | undefined {
    const max = this.pick('maxOrderNotional', o.symbol);
    if (!max || !o.sized) return undefined;
    const quote = o.inst.quoteAsset;
    const tail = `(rule maxOrderNotional, ${max.scope})`;
    if (o.notional === undefined) return reject('maxOrderNotional', o.symbol, `no last trade price for ${o.symbol} to value the ${req.type} order ${tail}`);
    if (o.notional <= max.value) return undefined;
    const at = req.type === 'MARKET' && req.quoteOrderQty === undefined ? ` at last trade ${formatPrice(view.lastPrice!, o.inst.priceScale)}` : '';
    return reject('maxOrderNotional', o.symbol, `order notional ${formatQuote(o.notional)} ${quote}${at} exceeds max ${formatQuote(max.value)} ${quote} ${tail}`);
  }

  /** Worst-case position if this order and every open order on its side fill. */
  private worstCase(o: OrderCtx, view: RiskView): Amount {
    return o.buy ? view.position + o.openSameSide + o.qty! : view.position - o.openSameSide - o.qty!;
  }

  private checkPositionQty(o: OrderCtx, view: RiskView): RiskRejection | undefined {
    const max = this.lim.symbols[o.symbol]?.maxPositionQty;
    if (max === undefined || !o.sized) return undefined;
    const tail = `(rule maxPositionQty, ${o.symbol})`;
    if (o.qty === undefined) return reject('maxPositionQty', o.symbol, `no last trade price for ${o.symbol} to size the quoteOrderQty order ${tail}`);
    const w = this.worstCase(o, view);
    if (o.buy ? w <= max : w >= -max) return undefined;
    const base = o.inst.baseAsset;
    const side = o.buy ? 'BUY' : 'SELL';
    return reject(
      'maxPositionQty',
      o.symbol,
      `position would reach ${formatBase(w)} ${base} (now ${formatBase(view.position)}, open ${side} ${formatBase(o.openSameSide)}, order ${formatBase(o.qty)}), exceeds max ${formatBase(max)} ${base}${o.buy ? '' : ' short'} ${tail}`,
    );
  }

  private checkPositionNotional(o: OrderCtx, view: RiskView): RiskRejection | undefined {
    const max = this.pick('maxPositionNotional', o.symbol);
    if (!max || !o.sized) return undefined;
    const tail = `(rule maxPositionNotional, ${max.scope})`;
    if (o.qty === undefined || o.price === undefined) {
      return reject('maxPositionNotional', o.symbol, `no last trade price for ${o.symbol} to value the position ${tail}`);
    }
    const w = this.worstCase(o, view);
    if (o.buy ? w <= 0n : w >= 0n) return undefined;
    const scaled = abs(w) * BigInt(o.price);
    if (scaled <= max.value * o.scales.priceDiv) return undefined;
    const quote = o.inst.quoteAsset;
    return reject(
      'maxPositionNotional',
      o.symbol,
      `position would reach ${formatBase(w)} ${o.inst.baseAsset} = ${formatQuote(ceilDiv(scaled, o.scales.priceDiv))} ${quote} at ${formatPrice(o.price, o.inst.priceScale)}, exceeds max ${formatQuote(max.value)} ${quote} ${tail}`,
    );
  }
}

function reject(rule: RiskRule, symbol: string, msg: string): RiskRejection {
  return { code: RISK_CODES[rule], msg, rule, symbol };
}

// ------------------------------------------------------------------ persistence

const STATES: readonly RiskStateName[] = ['ACTIVE', 'REDUCING', 'HALTED'];

/** JSON for store.setState(RISK_STATUS_STATE_KEY, …), so a halt survives restarts and CLI runs. */
export function encodeStatus(s: RiskStatus): string {
  return JSON.stringify({ version: 1, state: s.state, reason: s.reason, since: s.since });
}

export function decodeStatus(json: string): RiskStatus {
  const hint = '`qtrade risk resume` writes a fresh status';
  let x: unknown;
  try {
    x = JSON.parse(json);
  } catch (err) {
    throw new ParseError('stored risk status is not JSON', { hint, cause: err });
  }
  const o = x as Record<string, unknown> | null;
  if (
    typeof o !== 'object' ||
    o === null ||
    o.version !== 1 ||
    !STATES.includes(o.state as RiskStateName) ||
    typeof o.reason !== 'string' ||
    typeof o.since !== 'number' ||
    !Number.isSafeInteger(o.since)
  ) {
    throw new ParseError('stored risk status is malformed', { hint });
  }
  return { state: o.state as RiskStateName, reason: o.reason, since: o.since };
}

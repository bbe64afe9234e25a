import type { Bus, FeedState, RiskStateChange } from '../bus.js';
import type { Candle, Interval } from '../candles/types.js';
import { INTERVAL_MS } from '../candles/intervals.js';
import type { Clock } from '../clock.js';
import { formatFixed, pow10n } from '../fixed.js';
import type { Instruments } from '../market/instruments.js';
import type { BookTop, Instrument, Trade } from '../market/types.js';
import { formatAmount } from '../orders/amounts.js';
import type { Amount, Fill, Order } from '../orders/types.js';
import { compare, firesWhenFirstTrue, type Condition, type SeriesRef } from './condition.js';
import { Heap } from './heap.js';
import { parseCondition } from './parse.js';
import { PriceIndex, type PriceEntry } from './price-index.js';
import { SecondCloses } from './second-closes.js';
import { IntervalSeries } from './series.js';
import type { Alert, AlertFiring, AlertRecord } from './types.js';
import { MAX_CHANGE_WINDOW_MS } from './parse.js';

/** What PnL alerts read of the account: a position's quantity, cost and realized PnL (Amounts). */
export interface AccountView {
  position(symbol: string): { qty: Amount; cost: Amount; realizedPnl: Amount } | undefined;
}

export interface AlertEngineOptions {
  bus: Bus;
  clock: Clock;
  instruments: Instruments;
  /** The paper account, for `pnl` conditions; without it they never fire. */
  account?: AccountView;
  /**
   * Runs `fn` after `ms` of real time (live only): lets `feed down > 30s` fire while the feed is
   * still down. Without it (replay, backtest) the alert fires when the feed comes back and the
   * first event shows how long it was away. Either way the firing's time is down-since + N.
   */
  schedule?: (ms: number, fn: () => void) => () => void;
  /** Every firing, right after it was published on the bus as 'alert.fired'. */
  onFire?: (firing: AlertFiring) => void;
  /** An alert stopped by itself: a once-alert fired ('done') or event time passed its expiry ('expired'). */
  onEnd?: (id: string, reason: 'done' | 'expired') => void;
}

/** An alert as the engine runs it. */
interface Armed {
  alert: Alert;
  cond: Condition;
  /** The symbol's instrument (the condition's, for pnl); undefined for '*' alerts on order events. */
  inst: Instrument | undefined;
  /** Predicate at the last evaluation; undefined until first evaluated (price alerts keep theirs in the index). */
  state: boolean | undefined;
  /** A level condition fires when first seen true, unless it fired before a restart (it may still be true from then). */
  fireOnFirst: boolean;
  fired: number;
  lastFiredAt: number | undefined;
  dead: boolean;
  slot: PriceSlot | undefined;
  /** Feed-down bookkeeping: fired in the current outage; the pending timer. */
  outageFired: boolean;
  cancelTimer: (() => void) | undefined;
}

interface PriceSlot extends PriceEntry {
  armed: Armed;
}

/** What the engine keeps per symbol: only what its alerts need. */
class Watch {
  readonly prices = new PriceIndex<PriceSlot>();
  lastPrice: number | undefined;
  closes: SecondCloses | undefined;
  readonly change: Armed[] = [];
  readonly series = new Map<Interval, IntervalSeries>();
  readonly seriesAlerts = new Map<Interval, Armed[]>();
  readonly spread: Armed[] = [];
  readonly pnl: Armed[] = [];
  readonly orders: Armed[] = [];
  readonly mismatch: Armed[] = [];

  constructor(readonly inst: Instrument) {}
}

export interface AlertRuntime {
  id: string;
  fired: number;
  lastFiredAt: number | undefined;
  /** The predicate as last evaluated (price alerts: at the last trade); undefined before. */
  state: boolean | undefined;
}

/**
 * Evaluates alerts on the bus's events, on exchange event time only: a trade's time, a candle's
 * close time, an order event's time, so a replay or backtest of the same data fires at the same
 * moments as live. Conditions fire once per crossing: a condition must turn false before it can
 * fire again. Event conditions (filled, rejected, risk, mismatch) fire on every such event.
 * Modes and expiry gate the firings. Nothing here reads the wall clock or does I/O.
 */
export class AlertEngine {
  private readonly bus: Bus;
  private readonly clock: Clock;
  private readonly instruments: Instruments;
  private readonly opts: AlertEngineOptions;
  private readonly byId = new Map<string, Armed>();
  private readonly watches = new Map<string, Watch>();
  private readonly anyOrders: Armed[] = [];
  private readonly risk: Armed[] = [];
  private readonly feed: Armed[] = [];
  private readonly expiries = new Heap<Armed>((a, b) => a.alert.expiresAt! < b.alert.expiresAt!);
  private readonly unsubscribe: Array<() => void>;
  private warming = false;
  /** Event time of the trade being evaluated (price index callbacks read it). */
  private tradeTime = 0;
  private feedOpen = false;
  private downSince: number | undefined;
  /** The feed came back: the next event's time tells how long it was away. */
  private recovering = false;

  constructor(opts: AlertEngineOptions) {
    this.opts = opts;
    this.bus = opts.bus;
    this.clock = opts.clock;
    this.instruments = opts.instruments;
    const bus = opts.bus;
    this.unsubscribe = [
      bus.subscribe('trade', (t) => this.onTrade(t)),
      bus.subscribe('candle.closed', (c) => this.onCandle(c)),
      bus.subscribe('book.top', (b) => this.onTop(b)),
      bus.subscribe('order.update', (o) => this.onOrder(o)),
      bus.subscribe('order.rejected', (r) => this.onRejected(r)),
      bus.subscribe('fill', (f) => this.onFill(f)),
      bus.subscribe('risk.state', (r) => this.onRisk(r)),
      bus.subscribe('feed.state', (s) => this.onFeedState(s)),
      bus.subscribe('candle.mismatch', (m) => this.onMismatch(m.ours, m.fields)),
    ];
  }

  /** Alerts running. */
  get size(): number {
    return this.byId.size;
  }

  /**
   * Starts evaluating an alert. Throws ConditionError when its condition does not parse against
   * the symbol's scales, UsageError for an unknown symbol. A once-alert that already fired, or one
   * removed, is not added.
   */
  add(rec: AlertRecord): void {
    const a = rec.alert;
    if (this.byId.has(a.id)) throw new RangeError(`alert ${a.id} is already running`);
    if (a.mode.kind === 'once' && rec.fired > 0) return;
    const inst = a.symbol === '*' ? undefined : this.instruments.get(a.symbol);
    const cond = parseCondition(a.condition, {
      instrument: inst,
      lookup: (s) => (this.instruments.has(s) ? this.instruments.get(s) : undefined),
      symbols: () => this.instruments.all().map((i) => i.symbol),
    });
    const condInst = cond.kind === 'pnl' ? this.instruments.get(cond.symbol) : inst;
    const cmp = 'cmp' in cond ? cond.cmp : '>';
    const armed: Armed = {
      alert: a,
      cond,
      inst: condInst,
      state: undefined,
      fireOnFirst: firesWhenFirstTrue(cmp) && rec.fired === 0,
      fired: rec.fired,
      lastFiredAt: rec.lastFiredAt,
      dead: false,
      slot: undefined,
      outageFired: false,
      cancelTimer: undefined,
    };
    this.index(armed);
    this.byId.set(a.id, armed);
    if (a.expiresAt !== undefined) this.expiries.push(armed);
  }

  /** Stops an alert; false when it was not running. */
  remove(id: string): boolean {
    const a = this.byId.get(id);
    if (!a) return false;
    this.stop(a);
    return true;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  runtime(id: string): AlertRuntime | undefined {
    const a = this.byId.get(id);
    if (!a) return undefined;
    return { id, fired: a.fired, lastFiredAt: a.lastFiredAt, state: a.slot ? a.slot.state : a.state };
  }

  /**
   * 1m candles of history a symbol's candle conditions need to be ready at once (indicator periods
   * and average windows, times their interval); 0 when it has none.
   */
  warmupMinutes(symbol: string): number {
    const w = this.watches.get(symbol.toUpperCase());
    let max = 0;
    if (!w) return 0;
    for (const list of w.seriesAlerts.values()) {
      for (const a of list) {
        const c = a.cond;
        if (c.kind === 'series') {
          for (const r of [c.left, c.right]) {
            if (r.kind === 'level') continue;
            const bars = r.kind === 'close' ? 2 : r.period + 2;
            max = Math.max(max, bars * (INTERVAL_MS[r.interval] / 60_000));
          }
        } else if (c.kind === 'volume' && c.rhs.kind === 'avg') {
          max = Math.max(max, (c.rhs.count + 2) * (INTERVAL_MS[c.interval] / 60_000));
        }
      }
    }
    return max;
  }

  /** Symbols with candle conditions. */
  seriesSymbols(): string[] {
    return [...this.watches.values()].filter((w) => w.seriesAlerts.size > 0).map((w) => w.inst.symbol);
  }

  /** Feeds past closed 1m candles (oldest first) to a symbol's indicators without evaluating any alert. */
  seed(symbol: string, candles: readonly Candle[]): void {
    const sym = symbol.toUpperCase();
    this.warming = true;
    try {
      for (const c of candles) if (c.symbol === sym && c.interval === '1m') this.onCandle(c);
    } finally {
      this.warming = false;
    }
  }

  /** Unsubscribes from the bus and cancels timers. */
  close(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    for (const a of this.feed) a.cancelTimer?.();
  }

  // ------------------------------------------------------------------ indexing

  private watch(inst: Instrument): Watch {
    let w = this.watches.get(inst.symbol);
    if (!w) this.watches.set(inst.symbol, (w = new Watch(inst)));
    return w;
  }

  private index(a: Armed): void {
    const c = a.cond;
    if (c.kind === 'risk') return void this.risk.push(a);
    if (c.kind === 'feed-down') return void this.feed.push(a);
    if (c.kind === 'order' && !a.inst) return void this.anyOrders.push(a);
    const w = this.watch(a.inst!);
    switch (c.kind) {
      case 'price': {
        const above = c.cmp === '>' || c.cmp === '>=' || c.cmp === 'crosses above';
        const threshold = c.cmp === '>=' ? c.level - 1 : c.cmp === '<=' ? c.level + 1 : c.level;
        const slot: PriceSlot = { above, threshold, state: undefined, slot: 0, key: 0, order: 0, removed: false, armed: a };
        a.slot = slot;
        w.prices.add(slot);
        return;
      }
      case 'change':
        w.closes ??= new SecondCloses(MAX_CHANGE_WINDOW_MS);
        w.change.push(a);
        return;
      case 'series':
      case 'volume': {
        const refs: SeriesRef[] = c.kind === 'series' ? [c.left, ...(c.right.kind === 'level' ? [] : [c.right])] : [{ kind: 'close', interval: c.interval }];
        for (const r of refs) {
          const s = this.series(w, r.interval);
          if (r.kind !== 'close') s.indicator(r.kind, r.period);
          if (!w.seriesAlerts.get(r.interval)?.includes(a)) w.seriesAlerts.get(r.interval)!.push(a);
        }
        if (c.kind === 'volume' && c.rhs.kind === 'avg') this.series(w, c.interval).volumeWindow(c.rhs.count);
        return;
      }
      case 'spread':
        return void w.spread.push(a);
      case 'pnl':
        return void w.pnl.push(a);
      case 'order':
        return void w.orders.push(a);
      case 'candle-mismatch':
        return void w.mismatch.push(a);
    }
  }

  private series(w: Watch, interval: Interval): IntervalSeries {
    let s = w.series.get(interval);
    if (!s) {
      s = new IntervalSeries(interval, (series, c) => this.onSeriesClose(w, series, c));
      w.series.set(interval, s);
      w.seriesAlerts.set(interval, []);
    }
    return s;
  }

  private stop(a: Armed): void {
    if (a.dead) return;
    a.dead = true;
    this.byId.delete(a.alert.id);
    a.cancelTimer?.();
    const drop = (list: Armed[] | undefined): void => {
      const i = list?.indexOf(a) ?? -1;
      if (i !== -1) list!.splice(i, 1);
    };
    drop(this.risk);
    drop(this.feed);
    drop(this.anyOrders);
    const w = a.inst ? this.watches.get(a.inst.symbol) : undefined;
    if (!w) return;
    if (a.slot) w.prices.remove(a.slot);
    drop(w.change);
    drop(w.spread);
    drop(w.pnl);
    drop(w.orders);
    drop(w.mismatch);
    for (const list of w.seriesAlerts.values()) drop(list);
  }

  // ------------------------------------------------------------------ firing

  /** Fires unless expired, cooling down or already done; `symbol` names the event's symbol for '*' alerts. */
  private fire(a: Armed, time: number, detail: string, symbol?: string): void {
    if (a.dead) return;
    const al = a.alert;
    if (al.expiresAt !== undefined && time >= al.expiresAt) {
      this.stop(a);
      this.opts.onEnd?.(al.id, 'expired');
      return;
    }
    if (al.mode.kind === 'every' && a.lastFiredAt !== undefined && time - a.lastFiredAt < al.mode.cooldownMs) return;
    a.fired++;
    a.lastFiredAt = time;
    const sym = al.symbol === '*' ? (symbol ?? '*') : al.symbol;
    const firing: AlertFiring = {
      id: `${al.id}.${a.fired}`,
      alertId: al.id,
      n: a.fired,
      symbol: sym,
      condition: al.condition,
      time,
      message: `${sym} ${al.condition}: ${detail}`,
      notify: [...al.notify],
    };
    this.bus.publish('alert.fired', firing);
    this.opts.onFire?.(firing);
    if (al.mode.kind === 'once') {
      this.stop(a);
      this.opts.onEnd?.(al.id, 'done');
    }
  }

  /** A stateful condition's new predicate value: fires on false → true (and on a first true where allowed). */
  private observe(a: Armed, pred: boolean, time: number, detail: () => string): void {
    const prev = a.state;
    a.state = pred;
    if (pred && (prev === false || (prev === undefined && a.fireOnFirst))) this.fire(a, time, detail());
  }

  private expire(time: number): void {
    const h = this.expiries;
    for (let top = h.peek(); top !== undefined && top.alert.expiresAt! <= time; top = h.peek()) {
      h.pop();
      if (top.dead) continue;
      this.stop(top);
      this.opts.onEnd?.(top.alert.id, 'expired');
    }
  }

  // ------------------------------------------------------------------ events

  private readonly onPriceChange = (slot: PriceSlot, state: boolean, first: boolean, price: number): void => {
    const a = slot.armed;
    if (state && (!first || a.fireOnFirst)) this.fire(a, this.tradeTime, `price ${formatFixed(price, a.inst!.priceScale)}`);
  };

  private onTrade(t: Trade): void {
    if (this.recovering) this.recovered(t.time);
    if (this.expiries.size > 0) this.expire(t.time);
    const w = this.watches.get(t.symbol);
    if (w === undefined) return;
    w.lastPrice = t.price;
    if (w.prices.size > 0) {
      this.tradeTime = t.time;
      w.prices.onPrice(t.price, this.onPriceChange);
    }
    if (w.closes !== undefined) {
      w.closes.add(t.time, t.price);
      for (const a of [...w.change]) this.evalChange(w, a, t);
    }
    if (w.pnl.length > 0) for (const a of [...w.pnl]) this.evalPnl(a, t.price, t.time);
  }

  private evalChange(w: Watch, a: Armed, t: Trade): void {
    const c = a.cond as Extract<Condition, { kind: 'change' }>;
    const ref = w.closes!.priceAsOf(t.time - c.windowMs);
    if (ref === undefined || ref <= 0) return;
    // (p − ref) / ref  cmp  pct / 100, exactly: (p − ref) · 100 · 10^scale  cmp  pct.raw · ref
    const lhs = BigInt(t.price - ref) * 100n * pow10n(c.pct.scale);
    const rhs = c.pct.raw * BigInt(ref);
    this.observe(a, compare(lhs, c.cmp, rhs), t.time, () => {
      const ps = w.inst.priceScale;
      const pct = (((t.price - ref) / ref) * 100).toFixed(2);
      return `${pct}% in ${c.windowMs / 1000}s (${formatFixed(ref, ps)} → ${formatFixed(t.price, ps)})`;
    });
  }

  private evalPnl(a: Armed, mark: number, time: number): void {
    const c = a.cond as Extract<Condition, { kind: 'pnl' }>;
    const pos = this.opts.account?.position(c.symbol);
    if (!pos) return;
    const unrealized = pos.qty === 0n ? 0n : (pos.qty * BigInt(mark)) / pow10n(a.inst!.priceScale) - pos.cost;
    const pnl = pos.realizedPnl + unrealized;
    this.observe(a, compare(pnl, c.cmp, c.amount), time, () => `PnL ${formatAmount(pnl)} ${a.inst!.quoteAsset} at ${formatFixed(mark, a.inst!.priceScale)}`);
  }

  private onCandle(c: Candle): void {
    const w = this.watches.get(c.symbol);
    if (w === undefined || w.series.size === 0) return;
    for (const s of w.series.values()) s.add1m(c);
  }

  private onSeriesClose(w: Watch, series: IntervalSeries, c: Candle): void {
    if (this.warming) return;
    const list = w.seriesAlerts.get(series.interval);
    if (!list || list.length === 0) return;
    const time = c.closeTime;
    for (const a of [...list]) {
      const cond = a.cond;
      if (cond.kind === 'volume') this.evalVolume(a, cond, series, c, time);
      else if (cond.kind === 'series') this.evalSeries(w, a, cond, time);
    }
  }

  private evalSeries(w: Watch, a: Armed, c: Extract<Condition, { kind: 'series' }>, time: number): void {
    const left = w.series.get(c.left.interval)!;
    const r = c.right;
    if (r.kind === 'level') {
      if (c.left.kind === 'close' && r.raw !== undefined) {
        const last = left.last;
        if (!last) return;
        this.observe(a, compare(last.close, c.cmp, r.raw), time, () => `close ${formatFixed(last.close, last.priceScale)}`);
        return;
      }
      const v = left.value(c.left);
      if (v === undefined) return;
      this.observe(a, compare(v, c.cmp, r.value), time, () => `${refText(c.left)} ${v.toFixed(c.left.kind === 'rsi' ? 2 : w.inst.priceScale)}`);
      return;
    }
    const lv = left.value(c.left);
    const rv = w.series.get(r.interval)!.value(r);
    if (lv === undefined || rv === undefined) return;
    const digits = c.left.kind === 'rsi' ? 2 : w.inst.priceScale;
    this.observe(a, compare(lv, c.cmp, rv), time, () => `${refText(c.left)} ${lv.toFixed(digits)}, ${refText(r)} ${rv.toFixed(digits)}`);
  }

  private evalVolume(a: Armed, c: Extract<Condition, { kind: 'volume' }>, series: IntervalSeries, candle: Candle, time: number): void {
    const vol = candle.volume;
    const qs = candle.qtyScale;
    if (c.rhs.kind === 'qty') {
      this.observe(a, compare(vol, c.cmp, c.rhs.raw), time, () => `volume ${formatFixed(vol, qs)}`);
      return;
    }
    const base = series.averageBase(c.rhs.count);
    if (!base) return;
    const { mult, count } = c.rhs;
    // vol  cmp  mult · sum / count, exactly: vol · count · 10^scale  cmp  mult.raw · sum
    const pred = compare(vol * BigInt(count) * pow10n(mult.scale), c.cmp, mult.raw * base.sum);
    this.observe(a, pred, time, () => {
      const avg = Number(base.sum) / count;
      const ratio = avg === 0 ? '∞' : (Number(vol) / avg).toFixed(2);
      return `volume ${formatFixed(vol, qs)}, ${ratio}x the average of the previous ${count}`;
    });
  }

  private onTop(b: BookTop): void {
    const w = this.watches.get(b.symbol);
    if (w === undefined || w.spread.length === 0) return;
    const spread = b.ask.price - b.bid.price;
    const time = this.clock.now();
    for (const a of [...w.spread]) {
      const c = a.cond as Extract<Condition, { kind: 'spread' }>;
      this.observe(a, compare(spread, c.cmp, c.raw), time, () => {
        const tick = c.ticks !== undefined && c.ticks > 0 ? c.raw / c.ticks : undefined;
        return `spread ${formatFixed(spread, w.inst.priceScale)}${tick ? ` (${spread / tick} ticks)` : ''}, bid ${formatFixed(b.bid.price, w.inst.priceScale)} ask ${formatFixed(b.ask.price, w.inst.priceScale)}`;
      });
    }
  }

  private onOrder(o: Order): void {
    const event = o.status === 'FILLED' ? 'filled' : o.status === 'PARTIALLY_FILLED' ? 'partially filled' : undefined;
    if (event === undefined) return;
    const inst = this.instruments.has(o.symbol) ? this.instruments.get(o.symbol) : undefined;
    const qty = inst ? formatFixed(o.executedQty, inst.qtyScale) : String(o.executedQty);
    const detail = `order ${o.clientOrderId} ${o.side} ${o.type} ${event}, executed ${qty}`;
    this.orderEvent(o.symbol, event, o.updateTime, detail);
  }

  private onRejected(r: { symbol: string; clientOrderId?: string; code: number; msg: string; time: number }): void {
    this.orderEvent(r.symbol, 'rejected', r.time, `order ${r.clientOrderId ?? ''} rejected: ${r.msg} (${r.code})`.replace('order  ', 'order '));
  }

  private orderEvent(symbol: string, event: 'filled' | 'partially filled' | 'rejected', time: number, detail: string): void {
    const w = this.watches.get(symbol);
    const lists = [w?.orders, this.anyOrders];
    for (const list of lists) {
      if (!list || list.length === 0) continue;
      for (const a of [...list]) if ((a.cond as Extract<Condition, { kind: 'order' }>).event === event) this.fire(a, time, detail, symbol);
    }
  }

  private onFill(f: Fill): void {
    const w = this.watches.get(f.symbol);
    if (w === undefined || w.pnl.length === 0) return;
    for (const a of [...w.pnl]) this.evalPnl(a, w.lastPrice ?? f.price, f.time);
  }

  private onRisk(r: RiskStateChange): void {
    for (const a of [...this.risk]) {
      const want = (a.cond as Extract<Condition, { kind: 'risk' }>).state;
      if (want === 'changed' || want === r.state) this.fire(a, r.time, `risk ${r.previous} -> ${r.state}: ${r.reason}`);
    }
  }

  private onMismatch(ours: Candle, fields: string[]): void {
    const w = this.watches.get(ours.symbol);
    if (w === undefined || w.mismatch.length === 0) return;
    const when = new Date(ours.openTime).toISOString().slice(0, 16).replace('T', ' ');
    for (const a of [...w.mismatch]) this.fire(a, ours.closeTime, `${when} candle differs from Binance's in ${fields.join(', ')}`);
  }

  private onFeedState(s: FeedState): void {
    if (s.state === 'open') {
      if (this.downSince !== undefined) this.recovering = true;
      this.feedOpen = true;
      return;
    }
    if (!this.feedOpen || this.downSince !== undefined) return;
    // Down since the last exchange event seen: the feed's own time, not this machine's.
    const since = this.clock.now();
    this.downSince = since;
    this.recovering = false;
    for (const a of this.feed) {
      a.outageFired = false;
      const ms = (a.cond as Extract<Condition, { kind: 'feed-down' }>).ms;
      a.cancelTimer?.();
      a.cancelTimer = this.opts.schedule?.(ms, () => {
        a.cancelTimer = undefined;
        if (this.downSince === since && !this.recovering) this.feedDown(a, since, ms, s.reason);
      });
    }
  }

  private feedDown(a: Armed, since: number, ms: number, reason: string | undefined): void {
    if (a.outageFired) return;
    a.outageFired = true;
    this.fire(a, since + ms, `no market data for more than ${ms / 1000}s${reason ? ` (${reason})` : ''}`);
  }

  /** The first event after the feed came back: outages longer than an alert's limit fire now if no timer did. */
  private recovered(time: number): void {
    const since = this.downSince!;
    this.recovering = false;
    this.downSince = undefined;
    for (const a of [...this.feed]) {
      a.cancelTimer?.();
      a.cancelTimer = undefined;
      const ms = (a.cond as Extract<Condition, { kind: 'feed-down' }>).ms;
      if (time - since > ms) this.feedDown(a, since, ms, 'reconnected');
      a.outageFired = false;
    }
  }
}

function refText(r: SeriesRef): string {
  return r.kind === 'close' ? `close ${r.interval}` : `${r.kind}(${r.period}, ${r.interval})`;
}

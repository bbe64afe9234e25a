import type { Bus } from '../bus.js';
import { CandleAggregator } from '../candles/aggregate.js';
import type { Candle, Interval } from '../candles/types.js';
import type { Clock } from '../clock.js';
import { UsageError } from '../errors.js';
import { parseFixed, pow10 } from '../fixed.js';
import type { Instrument, Trade } from '../market/types.js';
import { parseAmount } from '../orders/amounts.js';
import type { CancelResult, OrderRef, SubmitResult } from '../orders/paper-engine.js';
import type { OrderEvent } from '../orders/events.js';
import { AMOUNT_SCALE, type Amount, type Fill, type Order, type OrderRequest, type Side } from '../orders/types.js';
import type {
  Decimal,
  IndicatorFactory,
  LogEntry,
  OrderParams,
  OrderTicket,
  StrategyBalance,
  StrategyContext,
  StrategyDefinition,
  StrategyLogger,
  StrategyPosition,
  StrategyState,
} from './api.js';
import { ATR, Bollinger, EMA, MACD, OBV, RSI, SMA, Stochastic, VWAP, WMA } from './indicators/index.js';
import { resolveParams, type ParamSchema, type ParamValues } from './params.js';
import { refused, type OrderSink } from './sink.js';

export type RunnerStatus = 'idle' | 'running' | 'paused' | 'stopped';

export interface RunnerError {
  message: string;
  /** The callback that failed ('onCandle', …, or 'state' when ctx.state is not JSON). */
  callback: string;
  /** Event time. */
  time: number;
  stack?: string;
}

/** What a live runner persists and restores across restarts. */
export interface RunnerSnapshot {
  id: string;
  strategy: string;
  symbol: string;
  interval: Interval;
  params: Record<string, unknown>;
  state: StrategyState;
  /** Next client order number (ids stay unique across restarts). */
  nextOrder: number;
  status: RunnerStatus;
  error?: RunnerError;
}

export interface StrategyRunnerOptions<S extends ParamSchema> {
  strategy: StrategyDefinition<S>;
  /** Values by name; strings are converted (`--param k=v`). Checked against the schema. */
  params?: Record<string, unknown>;
  symbol: string;
  instrument: Instrument;
  /** Default 1m; higher intervals are aggregated from the bus's closed 1m candles. */
  interval?: Interval;
  bus: Bus;
  clock: Clock;
  orders: OrderSink;
  /** Runner id, the prefix of its clientOrderIds: letters, digits, "-", at most 25. Default `<name>-<symbol>`. */
  id?: string;
  /** A persisted snapshot to continue from (state and order numbering). */
  restore?: Pick<RunnerSnapshot, 'state' | 'nextOrder'>;
  /** Called after a callback changed ctx.state (or placed orders), with what to persist. */
  persist?: (snapshot: RunnerSnapshot) => void;
  /** After onCandle for each closed candle of the interval (backtests mark equity here). */
  afterCandle?: (candle: Candle) => void;
  /**
   * 'caller': the runner does not read 'candle.closed' off the bus; the driver hands it each closed
   * candle with `candleClosed` (the candle backtest). Default 'bus'.
   */
  candles?: 'bus' | 'caller';
  onStatus?: (status: RunnerStatus, error?: RunnerError) => void;
  /** Log entries kept (oldest dropped first); default 1000. */
  maxLogs?: number;
}

/** The resolving functions of the promise an order call returned. */
interface Settle<T> {
  resolve: (r: T) => void;
  reject: (err: unknown) => void;
}

type Op =
  | ({ kind: 'submit'; req: OrderRequest; ticket?: Promise<SubmitResult> } & Settle<SubmitResult>)
  | ({ kind: 'cancel'; ref: OrderRef } & Settle<CancelResult>)
  | ({ kind: 'cancelAll' } & Settle<{ orders: Order[]; events: OrderEvent[] }>);

const ID = /^[A-Za-z0-9-]{1,25}$/;
const AMOUNT_ONE = 10 ** AMOUNT_SCALE;
/** One 1e-8 step of a quote amount, in amount units. */
const E8 = 10n ** BigInt(AMOUNT_SCALE - 8);
const noop = (): void => {};

const OBJECT_PROTO = Object.prototype;

/** Indicators that read only a candle's close: `update(close)` gives what `update(candle)` would. */
const CLOSE_ONLY: ReadonlyArray<abstract new (...args: never[]) => unknown> = [SMA, EMA, WMA, RSI, MACD, Bollinger];

/** A plain object whose own values are all strings, finite-or-not numbers, booleans, null or undefined. */
function flatJson(state: unknown): boolean {
  if (!state || typeof state !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(state);
  if (proto !== OBJECT_PROTO && proto !== null) return false;
  for (const key in state) {
    if (!Object.hasOwn(state, key)) return false;
    const v: unknown = (state as Record<string, unknown>)[key];
    const t = typeof v;
    if (v !== null && t !== 'string' && t !== 'number' && t !== 'boolean' && t !== 'undefined') return false;
  }
  return true;
}

/** A sink's answer that is no promise nor thenable: Promise.resolve of it is fulfilled, never rejected. */
function plainAnswer(r: unknown): boolean {
  return typeof r !== 'object' || r === null || !('then' in r);
}

function errorOf(err: unknown): { message: string; stack?: string } {
  if (err instanceof Error) return { message: err.message, ...(err.stack ? { stack: err.stack } : {}) };
  return { message: String(err) };
}

/**
 * Runs one strategy instance on one symbol. Reads the bus ('candle.closed' for its symbol,
 * aggregated to its interval; 'trade'; 'fill' of its own orders) and trades through an OrderSink.
 *
 * No look-ahead: order calls from onStart/onCandle are queued and go to the sink when the next
 * 'trade' of the symbol is published. Every driver hands a trade to the order engine before it
 * publishes it, so that trade has already been matched: the orders can only fill on the book as it
 * stands after it and on later trades, never inside the candle that produced the signal.
 */
export class StrategyRunner<S extends ParamSchema = ParamSchema> {
  readonly id: string;
  readonly symbol: string;
  readonly interval: Interval;
  readonly params: ParamValues<S>;
  readonly strategy: StrategyDefinition<S>;
  private readonly opts: StrategyRunnerOptions<S>;
  private readonly ctx: RunnerContext<S>;
  private readonly aggregator: CandleAggregator | undefined;
  private readonly unsubs: Array<() => void> = [];
  private readonly maxLogs: number;
  private statusValue: RunnerStatus = 'idle';
  private errorValue: RunnerError | undefined;
  private queue: Op[] = [];
  /** True while onStart/onCandle runs: order calls are queued. */
  queueing = false;
  nextOrder: number;
  readonly logs: LogEntry[] = [];
  private lastState: string;
  private asyncSeenValue = false;
  private turnWanted = false;
  private counters = { candles: 0, trades: 0, fills: 0, orders: 0, orderErrors: 0 };

  constructor(opts: StrategyRunnerOptions<S>) {
    this.opts = opts;
    this.strategy = opts.strategy;
    this.symbol = opts.instrument.symbol;
    if (opts.symbol.toUpperCase() !== this.symbol) throw new UsageError(`runner symbol ${opts.symbol} does not match instrument ${this.symbol}`);
    this.interval = opts.interval ?? '1m';
    this.id = opts.id ?? `${opts.strategy.name.slice(0, 14)}-${this.symbol.slice(0, 10).toLowerCase()}`;
    if (!ID.test(this.id)) throw new UsageError(`strategy runner id "${this.id}" is not allowed`, { hint: 'letters, digits and "-", at most 25' });
    this.params = resolveParams(opts.strategy.name, opts.strategy.params, opts.params ?? {});
    const bad = opts.strategy.validate?.(this.params);
    if (bad) throw new UsageError(`strategy ${opts.strategy.name}: ${bad}`);
    this.maxLogs = opts.maxLogs ?? 1000;
    this.nextOrder = opts.restore?.nextOrder ?? 1;
    this.ctx = new RunnerContext(this, opts, structuredClone(opts.restore?.state ?? {}));
    this.lastState = JSON.stringify(this.ctx.state);
    if (this.interval !== '1m') this.aggregator = new CandleAggregator({ interval: this.interval, onClosed: (c) => this.onCandle(c) });
  }

  get status(): RunnerStatus {
    return this.statusValue;
  }

  get error(): RunnerError | undefined {
    return this.errorValue;
  }

  get stats(): { candles: number; trades: number; fills: number; orders: number; orderErrors: number; queued: number } {
    return { ...this.counters, queued: this.queue.length };
  }

  get state(): StrategyState {
    return this.ctx.state;
  }

  snapshot(): RunnerSnapshot {
    return {
      id: this.id,
      strategy: this.strategy.name,
      symbol: this.symbol,
      interval: this.interval,
      params: { ...this.params },
      state: structuredClone(this.ctx.state),
      nextOrder: this.nextOrder,
      status: this.statusValue,
      ...(this.errorValue ? { error: { ...this.errorValue } } : {}),
    };
  }

  /** Subscribes to the bus and runs onStart. */
  start(): void {
    if (this.statusValue !== 'idle') throw new UsageError(`strategy runner ${this.id} was already started`);
    const { bus } = this.opts;
    const sym = this.symbol;
    const own = this.id + '_';
    if (this.opts.candles !== 'caller') this.unsubs.push(bus.subscribe('candle.closed', (c) => this.candleClosed(c)));
    this.unsubs.push(
      bus.subscribe('trade', (t) => {
        if (t.symbol === sym) this.onTrade(t);
      }),
      bus.subscribe('fill', (f) => {
        if (f.symbol === sym && f.clientOrderId.startsWith(own)) this.onFill(f);
      }),
    );
    this.setStatus('running');
    this.queueing = true;
    this.invoke('onStart', () => this.strategy.onStart?.(this.ctx));
    this.queueing = false;
    this.afterCallback('onStart');
  }

  /** Runs onStop (its order calls go out at once), then leaves the bus. Open orders stay. */
  stop(): void {
    if (this.statusValue === 'stopped') return;
    if (this.statusValue === 'running') {
      this.invoke('onStop', () => this.strategy.onStop?.(this.ctx));
      this.afterCallback('onStop');
    }
    for (const u of this.unsubs.splice(0)) u();
    this.dropQueue('strategy stopped');
    this.setStatus('stopped');
  }

  /** Continues a paused strategy (after the user fixed what made it throw, e.g. state). */
  resume(): void {
    if (this.statusValue !== 'paused') return;
    this.errorValue = undefined;
    this.setStatus('running');
  }

  // ------------------------------------------------------------------ events

  /**
   * A closed candle, of any symbol and any interval dividing the runner's: what the runner does with
   * each 'candle.closed' on the bus. A driver that created the runner with `candles: 'caller'` calls
   * it itself.
   */
  candleClosed(c: Candle): void {
    if (c.symbol !== this.symbol) return;
    if (this.aggregator) this.aggregator.add(c);
    else this.onCandle(c);
  }

  private onCandle(c: Candle): void {
    if (!c.closed || this.statusValue !== 'running') return;
    this.counters.candles++;
    this.ctx.candleValue = c;
    this.ctx.feed(c);
    this.queueing = true;
    // invoke('onCandle', …) without a closure per candle.
    try {
      const r = this.strategy.onCandle(this.ctx, c);
      if (r && typeof (r as Promise<unknown>).then === 'function') this.watch('onCandle', r as Promise<unknown>);
    } catch (err) {
      this.pause('onCandle', err);
    }
    this.queueing = false;
    this.afterCallback('onCandle');
    this.opts.afterCandle?.(c);
  }

  /**
   * For drivers that can skip building prints: true when a trade of the symbol published now
   * would change nothing but the trade counter (no queued order to flush, no onTrade hook).
   * Count the skipped trades with skippedTrades.
   */
  get tradesIdle(): boolean {
    return this.statusValue !== 'running' || (this.queue.length === 0 && !this.strategy.onTrade);
  }

  /** Counts `n` trades a driver did not publish because tradesIdle said they would change nothing. */
  skippedTrades(n: number): void {
    if (this.statusValue === 'running') this.counters.trades += n;
  }

  private onTrade(t: Trade): void {
    if (this.statusValue !== 'running') return;
    this.counters.trades++;
    if (this.queue.length > 0) this.flush();
    const hook = this.strategy.onTrade;
    if (!hook) return;
    this.invoke('onTrade', () => hook(this.ctx, t));
    this.afterCallback('onTrade');
  }

  private onFill(f: Fill): void {
    this.counters.fills++;
    if (this.statusValue !== 'running') return;
    const hook = this.strategy.onFill;
    if (!hook) return;
    this.invoke('onFill', () => hook(this.ctx, f));
    this.afterCallback('onFill');
  }

  // ------------------------------------------------------------------ callbacks

  /** True once a callback returned a promise (drivers then give it a turn between events). */
  get asyncSeen(): boolean {
    return this.asyncSeenValue;
  }

  /**
   * True (once, then cleared) when order calls settled since the last call: a driver that runs
   * events without awaiting between them gives the strategy's ticket callbacks a turn first.
   */
  takeTurn(): boolean {
    const t = this.turnWanted;
    this.turnWanted = false;
    return t;
  }

  private invoke(name: string, fn: () => unknown): void {
    try {
      const r = fn();
      if (r && typeof (r as Promise<unknown>).then === 'function') this.watch(name, r as Promise<unknown>);
    } catch (err) {
      this.pause(name, err);
    }
  }

  /** A callback returned a promise: its rejection pauses the strategy. */
  private watch(name: string, r: Promise<unknown>): void {
    this.asyncSeenValue = true;
    r.then(noop, (err: unknown) => this.pause(name, err));
  }

  private afterCallback(name: string): void {
    if (this.statusValue === 'paused' && this.errorValue?.callback === name) return;
    const persist = this.opts.persist;
    // Without persist the text is only a check: a flat plain object of primitives always
    // stringifies, so only other shapes pay for JSON.stringify.
    if (!persist) {
      try {
        if (flatJson(this.ctx.state)) return;
      } catch {
        // A throwing getter: JSON.stringify below meets it too and pauses the strategy.
      }
    }
    let text: string;
    try {
      text = JSON.stringify(this.ctx.state);
      if (typeof text !== 'string' || !this.ctx.state || typeof this.ctx.state !== 'object' || Array.isArray(this.ctx.state)) {
        throw new TypeError('ctx.state must be a plain object');
      }
    } catch (err) {
      this.pause('state', new UsageError(`ctx.state is not JSON-serializable after ${name}: ${errorOf(err).message}`, { hint: 'keep numbers, strings, booleans, arrays and plain objects in ctx.state (no bigint)' }));
      return;
    }
    if (text !== this.lastState) {
      this.lastState = text;
      persist?.(this.snapshot());
    }
  }

  private pause(callback: string, err: unknown): void {
    if (this.statusValue !== 'running') return;
    this.errorValue = { ...errorOf(err), callback, time: this.opts.clock.now() };
    this.dropQueue(`strategy paused: ${this.errorValue.message}`);
    this.pushLog({ time: this.errorValue.time, level: 'error', msg: `paused in ${callback}: ${this.errorValue.message}` });
    this.setStatus('paused');
  }

  private setStatus(s: RunnerStatus): void {
    this.statusValue = s;
    this.opts.onStatus?.(s, this.errorValue);
  }

  pushLog(e: LogEntry): void {
    this.logs.push(e);
    if (this.logs.length > this.maxLogs) this.logs.splice(0, this.logs.length - this.maxLogs);
  }

  // ------------------------------------------------------------------ orders

  /** An order call from the context: queued during onStart/onCandle, else sent now. */
  enqueue(op: Op): void {
    if (this.statusValue !== 'running') {
      this.settleRefused(op, `strategy ${this.statusValue}`);
      return;
    }
    if (this.queueing) this.queue.push(op);
    else this.exec(op);
  }

  private flush(): void {
    const ops = this.queue;
    this.queue = [];
    for (let i = 0; i < ops.length; i++) this.exec(ops[i]!);
    this.opts.persist?.(this.snapshot());
  }

  private exec(op: Op): void {
    this.turnWanted = true;
    const sink = this.opts.orders;
    const now = this.opts.clock.now();
    let answer: unknown;
    let p: Promise<unknown>;
    try {
      if (op.kind === 'submit') {
        this.counters.orders++;
        answer = sink.submit(op.req, now);
      } else if (op.kind === 'cancel') answer = sink.cancel(this.symbol, op.ref, now);
      else answer = sink.cancelAll(this.symbol, now);
      p = Promise.resolve(answer);
    } catch (err) {
      p = Promise.reject(err);
      answer = p;
    }
    // Only an answer that can still reject needs the handlers (the PaperEngine answers plain
    // values): without them the promises settle as before, and every callback a strategy
    // chained runs in the same order, without the no-op jobs they queued.
    if (!plainAnswer(answer)) {
      p.catch((err: unknown) => {
        this.counters.orderErrors++;
        this.pushLog({ time: now, level: 'error', msg: `order call failed: ${errorOf(err).message}` });
      });
      // The ticket rejects with it; a strategy need not handle that.
      if (op.kind === 'submit') op.ticket?.catch(noop);
    }
    // Each kind's resolve takes what its own sink call answers.
    p.then(op.resolve as (r: unknown) => void, op.reject);
  }

  private settleRefused(op: Op, msg: string): void {
    this.turnWanted = true;
    if (op.kind === 'submit') Promise.resolve(refused(msg)).then(op.resolve, op.reject);
    else if (op.kind === 'cancel') Promise.resolve<CancelResult>({ ok: false, rejection: { code: -2011, msg }, events: [] }).then(op.resolve, op.reject);
    else Promise.resolve({ orders: [], events: [] }).then(op.resolve, op.reject);
  }

  private dropQueue(msg: string): void {
    const ops = this.queue;
    this.queue = [];
    for (const op of ops) this.settleRefused(op, msg);
  }
}

/** The context a strategy sees; one per runner. */
class RunnerContext<S extends ParamSchema> implements StrategyContext<ParamValues<S>> {
  readonly params: ParamValues<S>;
  readonly symbol: string;
  readonly interval: Interval;
  readonly instrument: Instrument;
  readonly indicator: IndicatorFactory;
  readonly indicators: IndicatorFactory;
  readonly log: StrategyLogger;
  state: StrategyState;
  candleValue: Candle | undefined;
  private readonly made = new Map<string, { update(c: Candle): unknown }>();
  /** made's values in creation order (fed every candle). */
  private readonly fed: Array<{ update(c: Candle): unknown }> = [];
  /** Per fed indicator: itself when it reads only the close (fed the close as a number), else undefined. */
  private readonly fedClose: Array<{ update(close: number): unknown } | undefined> = [];
  /** The price scale of the last candle fed, and 10^scale (what CandleReader divides by). */
  private feedScale = -1;
  private feedDiv = 1;
  private readonly tick: number;
  private readonly step: number;
  private readonly pMul: number;
  private readonly qMul: number;

  constructor(
    private readonly runner: StrategyRunner<S>,
    private readonly opts: StrategyRunnerOptions<S>,
    state: StrategyState,
  ) {
    this.params = runner.params;
    this.symbol = runner.symbol;
    this.interval = runner.interval;
    this.instrument = opts.instrument;
    this.state = state;
    const inst = opts.instrument;
    this.tick = parseFixed(inst.tickSize, inst.priceScale) || 1;
    this.step = parseFixed(inst.stepSize, inst.qtyScale) || 1;
    this.pMul = pow10(inst.priceScale);
    this.qMul = pow10(inst.qtyScale);
    const make = <T extends { update(c: Candle): unknown }>(key: string, build: () => T): T => {
      let ind = this.made.get(key) as T | undefined;
      if (!ind) {
        ind = build();
        this.made.set(key, ind);
        this.fed.push(ind);
        const built = ind;
        this.fedClose.push(CLOSE_ONLY.some((K) => built instanceof K) ? (built as unknown as { update(close: number): unknown }) : undefined);
        if (this.candleValue) ind.update(this.candleValue);
      }
      return ind;
    };
    // Called on every onCandle for every indicator: a plain period skips JSON.stringify (same key).
    const k = (kind: string, args: unknown, key?: string): string =>
      `${kind}:${typeof args === 'number' && Number.isFinite(args) ? String(args) : JSON.stringify(args)}:${key ?? ''}`;
    // The common call, a finite period without a key, finds its indicator without building the key.
    // The constructor, not a closure over the period: nothing is allocated on the hit path.
    // The miss path is its own function: a closure here would allocate a context on every call.
    const made = <T extends { update(c: Candle): unknown }>(kind: string, period: number, key: string | undefined, Make: new (period: number) => T): T =>
      make(k(kind, period, key), () => new Make(period));
    // Indicators asked for by a plain period and no key, per kind: no key string per call (a
    // strategy asks on every candle). Whole periods index an array, others a Map.
    type Cache = { small: Array<{ update(c: Candle): unknown } | undefined>; other: Map<number, { update(c: Candle): unknown }> };
    const cacheOf = (): Cache => ({ small: [], other: new Map() });
    const byPeriod = <T extends { update(c: Candle): unknown }>(cache: Cache, kind: string, period: number, key: string | undefined, Make: new (period: number) => T): T => {
      if (key !== undefined || typeof period !== 'number' || !Number.isFinite(period)) return made(kind, period, key, Make);
      const small = Number.isInteger(period) && period >= 0 && period < 4096;
      let ind = (small ? cache.small[period] : cache.other.get(period)) as T | undefined;
      if (!ind) {
        ind = made(kind, period, key, Make);
        if (small) {
          while (cache.small.length <= period) cache.small.push(undefined);
          cache.small[period] = ind;
        } else cache.other.set(period, ind);
      }
      return ind;
    };
    const sma = cacheOf();
    const ema = cacheOf();
    const wma = cacheOf();
    const rsi = cacheOf();
    const atr = cacheOf();
    this.indicator = {
      sma: (period, key) => byPeriod(sma, 'sma', period, key, SMA),
      ema: (period, key) => byPeriod(ema, 'ema', period, key, EMA),
      wma: (period, key) => byPeriod(wma, 'wma', period, key, WMA),
      rsi: (period = 14, key) => byPeriod(rsi, 'rsi', period, key, RSI),
      macd: (o = {}, key) => make(k('macd', o, key), () => new MACD(o)),
      bollinger: (o = {}, key) => make(k('bollinger', o, key), () => new Bollinger(o)),
      atr: (period = 14, key) => byPeriod(atr, 'atr', period, key, ATR),
      stochastic: (o = {}, key) => make(k('stochastic', o, key), () => new Stochastic(o)),
      vwap: (o = {}, key) => make(k('vwap', o, key), () => new VWAP(o)),
      obv: (key) => make(k('obv', null, key), () => new OBV()),
    };
    this.indicators = this.indicator;
    const logAt =
      (level: LogEntry['level']) =>
      (msg: string, data?: unknown): void =>
        runner.pushLog({ time: opts.clock.now(), level, msg: String(msg), ...(data === undefined ? {} : { data }) });
    this.log = Object.assign(logAt('info'), { info: logAt('info'), warn: logAt('warn'), error: logAt('error') });
  }

  get now(): number {
    return this.opts.clock.now();
  }

  get candle(): Candle | undefined {
    return this.candleValue;
  }

  /**
   * Feeds every indicator made so far with a closed candle (before onCandle). The close is
   * converted once, here, as each indicator's own CandleReader would convert it (raw / 10^scale):
   * a call that returns a float and is not inlined boxes it, and the readers' calls were not
   * (a heap number per indicator per candle).
   */
  feed(c: Candle): void {
    const fed = this.fed;
    const fedClose = this.fedClose;
    if (c.priceScale !== this.feedScale) {
      this.feedScale = c.priceScale;
      this.feedDiv = 10 ** c.priceScale;
    }
    const close = c.close / this.feedDiv;
    for (let i = 0; i < fed.length; i++) {
      const p = fedClose[i];
      if (p) p.update(close);
      else fed[i]!.update(c);
    }
  }

  position(symbol?: string): StrategyPosition {
    const sym = symbol === undefined ? this.symbol : symbol.toUpperCase();
    const p = this.opts.orders.position(sym);
    if (!p) return { symbol: sym, qty: 0, avgEntry: 0, realizedPnl: 0, unrealizedPnl: 0, exact: undefined };
    return {
      symbol: sym,
      qty: this.toNumber(p.qty),
      avgEntry: this.toNumber(p.avgEntry),
      realizedPnl: this.toNumber(p.realizedPnl),
      unrealizedPnl: this.toNumber(p.unrealizedPnl),
      exact: p,
    };
  }

  balance(asset: string): StrategyBalance {
    const b = this.opts.orders.balance(asset.toUpperCase());
    return { asset: b.asset, free: this.toNumber(b.free), locked: this.toNumber(b.locked), exact: b };
  }

  lastPrice(symbol?: string): number | undefined {
    const raw = this.opts.orders.lastPrice((symbol ?? this.symbol).toUpperCase());
    return raw === undefined ? undefined : raw / this.pMul;
  }

  openOrders(): Order[] {
    return this.opts.orders.openOrders(this.symbol);
  }

  order(ref: OrderRef | string): Order | undefined {
    return this.opts.orders.order(typeof ref === 'string' ? { clientOrderId: ref } : ref);
  }

  buy(p: OrderParams): OrderTicket {
    return this.place('BUY', p);
  }

  sell(p: OrderParams): OrderTicket {
    return this.place('SELL', p);
  }

  cancel(ref: OrderRef | string): Promise<CancelResult> {
    const r = typeof ref === 'string' ? { clientOrderId: ref } : ref;
    return new Promise((resolve, reject) => {
      this.runner.enqueue({ kind: 'cancel', ref: r, resolve, reject });
    });
  }

  cancelAll(): Promise<{ orders: Order[]; events: OrderEvent[] }> {
    return new Promise((resolve, reject) => {
      this.runner.enqueue({ kind: 'cancelAll', resolve, reject });
    });
  }

  priceRaw(price: Decimal): number {
    const raw = typeof price === 'string' ? parseFixed(price, this.instrument.priceScale) : Math.round((price * this.pMul) / this.tick) * this.tick;
    if (!Number.isFinite(raw) || raw <= 0) throw new UsageError(`price ${String(price)} is not a positive price for ${this.symbol}`);
    return raw;
  }

  qtyRaw(qty: Decimal): number {
    let raw = typeof qty === 'string' ? parseFixed(qty, this.instrument.qtyScale) : Math.floor(qty * this.qMul + 1e-6);
    if (!Number.isFinite(raw) || raw < 0) throw new UsageError(`quantity ${String(qty)} is not a quantity for ${this.symbol}`);
    raw -= raw % this.step;
    return raw;
  }

  toNumber(a: Amount): number {
    return Number(a) / AMOUNT_ONE;
  }

  private quoteAmount(q: Decimal): Amount {
    if (typeof q === 'string') return parseAmount(q);
    if (!Number.isFinite(q) || q < 0) throw new UsageError(`quote quantity ${q} is not an amount`);
    // Truncated to 8 decimals. Up to 10^7 the double k / 1e8 lies within 1e-9 of k × 1e-8, so
    // toFixed(8) would print exactly k × 1e-8: the integer path gives the same amount without the
    // string round trip.
    const k = Math.floor(q * 1e8);
    if (k <= 1e15) return BigInt(k) * E8;
    return parseAmount((k / 1e8).toFixed(8));
  }

  private place(side: Side, p: OrderParams): OrderTicket {
    const clientOrderId = p.clientOrderId ?? `${this.runner.id}_${this.runner.nextOrder++}`;
    const req = this.request(side, p, clientOrderId);
    let op!: Op & { kind: 'submit' };
    const ticket = new Promise<SubmitResult>((resolve, reject) => {
      op = { kind: 'submit', req, resolve, reject, ticket: undefined };
    }) as Promise<SubmitResult> & { clientOrderId: string };
    // The ticket rejects only with an answer that can (exec attaches the no-op handler then).
    op.ticket = ticket;
    ticket.clientOrderId = clientOrderId;
    this.runner.enqueue(op);
    return ticket;
  }

  private request(side: Side, p: OrderParams, clientOrderId: string): OrderRequest {
    const req: OrderRequest = { symbol: this.symbol, side, type: 'MARKET', clientOrderId };
    if (p.quoteQty !== undefined) {
      if (p.limit !== undefined || p.stop !== undefined) throw new UsageError('quoteQty is for market orders only; give qty with limit or stop');
      req.quoteOrderQty = this.quoteAmount(p.quoteQty);
    } else if (p.qty !== undefined) {
      req.qty = this.qtyRaw(p.qty);
    } else {
      throw new UsageError(`${side.toLowerCase()}: give qty or quoteQty`);
    }
    const limit = p.limit === undefined ? undefined : this.priceRaw(p.limit);
    const stop = p.stop === undefined ? undefined : this.priceRaw(p.stop);
    if (stop !== undefined) {
      req.stopPrice = stop;
      if (limit !== undefined) {
        req.type = p.takeProfit ? 'TAKE_PROFIT_LIMIT' : 'STOP_LOSS_LIMIT';
        req.price = limit;
        req.timeInForce = p.tif ?? 'GTC';
      } else {
        req.type = p.takeProfit ? 'TAKE_PROFIT' : 'STOP_LOSS';
      }
    } else if (limit !== undefined) {
      req.price = limit;
      if (p.postOnly) req.type = 'LIMIT_MAKER';
      else {
        req.type = 'LIMIT';
        req.timeInForce = p.tif ?? 'GTC';
      }
    }
    return req;
  }
}

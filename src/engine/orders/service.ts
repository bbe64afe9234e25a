import type { Bus } from '../bus.js';
import { QtradeError, StoreError, UsageError } from '../errors.js';
import type { Instruments } from '../market/instruments.js';
import type { Instrument, Trade } from '../market/types.js';
import { eventRecords } from '../store/rows.js';
import type { Store } from '../store/types.js';
import { parseAmount } from './amounts.js';
import { EventEncoder } from './event-codec.js';
import { EventLogError, applyEvent, copyOrder, createState, decodeEvent, type EngineState, type OrderEvent } from './events.js';
import type { FeeSchedule, FeeScheduleOptions } from './fees.js';
import type { FilterSet } from './filters.js';
import type { BookView } from './matching.js';
import { PaperEngine, type CancelReplaceMode, type CancelReplaceResult, type CancelResult, type OrderRef, type SubmitResult } from './paper-engine.js';
import { Rejections } from './rejections.js';
import type { Amount, Balance, Order, OrderRequest, Position, Rejection } from './types.js';

/**
 * The paper account as a durable service: a PaperEngine whose every event is in the store's
 * append-only log before the call that caused it resolves and before it reaches the bus.
 *
 * Design (why memory never disagrees with the log):
 *  - A call runs the pure engine synchronously; its events (already applied in memory, with the
 *    next seqs) join the open batch. One batch is written at a time, in one transaction
 *    (group commit: calls made while a write is in flight, or in the same tick, share the next
 *    one). A call resolves, and its events are published, only after its batch committed.
 *  - Memory therefore runs ahead of the log by the calls not yet resolved, exactly like any
 *    optimistic group commit. If a write fails, every call of that batch and of the open batch
 *    (computed on top of it) is rejected, new calls wait, and the account state is rebuilt
 *    from the log (which also settles an ambiguous commit the way the database decided it).
 *    Only then do calls run again. Market-model state (books, last prices, queue positions) is
 *    not account state and survives the rebuild.
 *  - clientOrderId idempotence survives restarts because the orders are rebuilt from the log;
 *    a caller whose call failed can resubmit with the same clientOrderId safely.
 *
 * One process may write an account (store/lock.ts); the log's seq check refuses a second one.
 *
 * Account config lives in the store's key/value state under `paper:<account>`:
 * `{ generation, initialBalances }`. The log of generation g is the stream `paper:<account>#<g>`.
 * `reset()` starts generation g + 1 with new initial balances; older generations stay in the
 * store as history.
 */

/** What a pre-trade check (the risk engine) may read of the account. */
export type AccountView = Pick<PaperEngine, 'order' | 'openOrders' | 'balance' | 'balances' | 'position' | 'positions' | 'lastPrice'>;

/** A pre-trade refusal: Binance-style code and message, and the rule that fired. */
export interface PreTradeRejection {
  code: number;
  msg: string;
  rule: string;
}

/**
 * Runs before a new order reaches the engine; a returned rejection stops it. Duplicates (known
 * clientOrderId) skip it. The service passes `now`, the request's exchange event time (the submit's `now`).
 */
export type PreTradeHook = (req: OrderRequest, view: AccountView, now?: number) => PreTradeRejection | undefined;

export interface OrderServiceOptions {
  store: Store;
  instruments: Instruments | Iterable<Instrument>;
  filters?: FilterSet;
  fees?: FeeSchedule | FeeScheduleOptions;
  /** Where events are published after they are durable. */
  bus?: Bus;
  /** Paper account name, default "default". */
  account?: string;
  /** Initial free balances for an account that does not exist yet; an existing account keeps its own. */
  initialBalances?: Record<string, Amount>;
  queueModel?: boolean;
  preTrade?: PreTradeHook;
  /** Released by close() (e.g. the AccountLock from store/lock.ts). */
  lock?: { release(): void };
}

export interface ServiceSubmitResult extends SubmitResult {
  /** The pre-trade rule that refused the order, when one did. */
  rule?: string;
}

export interface ServiceCancelReplaceResult extends CancelReplaceResult {
  rule?: string;
}

export interface OrderServiceStats {
  /** Calls that reached the engine. */
  calls: number;
  /** Transactions written, and events in them. */
  batches: number;
  events: number;
  maxBatchEvents: number;
  /** Rebuilds from the log after a failed write. */
  recoveries: number;
}

/**
 * Version of the event log's encoding, stored with the account config. 2: ledger entries ride on
 * the order events. 3: events are positional JSON arrays (event-codec.ts); format-2 rows still
 * read, so an older account keeps its log and continues it in format 3. A reader refuses a log
 * with a higher number instead of silently misreading it.
 */
export const LOG_FORMAT = 3;

interface AccountConfig {
  generation: number;
  initialBalances: Record<string, Amount>;
  /** The log format the config was stamped with (1 when written before the stamp existed). */
  format?: number;
}

/**
 * One call waiting for its batch: what to publish once durable, and its promise's result.
 *
 * A class, not an object literal: V8 may pretenure a literal's allocation site (allocate its objects
 * in the old generation) when most of them are still alive at a young collection, which calls that
 * wait for their commit can be. An old Job then keeps its call's events and result alive through
 * every young collection until a full one. Objects made by `new` have no allocation site.
 */
class Job {
  constructor(
    readonly events: OrderEvent[],
    /** Whether `events` holds a fill (FILL) or a rejection (REJECTED): see publish. */
    readonly kinds: number,
    /** Copies of the orders the events touched, taken at the end of the call (for 'order.update'). */
    readonly updates: Order[] | undefined,
    readonly extra: (() => void) | undefined,
    readonly result: unknown,
    readonly resolve: (r: unknown) => void,
    readonly reject: (err: unknown) => void,
  ) {}
}

interface Batch {
  jobs: Job[];
}

const FILL = 1;
const REJECTED = 2;

const REPLAY_PAGE = 20_000;

export function accountConfigKey(account: string): string {
  return `paper:${account}`;
}

export function accountStream(account: string, generation: number): string {
  return `paper:${account}#${generation}`;
}

export class OrderService {
  readonly account: string;
  private readonly store: Store;
  private readonly bus: Bus | undefined;
  private readonly instrumentList: Instrument[];
  private readonly engine: PaperEngine;
  private readonly preTrade: PreTradeHook | undefined;
  private readonly lock: { release(): void } | undefined;
  private config: AccountConfig;
  private streamName: string;
  private durable: number;
  private batch: Batch = { jobs: [] };
  /** The open batch's events, written as log rows as the calls make them. */
  private readonly rows = new EventEncoder();
  private flushing = false;
  private scheduled = false;
  /** Memory is ahead of the log by events that will never be written: rebuild before the next call. */
  private broken = false;
  /** While set, new calls wait for it (a rebuild or a reset). */
  private blocked: Promise<void> | undefined;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  private readonly counters: OrderServiceStats = { calls: 0, batches: 0, events: 0, maxBatchEvents: 0, recoveries: 0 };

  private constructor(opts: OrderServiceOptions, engine: PaperEngine, instruments: Instrument[], config: AccountConfig, account: string) {
    this.account = account;
    this.store = opts.store;
    this.bus = opts.bus;
    this.instrumentList = instruments;
    this.engine = engine;
    this.preTrade = opts.preTrade;
    this.lock = opts.lock;
    this.config = config;
    this.streamName = accountStream(account, config.generation);
    this.durable = engine.state.seq;
  }

  /** Opens the account, creating it when new, and rebuilds its state from the log. */
  static async open(opts: OrderServiceOptions): Promise<OrderService> {
    const account = opts.account ?? 'default';
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(account)) {
      throw new UsageError(`paper account name "${account}" is not allowed`, {
        hint: 'use letters, digits, "_", "-" and "." (at most 64, not starting with "." or "-")',
      });
    }
    const instruments = 'all' in opts.instruments && typeof opts.instruments.all === 'function' ? opts.instruments.all() : [...(opts.instruments as Iterable<Instrument>)];
    let config = await loadConfig(opts.store, account);
    if (!config || (config.format ?? 1) < LOG_FORMAT) {
      // A log started in an older format is continued in this one: the stamp goes up before the
      // first row in the new format is written, so an older qtrade refuses it from then on.
      config ??= { generation: 1, initialBalances: { ...(opts.initialBalances ?? {}) } };
      await saveConfig(opts.store, account, config);
    }
    const engine = new PaperEngine({
      instruments,
      filters: opts.filters,
      fees: opts.fees,
      queueModel: opts.queueModel,
      initialBalances: config.initialBalances,
    });
    await replayInto(opts.store, accountStream(account, config.generation), engine.state);
    return new OrderService(opts, engine, instruments, config, account);
  }

  // ------------------------------------------------------------------ calls (resolve once durable)

  /** Places an order at exchange time `now`; resolves once its events are in the store. */
  submit(req: OrderRequest, now: number): Promise<ServiceSubmitResult> {
    const gate = this.gate();
    if (gate) return gate.then(() => this.submit(req, now));
    // The hot calls (submit, cancel, onTrade) run without call()'s closures: a few objects less per order.
    const seq = this.engine.state.seq;
    let r: ServiceSubmitResult;
    try {
      r = this.submitNow(req, now);
    } catch (err) {
      return this.threw(err, seq);
    }
    this.counters.calls++;
    return this.enqueue(r.events, r, r.rule !== undefined ? this.vetoNotice(req, r.rejection!, r.rule, now) : undefined);
  }

  private submitNow(req: OrderRequest, now: number): ServiceSubmitResult {
    const known = req.clientOrderId !== undefined && this.engine.state.byClientId.has(req.clientOrderId);
    const veto = known ? undefined : this.veto(req, now);
    if (veto) return { ok: false, rejection: { code: veto.code, msg: veto.msg }, rule: veto.rule, duplicate: false, fills: [], events: [] };
    return this.engine.submit(req, now);
  }

  cancel(symbol: string, ref: OrderRef, now: number): Promise<CancelResult> {
    const gate = this.gate();
    if (gate) return gate.then(() => this.cancel(symbol, ref, now));
    const seq = this.engine.state.seq;
    let r: CancelResult;
    try {
      r = this.engine.cancel(symbol, ref, now);
    } catch (err) {
      return this.threw(err, seq);
    }
    this.counters.calls++;
    return this.enqueue(r.events, r, undefined);
  }

  cancelAll(symbol: string | undefined, now: number): Promise<{ orders: Order[]; events: OrderEvent[] }> {
    const gate = this.gate();
    if (gate) return gate.then(() => this.cancelAll(symbol, now));
    return this.call(
      () => this.engine.cancelAll(symbol, now),
      (r) => r.events,
    );
  }

  /**
   * Binance's cancel-replace. The cancel always runs (cancels never add exposure); the new
   * order then passes the pre-trade check like any other.
   */
  cancelReplace(args: { symbol: string; cancel: OrderRef; order: OrderRequest; mode?: CancelReplaceMode }, now: number): Promise<ServiceCancelReplaceResult> {
    const gate = this.gate();
    if (gate) return gate.then(() => this.cancelReplace(args, now));
    const req: OrderRequest = { ...args.order, symbol: args.symbol };
    return this.call(
      (): ServiceCancelReplaceResult => {
        if (!this.preTrade) return this.engine.cancelReplace(args, now);
        const c = this.engine.cancel(args.symbol, args.cancel, now);
        if (!c.ok && (args.mode ?? 'STOP_ON_FAILURE') === 'STOP_ON_FAILURE') {
          return { ok: false, rejection: Rejections.cancelReplaceFailed(), cancel: c, events: c.events };
        }
        const known = req.clientOrderId !== undefined && this.engine.state.byClientId.has(req.clientOrderId);
        const veto = known ? undefined : this.veto(req, now);
        const s: ServiceSubmitResult = veto
          ? { ok: false, rejection: { code: veto.code, msg: veto.msg }, rule: veto.rule, duplicate: false, fills: [], events: [] }
          : this.engine.submit(req, now);
        const events = [...c.events, ...s.events];
        const rule = veto?.rule;
        if (c.ok && s.ok) return { ok: true, cancel: c, submit: s, events };
        const rejection = !c.ok && !s.ok ? Rejections.cancelReplaceFailed() : Rejections.cancelReplacePartial();
        return { ok: false, rejection, cancel: c, submit: s, events, ...(rule === undefined ? {} : { rule }) };
      },
      (r) => r.events,
      (r) => (r.rule !== undefined ? this.vetoNotice(req, r.submit!.rejection!, r.rule, now) : undefined),
    );
  }

  /** Adds (or, negative, withdraws) free funds; logged as a deposit ledger entry. */
  deposit(asset: string, amount: Amount, now: number): Promise<OrderEvent[]> {
    const gate = this.gate();
    if (gate) return gate.then(() => this.deposit(asset, amount, now));
    return this.call(
      () => this.engine.deposit(asset, amount, now),
      (r) => r,
    );
  }

  /**
   * A sequenced market trade (kernel 'trade' path): fills resting orders it prints through,
   * marks positions, triggers stops, all at the trade's exchange time. Resolves with the events
   * once durable; a trade that changes nothing resolves at once.
   */
  onTrade(t: Trade): Promise<OrderEvent[]> {
    const gate = this.gate();
    if (gate) return gate.then(() => this.onTrade(t));
    if (this.closed) return Promise.reject(closedError());
    const seq = this.engine.state.seq;
    let events: OrderEvent[];
    try {
      events = this.engine.onTrade(t);
    } catch (err) {
      return this.threw(err, seq);
    }
    if (events.length === 0) return Promise.resolve(events);
    this.counters.calls++;
    return this.enqueue(events, events, undefined);
  }

  /** The symbol's order book changed; later taker orders walk it. Not account state: nothing is logged. */
  onBook(symbol: string, book: BookView | undefined): void {
    if (!book || book.symbol !== symbol.toUpperCase()) return;
    this.engine.onBook(book);
  }

  /**
   * `qtrade paper reset`: a fresh account (generation g + 1, no orders, positions or history)
   * with these free balances. Waits for calls in flight; calls made meanwhile run on the new one.
   */
  async reset(opts: { balances: Record<string, Amount> }): Promise<void> {
    for (let g = this.gate(); g; g = this.gate()) await g;
    for (const [asset, amount] of Object.entries(opts.balances)) {
      if (amount < 0n) throw new UsageError(`initial balance of ${asset} is negative`);
    }
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    this.blocked = gate;
    try {
      await this.idle();
      let generation = this.config.generation + 1;
      // A generation some other writer already used is never reused.
      while ((await this.store.lastSeq(accountStream(this.account, generation))) > 0) generation++;
      const config: AccountConfig = { generation, initialBalances: { ...opts.balances } };
      await saveConfig(this.store, this.account, config);
      this.config = config;
      this.streamName = accountStream(this.account, generation);
      restoreState(this.engine.state, createState({ instruments: this.instrumentList, initialBalances: config.initialBalances }));
      this.durable = 0;
      this.broken = false;
    } finally {
      if (this.blocked === gate) this.blocked = undefined;
      open();
      if (this.broken) this.recoverLater();
    }
  }

  /**
   * Resolves when every call made so far is durable or failed, and, after a failure, memory
   * has been rebuilt from the log (or the rebuild failed too).
   */
  async settled(): Promise<void> {
    for (;;) {
      await this.idle();
      const b = this.blocked;
      if (!b) return;
      await b.catch(() => {});
    }
  }

  /** Waits for calls in flight, then refuses new ones and releases the lock. The store stays open. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.blocked) await this.blocked.catch(() => {});
    await this.idle();
    this.closed = true;
    this.lock?.release();
  }

  // ------------------------------------------------------------------ queries (in-memory state)

  /*
   * Queries read the engine's state, which includes calls whose promises have not resolved yet
   * (the group-commit window); await settled() first for the durable state only.
   */

  order(ref: OrderRef): Order | undefined {
    return this.engine.order(ref);
  }

  openOrders(symbol?: string): Order[] {
    return this.engine.openOrders(symbol);
  }

  balance(asset: string): Balance {
    return this.engine.balance(asset);
  }

  balances(): Balance[] {
    return this.engine.balances();
  }

  position(symbol: string): Position | undefined {
    return this.engine.position(symbol);
  }

  positions(): Position[] {
    return this.engine.positions();
  }

  lastPrice(symbol: string): number | undefined {
    return this.engine.lastPrice(symbol);
  }

  /** Canonical account state (snapshotState): equal to PaperEngine.fromEvents over the log once settled. */
  snapshot(): unknown {
    return this.engine.snapshot();
  }

  /** The account's initial free balances (this generation's). */
  get initialBalances(): Readonly<Record<string, Amount>> {
    return this.config.initialBalances;
  }

  get generation(): number {
    return this.config.generation;
  }

  /** The store stream holding this generation's log. */
  get stream(): string {
    return this.streamName;
  }

  /** Last seq known to be in the store. */
  get durableSeq(): number {
    return this.durable;
  }

  stats(): OrderServiceStats {
    return { ...this.counters };
  }

  // ------------------------------------------------------------------ group commit

  /** Undefined when a call may run now; otherwise what it must wait for. */
  private gate(): Promise<void> | undefined {
    if (this.closed) return Promise.reject(closedError());
    if (this.blocked) return this.blocked;
    if (this.broken) {
      this.recoverLater();
      return this.blocked;
    }
    return undefined;
  }

  private veto(req: OrderRequest, now: number): PreTradeRejection | undefined {
    return this.preTrade?.(req, this.engine, now);
  }

  private vetoNotice(req: OrderRequest, rejection: Rejection, rule: string, now: number): () => void {
    const notice = {
      symbol: typeof req.symbol === 'string' ? req.symbol.toUpperCase() : '',
      ...(req.clientOrderId === undefined ? {} : { clientOrderId: req.clientOrderId }),
      code: rejection.code,
      msg: rejection.msg,
      rule,
      time: now,
    };
    return () => this.bus?.publish('order.rejected', notice);
  }

  /** Runs one engine call now and resolves with its result once its events are durable. */
  private call<T>(exec: () => T, eventsOf: (r: T) => OrderEvent[], extra?: (r: T) => (() => void) | undefined): Promise<T> {
    const seq = this.engine.state.seq;
    let result: T;
    try {
      result = exec();
    } catch (err) {
      return this.threw(err, seq);
    }
    this.counters.calls++;
    return this.enqueue(eventsOf(result), result, extra?.(result));
  }

  /** The engine threw: one that applied events first is ahead of what will be logged, so rebuild. */
  private threw(err: unknown, seq: number): Promise<never> {
    if (this.engine.state.seq !== seq) this.recoverLater();
    return Promise.reject(err);
  }

  private enqueue<T>(events: OrderEvent[], result: T, extra: (() => void) | undefined): Promise<T> {
    const updates = this.updatesOf(events);
    let kinds = 0;
    for (const ev of events) {
      this.rows.add(ev);
      if (ev.kind === 'fill') kinds |= FILL;
      else if (ev.kind === 'rejected') kinds |= REJECTED;
    }
    return new Promise<T>((resolve, reject) => {
      this.batch.jobs.push(new Job(events, kinds, updates, extra, result, resolve as (r: unknown) => void, reject));
      if (!this.flushing && !this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => void this.flush());
      }
    });
  }

  /** The orders these events touched, as they are at the end of the call, when someone listens to 'order.update'. */
  private updatesOf(events: OrderEvent[]): Order[] | undefined {
    if (events.length === 0 || !this.bus?.hasSubscribers('order.update')) return undefined;
    const seen = new Set<number>();
    const updates: Order[] = [];
    for (const ev of events) {
      const id = ev.kind === 'accepted' ? ev.order.orderId : ev.kind === 'fill' ? ev.fill.orderId : ev.kind === 'triggered' || ev.kind === 'canceled' || ev.kind === 'expired' ? ev.orderId : undefined;
      if (id === undefined || seen.has(id)) continue;
      seen.add(id);
      const o = this.engine.state.orders.get(id);
      if (o) updates.push(copyOrder(o));
    }
    return updates;
  }

  /**
   * Publishes a durable call's events; topics nobody listens to are skipped. A call's events were
   * made a whole batch ago (or two): when only fills and rejections are listened to, the calls
   * that have none are not read again (`kinds`, noted while they were new). That rereading was
   * most of this loop's time in orders.bench, each event a cache miss.
   */
  private publish(jobs: Job[]): void {
    const bus = this.bus;
    if (bus) {
      for (const j of jobs) {
        // Asked per call: a handler may subscribe or leave while earlier calls are published.
        const all = bus.hasSubscribers('order.event');
        const fills = bus.hasSubscribers('fill');
        const rejections = bus.hasSubscribers('order.rejected');
        const wanted = all || (fills && (j.kinds & FILL) !== 0) || (rejections && (j.kinds & REJECTED) !== 0);
        if (wanted) {
          for (const ev of j.events) {
            if (all) bus.publish('order.event', ev);
            if (ev.kind === 'fill') {
              if (fills) bus.publish('fill', ev.fill);
            } else if (ev.kind === 'rejected' && rejections) {
              bus.publish('order.rejected', {
                symbol: ev.symbol,
                ...(ev.clientOrderId === undefined ? {} : { clientOrderId: ev.clientOrderId }),
                code: ev.code,
                msg: ev.msg,
                time: ev.time,
              });
            }
          }
        }
        if (j.updates) for (const o of j.updates) bus.publish('order.update', o);
        j.extra?.();
      }
    } else for (const j of jobs) j.extra?.();
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    if (this.flushing) return;
    const batch = this.batch;
    if (batch.jobs.length === 0) return this.notifyIdle();
    this.batch = { jobs: [] };
    const n = this.rows.rows;
    const last = this.rows.lastSeq;
    const cols = n > 0 ? this.rows.take() : undefined;
    this.flushing = true;
    try {
      if (cols) {
        if (this.store.appendEventColumns) await this.store.appendEventColumns(this.streamName, cols);
        else await this.store.appendEvents(this.streamName, eventRecords(cols));
      }
    } catch (err) {
      this.flushing = false;
      this.fail(err, batch);
      return;
    }
    this.flushing = false;
    if (n > 0) {
      this.durable = last;
      this.counters.batches++;
      this.counters.events += n;
      if (n > this.counters.maxBatchEvents) this.counters.maxBatchEvents = n;
    }
    this.publish(batch.jobs);
    for (const j of batch.jobs) j.resolve(j.result);
    if (this.batch.jobs.length > 0) void this.flush();
    else this.notifyIdle();
  }

  /** A write failed: reject what was built on it and rebuild memory from the log. */
  private fail(err: unknown, batch: Batch): void {
    const victims = [...batch.jobs, ...this.batch.jobs];
    this.batch = { jobs: [] };
    this.rows.clear();
    this.broken = true;
    const error =
      err instanceof QtradeError
        ? err
        : new StoreError('STORE_FAILED', `cannot persist paper account ${this.account}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    for (const j of victims) j.reject(error);
    this.notifyIdle();
    this.recoverLater();
  }

  /** Blocks new calls until the account state is rebuilt from the log (once calls in flight settle). */
  private recoverLater(): void {
    this.broken = true;
    if (this.blocked) return;
    const p: Promise<void> = this.idle()
      .then(async () => {
        const fresh = createState({ instruments: this.instrumentList, initialBalances: this.config.initialBalances });
        await replayInto(this.store, this.streamName, fresh);
        restoreState(this.engine.state, fresh);
        this.durable = fresh.seq;
        this.broken = false;
        this.counters.recoveries++;
      })
      .finally(() => {
        if (this.blocked === p) this.blocked = undefined;
      });
    // A failed rebuild leaves `broken` set: the next call retries it and gets its error.
    p.catch(() => {});
    this.blocked = p;
  }

  /** Resolves when no batch is open or being written. */
  private idle(): Promise<void> {
    if (!this.flushing && this.batch.jobs.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private notifyIdle(): void {
    if (this.flushing || this.batch.jobs.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

function closedError(): QtradeError {
  return new QtradeError('ORDERS_CLOSED', 'the paper order service is closed', { hint: 'open it again (OrderService.open)' });
}

/** Applies a stream's whole log to `state`, page by page. */
async function replayInto(store: Store, stream: string, state: EngineState): Promise<void> {
  for (let from = 1; ; ) {
    const page = await store.readEvents(stream, from, REPLAY_PAGE);
    for (const r of page) {
      let ev: OrderEvent;
      try {
        ev = decodeEvent(r.body);
        if (ev.seq !== r.seq) throw new EventLogError(`row ${r.seq} holds event ${ev.seq}`);
        applyEvent(state, ev);
      } catch (err) {
        throw new StoreError('STORE_CORRUPT', `event log ${stream} does not replay at seq ${r.seq}: ${(err as Error).message}`, {
          hint: 'the log was written by another version or edited by hand; `qtrade paper reset` starts a new account and keeps the old log',
          cause: err,
        });
      }
    }
    if (page.length < REPLAY_PAGE) return;
    from = page[page.length - 1]!.seq + 1;
  }
}

/**
 * Replaces the account state inside `target` (the engine's own object) with `fresh`'s, field
 * by field, so the engine keeps its market-model state (books, last prices, queue positions).
 */
function restoreState(target: EngineState, fresh: EngineState): void {
  Object.assign(target, fresh);
}

async function loadConfig(store: Store, account: string): Promise<AccountConfig | undefined> {
  const raw = await store.getState(accountConfigKey(account));
  if (raw === undefined) return undefined;
  try {
    const o = JSON.parse(raw) as { generation?: unknown; format?: unknown; initialBalances?: Record<string, unknown> };
    if (!Number.isSafeInteger(o.generation) || (o.generation as number) < 1) throw new Error('bad generation');
    if (typeof o.format === 'number' && o.format > LOG_FORMAT) {
      throw new StoreError('STORE_NEWER_FORMAT', `paper account ${account}: its event log was written by a newer qtrade (log format ${o.format}; this one reads up to ${LOG_FORMAT})`, {
        hint: 'upgrade qtrade (npm install qtrade@latest) to open this account',
      });
    }
    const initialBalances: Record<string, Amount> = {};
    for (const [asset, v] of Object.entries(o.initialBalances ?? {})) {
      if (typeof v !== 'string' || !/^\d+$/.test(v)) throw new Error(`bad balance for ${asset}`);
      initialBalances[asset] = BigInt(v);
    }
    return { generation: o.generation as number, initialBalances, format: typeof o.format === 'number' ? o.format : 1 };
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError('STORE_CORRUPT', `paper account ${account}: stored config is unreadable (${(err as Error).message})`, {
      hint: '`qtrade paper reset --balance …` writes a fresh one',
      cause: err,
    });
  }
}

async function saveConfig(store: Store, account: string, c: AccountConfig): Promise<void> {
  const initialBalances: Record<string, string> = {};
  for (const [asset, v] of Object.entries(c.initialBalances)) initialBalances[asset] = v.toString();
  await store.setState(accountConfigKey(account), JSON.stringify({ generation: c.generation, format: LOG_FORMAT, initialBalances }));
}

/** `10000USDT` / `0.5 BTC` → { USDT: amount }: the `qtrade paper reset --balance` syntax. */
export function parseBalanceSpec(spec: string): { asset: string; amount: Amount } {
  // Written together ("10000USDT") the asset is letters only; an asset with digits (1INCH) takes a
  // separator ("100:1INCH" or "100 1INCH"), so "1e5USDT" cannot pass for 1 of "E5USDT".
  const m =
    /^\s*(\d+(?:\.\d+)?)([A-Za-z]{1,20})\s*$/.exec(spec) ?? /^\s*(\d+(?:\.\d+)?)(?:\s*:\s*|\s+)([A-Za-z0-9]{1,20})\s*$/.exec(spec);
  if (!m) {
    throw new UsageError(`balance "${spec}" is not AMOUNT ASSET`, {
      hint: 'e.g. --balance 10000USDT --balance 0.5BTC (write "100:1INCH" when the asset has digits)',
    });
  }
  let amount: Amount;
  try {
    amount = parseAmount(m[1]!);
  } catch (cause) {
    throw new UsageError(`balance "${spec}" has too many decimals`, { hint: 'at most 16 decimals', cause });
  }
  return { asset: m[2]!.toUpperCase(), amount };
}

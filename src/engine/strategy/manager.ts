import { Bus } from '../bus.js';
import { parseInterval } from '../candles/intervals.js';
import type { Interval } from '../candles/types.js';
import { UsageError } from '../errors.js';
import type { Instrument } from '../market/types.js';
import type { TradingNode } from '../node.js';
import { scalesOf } from '../orders/amounts.js';
import { applyFillToPosition, emptyPosition, positionView } from '../orders/positions.js';
import type { Amount, Fill } from '../orders/types.js';
import type { LogEntry, StrategyState } from './api.js';
import { loadStrategy, type LoadedStrategy } from './load.js';
import { StrategyRunner, type RunnerError } from './runner.js';
import { refused, type OrderSink } from './sink.js';

/**
 * The daemon's live strategies: StrategyRunners on the node's feed, trading the node's paper
 * account, persisted in the store (state key `strategies.live`) so they continue after a restart
 * with their state and order numbering.
 */

export const LIVE_STRATEGIES_STATE_KEY = 'strategies.live';
/** Where an unreadable `strategies.live` is kept instead of being overwritten. */
export const UNREADABLE_STATE_KEY = 'strategies.live.unreadable';

export type LiveStatus = 'running' | 'paused' | 'stopped';

export interface StartStrategyOptions {
  /** A built-in name or a strategy file path (relative paths against the manager's cwd). */
  strategy: string;
  symbol: string;
  /** Default 1m. */
  interval?: string;
  /** Values by name; strings are converted as `--param k=v` values are. */
  params?: Record<string, unknown>;
  /** Default `<name>-<symbol>` (the runner's). Letters, digits, "-", at most 25. */
  id?: string;
}

/** The strategy's own position: its fills only (those whose clientOrderId carries its prefix). */
export interface StrategyPnl {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  priceScale: number;
  qty: Amount;
  cost: Amount;
  avgEntry: Amount;
  realizedPnl: Amount;
  fees: Amount;
  /** Last trade price raw; undefined before the feed delivered one. */
  mark: number | undefined;
  /** undefined when a position is open and no mark is known. */
  unrealizedPnl: Amount | undefined;
}

export interface LiveStrategy {
  id: string;
  /** The strategy's name. */
  strategy: string;
  /** 'builtin' or the strategy file's absolute path. */
  source: string;
  symbol: string;
  interval: Interval;
  params: Record<string, unknown>;
  status: LiveStatus;
  error?: RunnerError;
  state: StrategyState;
  nextOrder: number;
  /** Orders the account accepted from this strategy, its open ones and its fills (this account generation). */
  orders: number;
  openOrders: number;
  fills: number;
  position: StrategyPnl;
  /** Since this process started it. */
  candles: number;
  /** The runner's latest log lines (strategy ctx.log and its errors), oldest first. */
  logs: LogEntry[];
}

/** One strategy as persisted. */
interface StoredStrategy {
  id: string;
  /** Built-in name or absolute file path. */
  spec: string;
  /** The strategy's name. */
  name: string;
  symbol: string;
  interval: Interval;
  params: Record<string, unknown>;
  state: StrategyState;
  nextOrder: number;
  status: 'running' | 'paused';
  error?: RunnerError;
}

interface Entry {
  id: string;
  spec: string;
  name: string;
  source: string;
  instrument: Instrument;
  interval: Interval;
  params: Record<string, unknown>;
  runner: StrategyRunner | undefined;
  /** Without a runner: what was restored (a paused strategy, or one whose file failed to load). */
  dormant: StoredStrategy | undefined;
  stopped: boolean;
}

export interface StrategyManagerOptions {
  node: TradingNode;
  /** Relative strategy file paths resolve against this; default process.cwd(). */
  cwd?: string;
  /** A strategy paused or stopped (the daemon logs it). */
  onStatus?: (e: { id: string; status: LiveStatus; error?: RunnerError }) => void;
  /** A failure outside any strategy (a store write, an unreadable stored list). */
  onError?: (message: string, err: unknown) => void;
  /** Stopped strategies kept in list() (oldest dropped first); default 20. */
  keepStopped?: number;
  /** Log lines a runner keeps; default 200. */
  maxLogs?: number;
}

const LOG_LINES = 20;

export class StrategyManager {
  private readonly node: TradingNode;
  private readonly opts: StrategyManagerOptions;
  /**
   * The runners' bus: node.bus's candles, trades and fills relayed while the manager is open, so
   * close() detaches every runner at once without running onStop — a daemon restart is not a
   * strategy stop, and the strategy continues from its persisted state afterwards.
   */
  private readonly bus: Bus;
  private readonly relays: Array<() => void>;
  private readonly entries = new Map<string, Entry>();
  /** Restored records whose symbol is not listed now: written back unchanged, never dropped. */
  private readonly unlisted: StoredStrategy[] = [];
  private readonly sink: OrderSink;
  private closed = false;
  private dirty = false;
  private writing: Promise<void> | undefined;

  constructor(opts: StrategyManagerOptions) {
    this.node = opts.node;
    this.opts = opts;
    this.bus = new Bus((topic, err) => opts.onError?.(`strategy bus handler for ${topic} failed`, err));
    const nb = opts.node.bus;
    this.relays = [
      nb.subscribe('candle.closed', (c) => this.bus.publish('candle.closed', c)),
      nb.subscribe('trade', (t) => this.bus.publish('trade', t)),
      nb.subscribe('fill', (f) => this.bus.publish('fill', f)),
    ];
    this.sink = this.accountSink();
  }

  /** Starts a strategy on the live feed (subscribing its symbol) and persists the set. */
  async start(o: StartStrategyOptions): Promise<LiveStrategy> {
    this.assertOpen();
    const interval = parseInterval(o.interval ?? '1m');
    const instrument = this.node.instruments.get(o.symbol);
    if (o.id !== undefined && !/^[A-Za-z0-9-]{1,25}$/.test(o.id)) {
      throw new UsageError(`strategy id "${o.id}" is not allowed`, { hint: 'letters, digits and "-", at most 25 (it prefixes the clientOrderIds)' });
    }
    const loaded = await loadStrategy(o.strategy, { cwd: this.opts.cwd });
    this.assertOpen();
    const spec = loaded.source === 'builtin' ? loaded.strategy.name : loaded.source;
    const entry = this.launch({ spec, loaded, instrument, interval, params: o.params ?? {}, id: o.id, state: {}, nextOrder: 1 });
    await this.node.subscribe([instrument.symbol]);
    await this.save();
    return this.info(entry);
  }

  /** Runs the strategy's onStop (its order calls go out), leaves the feed and forgets its persisted state. */
  async stop(id: string): Promise<LiveStrategy> {
    const e = this.active(id);
    this.assertOpen();
    e.runner?.stop();
    e.stopped = true;
    e.dormant = undefined;
    this.trimStopped();
    await this.save();
    this.opts.onStatus?.({ id, status: 'stopped' });
    return this.info(e);
  }

  /**
   * Continues a paused strategy with its state: a live runner resumes, a restored paused one (or
   * one whose file failed to load) is loaded and started again.
   */
  async resume(id: string): Promise<LiveStrategy> {
    const e = this.active(id);
    this.assertOpen();
    if (e.runner) {
      if (e.runner.status !== 'paused') throw new UsageError(`strategy ${id} is ${e.runner.status}, not paused`);
      e.runner.resume();
    } else {
      const rec = e.dormant!;
      const loaded = await loadStrategy(rec.spec, { cwd: this.opts.cwd });
      this.assertOpen();
      if (this.entries.get(id) !== e || e.stopped || !e.dormant) throw new UsageError(`strategy ${id} changed while it was being resumed; try again`);
      this.entries.delete(id);
      try {
        this.launch({ spec: rec.spec, loaded, instrument: e.instrument, interval: rec.interval, params: rec.params, id, state: rec.state, nextOrder: rec.nextOrder });
      } catch (err) {
        this.entries.set(id, e);
        throw err;
      }
      await this.node.subscribe([e.instrument.symbol]);
    }
    await this.save();
    return this.info(this.entries.get(id)!);
  }

  /** Live strategies first (in start order), then the stopped ones this process still remembers. */
  list(): LiveStrategy[] {
    const all = [...this.entries.values()];
    return [...all.filter((e) => !e.stopped), ...all.filter((e) => e.stopped)].map((e) => this.info(e));
  }

  get(id: string): LiveStrategy | undefined {
    const e = this.entries.get(id);
    return e ? this.info(e) : undefined;
  }

  /**
   * Starts the persisted strategies again (before the feed starts, so none misses a candle). A
   * paused one comes back paused with its error; one whose file no longer loads comes back paused
   * with the load error, and its record is kept as it was.
   */
  async restore(): Promise<void> {
    this.assertOpen();
    const raw = await this.node.store.getState(LIVE_STRATEGIES_STATE_KEY);
    if (raw === undefined) return;
    let list: StoredStrategy[];
    try {
      list = decodeStored(raw);
    } catch (err) {
      // Keep the text for the operator; the next save would otherwise overwrite it.
      await this.node.store.setState(UNREADABLE_STATE_KEY, raw);
      this.opts.onError?.(`the stored live strategies are unreadable (kept under state key ${UNREADABLE_STATE_KEY}); starting with none`, err);
      return;
    }
    const symbols = new Set<string>();
    for (const rec of list) {
      if (this.entries.has(rec.id)) continue;
      let instrument: Instrument;
      try {
        instrument = this.node.instruments.get(rec.symbol);
      } catch (err) {
        this.unlisted.push(rec);
        this.opts.onError?.(`live strategy ${rec.id} trades ${rec.symbol}, which the exchange info no longer lists; kept in the store but not started`, err);
        continue;
      }
      const dormant = (error: RunnerError): void => {
        this.entries.set(rec.id, { id: rec.id, spec: rec.spec, name: rec.name, source: sourceOf(rec.spec), instrument, interval: rec.interval, params: rec.params, runner: undefined, dormant: { ...rec, status: 'paused', error }, stopped: false });
      };
      if (rec.status === 'paused') {
        dormant(rec.error ?? { message: 'paused before the daemon restarted', callback: 'restore', time: this.node.clock.now() });
        continue;
      }
      try {
        const loaded = await loadStrategy(rec.spec, { cwd: this.opts.cwd });
        this.launch({ spec: rec.spec, loaded, instrument, interval: rec.interval, params: rec.params, id: rec.id, state: rec.state, nextOrder: rec.nextOrder });
        symbols.add(instrument.symbol);
      } catch (err) {
        dormant({ message: `cannot start again after the restart: ${(err as Error).message}`, callback: 'restore', time: this.node.clock.now() });
        this.opts.onStatus?.({ id: rec.id, status: 'paused', error: this.entries.get(rec.id)!.dormant!.error });
      }
    }
    if (symbols.size > 0) await this.node.subscribe([...symbols]);
  }

  /** Waits for the persisted list to catch up, then detaches every runner (no onStop). Call before node.stop(). */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    for (const u of this.relays.splice(0)) u();
  }

  /** Resolves once every change so far is in the store. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  // ------------------------------------------------------------------ internals

  private assertOpen(): void {
    if (this.closed) throw new UsageError('the strategy manager is closed (the daemon is stopping)');
  }

  private active(id: string): Entry {
    const e = this.entries.get(id);
    if (!e || e.stopped) {
      const ids = [...this.entries.values()].filter((x) => !x.stopped).map((x) => x.id);
      throw new UsageError(`no live strategy with id "${id}"`, { hint: ids.length ? `live ones: ${ids.join(', ')}` : 'none is running; start one with `qtrade strategy start NAME --symbol BTCUSDT`' });
    }
    return e;
  }

  private launch(a: {
    spec: string;
    loaded: LoadedStrategy;
    instrument: Instrument;
    interval: Interval;
    params: Record<string, unknown>;
    id: string | undefined;
    state: StrategyState;
    nextOrder: number;
  }): Entry {
    const made: { entry?: Entry } = {};
    const runner = new StrategyRunner({
      strategy: a.loaded.strategy,
      symbol: a.instrument.symbol,
      instrument: a.instrument,
      interval: a.interval,
      params: a.params,
      bus: this.bus,
      clock: this.node.clock,
      orders: this.sink,
      ...(a.id !== undefined ? { id: a.id } : {}),
      restore: { state: a.state, nextOrder: a.nextOrder },
      persist: () => this.scheduleSave(),
      onStatus: (status, error) => {
        if (!made.entry) return;
        this.scheduleSave();
        if (status === 'paused') this.opts.onStatus?.({ id: runner.id, status, ...(error ? { error } : {}) });
      },
      maxLogs: this.opts.maxLogs ?? 200,
    });
    const existing = this.entries.get(runner.id);
    if (existing && !existing.stopped) {
      throw new UsageError(`a live strategy with id "${runner.id}" exists already (${this.statusOf(existing)})`, {
        hint: `stop it first (qtrade strategy stop ${runner.id}), or give this one another --id`,
      });
    }
    // A new strategy under a reused id must not reuse clientOrderIds: the account would answer
    // with the old order as a duplicate instead of placing the new one.
    runner.nextOrder = Math.max(runner.nextOrder, this.nextOrderAfterHistory(runner.id));
    const entry: Entry = {
      id: runner.id,
      spec: a.spec,
      name: a.loaded.strategy.name,
      source: a.loaded.source,
      instrument: a.instrument,
      interval: a.interval,
      params: { ...runner.params },
      runner,
      dormant: undefined,
      stopped: false,
    };
    made.entry = entry;
    const shadowed = this.unlisted.findIndex((r) => r.id === runner.id);
    if (shadowed !== -1) this.unlisted.splice(shadowed, 1);
    this.entries.delete(runner.id);
    this.entries.set(runner.id, entry);
    runner.start();
    return entry;
  }

  /** 1 + the highest `<id>_<n>` the account has seen. */
  private nextOrderAfterHistory(id: string): number {
    const prefix = id + '_';
    let max = 0;
    for (const o of this.node.trading.orders()) {
      const cid = o.clientOrderId;
      if (!cid.startsWith(prefix)) continue;
      const n = Number(cid.slice(prefix.length));
      if (Number.isSafeInteger(n) && n > max) max = n;
    }
    return max + 1;
  }

  private trimStopped(): void {
    const keep = this.opts.keepStopped ?? 20;
    const stopped = [...this.entries.values()].filter((e) => e.stopped);
    for (const e of stopped.slice(0, Math.max(0, stopped.length - keep))) this.entries.delete(e.id);
  }

  private statusOf(e: Entry): LiveStatus {
    if (e.stopped) return 'stopped';
    if (e.runner) return e.runner.status === 'idle' ? 'running' : e.runner.status;
    return e.dormant!.status;
  }

  private info(e: Entry): LiveStrategy {
    const status = this.statusOf(e);
    const snap = e.runner?.snapshot();
    const error = e.runner ? e.runner.error : e.dormant?.error;
    const prefix = e.id + '_';
    const sym = e.instrument.symbol;
    const trading = this.node.trading;
    const fills = trading.fills({ symbol: sym }).filter((f) => f.clientOrderId.startsWith(prefix));
    const orders = trading.orders({ symbol: sym }).filter((o) => o.clientOrderId.startsWith(prefix)).length;
    const openOrders = trading.openOrders(sym).filter((o) => o.clientOrderId.startsWith(prefix)).length;
    return {
      id: e.id,
      strategy: e.name,
      source: e.source,
      symbol: sym,
      interval: e.interval,
      params: { ...e.params },
      status,
      ...(error ? { error: { message: error.message, callback: error.callback, time: error.time } } : {}),
      state: snap?.state ?? structuredClone(e.dormant?.state ?? {}),
      nextOrder: snap?.nextOrder ?? e.dormant?.nextOrder ?? 1,
      orders,
      openOrders,
      fills: fills.length,
      position: this.pnl(e.instrument, fills),
      candles: e.runner?.stats.candles ?? 0,
      logs: e.runner ? e.runner.logs.slice(-LOG_LINES) : [],
    };
  }

  /** Average-cost position over the strategy's own fills, exact, marked at the last trade. */
  private pnl(inst: Instrument, fills: readonly Fill[]): StrategyPnl {
    const s = scalesOf(inst);
    const pos = emptyPosition();
    for (const f of fills) applyFillToPosition(pos, f, inst.baseAsset, s);
    const mark = this.node.market.get(inst.symbol)?.lastTrade?.price;
    const view = positionView(inst.symbol, pos, mark, s);
    return {
      symbol: inst.symbol,
      baseAsset: inst.baseAsset,
      quoteAsset: inst.quoteAsset,
      priceScale: inst.priceScale,
      qty: view.qty,
      cost: view.cost,
      avgEntry: view.avgEntry,
      realizedPnl: view.realizedPnl,
      fees: view.fees,
      mark,
      unrealizedPnl: pos.qty !== 0n && mark === undefined ? undefined : view.unrealizedPnl,
    };
  }

  /**
   * The paper account as the runners' sink: the OrderService that node.placeOrder and
   * node.trading.place/cancel go through (risk pre-trade hook included), at the event time the
   * runner hands in (the trade that flushed its queue). The service itself, not trading.place:
   * a strategy's ticket resolves with the engine's result, a refusal included, rather than an
   * exception. Refuses everything once the manager is closed.
   */
  private accountSink(): OrderSink {
    const svc = this.node.trading.service;
    const closing = 'the daemon is shutting down; the strategy continues after it starts again';
    return {
      submit: (req, now) => (this.closed ? refused(closing) : svc.submit(req, now)),
      cancel: (symbol, ref, now) => (this.closed ? { ok: false, rejection: { code: -2011, msg: closing }, events: [] } : svc.cancel(symbol, ref, now)),
      cancelAll: (symbol, now) => (this.closed ? { orders: [], events: [] } : svc.cancelAll(symbol, now)),
      order: (ref) => svc.order(ref),
      openOrders: (symbol) => svc.openOrders(symbol),
      balance: (asset) => svc.balance(asset),
      position: (symbol) => svc.position(symbol),
      lastPrice: (symbol) => svc.lastPrice(symbol),
    };
  }

  private stored(): StoredStrategy[] {
    const out: StoredStrategy[] = [...this.unlisted];
    for (const e of this.entries.values()) {
      if (e.stopped) continue;
      if (!e.runner) {
        out.push(e.dormant!);
        continue;
      }
      const s = e.runner.snapshot();
      const status = s.status === 'paused' ? 'paused' : 'running';
      out.push({
        id: e.id,
        spec: e.spec,
        name: e.name,
        symbol: e.instrument.symbol,
        interval: e.interval,
        params: e.params,
        state: s.state,
        nextOrder: s.nextOrder,
        status,
        ...(s.error ? { error: { message: s.error.message, callback: s.error.callback, time: s.error.time } } : {}),
      });
    }
    return out;
  }

  private scheduleSave(): void {
    if (this.closed) return;
    this.dirty = true;
    if (this.writing) return;
    this.writing = (async () => {
      try {
        while (this.dirty) {
          this.dirty = false;
          try {
            await this.node.store.setState(LIVE_STRATEGIES_STATE_KEY, JSON.stringify({ version: 1, strategies: this.stored() }));
          } catch (err) {
            this.opts.onError?.('could not persist the live strategies', err);
          }
        }
      } finally {
        this.writing = undefined;
      }
    })();
  }

  private async save(): Promise<void> {
    this.scheduleSave();
    await this.flush();
  }
}

function sourceOf(spec: string): string {
  return /[\\/]/.test(spec) ? spec : 'builtin';
}

function decodeStored(raw: string): StoredStrategy[] {
  const doc = JSON.parse(raw) as { version?: unknown; strategies?: unknown };
  if (doc?.version !== 1 || !Array.isArray(doc.strategies)) throw new Error('not {version: 1, strategies: [...]}');
  return doc.strategies.map((s: unknown, i: number) => {
    const r = s as Partial<StoredStrategy>;
    const ok =
      typeof r.id === 'string' &&
      typeof r.spec === 'string' &&
      typeof r.name === 'string' &&
      typeof r.symbol === 'string' &&
      typeof r.interval === 'string' &&
      !!r.params && typeof r.params === 'object' &&
      !!r.state && typeof r.state === 'object' &&
      Number.isSafeInteger(r.nextOrder) &&
      (r.status === 'running' || r.status === 'paused');
    if (!ok) throw new Error(`entry ${i} is malformed`);
    return { ...(r as StoredStrategy), interval: parseInterval(r.interval!) };
  });
}

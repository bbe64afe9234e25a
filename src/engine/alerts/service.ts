import type { Bus } from '../bus.js';
import type { Clock } from '../clock.js';
import type { Instruments } from '../market/instruments.js';
import type { Store } from '../store/types.js';
import { AlertEngine, type AccountView } from './engine.js';
import { AlertLog, type AlertLogEvent } from './log.js';
import { alertSpecFrom, type AlertInput } from './spec.js';
import { alertStatus, type AlertFiring, type AlertRecord, type AlertStatus } from './types.js';

export interface AlertServiceOptions {
  bus: Bus;
  clock: Clock;
  instruments: Instruments;
  /** Where alerts live; without one they exist only in this process (tests, benchmarks). */
  store?: Store;
  /**
   * Record firings in the log (live: the feed, the daemon). A replay leaves it false: it evaluates
   * the stored alerts on the recording without using up once-alerts or adding to their history.
   */
  persist?: boolean;
  account?: AccountView;
  schedule?: (ms: number, fn: () => void) => () => void;
  /** Fill candle conditions' indicators from the store's 1m candles when opening (live only). */
  warmup?: boolean;
  /** Firings once durable, with their log seqs: what the outbox delivers. */
  onDurable?: (firings: Array<{ seq: number; firing: AlertFiring }>) => void;
  /** Problems that must not stop the feed: an alert that no longer parses, a failed write. */
  onError?: (message: string, err: unknown) => void;
}

export interface AlertView {
  record: AlertRecord;
  status: AlertStatus;
  /** Evaluated in this process now. */
  running: boolean;
}

/**
 * Alerts where the engine runs: the durable log (adds, removes, firing history) and the engine
 * evaluating the running ones on the bus. Firings are published at once and written in batches
 * behind the feed; `settled()` waits for the writes.
 */
export class AlertService {
  readonly engine: AlertEngine;
  readonly log: AlertLog | undefined;
  private readonly opts: AlertServiceOptions;
  private readonly memory = new Map<string, AlertRecord>();
  private nextId = 1;
  private pending: AlertFiring[] = [];
  private writing: Promise<void> = Promise.resolve();
  private flushQueued = false;

  private constructor(opts: AlertServiceOptions, log: AlertLog | undefined) {
    this.opts = opts;
    this.log = log;
    this.engine = new AlertEngine({
      bus: opts.bus,
      clock: opts.clock,
      instruments: opts.instruments,
      account: opts.account,
      schedule: opts.schedule,
      onFire: (f) => this.onFire(f),
    });
  }

  static async open(opts: AlertServiceOptions): Promise<AlertService> {
    const log = opts.store ? await AlertLog.open(opts.store) : undefined;
    const s = new AlertService(opts, log);
    if (log) {
      log.onForeign = (ev) => s.onForeign(ev);
      for (const r of log.list()) s.start(r);
      if (opts.warmup && opts.store) await s.warm(opts.store);
    }
    return s;
  }

  /** Validates and adds an alert (durably when there is a store) and starts evaluating it. */
  async add(input: AlertInput, now: number): Promise<AlertRecord> {
    const { spec } = alertSpecFrom(input, this.opts.instruments, now);
    let rec: AlertRecord;
    if (this.log) rec = await this.log.add(spec, now);
    else {
      rec = { alert: { id: `a${this.nextId++}`, createdAt: now, ...spec }, fired: 0, lastFiredAt: undefined };
      this.memory.set(rec.alert.id, rec);
    }
    if (!this.engine.has(rec.alert.id)) this.engine.add(rec);
    return rec;
  }

  /** Removes an alert; undefined when there is none with this id. */
  async remove(id: string, now: number): Promise<AlertRecord | undefined> {
    const rec = this.log ? await this.log.remove(id, now) : this.memory.get(id);
    this.memory.delete(id);
    this.engine.remove(id);
    return rec;
  }

  get(id: string, now: number): AlertView | undefined {
    const rec = this.log ? this.log.get(id) : this.memory.get(id);
    return rec ? this.view(rec, now) : undefined;
  }

  /** Every alert not removed, oldest first; `now` decides which have expired. */
  list(now: number): AlertView[] {
    const recs = this.log ? this.log.list() : [...this.memory.values()];
    return recs.map((r) => this.view(r, now));
  }

  /** Firings, newest last (durable ones; without a store, none). */
  history(opts: { alertId?: string; limit: number }): Promise<AlertFiring[]> {
    return this.log ? this.log.history(opts) : Promise.resolve([]);
  }

  /** Takes in alerts other processes added or removed (the CLI while a feed runs). */
  async sync(): Promise<void> {
    await this.log?.sync();
  }

  /** Resolves when every firing so far is durable (or failed and was reported). */
  async settled(): Promise<void> {
    while (this.pending.length > 0 || this.flushQueued) {
      this.flush();
      await this.writing;
    }
    await this.writing;
  }

  async close(): Promise<void> {
    this.engine.close();
    await this.settled();
  }

  // ------------------------------------------------------------------ internals

  private view(rec: AlertRecord, now: number): AlertView {
    const rt = this.engine.runtime(rec.alert.id);
    // The engine counts firings at once; the log only once they are durable.
    const record = rt && rt.fired > rec.fired ? { ...rec, fired: rt.fired, lastFiredAt: rt.lastFiredAt } : rec;
    return { record, status: alertStatus(record, now), running: rt !== undefined };
  }

  private start(r: AlertRecord): void {
    try {
      this.engine.add(r);
    } catch (err) {
      this.opts.onError?.(`alert ${r.alert.id} (${r.alert.symbol} "${r.alert.condition}") cannot run here: ${(err as Error).message.split('\n')[0]}`, err);
    }
  }

  private onForeign(ev: AlertLogEvent): void {
    if (ev.kind === 'added' && !this.engine.has(ev.record.alert.id)) this.start(ev.record);
    else if (ev.kind === 'removed') this.engine.remove(ev.id);
  }

  private onFire(f: AlertFiring): void {
    if (!this.log) {
      const rec = this.memory.get(f.alertId);
      if (rec) {
        rec.fired = f.n;
        rec.lastFiredAt = f.time;
      }
      return;
    }
    if (!this.opts.persist) return;
    this.pending.push(f);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.pending.length === 0 || !this.log) return;
    const batch = this.pending;
    this.pending = [];
    const log = this.log;
    this.writing = this.writing
      .then(() => log.recordFirings(batch))
      .then((durable) => this.opts.onDurable?.(durable))
      .catch((err: unknown) => this.opts.onError?.(`alert firings not saved: ${(err as Error).message}`, err));
  }

  private async warm(store: Store): Promise<void> {
    for (const symbol of this.engine.seriesSymbols()) {
      const minutes = Math.min(this.engine.warmupMinutes(symbol), 100_000);
      if (minutes === 0) continue;
      try {
        const candles = await store.candles({ symbol, interval: '1m', limit: minutes });
        this.engine.seed(symbol, candles);
      } catch (err) {
        this.opts.onError?.(`alerts on ${symbol}: no candle history to warm indicators from (${(err as Error).message})`, err);
      }
    }
  }
}

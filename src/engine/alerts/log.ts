import { ParseError, StoreError } from '../errors.js';
import type { EventRecord, Store } from '../store/types.js';
import { NOTIFY_CHANNELS, type Alert, type AlertFiring, type AlertMode, type AlertRecord, type AlertSpec, type NotifyChannel } from './types.js';

/**
 * The durable side of alerts: an append-only event stream in the Store ('added', 'removed',
 * 'fired'), so alerts, their firing history and the notification outbox survive restarts and a
 * kill -9 at any point. Every process that opens the log (the CLI, `qtrade feed`, the daemon) may
 * append: the store refuses an append that raced another writer (STORE_SEQ_CONFLICT), and the log
 * then reads what the other wrote and tries again, so the stream stays one ordered history.
 * A snapshot in the store's key/value state keeps opening fast once the stream is long.
 */

export const ALERTS_STREAM = 'alerts';
const SNAPSHOT_EVERY = 1000;
const PAGE = 5000;

export type AlertLogEvent =
  | { seq: number; kind: 'added'; record: AlertRecord }
  | { seq: number; kind: 'removed'; id: string }
  | { seq: number; kind: 'fired'; firing: AlertFiring };

export class AlertLog {
  private last = 0;
  private readonly records = new Map<string, AlertRecord>();
  private chain: Promise<unknown> = Promise.resolve();
  private snapSeq = 0;
  /** Sees every event another writer appended, as this log takes it in. */
  onForeign: ((ev: AlertLogEvent) => void) | undefined;

  private constructor(
    private readonly store: Store,
    readonly stream: string,
  ) {}

  static async open(store: Store, stream = ALERTS_STREAM): Promise<AlertLog> {
    const log = new AlertLog(store, stream);
    await log.loadSnapshot();
    await log.pull();
    return log;
  }

  /** Seq of the last event applied. */
  get lastSeq(): number {
    return this.last;
  }

  /** Alerts not removed (done and expired ones included), oldest first. */
  list(): AlertRecord[] {
    return [...this.records.values()].sort((a, b) => idSeq(a.alert.id) - idSeq(b.alert.id));
  }

  get(id: string): AlertRecord | undefined {
    return this.records.get(id);
  }

  /** Appends an alert; its id is `a<seq>` of the event that adds it. */
  async add(spec: AlertSpec, createdAt: number): Promise<AlertRecord> {
    const [ev] = await this.append((seq) => {
      const alert: Alert = { id: `a${seq}`, createdAt, ...normalSpec(spec) };
      return [{ kind: 'added', time: createdAt, body: JSON.stringify({ alert }) }];
    });
    return this.records.get(`a${ev!.seq}`)!;
  }

  /** Removes an alert; undefined when no such alert exists (any more). */
  async remove(id: string, time: number): Promise<AlertRecord | undefined> {
    let removed: AlertRecord | undefined;
    await this.append(() => {
      removed = this.records.get(id);
      return removed ? [{ kind: 'removed', time, body: JSON.stringify({ id }) }] : [];
    });
    return removed;
  }

  /** Appends firings in one transaction; resolves with their seqs once durable. */
  async recordFirings(firings: readonly AlertFiring[]): Promise<Array<{ seq: number; firing: AlertFiring }>> {
    if (firings.length === 0) return [];
    const evs = await this.append(() => firings.map((f) => ({ kind: 'fired', time: f.time, body: JSON.stringify({ firing: f }) })));
    return evs.map((e, i) => ({ seq: e.seq, firing: firings[i]! }));
  }

  /** Reads what other writers appended since; returns the events applied. */
  sync(): Promise<AlertLogEvent[]> {
    return this.serial(() => this.pull());
  }

  /** Firings, newest last: of one alert or all, at most `limit`. */
  async history(opts: { alertId?: string; limit: number }): Promise<AlertFiring[]> {
    const out: AlertFiring[] = [];
    for (let to = this.last; to >= 1 && out.length < opts.limit; ) {
      const from = Math.max(1, to - PAGE + 1);
      const rows = await this.store.readEvents(this.stream, from, to - from + 1);
      for (let i = rows.length - 1; i >= 0 && out.length < opts.limit; i--) {
        const r = rows[i]!;
        if (r.kind !== 'fired') continue;
        const f = decode(r).firing;
        if (opts.alertId === undefined || f.alertId === opts.alertId) out.push(f);
      }
      to = from - 1;
    }
    return out.reverse();
  }

  /** Firings with seq ≥ `fromSeq`, at most `limit` events read; `next` is where to continue. */
  async firingsFrom(fromSeq: number, limit = PAGE): Promise<{ firings: Array<{ seq: number; firing: AlertFiring }>; next: number; done: boolean }> {
    const rows = await this.store.readEvents(this.stream, fromSeq, limit);
    const firings: Array<{ seq: number; firing: AlertFiring }> = [];
    for (const r of rows) if (r.kind === 'fired') firings.push({ seq: r.seq, firing: decode(r).firing });
    return { firings, next: rows.length ? rows[rows.length - 1]!.seq + 1 : fromSeq, done: rows.length < limit };
  }

  // ------------------------------------------------------------------ internals

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private append(make: (seq: number) => Array<{ kind: string; time: number; body: string }>): Promise<EventRecord[]> {
    return this.serial(async () => {
      for (let attempt = 0; ; attempt++) {
        const seq0 = this.last + 1;
        const events: EventRecord[] = make(seq0).map((e, i) => ({ seq: seq0 + i, ...e }));
        if (events.length === 0) return [];
        try {
          await this.store.appendEvents(this.stream, events);
        } catch (err) {
          // Another process appended first: take its events in, then ours go after them. Each
          // conflict means another writer made progress, so this ends; the cap only guards a broken store.
          if (err instanceof StoreError && err.code === 'STORE_SEQ_CONFLICT' && attempt < 100) {
            await this.pull();
            continue;
          }
          throw err;
        }
        for (const e of events) this.apply(e);
        await this.maybeSnapshot();
        return events;
      }
    });
  }

  private async pull(): Promise<AlertLogEvent[]> {
    const applied: AlertLogEvent[] = [];
    for (;;) {
      const rows = await this.store.readEvents(this.stream, this.last + 1, PAGE);
      for (const r of rows) {
        const ev = this.apply(r);
        if (ev) {
          applied.push(ev);
          this.onForeign?.(ev);
        }
      }
      if (rows.length < PAGE) break;
    }
    return applied;
  }

  private apply(r: EventRecord): AlertLogEvent | undefined {
    if (r.seq !== this.last + 1) throw new StoreError('ALERTS_SEQ', `alert log ${this.stream}: event ${r.seq} follows ${this.last}`);
    this.last = r.seq;
    const body = decode(r);
    switch (r.kind) {
      case 'added': {
        const record: AlertRecord = { alert: body.alert, fired: 0, lastFiredAt: undefined };
        this.records.set(record.alert.id, record);
        return { seq: r.seq, kind: 'added', record };
      }
      case 'removed':
        this.records.delete(body.id);
        return { seq: r.seq, kind: 'removed', id: body.id };
      case 'fired': {
        const f = body.firing;
        const rec = this.records.get(f.alertId);
        if (rec) {
          rec.fired = Math.max(rec.fired, f.n);
          rec.lastFiredAt = rec.lastFiredAt === undefined ? f.time : Math.max(rec.lastFiredAt, f.time);
        }
        return { seq: r.seq, kind: 'fired', firing: f };
      }
      default:
        return undefined; // a later version's event kind: skipped, not fatal
    }
  }

  private get snapshotKey(): string {
    return `${this.stream}.snapshot`;
  }

  private async loadSnapshot(): Promise<void> {
    const raw = await this.store.getState(this.snapshotKey);
    if (raw === undefined) return;
    let snap: { v: number; seq: number; records: AlertRecord[] };
    try {
      snap = JSON.parse(raw) as typeof snap;
    } catch {
      return; // unreadable: the full stream is the truth
    }
    if (snap.v !== 1 || !Number.isSafeInteger(snap.seq) || !Array.isArray(snap.records)) return;
    for (const r of snap.records) this.records.set(r.alert.id, { alert: r.alert, fired: r.fired, lastFiredAt: r.lastFiredAt ?? undefined });
    this.last = snap.seq;
    this.snapSeq = snap.seq;
  }

  private async maybeSnapshot(): Promise<void> {
    if (this.last - this.snapSeq < SNAPSHOT_EVERY) return;
    this.snapSeq = this.last;
    await this.store.setState(this.snapshotKey, JSON.stringify({ v: 1, seq: this.last, records: this.list() }));
  }
}

/** Keeps exactly the spec's fields (an API body may carry more). */
function normalSpec(s: AlertSpec): AlertSpec {
  return {
    symbol: s.symbol,
    condition: s.condition,
    mode: s.mode,
    ...(s.expiresAt !== undefined ? { expiresAt: s.expiresAt } : {}),
    notify: [...s.notify],
  };
}

function idSeq(id: string): number {
  return Number(id.slice(1));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function decode(r: EventRecord): any {
  let body: unknown;
  try {
    body = JSON.parse(r.body);
  } catch {
    throw new ParseError(`alert log event ${r.seq} (${r.kind}) is not JSON`);
  }
  const b = body as Record<string, unknown>;
  const ok =
    (r.kind === 'added' && isAlert(b.alert)) ||
    (r.kind === 'removed' && typeof b.id === 'string') ||
    (r.kind === 'fired' && isFiring(b.firing)) ||
    !['added', 'removed', 'fired'].includes(r.kind);
  if (!ok) throw new ParseError(`alert log event ${r.seq} (${r.kind}) is malformed`);
  return b;
}

function isMode(m: unknown): m is AlertMode {
  const x = m as AlertMode;
  return typeof x === 'object' && x !== null && (x.kind === 'once' || x.kind === 'until-cancelled' || (x.kind === 'every' && Number.isSafeInteger(x.cooldownMs)));
}

function isChannels(n: unknown): n is NotifyChannel[] {
  return Array.isArray(n) && n.every((c) => (NOTIFY_CHANNELS as readonly unknown[]).includes(c));
}

function isAlert(a: unknown): a is Alert {
  const x = a as Alert;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.id === 'string' &&
    typeof x.symbol === 'string' &&
    typeof x.condition === 'string' &&
    Number.isSafeInteger(x.createdAt) &&
    isMode(x.mode) &&
    isChannels(x.notify) &&
    (x.expiresAt === undefined || Number.isSafeInteger(x.expiresAt))
  );
}

function isFiring(f: unknown): f is AlertFiring {
  const x = f as AlertFiring;
  return typeof x === 'object' && x !== null && typeof x.id === 'string' && typeof x.alertId === 'string' && Number.isSafeInteger(x.n) && Number.isSafeInteger(x.time) && typeof x.message === 'string' && isChannels(x.notify);
}

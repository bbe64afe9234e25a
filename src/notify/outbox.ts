import type { AlertLog } from '../engine/alerts/log.js';
import type { AlertFiring } from '../engine/alerts/types.js';
import { StoreError } from '../engine/errors.js';
import type { EventRecord, Store } from '../engine/store/types.js';
import { backoffMs, type BackoffOptions } from './backoff.js';
import type { Sender } from './delivery.js';

/**
 * The durable outbox: every firing that names a webhook or Telegram is delivered at least once,
 * across receiver outages and restarts (a kill -9 included).
 *
 * The firings themselves are the queue: they are durable in the alert log before anything is
 * sent. Delivery outcomes go to their own event stream ('alerts.outbox': `delivered` or `failed`
 * per firing and channel), appended only after the receiver answered. On start the outbox reads
 * the firings after its cursor, drops those with an outcome, and delivers the rest. A crash between
 * a receiver's 2xx and the `delivered` event means one more delivery after restart, with the same
 * id (`x-qtrade-delivery`, the JSON `id`), which receivers use to de-duplicate.
 *
 * Each channel is a FIFO worked by one loop, so notifications arrive in firing order; a failing
 * head is retried with exponential backoff until it succeeds, the receiver refuses it for good
 * (a 4xx other than 408/425/429), or it is older than `maxAgeMs`.
 */

export const OUTBOX_STREAM = 'alerts.outbox';
const CURSOR_KEY = 'alerts.outbox.cursor';
const PAGE = 5000;

type Channel = 'webhook' | 'telegram';

export type OutboxEvent =
  | { kind: 'delivered'; channel: Channel; firing: AlertFiring; attempts: number }
  | { kind: 'retry'; channel: Channel; firing: AlertFiring; attempts: number; reason: string; inMs: number }
  | { kind: 'failed'; channel: Channel; firing: AlertFiring; attempts: number; reason: string };

export interface OutboxOptions {
  store: Store;
  log: AlertLog;
  senders: Partial<Record<Channel, Sender>>;
  backoff?: BackoffOptions;
  /** Give up on a notification first tried this long ago (ms); default 24 h. */
  maxAgeMs?: number;
  wallNow?: () => number;
  onEvent?: (e: OutboxEvent) => void;
  /** The store could not record an outcome: the notification stays queued and is retried. */
  onError?: (message: string, err: unknown) => void;
}

interface Job {
  seq: number;
  firing: AlertFiring;
  attempts: number;
  firstTry: number | undefined;
}

class Lane {
  readonly jobs: Job[] = [];
  running: Promise<void> | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  wake: (() => void) | undefined;
}

export class Outbox {
  private readonly opts: OutboxOptions;
  private readonly wallNow: () => number;
  private readonly lanes: Record<Channel, Lane> = { webhook: new Lane(), telegram: new Lane() };
  /** `<firing id>|<channel>` known here: queued or settled. */
  private readonly known = new Set<string>();
  private outboxLast = 0;
  /** Highest log seq of a firing this outbox has taken in. */
  private maxSeen = 0;
  private closed = false;
  private readonly abort = new AbortController();
  private chain: Promise<unknown> = Promise.resolve();
  private idleWaiters: Array<() => void> = [];

  private constructor(opts: OutboxOptions) {
    this.opts = opts;
    this.wallNow = opts.wallNow ?? Date.now;
  }

  /** Reads the outstanding notifications from the store and starts delivering them. */
  static async open(opts: OutboxOptions): Promise<Outbox> {
    const o = new Outbox(opts);
    await o.load();
    return o;
  }

  /** Notifications waiting (queued or being retried). */
  pending(): number {
    return this.lanes.webhook.jobs.length + this.lanes.telegram.jobs.length;
  }

  /** Takes in firings that just became durable. */
  enqueue(durable: ReadonlyArray<{ seq: number; firing: AlertFiring }>): void {
    for (const d of durable) this.take(d.seq, d.firing);
    this.kick();
  }

  /** Resolves once nothing is waiting (tests, shutdown with a deadline). */
  idle(): Promise<void> {
    if (this.pending() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops delivering; what is still waiting stays in the store for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    for (const lane of Object.values(this.lanes)) {
      clearTimeout(lane.timer);
      lane.wake?.();
    }
    await Promise.all(Object.values(this.lanes).map((l) => l.running));
    await this.chain;
  }

  // ------------------------------------------------------------------ internals

  private take(seq: number, firing: AlertFiring): void {
    if (seq > this.maxSeen) this.maxSeen = seq;
    for (const ch of firing.notify) {
      if (ch !== 'webhook' && ch !== 'telegram') continue;
      const key = `${firing.id}|${ch}`;
      if (this.known.has(key)) continue;
      this.known.add(key);
      this.lanes[ch].jobs.push({ seq, firing, attempts: 0, firstTry: undefined });
    }
  }

  private kick(): void {
    if (this.closed) return;
    for (const ch of ['webhook', 'telegram'] as const) {
      const lane = this.lanes[ch];
      if (lane.jobs.length > 0 && !lane.running) {
        lane.running = this.work(ch, lane)
          .catch(async (err: unknown) => {
            // Recording an outcome failed (the store is down): pause, then the head goes again.
            this.opts.onError?.(`alert outbox (${ch}): ${(err as Error).message}`, err);
            await this.pause(lane, backoffMs(2, this.opts.backoff));
          })
          .finally(() => {
            lane.running = undefined;
            if (lane.jobs.length > 0) this.kick();
            else this.maybeIdle();
          });
      }
    }
  }

  private async work(ch: Channel, lane: Lane): Promise<void> {
    while (!this.closed && lane.jobs.length > 0) {
      const job = lane.jobs[0]!;
      const sender = this.opts.senders[ch];
      if (!sender) {
        const reason = ch === 'webhook' ? 'no webhook configured (alerts.webhookUrl)' : 'Telegram not configured (telegram.botToken, telegram.chatId)';
        await this.settle(ch, job, 'failed', reason);
        lane.jobs.shift();
        continue;
      }
      job.firstTry ??= this.wallNow();
      job.attempts++;
      let r;
      try {
        r = await sender.send(job.firing, this.abort.signal);
      } catch (err) {
        r = { ok: false as const, retry: true, reason: (err as Error).message };
      }
      if (this.closed) return;
      if (r.ok) {
        await this.settle(ch, job, 'delivered');
        lane.jobs.shift();
        continue;
      }
      const tooOld = this.wallNow() - job.firstTry >= (this.opts.maxAgeMs ?? 86_400_000);
      if (!r.retry || tooOld) {
        await this.settle(ch, job, 'failed', tooOld && r.retry ? `gave up after ${job.attempts} attempts: ${r.reason}` : r.reason);
        lane.jobs.shift();
        continue;
      }
      const wait = backoffMs(job.attempts - 1, this.opts.backoff, r.retryAfterMs);
      this.opts.onEvent?.({ kind: 'retry', channel: ch, firing: job.firing, attempts: job.attempts, reason: r.reason, inMs: wait });
      await this.pause(lane, wait);
    }
  }

  private async pause(lane: Lane, ms: number): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      lane.wake = resolve;
      lane.timer = setTimeout(resolve, ms);
    });
    lane.wake = undefined;
  }

  /** Records the outcome durably (a store failure is retried by the lane like a send failure would be). */
  private async settle(ch: Channel, job: Job, kind: 'delivered' | 'failed', reason?: string): Promise<void> {
    const body = JSON.stringify({ id: job.firing.id, seq: job.seq, channel: ch, attempts: job.attempts, ...(reason ? { reason } : {}) });
    await this.append({ kind, time: job.firing.time, body });
    if (kind === 'delivered') this.opts.onEvent?.({ kind, channel: ch, firing: job.firing, attempts: job.attempts });
    else this.opts.onEvent?.({ kind, channel: ch, firing: job.firing, attempts: job.attempts, reason: reason! });
  }

  private append(e: { kind: string; time: number; body: string }): Promise<void> {
    const p = this.chain.then(async () => {
      for (let attempt = 0; ; attempt++) {
        const ev: EventRecord = { seq: this.outboxLast + 1, ...e };
        try {
          await this.opts.store.appendEvents(OUTBOX_STREAM, [ev]);
          this.outboxLast = ev.seq;
          return;
        } catch (err) {
          if (err instanceof StoreError && err.code === 'STORE_SEQ_CONFLICT' && attempt < 100) {
            this.outboxLast = await this.opts.store.lastSeq(OUTBOX_STREAM);
            continue;
          }
          throw err;
        }
      }
    });
    this.chain = p.catch(() => undefined);
    return p;
  }

  private maybeIdle(): void {
    if (this.pending() !== 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
    // Everything up to the newest firing seen is settled: later starts can skip it.
    const cursor = JSON.stringify({ alertsSeq: this.maxSeen + 1, outboxSeq: this.outboxLast + 1 });
    this.chain = this.chain.then(() => this.opts.store.setState(CURSOR_KEY, cursor)).catch(() => undefined);
  }

  private async load(): Promise<void> {
    const { store, log } = this.opts;
    let cursor = { alertsSeq: 1, outboxSeq: 1 };
    const raw = await store.getState(CURSOR_KEY);
    if (raw !== undefined) {
      try {
        const c = JSON.parse(raw) as typeof cursor;
        if (Number.isSafeInteger(c.alertsSeq) && Number.isSafeInteger(c.outboxSeq)) cursor = c;
      } catch {
        // unreadable cursor: scan everything (at-least-once allows the cost)
      }
    }
    for (let from = cursor.outboxSeq; ; ) {
      const rows = await store.readEvents(OUTBOX_STREAM, from, PAGE);
      for (const r of rows) {
        try {
          const b = JSON.parse(r.body) as { id: string; channel: string };
          this.known.add(`${b.id}|${b.channel}`);
        } catch {
          // a malformed outcome settles nothing: that notification is delivered again
        }
      }
      if (rows.length < PAGE) break;
      from = rows[rows.length - 1]!.seq + 1;
    }
    this.outboxLast = await store.lastSeq(OUTBOX_STREAM);
    this.maxSeen = cursor.alertsSeq - 1;
    for (let from = cursor.alertsSeq; ; ) {
      const page = await log.firingsFrom(from, PAGE);
      for (const f of page.firings) this.take(f.seq, f.firing);
      if (page.done) break;
      from = page.next;
    }
    this.kick();
  }
}

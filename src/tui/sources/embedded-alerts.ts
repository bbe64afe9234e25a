import { alertJson } from '../../engine/alerts/format.js';
import type { AlertService, AlertView } from '../../engine/alerts/service.js';
import type { AlertInput } from '../../engine/alerts/spec.js';
import { alertStatus, type AlertFiring } from '../../engine/alerts/types.js';
import type { Bus } from '../../engine/bus.js';
import { UsageError } from '../../engine/errors.js';
import { unconfiguredChannelWarnings, type NotifyConfig } from '../../notify/config.js';
import type { AlertItem, AlertsEvent, AlertsSource } from './alerts.js';

export interface EmbeddedAlertsOptions {
  bell: boolean;
  /** Local clock: when alerts are added and expire (as `qtrade alert add` stamps them). */
  wallNow?: () => number;
  /** Firings kept for the panel. */
  historyLimit?: number;
  /** Where this session delivers notifications (a live one): adding an alert on a channel it lacks warns. */
  notify?: NotifyConfig;
}

const HISTORY = 200;

/**
 * The TUI's view of an AlertService running on its node's bus (live-session.ts starts it with
 * delivery, replay-session.ts one per pass). The firing history is the durable one when the
 * service records firings, plus what fired on the bus since; a replay shows only its own.
 */
export class EmbeddedAlerts implements AlertsSource {
  readonly bell: boolean;
  private service: AlertService | undefined;
  private off: (() => void) | undefined;
  private firings: AlertFiring[] = [];
  /**
   * Firings seen on this service's bus, per alert. A replay records none, and the engine forgets
   * a once-alert that fired: without these the panel would show it unfired and active.
   */
  private seen = new Map<string, { n: number; time: number }>();
  private readonly listeners = new Set<(e: AlertsEvent) => void>();
  /** Notices before anyone listened (start-up problems), handed to the first listener. */
  private early: AlertsEvent[] = [];
  /** Alerts added to a store-less service, added again to the next one (a replay's next pass). */
  private readonly unstored = new Map<string, AlertInput>();
  private readonly wallNow: () => number;
  private readonly limit: number;
  private readonly notify: NotifyConfig | undefined;

  constructor(opts: EmbeddedAlertsOptions) {
    this.bell = opts.bell;
    this.notify = opts.notify;
    this.wallNow = opts.wallNow ?? Date.now;
    this.limit = opts.historyLimit ?? HISTORY;
  }

  /**
   * Shows `service`, which evaluates alerts on `bus`, from now on. `durableHistory`: start the
   * history from the firings it recorded (live; a replay records none of its own).
   */
  async bind(service: AlertService, bus: Bus, opts: { durableHistory: boolean }): Promise<void> {
    this.off?.();
    this.service = service;
    this.seen = new Map();
    this.firings = opts.durableHistory ? await service.history({ limit: this.limit }) : [];
    if (!service.log && this.unstored.size > 0) {
      const inputs = [...this.unstored.values()];
      this.unstored.clear();
      for (const input of inputs) {
        const rec = await service.add(input, this.wallNow());
        this.unstored.set(rec.alert.id, input);
      }
    }
    this.off = bus.subscribe('alert.fired', (f) => this.onFired(f));
    this.emit({ kind: 'changed' });
  }

  /** A problem of the alerts' own (the service's onError, the notifier's report). */
  report(level: 'info' | 'warn' | 'error', message: string): void {
    this.emit({ kind: 'notice', level, message });
  }

  list(): AlertItem[] {
    return this.service ? this.service.list(this.wallNow()).map((v) => alertJson(this.withSeen(v))) : [];
  }

  history(): AlertFiring[] {
    return this.firings;
  }

  async add(input: AlertInput): Promise<AlertItem> {
    const svc = this.need();
    const rec = await svc.add(input, this.wallNow());
    if (!svc.log) this.unstored.set(rec.alert.id, input);
    this.emit({ kind: 'changed' });
    if (this.notify) for (const message of unconfiguredChannelWarnings(rec.alert.notify, this.notify)) this.emit({ kind: 'notice', level: 'warn', message });
    return alertJson(svc.get(rec.alert.id, this.wallNow())!);
  }

  async remove(id: string): Promise<AlertItem> {
    const svc = this.need();
    const key = id.trim();
    const v = svc.get(key, this.wallNow());
    if (!v) throw new UsageError(`no alert "${key}"`, { hint: 'the Alerts panel (key 8) lists them, as does `qtrade alert list`' });
    await svc.remove(key, this.wallNow());
    this.unstored.delete(key);
    this.emit({ kind: 'changed' });
    return alertJson(v);
  }

  subscribe(listener: (e: AlertsEvent) => void): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1 && this.early.length > 0) {
      const early = this.early;
      this.early = [];
      for (const e of early) listener(e);
    }
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Stops listening to the bus (the service is its owner's to close). */
  close(): void {
    this.off?.();
    this.off = undefined;
    this.listeners.clear();
  }

  private need(): AlertService {
    if (!this.service) throw new UsageError('alerts are not running in this session yet', { hint: 'try again once the feed has started' });
    return this.service;
  }

  private withSeen(v: AlertView): AlertView {
    const s = this.seen.get(v.record.alert.id);
    if (!s || s.n <= v.record.fired) return v;
    const record = { ...v.record, fired: s.n, lastFiredAt: s.time };
    return { ...v, record, status: alertStatus(record, this.wallNow()) };
  }

  private onFired(f: AlertFiring): void {
    if (!f.test) this.seen.set(f.alertId, { n: f.n, time: f.time });
    // A durable firing the history was loaded with arrives on the bus only once: keep one copy.
    if (!this.firings.some((x) => x.id === f.id)) this.firings = [...this.firings.slice(-(this.limit - 1)), f];
    this.emit({ kind: 'fired', firing: f });
    this.emit({ kind: 'changed' });
  }

  private emit(e: AlertsEvent): void {
    if (this.listeners.size === 0) {
      if (e.kind === 'notice') this.early = [...this.early.slice(-19), e];
      return;
    }
    for (const l of [...this.listeners]) l(e);
  }
}

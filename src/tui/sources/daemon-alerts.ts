import type { DaemonClient } from '../../client/daemon-client.js';
import { alertFromJson, firingFromJson } from '../../client/daemon-replies.js';
import type { AlertInput } from '../../engine/alerts/spec.js';
import type { AlertFiring } from '../../engine/alerts/types.js';
import { arr } from '../../engine/market/binance/rest-parse.js';
import type { AlertItem, AlertsEvent, AlertsSource } from './alerts.js';

export interface DaemonAlertsOptions {
  client: DaemonClient;
  /** Ring the terminal bell on a firing (this machine's alerts.bell setting). */
  bell: boolean;
  /** Firings kept for the panel. */
  historyLimit?: number;
}

const HISTORY = 200;

/**
 * The daemon's alerts (/api/qtrade/alerts) and their firings: the history as the daemon recorded
 * it, then each firing as its private `alerts` stream delivers it (DaemonSource hands them in).
 * Adding and removing need a trade token; the daemon's refusal is the error shown.
 */
export class DaemonAlerts implements AlertsSource {
  readonly bell: boolean;
  private items: AlertItem[] = [];
  private firings: AlertFiring[] = [];
  private readonly listeners = new Set<(e: AlertsEvent) => void>();
  private readonly limit: number;

  constructor(private readonly opts: DaemonAlertsOptions) {
    this.bell = opts.bell;
    this.limit = opts.historyLimit ?? HISTORY;
  }

  list(): AlertItem[] {
    return this.items;
  }

  history(): AlertFiring[] {
    return this.firings;
  }

  async add(input: AlertInput): Promise<AlertItem> {
    const reply = await this.opts.client.post<Record<string, unknown>>('/api/qtrade/alerts', input);
    const a = alertFromJson(reply);
    await this.refreshList();
    // Channels the daemon has no settings for: the alert is kept but never delivered there.
    if (Array.isArray(reply.warnings)) for (const w of reply.warnings) if (typeof w === 'string') this.emit({ kind: 'notice', level: 'warn', message: w });
    return a;
  }

  async remove(id: string): Promise<AlertItem> {
    const a = alertFromJson(await this.opts.client.delete('/api/qtrade/alerts', { id: id.trim() }));
    await this.refreshList();
    return a;
  }

  subscribe(listener: (e: AlertsEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Reads the alerts and the recorded firings again (each resync: firings while away are in the history). */
  async refresh(): Promise<void> {
    const [list, history] = await Promise.all([this.opts.client.get('/api/qtrade/alerts'), this.opts.client.get('/api/qtrade/alerts/history', { limit: this.limit })]);
    this.items = arr(list, 'alerts').map((x, i) => alertFromJson(x, `alerts[${i}]`));
    this.firings = arr(history, 'history').map((x, i) => firingFromJson(x, `history[${i}]`));
    this.emit({ kind: 'changed' });
  }

  /** A firing from the daemon's `alerts` stream. */
  fired(data: unknown): void {
    const f = firingFromJson(data, 'alerts stream');
    if (!this.firings.some((x) => x.id === f.id)) this.firings = [...this.firings.slice(-(this.limit - 1)), f];
    this.emit({ kind: 'fired', firing: f });
    // Its count, last firing and (for a once alert) status changed.
    this.refreshList().catch((err: unknown) => this.emit({ kind: 'notice', level: 'warn', message: `could not read the daemon's alerts: ${(err as Error)?.message ?? String(err)}` }));
  }

  close(): void {
    this.listeners.clear();
  }

  private async refreshList(): Promise<void> {
    const list = await this.opts.client.get('/api/qtrade/alerts');
    this.items = arr(list, 'alerts').map((x, i) => alertFromJson(x, `alerts[${i}]`));
    this.emit({ kind: 'changed' });
  }

  private emit(e: AlertsEvent): void {
    for (const l of [...this.listeners]) l(e);
  }
}

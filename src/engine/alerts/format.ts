import { modeText, type AlertFiring, type AlertMode, type AlertStatus, type NotifyChannel } from './types.js';
import type { AlertView } from './service.js';

/** An alert as JSON (CLI --json, the daemon's API, the TUI): times in ms, null where absent. */
export interface AlertJson {
  id: string;
  symbol: string;
  condition: string;
  mode: AlertMode['kind'];
  cooldownMs: number | null;
  expiresAt: number | null;
  notify: NotifyChannel[];
  createdAt: number;
  status: AlertStatus;
  fired: number;
  lastFiredAt: number | null;
}

export function alertJson(v: AlertView): AlertJson {
  const a = v.record.alert;
  return {
    id: a.id,
    symbol: a.symbol,
    condition: a.condition,
    mode: a.mode.kind,
    cooldownMs: a.mode.kind === 'every' ? a.mode.cooldownMs : null,
    expiresAt: a.expiresAt ?? null,
    notify: a.notify,
    createdAt: a.createdAt,
    status: v.status,
    fired: v.record.fired,
    lastFiredAt: v.record.lastFiredAt ?? null,
  };
}

export function firingJson(f: AlertFiring): Record<string, unknown> {
  return {
    id: f.id,
    alertId: f.alertId,
    n: f.n,
    symbol: f.symbol,
    condition: f.condition,
    time: f.time,
    message: f.message,
    notify: f.notify,
    ...(f.test ? { test: true } : {}),
  };
}

/** "a12 BTCUSDT price > 70000 (once; tui, webhook)". */
export function alertLine(v: AlertView): string {
  const a = v.record.alert;
  return `${a.id} ${a.symbol} ${a.condition} (${modeText(a.mode)}; ${a.notify.join(', ')})`;
}

/** "2024-08-08 23:58:01.123 UTC". */
export function utcMillis(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

/** "[a12.1] 2024-08-08 23:58:01.123 UTC BTCUSDT price > 61000: price 61000.01". */
export function firingLine(f: AlertFiring): string {
  return `[${f.id}] ${utcMillis(f.time)} ${f.message}`;
}

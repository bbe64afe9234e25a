/**
 * Alert value types shared by the alert engine, its durable log, the delivery edge and the UIs.
 * Times are exchange event times (ms) except `createdAt` and `expiresAt`, which the caller that
 * adds an alert sets (the CLI and the daemon use the local clock: no market event stands behind a
 * user's request); the engine only ever compares them with event time.
 */

export const NOTIFY_CHANNELS = ['tui', 'webhook', 'telegram'] as const;
/** Where a firing goes: the bus ('alert.fired', which the TUI shows), a webhook, Telegram. */
export type NotifyChannel = (typeof NOTIFY_CHANNELS)[number];

/**
 * once: the first firing ends the alert. every: every crossing, but at most once per `cooldownMs`
 * of event time. until-cancelled: every crossing, no cool-down, until removed or expired.
 */
export type AlertMode = { kind: 'once' } | { kind: 'every'; cooldownMs: number } | { kind: 'until-cancelled' };

/** What a user asks for. `symbol` is a symbol or '*' (any symbol, for account conditions). */
export interface AlertSpec {
  symbol: string;
  /** The condition as typed; parsed again (against the symbol's scales) wherever it is evaluated. */
  condition: string;
  mode: AlertMode;
  /** The alert stops (unfired or not) once event time reaches this (ms); absent: no expiry. */
  expiresAt?: number;
  notify: NotifyChannel[];
}

export interface Alert extends AlertSpec {
  /** `a<seq>`: the durable log's sequence number of the event that added it. */
  id: string;
  createdAt: number;
}

/** An alert with what the durable log knows of its firings. */
export interface AlertRecord {
  alert: Alert;
  fired: number;
  lastFiredAt: number | undefined;
}

export type AlertStatus = 'active' | 'done' | 'expired';

/** One firing: what every channel delivers. `id` is unique and stable, for receivers to de-duplicate. */
export interface AlertFiring {
  /** `<alertId>.<n>` (a test notification: `<alertId>.test-<ms>`). */
  id: string;
  alertId: string;
  /** 1 for the alert's first firing, 2 for the second, … (0 for a test). */
  n: number;
  symbol: string;
  condition: string;
  /** Exchange event time of the crossing (ms). */
  time: number;
  /** One line for people: the symbol, the condition and the value that crossed. */
  message: string;
  notify: NotifyChannel[];
  test?: boolean;
}

/** `once` → "once", `every` → "every 5m", `until-cancelled` → "until cancelled". */
export function modeText(mode: AlertMode): string {
  if (mode.kind === 'once') return 'once';
  if (mode.kind === 'until-cancelled') return 'until cancelled';
  return `every ${durationText(mode.cooldownMs)}`;
}

/** 300000 → "5m", 5400000 → "1h30m", 1500 → "1.5s". */
export function durationText(ms: number): string {
  if (ms % 1000 !== 0) return `${ms / 1000}s`;
  let s = ms / 1000;
  const parts: string[] = [];
  for (const [unit, len] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (s >= len) {
      parts.push(`${Math.floor(s / len)}${unit}`);
      s %= len;
    }
  }
  return parts.join('') || '0s';
}

/** Whether an alert still runs at `now` (ms) given its log record. */
export function alertStatus(r: AlertRecord, now: number): AlertStatus {
  if (r.alert.mode.kind === 'once' && r.fired > 0) return 'done';
  if (r.alert.expiresAt !== undefined && now >= r.alert.expiresAt) return 'expired';
  return 'active';
}

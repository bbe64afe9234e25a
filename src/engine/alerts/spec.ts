import { UsageError } from '../errors.js';
import type { Instruments } from '../market/instruments.js';
import type { Condition } from './condition.js';
import { parseCondition } from './parse.js';
import { NOTIFY_CHANNELS, type AlertMode, type AlertSpec, type NotifyChannel } from './types.js';

/** An alert as a user gives it (CLI flags, an API body): text, validated here into an AlertSpec. */
export interface AlertInput {
  symbol: string;
  condition: string;
  once?: boolean;
  /** Cool-down: "5m", "1h". */
  every?: string;
  untilCancelled?: boolean;
  /** How long from now the alert lives: "24h". */
  expire?: string;
  /** Comma-separated channels: "tui,webhook,telegram". */
  notify?: string | string[];
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const MAX_DURATION_MS = 366 * 86_400_000;

/** "30s", "5m", "1h30m", "7d"; a UsageError naming `what` otherwise. */
export function parseAlertDuration(text: string, what: string): number {
  const t = text.trim().toLowerCase();
  const hint = 'use e.g. 30s, 5m, 1h30m, 24h or 7d';
  if (!/^(\d+(ms|s|m|h|d|w))+$/.test(t)) throw new UsageError(`${what} "${text}" is not a duration`, { hint });
  let ms = 0;
  for (const m of t.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) ms += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  if (ms < 1000 || ms > MAX_DURATION_MS) throw new UsageError(`${what} "${text}" must be from 1s to 366d`, { hint });
  return ms;
}

/** "tui,webhook" → ['tui', 'webhook']; unknown names are a UsageError listing the channels. */
export function parseNotify(value: string | readonly string[] | undefined): NotifyChannel[] {
  if (value === undefined) return ['tui'];
  const parts = (typeof value === 'string' ? value.split(',') : [...value]).map((s) => s.trim().toLowerCase()).filter(Boolean);
  const out: NotifyChannel[] = [];
  for (const p of parts) {
    if (!(NOTIFY_CHANNELS as readonly string[]).includes(p)) {
      throw new UsageError(`unknown notification channel "${p}"`, { hint: `channels are ${NOTIFY_CHANNELS.join(', ')} (comma-separated)` });
    }
    if (!out.includes(p as NotifyChannel)) out.push(p as NotifyChannel);
  }
  if (out.length === 0) throw new UsageError('--notify names no channel', { hint: `choose from ${NOTIFY_CHANNELS.join(', ')}` });
  return out;
}

export function parseMode(input: Pick<AlertInput, 'once' | 'every' | 'untilCancelled'>): AlertMode {
  const given = [input.once ? '--once' : '', input.every !== undefined ? '--every' : '', input.untilCancelled ? '--until-cancelled' : ''].filter(Boolean);
  if (given.length > 1) throw new UsageError(`${given.join(' and ')} cannot be combined`, { hint: 'an alert fires once, every crossing with a cool-down (--every 5m), or every crossing until cancelled' });
  if (input.every !== undefined) return { kind: 'every', cooldownMs: parseAlertDuration(input.every, '--every') };
  if (input.untilCancelled) return { kind: 'until-cancelled' };
  return { kind: 'once' };
}

/** '*', 'any' or 'all' → '*' (account conditions on any symbol); otherwise the instrument's symbol. */
export function alertSymbol(symbol: string, instruments: Instruments): string {
  const s = symbol.trim();
  if (s === '*' || /^(any|all)$/i.test(s)) return '*';
  return instruments.get(s).symbol; // unknown → UsageError naming close matches
}

/**
 * Validates user input into an alert: a known symbol, a condition that parses against its scales
 * (ConditionError with a caret otherwise), the mode, the expiry counted from `now` and the channels.
 */
export function alertSpecFrom(input: AlertInput, instruments: Instruments, now: number): { spec: AlertSpec; condition: Condition } {
  const symbol = alertSymbol(input.symbol, instruments);
  const text = input.condition.trim().replace(/\s+/g, ' ');
  const condition = parseCondition(text, {
    instrument: symbol === '*' ? undefined : instruments.get(symbol),
    lookup: (s) => (instruments.has(s) ? instruments.get(s) : undefined),
    symbols: () => instruments.all().map((i) => i.symbol),
  });
  const mode = parseMode(input);
  const spec: AlertSpec = { symbol, condition: text, mode, notify: parseNotify(input.notify) };
  if (input.expire !== undefined) spec.expiresAt = now + parseAlertDuration(input.expire, '--expire');
  return { spec, condition };
}

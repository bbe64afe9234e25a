import type { Command } from 'commander';
import type { Settings } from '../config/resolve.js';
import { UsageError } from '../engine/errors.js';
import type { Channel } from '../engine/market/source.js';
import { settingsFor } from './context.js';

/** Parsers of user input shared by the commands: each turns a flag's text into a value or a UsageError. */

export const CHANNELS: readonly Channel[] = ['aggTrade', 'trade', 'kline_1m', 'bookTicker', 'depth', 'miniTicker'];

export function isChannel(s: string): s is Channel {
  return (CHANNELS as readonly string[]).includes(s);
}

const TIME_HINT = 'use a date (2024-08-08), a date and time (2024-08-08T23:55, UTC unless it names a zone), epoch milliseconds (13 digits), or "now"';
const TIME_RE = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * A user-given time in ms: "now", epoch milliseconds, or an ISO date / date-time (UTC unless it
 * names a zone). Numbers under 12 digits are refused: they are epoch seconds or typos far more
 * often than milliseconds into 1970-73.
 */
export function parseTime(s: string, flag: string, now: () => number = Date.now): number {
  const t = s.trim();
  if (t.toLowerCase() === 'now') return now();
  if (/^\d{12,}$/.test(t)) return Number(t);
  const m = TIME_RE.exec(t);
  if (m) {
    const day = Date.parse(`${m[1]}T00:00Z`);
    // Date.parse rolls 2024-02-30 over into March; refuse days that do not exist.
    const realDay = !Number.isNaN(day) && new Date(day).toISOString().slice(0, 10) === m[1];
    const ms = Date.parse(`${m[1]}T${m[2] ?? '00:00'}${m[3] ?? 'Z'}`);
    if (realDay && !Number.isNaN(ms)) return ms;
  }
  throw new UsageError(`${flag} "${s}" is not a date or time`, { hint: TIME_HINT });
}

/** A positive whole number, or undefined when the flag was not given. */
export function parseLimit(s: string | undefined, flag = '--limit'): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!/^\d+$/.test(s.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`${flag} "${s}" is not a positive whole number`, { hint: `e.g. ${flag} 100` });
  }
  return n;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "10m", "1h30m", "500ms", "2.5s" in ms; a bare number is seconds. */
export function parseDuration(s: string, flag = '--duration'): number {
  const hint = 'use e.g. 30s, 10m, 1h30m or a number of seconds';
  const t = s.trim().toLowerCase();
  let total = 0;
  if (/^\d+(\.\d+)?$/.test(t)) total = Number(t) * 1000;
  else {
    const re = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)/;
    let rest = t;
    while (rest.length > 0 || t === '') {
      const m = re.exec(rest);
      if (!m) throw new UsageError(`${flag} "${s}" is not a duration`, { hint });
      total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
      rest = rest.slice(m[0].length);
    }
  }
  const ms = Math.round(total);
  if (ms < 1) throw new UsageError(`${flag} "${s}" must be longer than zero`, { hint });
  return ms;
}

/** Comma-separated channel names, deduplicated, in the order given. */
export function parseChannels(list: string, flag = '--channels'): Channel[] {
  const out: Channel[] = [];
  for (const raw of list.split(',')) {
    const c = raw.trim();
    if (!c) continue;
    if (!isChannel(c)) throw new UsageError(`unknown channel "${c}"`, { hint: `channels are ${CHANNELS.join(', ')}` });
    if (!out.includes(c)) out.push(c);
  }
  if (out.length === 0) throw new UsageError(`${flag} names no channel`, { hint: `choose from ${CHANNELS.join(', ')}` });
  return out;
}

/** Comma-separated symbols, uppercased and deduplicated; whether they exist is the instruments' call. */
export function parseSymbols(list: string, flag = '--symbols'): string[] {
  const syms = [...new Set(list.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean))];
  if (syms.length === 0 || syms.some((s) => !/^[A-Z0-9]+$/.test(s))) {
    throw new UsageError(`${flag} "${list}" must be comma-separated symbols like btcusdt,ethusdt`);
  }
  return syms;
}

/** A replay pace: a positive multiple of the recorded one ("10", "10x", "0.5") or "max". */
export function parseSpeed(s: string, flag = '--speed'): number | 'max' {
  const t = s.trim().toLowerCase();
  if (t === 'max') return 'max';
  const n = Number(t.replace(/x$/, ''));
  if (t === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`${flag} "${s}" is neither a positive number nor "max"`, { hint: `e.g. ${flag} 10 or ${flag} max` });
  }
  return n;
}

/**
 * Settings of a command that has its own --no-store: that flag shadows the global --store URL
 * in optsWithGlobals, so the URL is read from the root program.
 */
export function settingsWithNoStore(cmd: Command): Settings {
  const storeUrl = ((cmd.parent ?? cmd).opts() as { store?: string }).store;
  return settingsFor(cmd, { store: storeUrl });
}

import { ParseError, UsageError } from '../errors.js';
import { formatFixed, parseFixedBig } from '../fixed.js';
import { AMOUNT_SCALE, type Amount } from '../orders/types.js';
import { formatWindow } from './format.js';

/**
 * Risk limits: one global set and one set per symbol. Every value is exact (amounts are bigints at
 * AMOUNT_SCALE, the band a bigint percent at PCT_SCALE), parsed from and printed as the decimal
 * strings the CLI takes (`qtrade risk set maxOrderNotional 10000 --symbol BTCUSDT`), and stored as
 * those same strings in JSON.
 *
 * What a global value means depends on the key (see LIMIT_KEYS):
 *  - 'default' keys (maxOrderNotional, maxPositionNotional, priceBandPct) are limits of ONE order or
 *    ONE symbol; the global value applies to every symbol that has no value of its own, in that
 *    symbol's quote asset (a global maxOrderNotional of 10000 is 10,000 USDT on BTCUSDT and
 *    10,000 BTC on ETHBTC). A symbol's own value replaces it, looser or stricter.
 *  - 'total' keys (maxOpenOrders, orderRate, dailyLossLimit) are account-wide totals; the global and
 *    the symbol's own limit both apply. The global dailyLossLimit sums the realized PnL of all symbols
 *    sharing a quote asset and compares each quote asset's sum with the limit.
 *  - 'symbol' keys (maxPositionQty, in base units) exist only per symbol.
 */

/** Decimals of priceBandPct: 0.0001 %. */
export const PCT_SCALE = 4;

/** Store key under which the service keeps the encoded limits (store.getState/setState). */
export const RISK_LIMITS_STATE_KEY = 'risk.limits';

export interface OrderRate {
  /** Orders admitted per window, at least 1. */
  count: number;
  /** Rolling window length, exchange event time, ms. */
  windowMs: number;
}

export interface LimitSet {
  /** Max price × qty of one order, quote asset. */
  maxOrderNotional?: Amount;
  /** Max |position| in base units, counting every open order on the side that grows it. */
  maxPositionQty?: Amount;
  /** Max |position| × price in quote, counting open orders as maxPositionQty does. */
  maxPositionNotional?: Amount;
  /** Max open (resting or untriggered) orders. */
  maxOpenOrders?: number;
  /** Max orders admitted per rolling window of event time. */
  orderRate?: OrderRate;
  /** Max distance of a limit price from its reference, percent raw at PCT_SCALE (5 % = 50000n). */
  priceBandPct?: bigint;
  /** Realized loss in a UTC day (event time) at which only reducing orders are admitted, quote asset. */
  dailyLossLimit?: Amount;
}

export type RiskLimitKey = keyof LimitSet;

export interface RiskLimits {
  global: LimitSet;
  /** By upper-case symbol. */
  symbols: Record<string, LimitSet>;
}

type Scope = 'default' | 'total' | 'symbol';

interface KeySpec {
  scope: Scope;
  /** What a value looks like, for usage errors and `risk show`. */
  example: string;
  unit: string;
}

export const LIMIT_KEYS: Readonly<Record<RiskLimitKey, KeySpec>> = {
  maxOrderNotional: { scope: 'default', example: '10000', unit: 'quote amount per order' },
  maxPositionQty: { scope: 'symbol', example: '0.5', unit: 'base quantity, needs --symbol' },
  maxPositionNotional: { scope: 'default', example: '50000', unit: 'quote amount' },
  maxOpenOrders: { scope: 'total', example: '20', unit: 'orders' },
  orderRate: { scope: 'total', example: '10/1s', unit: 'orders per window (ms, s, m, h)' },
  priceBandPct: { scope: 'default', example: '5', unit: 'percent from the last trade' },
  dailyLossLimit: { scope: 'total', example: '1000', unit: 'quote amount of realized loss per UTC day' },
};

export const RISK_LIMIT_KEYS = Object.keys(LIMIT_KEYS) as RiskLimitKey[];

/** Values that remove a limit. */
const OFF = new Set(['off', 'none', 'unset']);

export function isRiskLimitKey(s: string): s is RiskLimitKey {
  return Object.prototype.hasOwnProperty.call(LIMIT_KEYS, s);
}

export function emptyLimits(): RiskLimits {
  return { global: {}, symbols: {} };
}

function keyList(): string {
  return RISK_LIMIT_KEYS.map((k) => `${k} (${LIMIT_KEYS[k].unit}, e.g. ${LIMIT_KEYS[k].example})`).join(', ');
}

function bad(key: RiskLimitKey, value: string, why: string): UsageError {
  return new UsageError(`invalid ${key} "${value}": ${why}`, {
    hint: `${key} takes a ${LIMIT_KEYS[key].unit}, e.g. \`qtrade risk set ${key} ${LIMIT_KEYS[key].example}\`; "off" removes it`,
  });
}

function positiveAmount(key: RiskLimitKey, value: string): Amount {
  let a: Amount;
  try {
    a = parseFixedBig(value, AMOUNT_SCALE);
  } catch {
    throw bad(key, value, `not a plain decimal with at most ${AMOUNT_SCALE} decimals (no separators or units)`);
  }
  if (a <= 0n) throw bad(key, value, 'must be greater than 0');
  return a;
}

const RATE = /^(\d{1,9})\s*\/\s*(\d{0,9})\s*(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const MAX_WINDOW_MS = 86_400_000;

/** Parses a CLI/JSON value for `key`; throws UsageError naming the expected form. */
export function parseLimitValue<K extends RiskLimitKey>(key: K, value: string): NonNullable<LimitSet[K]>;
export function parseLimitValue(key: RiskLimitKey, value: string): NonNullable<LimitSet[RiskLimitKey]> {
  const v = value.trim();
  switch (key) {
    case 'maxOrderNotional':
    case 'maxPositionQty':
    case 'maxPositionNotional':
    case 'dailyLossLimit':
      return positiveAmount(key, v);
    case 'maxOpenOrders': {
      if (!/^\d{1,9}$/.test(v)) throw bad(key, value, 'must be a whole number of orders');
      return Number(v);
    }
    case 'orderRate': {
      const m = RATE.exec(v);
      if (!m) throw bad(key, value, 'expected COUNT/WINDOW such as 10/1s, 100/1m or 5/500ms');
      const count = Number(m[1]);
      const windowMs = Number(m[2] === '' ? '1' : m[2]) * UNIT_MS[m[3]!]!;
      if (count < 1) throw bad(key, value, 'the count must be at least 1');
      if (windowMs < 1 || windowMs > MAX_WINDOW_MS) throw bad(key, value, 'the window must be between 1ms and 24h');
      return { count, windowMs };
    }
    case 'priceBandPct': {
      let pct: bigint;
      try {
        pct = parseFixedBig(v.endsWith('%') ? v.slice(0, -1).trim() : v, PCT_SCALE);
      } catch {
        throw bad(key, value, `not a percentage with at most ${PCT_SCALE} decimals`);
      }
      if (pct <= 0n) throw bad(key, value, 'must be greater than 0');
      return pct;
    }
  }
}

/** The canonical string for a value; parseLimitValue(key, formatLimitValue(key, v)) equals v. */
export function formatLimitValue<K extends RiskLimitKey>(key: K, value: NonNullable<LimitSet[K]>): string;
export function formatLimitValue(key: RiskLimitKey, value: NonNullable<LimitSet[RiskLimitKey]>): string {
  switch (key) {
    case 'maxOrderNotional':
    case 'maxPositionQty':
    case 'maxPositionNotional':
    case 'dailyLossLimit':
      return formatFixed(value as bigint, AMOUNT_SCALE, 0);
    case 'maxOpenOrders':
      return String(value);
    case 'orderRate': {
      const r = value as OrderRate;
      return `${r.count}/${formatWindow(r.windowMs)}`;
    }
    case 'priceBandPct':
      return formatFixed(value as bigint, PCT_SCALE, 0);
  }
}

/** Upper-cases and checks a symbol given with --symbol. */
export function normalizeSymbol(symbol: string): string {
  const s = symbol.trim().toUpperCase();
  if (!/^[A-Z0-9]{2,30}$/.test(s)) {
    throw new UsageError(`invalid symbol "${symbol}"`, { hint: 'give a Binance symbol such as BTCUSDT' });
  }
  return s;
}

/**
 * `qtrade risk set KEY VALUE [--symbol S]`: returns new limits with one value set, or removed when
 * VALUE is "off". Never mutates `limits`. Throws UsageError for an unknown key (listing the valid
 * ones), a bad value, or a per-symbol key given without a symbol.
 */
export function setLimit(limits: RiskLimits, key: string, value: string, symbol?: string): RiskLimits {
  if (!isRiskLimitKey(key)) {
    throw new UsageError(`unknown risk limit "${key}"`, { hint: `valid keys: ${keyList()}` });
  }
  const sym = symbol === undefined ? undefined : normalizeSymbol(symbol);
  if (sym === undefined && LIMIT_KEYS[key].scope === 'symbol') {
    throw new UsageError(`${key} is per symbol (${LIMIT_KEYS[key].unit})`, {
      hint: `add --symbol, e.g. \`qtrade risk set ${key} ${LIMIT_KEYS[key].example} --symbol BTCUSDT\``,
    });
  }
  const off = OFF.has(value.trim().toLowerCase());
  const parsed = off ? undefined : parseLimitValue(key, value);
  const next: RiskLimits = { global: { ...limits.global }, symbols: { ...limits.symbols } };
  const target: LimitSet = sym === undefined ? next.global : { ...(next.symbols[sym] ?? {}) };
  if (parsed === undefined) delete target[key];
  else (target as Record<string, unknown>)[key] = parsed;
  if (sym !== undefined) {
    if (Object.keys(target).length === 0) delete next.symbols[sym];
    else next.symbols[sym] = target;
  }
  return next;
}

export interface LimitRow {
  /** 'global' or a symbol. */
  scope: string;
  key: RiskLimitKey;
  /** Canonical value string, as `risk set` takes it. */
  value: string;
}

/** Every set limit, global first, then symbols alphabetically, keys in LIMIT_KEYS order: `risk show`. */
export function listLimits(limits: RiskLimits): LimitRow[] {
  const rows: LimitRow[] = [];
  const add = (scope: string, set: LimitSet): void => {
    for (const key of RISK_LIMIT_KEYS) {
      const v = set[key];
      if (v !== undefined) rows.push({ scope, key, value: formatLimitValue(key, v as never) });
    }
  };
  add('global', limits.global);
  for (const s of Object.keys(limits.symbols).sort()) add(s, limits.symbols[s]!);
  return rows;
}

const VERSION = 1;

function encodeSet(set: LimitSet): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of RISK_LIMIT_KEYS) {
    const v = set[key];
    if (v !== undefined) out[key] = formatLimitValue(key, v as never);
  }
  return out;
}

/** JSON for store.setState(RISK_LIMITS_STATE_KEY, …): values as the CLI's decimal strings. */
export function encodeLimits(limits: RiskLimits): string {
  const symbols: Record<string, Record<string, string>> = {};
  for (const s of Object.keys(limits.symbols).sort()) symbols[s] = encodeSet(limits.symbols[s]!);
  return JSON.stringify({ version: VERSION, global: encodeSet(limits.global), symbols });
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const STORED_HINT = 'fix it with `qtrade risk set`, or clear it with `qtrade risk set KEY off`';

function decodeSet(x: unknown, where: string): LimitSet {
  if (!isObject(x)) throw new ParseError(`stored risk limits: ${where} is not an object`, { hint: STORED_HINT });
  const set: LimitSet = {};
  for (const [k, v] of Object.entries(x)) {
    if (!isRiskLimitKey(k)) throw new ParseError(`stored risk limits: unknown key "${k}" in ${where}`, { hint: STORED_HINT });
    if (typeof v !== 'string') throw new ParseError(`stored risk limits: ${where}.${k} is not a string`, { hint: STORED_HINT });
    try {
      (set as Record<string, unknown>)[k] = parseLimitValue(k, v);
    } catch (err) {
      throw new ParseError(`stored risk limits: ${where}.${k}: ${(err as Error).message}`, { hint: STORED_HINT, cause: err });
    }
  }
  return set;
}

/** Parses and validates what encodeLimits wrote; ParseError on anything else. */
export function decodeLimits(json: string): RiskLimits {
  let x: unknown;
  try {
    x = JSON.parse(json);
  } catch (err) {
    throw new ParseError('stored risk limits are not JSON', { hint: STORED_HINT, cause: err });
  }
  if (!isObject(x) || x.version !== VERSION) {
    throw new ParseError(`stored risk limits: expected an object with version ${VERSION}`, { hint: STORED_HINT });
  }
  const global = decodeSet(x.global ?? {}, 'global');
  if (global.maxPositionQty !== undefined) {
    throw new ParseError('stored risk limits: maxPositionQty is per symbol, found in global', { hint: STORED_HINT });
  }
  const symbols: Record<string, LimitSet> = {};
  const rawSymbols = x.symbols ?? {};
  if (!isObject(rawSymbols)) throw new ParseError('stored risk limits: symbols is not an object', { hint: STORED_HINT });
  for (const [s, set] of Object.entries(rawSymbols)) {
    let sym: string;
    try {
      sym = normalizeSymbol(s);
    } catch (err) {
      throw new ParseError(`stored risk limits: ${(err as Error).message}`, { hint: STORED_HINT, cause: err });
    }
    symbols[sym] = decodeSet(set, sym);
  }
  return { global, symbols };
}

import type { AlertJson } from '../engine/alerts/format.js';
import { NOTIFY_CHANNELS, type AlertFiring, type NotifyChannel } from '../engine/alerts/types.js';
import type { Proposal, ProposalStatus } from '../engine/ai/proposals.js';
import { INTERVALS, type Interval } from '../engine/candles/types.js';
import { ParseError } from '../engine/errors.js';
import { parseFixed } from '../engine/fixed.js';
import { arr, int, obj, str } from '../engine/market/binance/rest-parse.js';
import type { Instrument } from '../engine/market/types.js';
import { parseAmount } from '../engine/orders/amounts.js';
import type { Amount } from '../engine/orders/types.js';
import type { LiveStatus, StrategyPnl } from '../engine/strategy/manager.js';
import type { BacktestJobResult } from '../server/backtest-worker.js';
import type { BacktestJob } from '../server/backtest-jobs.js';

/**
 * Decoders for the daemon's answers that client/wire.ts does not carry: live strategies
 * (liveStrategyJson), backtest jobs, alerts and firings (alertJson, firingJson), the assistant's
 * proposals, /health and the /metrics exposition. Strict where the client computes with a value
 * (amounts, prices, ids, statuses); a field that does not fit is a ParseError naming its path.
 */

function oneOf<T extends string>(v: unknown, values: readonly T[], what: string): T {
  const s = str(v, what);
  if (!(values as readonly string[]).includes(s)) throw new ParseError(`${what}: "${s}" is not one of ${values.join(', ')}`);
  return s as T;
}

function amount(v: unknown, what: string): Amount {
  const s = str(v, what);
  try {
    return parseAmount(s);
  } catch (err) {
    throw new ParseError(`${what}: ${(err as Error).message}`, { cause: err });
  }
}

const optional = <T>(v: unknown, read: (x: unknown) => T): T | undefined => (v === null || v === undefined ? undefined : read(v));
const num = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ParseError(`${what}: expected a number`);
  return v;
};

// ------------------------------------------------------------------ strategies

/** A live strategy as GET /api/qtrade/strategies lists it, with its position's numbers exact. */
export interface LiveStrategyReply {
  id: string;
  strategy: string;
  source: string;
  symbol: string;
  interval: Interval;
  params: Record<string, unknown>;
  status: LiveStatus;
  error: { message: string; callback: string; time: number } | undefined;
  orders: number;
  openOrders: number;
  fills: number;
  candles: number;
  position: StrategyPnl;
  logs: Array<{ time: number; level: 'info' | 'warn' | 'error'; msg: string }>;
}

/** liveStrategyJson back; `instrument` gives the scale its mark was printed at. */
export function liveStrategyFromJson(x: unknown, instrument: (symbol: string) => Instrument | undefined, what = 'strategy'): LiveStrategyReply {
  const o = obj(x, what);
  const symbol = str(o.symbol, `${what}.symbol`);
  const p = obj(o.position, `${what}.position`);
  const inst = instrument(symbol);
  const mark = optional(p.mark, (m) => {
    if (!inst) throw new ParseError(`${what}.position.mark: no instrument known for ${symbol}`);
    return parseFixed(str(m, `${what}.position.mark`), inst.priceScale);
  });
  const e = optional(o.error, (v) => obj(v, `${what}.error`));
  return {
    id: str(o.id, `${what}.id`),
    strategy: str(o.strategy, `${what}.strategy`),
    source: str(o.source, `${what}.source`),
    symbol,
    interval: oneOf(o.interval, INTERVALS, `${what}.interval`),
    params: obj(o.params, `${what}.params`),
    status: oneOf(o.status, ['running', 'paused', 'stopped'] as const, `${what}.status`),
    error: e && { message: str(e.message, `${what}.error.message`), callback: str(e.callback, `${what}.error.callback`), time: int(e.time, `${what}.error.time`) },
    orders: int(o.orders, `${what}.orders`),
    openOrders: int(o.openOrders, `${what}.openOrders`),
    fills: int(o.fills, `${what}.fills`),
    candles: int(o.candles, `${what}.candles`),
    position: {
      symbol,
      baseAsset: str(p.baseAsset, `${what}.position.baseAsset`),
      quoteAsset: str(p.quoteAsset, `${what}.position.quoteAsset`),
      priceScale: inst?.priceScale ?? 8,
      qty: amount(p.qty, `${what}.position.qty`),
      cost: amount(p.cost, `${what}.position.cost`),
      avgEntry: amount(p.avgEntry, `${what}.position.avgEntry`),
      realizedPnl: amount(p.realizedPnl, `${what}.position.realizedPnl`),
      fees: amount(p.fees, `${what}.position.fees`),
      mark,
      unrealizedPnl: optional(p.unrealizedPnl, (v) => amount(v, `${what}.position.unrealizedPnl`)),
    },
    logs: arr(o.logs ?? [], `${what}.logs`).map((l, i) => {
      const lo = obj(l, `${what}.logs[${i}]`);
      return { time: int(lo.time, `${what}.logs[${i}].time`), level: oneOf(lo.level, ['info', 'warn', 'error'] as const, `${what}.logs[${i}].level`), msg: str(lo.msg, `${what}.logs[${i}].msg`) };
    }),
  };
}

/** GET /api/qtrade/backtests?id=: the job, its result checked where a report computes with it. */
export function backtestJobFromJson(x: unknown, what = 'job'): BacktestJob {
  const o = obj(x, what);
  const job = o as unknown as BacktestJob;
  str(o.id, `${what}.id`);
  oneOf(o.status, ['queued', 'running', 'done', 'failed'] as const, `${what}.status`);
  num(o.progress, `${what}.progress`);
  if (o.error !== undefined) str(obj(o.error, `${what}.error`).message, `${what}.error.message`);
  if (o.result !== undefined) {
    const r = obj(o.result, `${what}.result`) as unknown as BacktestJobResult;
    const w = `${what}.result`;
    for (const k of ['strategy', 'symbol', 'data', 'model'] as const) str(r[k], `${w}.${k}`);
    oneOf(r.interval, INTERVALS, `${w}.interval`);
    for (const k of ['candles', 'trades', 'fills'] as const) int(r[k], `${w}.${k}`);
    obj(r.metrics, `${w}.metrics`);
    const eq = obj(r.equity, `${w}.equity`);
    for (const k of ['start', 'end', 'peak', 'trough'] as const) amount(eq[k], `${w}.equity.${k}`);
    arr(eq.curve, `${w}.equity.curve`).forEach((pt, i) => {
      const [t, v] = arr(pt, `${w}.equity.curve[${i}]`);
      int(t, `${w}.equity.curve[${i}][0]`);
      amount(v, `${w}.equity.curve[${i}][1]`);
    });
  }
  return job;
}

// ------------------------------------------------------------------ alerts

const channels = (v: unknown, what: string): NotifyChannel[] => arr(v, what).map((c, i) => oneOf(c, NOTIFY_CHANNELS, `${what}[${i}]`));

/** alertJson back. */
export function alertFromJson(x: unknown, what = 'alert'): AlertJson {
  const o = obj(x, what);
  const optInt = (k: string): number | null => (o[k] === null ? null : int(o[k], `${what}.${k}`));
  return {
    id: str(o.id, `${what}.id`),
    symbol: str(o.symbol, `${what}.symbol`),
    condition: str(o.condition, `${what}.condition`),
    mode: oneOf(o.mode, ['once', 'every', 'until-cancelled'] as const, `${what}.mode`),
    cooldownMs: optInt('cooldownMs'),
    expiresAt: optInt('expiresAt'),
    notify: channels(o.notify, `${what}.notify`),
    createdAt: int(o.createdAt, `${what}.createdAt`),
    status: oneOf(o.status, ['active', 'done', 'expired'] as const, `${what}.status`),
    fired: int(o.fired, `${what}.fired`),
    lastFiredAt: optInt('lastFiredAt'),
  };
}

/** firingJson back (also the `alerts` stream's payload, whose e/E keys are ignored). */
export function firingFromJson(x: unknown, what = 'firing'): AlertFiring {
  const o = obj(x, what);
  return {
    id: str(o.id, `${what}.id`),
    alertId: str(o.alertId, `${what}.alertId`),
    n: int(o.n, `${what}.n`),
    symbol: str(o.symbol, `${what}.symbol`),
    condition: str(o.condition, `${what}.condition`),
    time: int(o.time, `${what}.time`),
    message: str(o.message, `${what}.message`),
    notify: channels(o.notify, `${what}.notify`),
    ...(o.test === true ? { test: true } : {}),
  };
}

// ------------------------------------------------------------------ proposals

const PROPOSAL_STATUSES: readonly ProposalStatus[] = ['pending', 'approved', 'rejected', 'expired', 'failed'];

/** A proposal as GET /api/qtrade/proposals lists it: the fields a decision rests on are checked. */
export function proposalFromJson(x: unknown, what = 'proposal'): Proposal {
  const o = obj(x, what);
  str(o.id, `${what}.id`);
  oneOf(o.status, PROPOSAL_STATUSES, `${what}.status`);
  int(o.createdAt, `${what}.createdAt`);
  int(o.expiresAt, `${what}.expiresAt`);
  str(o.rationale, `${what}.rationale`);
  const order = obj(o.order, `${what}.order`);
  str(order.symbol, `${what}.order.symbol`);
  oneOf(order.side, ['BUY', 'SELL'] as const, `${what}.order.side`);
  for (const k of ['qty', 'quoteQty', 'limit', 'stop', 'type', 'tif'] as const) if (order[k] !== undefined) str(order[k], `${what}.order.${k}`);
  return o as unknown as Proposal;
}

// ------------------------------------------------------------------ health and metrics

export interface HealthReply {
  status: 'ok' | 'degraded' | 'down';
  reasons: string[];
  feed: { state: string; connected: boolean; attempt: number; lagMs: number | null; lastMessageAgeMs: number | null };
  uptimeSec: number;
  version: string;
  /** Probes by name (store, bus). */
  probes: Record<string, { ok: boolean; latencyMs: number; error?: string }>;
}

const HEALTH_KEYS = new Set(['status', 'reasons', 'feed', 'uptimeSec', 'version']);

export function healthFromJson(x: unknown, what = 'health'): HealthReply {
  const o = obj(x, what);
  const f = obj(o.feed, `${what}.feed`);
  const probes: HealthReply['probes'] = {};
  for (const [k, v] of Object.entries(o)) {
    if (HEALTH_KEYS.has(k)) continue;
    const p = obj(v, `${what}.${k}`);
    if (typeof p.ok !== 'boolean') throw new ParseError(`${what}.${k}.ok: expected true or false`);
    probes[k] = { ok: p.ok, latencyMs: num(p.latencyMs, `${what}.${k}.latencyMs`), ...(typeof p.error === 'string' ? { error: p.error } : {}) };
  }
  return {
    status: oneOf(o.status, ['ok', 'degraded', 'down'] as const, `${what}.status`),
    reasons: arr(o.reasons, `${what}.reasons`).map((r, i) => str(r, `${what}.reasons[${i}]`)),
    feed: {
      state: str(f.state, `${what}.feed.state`),
      connected: f.connected === true,
      attempt: int(f.attempt, `${what}.feed.attempt`),
      lagMs: f.lagMs === null ? null : num(f.lagMs, `${what}.feed.lagMs`),
      lastMessageAgeMs: f.lastMessageAgeMs === null ? null : num(f.lastMessageAgeMs, `${what}.feed.lastMessageAgeMs`),
    },
    uptimeSec: num(o.uptimeSec, `${what}.uptimeSec`),
    version: str(o.version, `${what}.version`),
    probes,
  };
}

/** One sample of the Prometheus text exposition (format 0.0.4): name, labels, value. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a /metrics answer; comment and malformed lines are skipped. */
export function metricSamples(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line.trim());
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (!Number.isNaN(value)) out.push({ name: m[1]!, labels, value });
  }
  return out;
}


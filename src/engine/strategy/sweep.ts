import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { QtradeError, UsageError } from '../errors.js';
import type { StrategyDefinition } from './api.js';
import type { Metrics } from './metrics.js';
import { resolveParams, type ParamSpec } from './params.js';
import { prepareSweep, type DataSpan, type FromWorker, type SweepJob, type SweepJobResult, type SweepSetup, type ToWorker } from './sweep-worker.js';

export type { DataSpan, SweepData, SweepJob, SweepJobResult, SweepSetup } from './sweep-worker.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStrategy = StrategyDefinition<any>;

export const MAX_COMBINATIONS = 10_000;

// ---------------------------------------------------------------------------------------------
// Grid

export interface SweepAxis {
  name: string;
  values: Array<number | string | boolean>;
}

const SPEC_HINT = 'e.g. --sweep fast=5..50:5 (from..to:step), --sweep mode=a,b (a list) or --sweep flag=true,false';

/** Rounds away binary noise from `from + i × step` (0.1 × 3 = 0.30000000000000004). */
function clean(x: number): number {
  return Number(x.toPrecision(12));
}

function checkNumber(strategy: string, name: string, spec: ParamSpec, v: number): number {
  resolveParams(strategy, { [name]: spec }, { [name]: v });
  return v;
}

/**
 * One `--sweep NAME=FROM..TO[:STEP]` (numbers; STEP defaults to the schema's step, else 1) or
 * `--sweep NAME=A,B,C` (any type), checked against the strategy's schema: the name must exist
 * and every value must be one the param accepts.
 */
export function parseSweepSpec(strategy: AnyStrategy, text: string): SweepAxis {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`--sweep "${text}" is not NAME=FROM..TO:STEP`, { hint: SPEC_HINT });
  const name = text.slice(0, eq).trim();
  const body = text.slice(eq + 1).trim();
  // Unknown names get resolveParams' "did you mean".
  if (!Object.hasOwn(strategy.params, name)) resolveParams(strategy.name, strategy.params, { [name]: body });
  const spec = strategy.params[name] as ParamSpec;
  if (body.includes('..')) {
    if (spec.type !== 'number' && spec.type !== 'int') {
      throw new UsageError(`--sweep ${name}: a range needs a numeric param, ${name} is ${spec.type}`, {
        hint: spec.type === 'enum' ? `list the values: --sweep ${name}=${spec.values.join(',')}` : `list the values: --sweep ${name}=true,false`,
      });
    }
    const range = /^([^.:]*(?:\.\d+)?)\.\.([^:]*)(?::(.*))?$/.exec(body);
    const num = (x: string | undefined): number => (x === undefined || x.trim() === '' ? NaN : Number(x));
    const from = num(range?.[1]);
    const to = num(range?.[2]);
    const step = range?.[3] !== undefined ? num(range[3]) : (spec.step ?? 1);
    if (![from, to, step].every(Number.isFinite)) throw new UsageError(`--sweep "${text}" is not NAME=FROM..TO:STEP with numbers`, { hint: SPEC_HINT });
    if (!(step > 0)) throw new UsageError(`--sweep "${text}": the step must be above 0`, { hint: SPEC_HINT });
    if (from > to) throw new UsageError(`--sweep "${text}": ${from} is above ${to}`, { hint: `swap them: --sweep ${name}=${to}..${from}:${step}` });
    if (spec.type === 'int' && (!Number.isInteger(from) || !Number.isInteger(step))) {
      throw new UsageError(`--sweep "${text}": ${name} is an integer param, so FROM and STEP must be integers`, { hint: `e.g. --sweep ${name}=${Math.ceil(from)}..${Math.floor(to)}:${Math.max(1, Math.round(step))}` });
    }
    const n = Math.floor(clean((to - from) / step)) + 1;
    if (n > MAX_COMBINATIONS) throw new UsageError(`--sweep "${text}" gives ${n} values`, { hint: `use a larger step (at most ${MAX_COMBINATIONS} runs in all)` });
    const values: number[] = [];
    for (let i = 0; i < n; i++) values.push(checkNumber(strategy.name, name, spec, clean(from + i * step)));
    return { name, values };
  }
  const items = body.split(',').map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === '')) throw new UsageError(`--sweep "${text}" is not NAME=FROM..TO:STEP or NAME=A,B,...`, { hint: SPEC_HINT });
  if (new Set(items).size !== items.length) throw new UsageError(`--sweep "${text}" lists a value twice`, { hint: 'give each value once' });
  const values = items.map((raw) => resolveParams(strategy.name, { [name]: spec }, { [name]: raw })[name] as number | string | boolean);
  return { name, values };
}

export interface Grid {
  axes: SweepAxis[];
  /** Every combination the strategy accepts (its `validate`), in grid order: later axes vary fastest. */
  combos: Array<Record<string, unknown>>;
  /** Combinations `validate` refused (fast ≥ slow, ...): not run. */
  skipped: number;
  /** The first refusal, to show when nothing is left. */
  firstRefusal?: string;
}

/**
 * The cartesian product of the sweep axes over the fixed `--param` values. Refuses a param given
 * both ways, a param swept twice, and more than `max` combinations.
 */
export function buildGrid(strategy: AnyStrategy, specs: readonly string[], fixed: Record<string, string> = {}, max = MAX_COMBINATIONS): Grid {
  if (specs.length === 0) throw new UsageError('nothing to sweep', { hint: SPEC_HINT });
  const axes = specs.map((s) => parseSweepSpec(strategy, s));
  const seen = new Set<string>();
  for (const a of axes) {
    if (seen.has(a.name)) throw new UsageError(`--sweep names ${a.name} twice`, { hint: 'give each param one --sweep' });
    if (Object.hasOwn(fixed, a.name)) throw new UsageError(`${a.name} is both swept and fixed with --param`, { hint: `drop --param ${a.name}=… or --sweep ${a.name}=…` });
    seen.add(a.name);
  }
  const total = axes.reduce((n, a) => n * a.values.length, 1);
  if (total > max) {
    throw new UsageError(`the sweep has ${total.toLocaleString('en-US')} combinations (${axes.map((a) => `${a.values.length} ${a.name}`).join(' × ')}), more than ${max.toLocaleString('en-US')}`, {
      hint: 'use larger steps or narrower ranges, or sweep fewer params at once',
    });
  }
  const combos: Array<Record<string, unknown>> = [];
  let skipped = 0;
  let firstRefusal: string | undefined;
  const idx = axes.map(() => 0);
  for (let k = 0; k < total; k++) {
    const raw: Record<string, unknown> = { ...fixed };
    axes.forEach((a, i) => (raw[a.name] = a.values[idx[i]!]));
    const resolved = resolveParams(strategy.name, strategy.params, raw);
    const bad = strategy.validate?.(resolved);
    if (bad) {
      skipped++;
      firstRefusal ??= bad;
    } else combos.push(resolved);
    for (let i = axes.length - 1; i >= 0; i--) {
      if (++idx[i]! < axes[i]!.values.length) break;
      idx[i] = 0;
    }
  }
  return { axes, combos, skipped, ...(firstRefusal ? { firstRefusal } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Ranking

export const RANK_METRICS = ['sharpe', 'sortino', 'return', 'calmar', 'profitFactor', 'maxDrawdown'] as const;
export type RankMetric = (typeof RANK_METRICS)[number];

export function parseRankMetric(s: string | undefined): RankMetric {
  if (s === undefined) return 'sharpe';
  const m = RANK_METRICS.find((r) => r.toLowerCase() === s.trim().toLowerCase());
  if (!m) throw new UsageError(`--rank "${s}" is not a metric to rank by`, { hint: `one of ${RANK_METRICS.join(', ')}` });
  return m;
}

/** The metric's value; null when it is undefined for the run (no trades, no variance). */
export function metricValue(m: Metrics, metric: RankMetric): number | null {
  const v = metric === 'return' ? m.totalReturn : m[metric];
  return v === null || !Number.isFinite(v) ? null : v;
}

/**
 * Best first: higher is better except for maxDrawdown; runs without a value go last. Ties keep
 * grid order (the job id), so the ranking never depends on which worker finished first.
 */
export function rankResults<T extends { id: number; metrics: Metrics }>(results: readonly T[], metric: RankMetric): T[] {
  const sign = metric === 'maxDrawdown' ? 1 : -1;
  return [...results].sort((a, b) => {
    const va = metricValue(a.metrics, metric);
    const vb = metricValue(b.metrics, metric);
    if (va === null || vb === null) return va === vb ? a.id - b.id : va === null ? 1 : -1;
    return va === vb ? a.id - b.id : sign * (va - vb);
  });
}

// ---------------------------------------------------------------------------------------------
// Pool

export interface SweepPool {
  /** 'workers' when jobs run on worker threads, 'in-process' otherwise. */
  readonly mode: 'workers' | 'in-process';
  readonly size: number;
  /** The in-memory data's time span (null for a recording). */
  readonly span: DataSpan | null;
  /** Runs the jobs; results come back in the jobs' order. */
  run(jobs: readonly SweepJob[], onProgress?: (done: number, total: number) => void): Promise<SweepJobResult[]>;
  close(): Promise<void>;
}

export function defaultWorkers(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, n > 2 ? n - 1 : n);
}

export function parseWorkers(s: string | undefined): number {
  if (s === undefined) return defaultWorkers();
  const n = Number(s);
  if (!/^\d+$/.test(s.trim()) || n < 1 || n > 256) throw new UsageError(`--workers "${s}" is not a whole number from 1 to 256`, { hint: `e.g. --workers ${defaultWorkers()}` });
  return n;
}

/** The built worker script beside this module; absent when running from TS sources (vitest). */
function workerScript(): string | undefined {
  const url = new URL('./sweep-worker.js', import.meta.url);
  const file = fileURLToPath(url);
  return fs.existsSync(file) ? file : undefined;
}

function remoteError(e: { message: string; hint?: string; code?: string; usage?: boolean }): QtradeError {
  return e.usage ? new UsageError(e.message, e.hint ? { hint: e.hint } : {}) : new QtradeError(e.code ?? 'SWEEP', e.message, e.hint ? { hint: e.hint } : {});
}

async function inProcessPool(setup: SweepSetup): Promise<SweepPool> {
  const prepared = await prepareSweep(setup);
  return {
    mode: 'in-process',
    size: 1,
    span: prepared.span,
    async run(jobs, onProgress) {
      const out: SweepJobResult[] = [];
      for (const job of jobs) {
        out.push(await prepared.run(job));
        onProgress?.(out.length, jobs.length);
      }
      return out;
    },
    close: () => Promise.resolve(),
  };
}

/**
 * Starts `workers` threads that each load the strategy and the data once, then take jobs one at
 * a time. With one worker, or without the built worker script (TS sources under vitest), the
 * jobs run in this thread instead.
 */
export async function openSweepPool(setup: SweepSetup, opts: { workers: number }): Promise<SweepPool> {
  const script = workerScript();
  if (opts.workers <= 1 || script === undefined) return inProcessPool(setup);
  const threads: Worker[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(threads.map((w) => w.terminate()));
  };
  let span: DataSpan | null = null;
  try {
    const ready = Array.from({ length: opts.workers }, () => {
      const w = new Worker(script, { workerData: { qtradeSweep: setup } });
      threads.push(w);
      return new Promise<void>((resolve, reject) => {
        const onMsg = (m: FromWorker): void => {
          w.off('error', reject);
          w.off('message', onMsg);
          if ('ready' in m) {
            span = m.span;
            resolve();
          } else if ('error' in m) reject(remoteError(m.error));
          else reject(new QtradeError('SWEEP', 'a sweep worker answered before it was ready'));
        };
        w.on('message', onMsg);
        w.once('error', reject);
      });
    });
    await Promise.all(ready);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    mode: 'workers',
    size: threads.length,
    span,
    run(jobs, onProgress) {
      const results: SweepJobResult[] = new Array<SweepJobResult>(jobs.length);
      const byId = new Map<number, number>(jobs.map((j, i) => [j.id, i]));
      let next = 0;
      let done = 0;
      return new Promise((resolve, reject) => {
        let failed = false;
        const fail = (err: unknown): void => {
          if (failed) return;
          failed = true;
          for (const w of threads) w.removeAllListeners('message').removeAllListeners('error');
          reject(err);
        };
        const feed = (w: Worker): void => {
          if (failed || next >= jobs.length) return;
          w.postMessage({ job: jobs[next++]! } satisfies ToWorker);
        };
        if (jobs.length === 0) {
          resolve(results);
          return;
        }
        for (const w of threads) {
          w.on('message', (m: FromWorker) => {
            if ('error' in m) return fail(remoteError(m.error));
            if (!('result' in m)) return;
            results[byId.get(m.result.id)!] = m.result;
            done++;
            onProgress?.(done, jobs.length);
            if (done === jobs.length) {
              for (const t of threads) t.removeAllListeners('message').removeAllListeners('error');
              resolve(results);
            } else feed(w);
          });
          w.on('error', fail);
          feed(w);
        }
      });
    },
    close,
  };
}

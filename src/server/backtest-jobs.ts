import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { parseInterval } from '../engine/candles/intervals.js';
import type { Interval } from '../engine/candles/types.js';
import { validateSpec } from '../engine/ai/strategy-spec.js';
import { UsageError } from '../engine/errors.js';
import { bundledMarket } from '../engine/orders/bundled-filters.js';
import { parseRate } from '../engine/orders/fees.js';
import { parseBalanceSpec } from '../engine/orders/service.js';
import type { Amount } from '../engine/orders/types.js';
import { isStrategyFile, loadStrategy } from '../engine/strategy/load.js';
import { resolveParams } from '../engine/strategy/params.js';
import { DEFAULT_PAPER_BALANCES } from '../engine/trading.js';
import type { BacktestJobInput, BacktestJobResult, ToParent } from './backtest-worker.js';
import { ApiError } from './types.js';

/**
 * The daemon's backtest jobs: each runs `qtrade backtest`'s path on a worker thread; the API
 * polls status and progress. Jobs live in memory (a restart forgets them), at most `maxRunning`
 * at once (later ones wait as `queued`), and only the last `maxJobs` are kept.
 */

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

/** A backtest as the API takes it: `qtrade backtest`'s inputs. */
export interface BacktestRequest {
  /** A built-in name or a strategy file on the daemon host; or give `spec`. */
  strategy?: string;
  /** A declarative strategy spec (what the assistant writes: src/engine/ai/strategy-spec.ts), instead of `strategy`. */
  spec?: unknown;
  symbol?: string;
  interval?: string;
  params?: Record<string, unknown>;
  /** 'store' (default) or a data file path on the daemon host: a recording, or an aggTrades/trades/klines file. */
  data?: string;
  /** Epoch ms. */
  from?: number;
  to?: number;
  /** Store data without `from`: the latest n candles of the interval. */
  limit?: number;
  /** Starting balances such as "10000USDT"; default 10000 USDT. */
  balances?: string[];
  /** RATE or MAKER,TAKER (default 0.001). */
  fees?: string;
  /** Ticks a taker pays beyond the print where the book is synthetic; default 0. */
  slippage?: number;
}

export interface BacktestJob {
  id: string;
  status: JobStatus;
  /** 0..1: event time reached over the data's span; 1 when done. */
  progress: number;
  request: { strategy: string; symbol: string | null; interval: Interval; params: Record<string, unknown>; data: string };
  /** Wall-clock times (ms) for the operator, not event time. */
  submittedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  result?: BacktestJobResult;
  error?: { message: string; hint?: string };
}

export interface BacktestJobsOptions {
  /** The daemon's store, for `data: 'store'`. */
  storeUrl: string;
  /** Relative strategy and data paths resolve against this; default process.cwd(). */
  cwd?: string;
  /** Jobs running at once; default min(2, cores − 1), at least 1. */
  maxRunning?: number;
  /** Jobs kept (finished ones are dropped oldest first); default 50. */
  maxJobs?: number;
  wallNow?: () => number;
  onFinished?: (job: BacktestJob) => void;
}

interface Slot {
  job: BacktestJob;
  input: BacktestJobInput;
  worker?: Worker;
}

const here = import.meta.url;

/**
 * How to start the worker: the built backtest-worker.js beside this module; from TS sources (tests,
 * tsx) the .ts module through tsx's loader, so the job still leaves the event loop.
 */
function startWorker(input: BacktestJobInput): Worker {
  const js = fileURLToPath(new URL('./backtest-worker.js', here));
  const workerData = { qtradeBacktest: input };
  if (fs.existsSync(js)) return new Worker(js, { workerData });
  const ts = new URL('./backtest-worker.ts', here).href;
  // tsx's ESM API sits beside the CommonJS one its `require` export resolves to (the CommonJS
  // build's own tsImport cannot find its ESM half from a worker).
  const tsx = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const boot = `import(${JSON.stringify(tsx)}).then((api) => api.tsImport(${JSON.stringify(ts)}, ${JSON.stringify(here)})).catch((err) => {
  require('node:worker_threads').parentPort.postMessage({ error: { message: String((err && err.message) || err), usage: false } });
});`;
  return new Worker(boot, { eval: true, workerData });
}

function defaultRunning(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(2, n - 1));
}

function parseFees(s: string): { maker: string; taker: string } {
  const parts = s.split(/[,/]/).map((p) => p.trim());
  if (parts.length > 2 || parts.some((p) => p === '')) throw new UsageError(`fees "${s}" is not RATE or MAKER,TAKER`, { hint: 'e.g. "0.001" (0.1 %) or "0.0002,0.0005"' });
  for (const p of parts) parseRate(p);
  return { maker: parts[0]!, taker: parts[1] ?? parts[0]! };
}

function parseBalances(specs: readonly string[] | undefined): Record<string, Amount> {
  if (!specs || specs.length === 0) return { ...DEFAULT_PAPER_BALANCES };
  const out: Record<string, Amount> = {};
  for (const spec of specs) {
    const { asset, amount } = parseBalanceSpec(spec);
    if (asset in out) throw new UsageError(`balances name ${asset} twice`, { hint: 'give each asset once' });
    out[asset] = amount;
  }
  return out;
}

export class BacktestJobs {
  private readonly opts: BacktestJobsOptions;
  private readonly slots = new Map<string, Slot>();
  private readonly queue: Slot[] = [];
  private running = 0;
  private closed = false;
  private readonly maxRunning: number;
  private readonly maxJobs: number;

  constructor(opts: BacktestJobsOptions) {
    this.opts = opts;
    this.maxRunning = opts.maxRunning ?? defaultRunning();
    this.maxJobs = opts.maxJobs ?? 50;
  }

  /**
   * Checks the request (a built-in's params now; a file strategy's when its worker loads it, so
   * user code never runs on the daemon's thread) and starts or queues the job.
   */
  async submit(req: BacktestRequest): Promise<BacktestJob> {
    if (this.closed) throw new ApiError(503, -1001, 'Internal error; unable to process your request: the daemon is stopping.');
    const cwd = this.opts.cwd ?? process.cwd();
    const interval = parseInterval(req.interval ?? '1m');
    if (req.from !== undefined && req.to !== undefined && req.from > req.to) throw new UsageError('from is after to', { hint: 'swap them' });
    const fees = req.fees === undefined ? undefined : parseFees(req.fees);
    const slippage = req.slippage ?? 0;
    if (!Number.isSafeInteger(slippage) || slippage < 0 || slippage > 10_000) throw new UsageError(`slippage ${slippage} is not a whole number of ticks from 0 to 10000`);
    const initialBalances = parseBalances(req.balances);
    const market = bundledMarket();
    const symbol = req.symbol === undefined ? undefined : market.instruments.get(req.symbol).symbol;
    const params = req.params ?? {};
    if ((req.strategy === undefined) === (req.spec === undefined)) {
      throw new UsageError('give strategy (a built-in or a strategy file on the daemon host) or spec (a declarative strategy spec), one of them');
    }
    // A spec is data: checked here, compiled in the worker.
    const spec = req.spec === undefined ? undefined : validateSpec(req.spec);
    let strategy = spec?.name ?? req.strategy!;
    let name = strategy;
    if (spec) {
      if (Object.keys(params).length > 0) throw new UsageError('params apply to built-ins and strategy files; a spec carries its own settings');
    } else if (isStrategyFile(strategy)) {
      strategy = path.resolve(cwd, strategy);
      if (!fs.existsSync(strategy)) throw new UsageError(`no such strategy file on the daemon host: ${strategy}`, { hint: 'give a path the daemon can read (absolute paths are safest)' });
    } else {
      const { strategy: def } = await loadStrategy(strategy);
      name = def.name;
      const bad = def.validate?.(resolveParams(def.name, def.params, params));
      if (bad) throw new UsageError(`strategy ${def.name}: ${bad}`);
    }
    const dataSpec = req.data ?? 'store';
    let input: BacktestJobInput;
    const bounds = { ...(req.from === undefined ? {} : { from: req.from }), ...(req.to === undefined ? {} : { to: req.to }) };
    const common = { strategy, ...(spec ? { spec } : {}), cwd, ...(symbol ? { symbol } : {}), interval, params, ...(fees ? { fees } : {}), slippageTicks: slippage, initialBalances };
    if (dataSpec === 'store') {
      if (!symbol) throw new UsageError('which symbol?', { hint: 'give symbol, e.g. "BTCUSDT" (or a data file)' });
      input = { ...common, data: { kind: 'store', storeUrl: this.opts.storeUrl, ...bounds, ...(req.limit === undefined ? {} : { limit: req.limit }) } };
    } else {
      const file = path.resolve(cwd, dataSpec);
      if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
        throw new UsageError(`no such data file on the daemon host: ${file}`, { hint: 'give a recording (.jsonl.gz) or a data.binance.vision aggTrades/trades/klines file the daemon can read' });
      }
      input = { ...common, data: { kind: 'file', path: file, ...bounds } };
    }
    this.makeRoom();
    const now = this.wallNow();
    const job: BacktestJob = {
      id: `bt-${randomBytes(5).toString('hex')}`,
      status: 'queued',
      progress: 0,
      request: { strategy: name, symbol: symbol ?? null, interval, params, data: dataSpec === 'store' ? 'store' : input.data.kind === 'file' ? input.data.path : dataSpec },
      submittedAt: now,
      startedAt: null,
      finishedAt: null,
    };
    const slot: Slot = { job, input };
    this.slots.set(job.id, slot);
    this.queue.push(slot);
    this.pump();
    return job;
  }

  get(id: string): BacktestJob | undefined {
    return this.slots.get(id)?.job;
  }

  /** Newest first. */
  list(): BacktestJob[] {
    return [...this.slots.values()].map((s) => s.job).reverse();
  }

  /** Stops every worker; running and queued jobs fail with the reason. */
  async close(reason = 'the daemon stopped'): Promise<void> {
    this.closed = true;
    for (const s of this.queue.splice(0)) this.finish(s, { error: { message: reason } });
    await Promise.all(
      [...this.slots.values()].map(async (s) => {
        if (!s.worker) return;
        const w = s.worker;
        this.finish(s, { error: { message: reason } });
        await w.terminate();
      }),
    );
  }

  // ------------------------------------------------------------------ internals

  private wallNow(): number {
    return (this.opts.wallNow ?? Date.now)();
  }

  private makeRoom(): void {
    if (this.slots.size < this.maxJobs) return;
    for (const [id, s] of this.slots) {
      if (this.slots.size < this.maxJobs) return;
      if (s.job.status === 'done' || s.job.status === 'failed') this.slots.delete(id);
    }
    if (this.slots.size >= this.maxJobs) {
      throw new ApiError(429, -1003, `Too many backtest jobs: ${this.slots.size} are queued or running; wait for some to finish.`);
    }
  }

  private pump(): void {
    while (!this.closed && this.running < this.maxRunning && this.queue.length > 0) this.run(this.queue.shift()!);
  }

  private run(slot: Slot): void {
    const job = slot.job;
    job.status = 'running';
    job.startedAt = this.wallNow();
    this.running++;
    let w: Worker;
    try {
      w = startWorker(slot.input);
    } catch (err) {
      this.finish(slot, { error: { message: `could not start a worker thread: ${(err as Error).message}` } });
      return;
    }
    slot.worker = w;
    w.on('message', (m: ToParent) => {
      if ('progress' in m) {
        if (job.status === 'running') job.progress = m.progress;
      } else if ('done' in m) this.finish(slot, { result: m.done });
      else this.finish(slot, { error: { message: m.error.message, ...(m.error.hint ? { hint: m.error.hint } : {}) } });
    });
    w.on('error', (err) => this.finish(slot, { error: { message: `the backtest worker failed: ${err.message}` } }));
    w.on('exit', (code) => this.finish(slot, { error: { message: `the backtest worker exited (code ${code}) before it reported a result` } }));
  }

  private finish(slot: Slot, outcome: { result: BacktestJobResult } | { error: { message: string; hint?: string } }): void {
    const job = slot.job;
    if (job.status === 'done' || job.status === 'failed') return;
    const wasRunning = job.status === 'running';
    if ('result' in outcome) {
      job.status = 'done';
      job.progress = 1;
      job.result = outcome.result;
    } else {
      job.status = 'failed';
      job.error = outcome.error;
    }
    job.finishedAt = this.wallNow();
    const w = slot.worker;
    slot.worker = undefined;
    if (w) void w.terminate();
    if (wasRunning) this.running--;
    this.opts.onFinished?.(job);
    this.pump();
  }
}

import path from 'node:path';
import { QtradeError, UsageError } from '../../engine/errors.js';
import type { TradingNode } from '../../engine/node.js';
import { StrategyManager, type LiveStrategy, type StartStrategyOptions } from '../../engine/strategy/manager.js';
import { parseStoreUrl } from '../../engine/store/open.js';
import { BacktestJobs, type BacktestJob, type BacktestRequest } from '../../server/backtest-jobs.js';
import type { BacktestJobResult } from '../../server/backtest-worker.js';
import { reportFromJob } from './backtest-report.js';
import type { BacktestDataChoice, BacktestReport, StrategiesSource, StrategyTemplate, StrategyView } from './strategies.js';
import type { SystemLogLine } from './system.js';
import { builtinTemplates } from './templates.js';

export interface EmbeddedStrategiesOptions {
  /** The store URL of a node, for backtests on stored candles (a worker thread opens it too); none: no store choice. */
  storeUrl?: (node: TradingNode) => string | undefined;
  /** Recordings or data files offered as backtest data (a replay offers its own recording). */
  recordings?: readonly string[];
  /** Relative strategy and data paths resolve against this; default process.cwd(). */
  cwd?: string;
  /** Wall clock, for the times of lines that no event carries. */
  wallNow?: () => number;
  /** How often a running backtest's progress is read, ms; default 100. */
  pollMs?: number;
}

/** Engine log lines kept for the System panel. */
const MAX_LINES = 200;

function view(s: LiveStrategy): StrategyView {
  const { state: _state, logs: _logs, nextOrder: _next, ...rest } = s;
  return rest;
}

/**
 * Live strategies of an embedded TradingNode through the daemon's own StrategyManager (persisted
 * in the node's store, so strategies the daemon ran continue here while the TUI holds the account,
 * and the other way round), and backtests on a worker thread through the daemon's BacktestJobs,
 * so the dashboard keeps drawing while one runs.
 */
export class EmbeddedStrategies implements StrategiesSource {
  private node: TradingNode;
  private manager: StrategyManager;
  private readonly listeners = new Set<() => void>();
  private readonly lines: SystemLogLine[] = [];
  private readonly wallNow: () => number;
  private running: Promise<BacktestReport> | undefined;
  private jobs: BacktestJobs | undefined;

  constructor(
    node: TradingNode,
    private readonly opts: EmbeddedStrategiesOptions = {},
  ) {
    this.wallNow = opts.wallNow ?? Date.now;
    this.node = node;
    this.manager = this.open(node);
  }

  /** Starts the strategies persisted in the node's store; call before the node's feed starts. */
  async restore(): Promise<void> {
    await this.manager.restore();
    const live = this.manager.list().filter((s) => s.status !== 'stopped');
    if (live.length > 0) {
      this.note('info', `restored ${live.length} live strateg${live.length === 1 ? 'y' : 'ies'} of this account: ${live.map((s) => `${s.id} (${s.status})`).join(', ')}`);
      this.changed();
    }
  }

  /**
   * Moves to another node (a replay's next pass, with a fresh account): the strategies of the old
   * one start again there, from a fresh state. Call before the new node's feed starts.
   */
  async attach(node: TradingNode): Promise<void> {
    const carried = this.manager.list().filter((s) => s.status !== 'stopped');
    await this.manager.close();
    this.node = node;
    this.manager = this.open(node);
    for (const s of carried) {
      try {
        await this.manager.start({ strategy: s.source === 'builtin' ? s.strategy : s.source, symbol: s.symbol, interval: s.interval, params: s.params, id: s.id });
        this.note('info', `strategy ${s.id} started again on the fresh account`);
      } catch (err) {
        this.note('error', `strategy ${s.id} could not start again: ${(err as Error).message}`);
      }
    }
    this.changed();
  }

  /** Persists and detaches the live strategies (no onStop: they continue where the account opens next) and stops a running backtest. */
  async close(): Promise<void> {
    try {
      await this.manager.close();
    } finally {
      await this.jobs?.close('the TUI closed');
    }
  }

  /** Engine log lines (strategy starts, stops, pauses, errors, and the strategies' own log), newest last. */
  logLines(): SystemLogLine[] {
    const own = this.manager.list().flatMap((s) => s.logs.map((l) => ({ time: l.time, level: l.level, text: `${s.id}: ${l.msg}` })));
    return [...this.lines, ...own].sort((a, b) => a.time - b.time).slice(-MAX_LINES);
  }

  templates(): StrategyTemplate[] {
    return builtinTemplates();
  }

  list(): StrategyView[] {
    return this.manager.list().map(view);
  }

  async start(spec: StartStrategyOptions): Promise<StrategyView> {
    const s = await this.manager.start(spec);
    this.note('info', `strategy ${s.id} started: ${s.strategy} on ${s.symbol} ${s.interval}`);
    this.changed();
    return view(s);
  }

  async stop(id: string): Promise<StrategyView> {
    const s = await this.manager.stop(id);
    this.changed();
    return view(s);
  }

  async resume(id: string): Promise<StrategyView> {
    const s = await this.manager.resume(id);
    this.note('info', `strategy ${s.id} resumed`);
    this.changed();
    return view(s);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  backtestData(): BacktestDataChoice[] {
    // The session's own recording first: what the trader is looking at.
    const out: BacktestDataChoice[] = (this.opts.recordings ?? []).map((f) => {
      const recording = /\.jsonl(\.gz)?$/i.test(f);
      return { data: f, kind: recording ? 'recording' : 'file', label: `${recording ? 'recording' : 'file'} ${path.basename(f)}` };
    });
    if (this.storeUrl() !== undefined) out.push({ data: 'store', kind: 'store', label: 'store (1m candles)' });
    return out;
  }

  backtest(request: BacktestRequest, onProgress: (fraction: number) => void): Promise<BacktestReport> {
    if (this.running) return Promise.reject(new UsageError('a backtest is running already', { hint: 'wait for it to finish' }));
    const run = this.runJob(request, onProgress).finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  // ------------------------------------------------------------------ internals

  private open(node: TradingNode): StrategyManager {
    return new StrategyManager({
      node,
      ...(this.opts.cwd ? { cwd: this.opts.cwd } : {}),
      onStatus: (e) => {
        this.note(e.status === 'paused' ? 'warn' : 'info', `strategy ${e.id} ${e.status}${e.error ? ` after it threw in ${e.error.callback}: ${e.error.message}` : ''}`, e.error?.time);
        this.changed();
      },
      onError: (message, err) => this.note('error', `${message}: ${(err as Error)?.message ?? String(err)}`),
    });
  }

  private storeUrl(): string | undefined {
    const url = this.opts.storeUrl?.(this.node);
    if (url === undefined) return undefined;
    const loc = parseStoreUrl(url);
    // A worker thread cannot see another thread's in-memory database.
    return loc.kind === 'sqlite' && loc.file === ':memory:' ? undefined : url;
  }

  private async runJob(request: BacktestRequest, onProgress: (fraction: number) => void): Promise<BacktestReport> {
    const wantsStore = (request.data ?? 'store') === 'store';
    const storeUrl = this.storeUrl();
    if (wantsStore && storeUrl === undefined) {
      throw new UsageError('this session has no store to backtest on', { hint: 'choose a recording or data file instead' });
    }
    let finished!: (job: BacktestJob) => void;
    const done = new Promise<BacktestJob>((resolve) => (finished = resolve));
    const jobs = new BacktestJobs({
      // Unused without data: 'store'; BacktestJobs wants one all the same.
      storeUrl: storeUrl ?? 'sqlite::memory:',
      ...(this.opts.cwd ? { cwd: this.opts.cwd } : {}),
      maxRunning: 1,
      wallNow: this.wallNow,
      onFinished: (job) => finished(job),
    });
    this.jobs = jobs;
    let timer: NodeJS.Timeout | undefined;
    try {
      const job = await jobs.submit(request);
      let shown = -1;
      timer = setInterval(() => {
        if (job.status === 'running' && job.progress !== shown) {
          shown = job.progress;
          onProgress(job.progress);
        }
      }, this.opts.pollMs ?? 100);
      timer.unref();
      const end = await done;
      if (end.status === 'failed' || !end.result) {
        const e = end.error ?? { message: 'the backtest failed without a reason' };
        this.note('error', `backtest ${request.strategy}: ${e.message}`);
        throw new QtradeError('BACKTEST_FAILED', e.message, e.hint ? { hint: e.hint } : {});
      }
      onProgress(1);
      const report = this.report(end.result);
      this.note('info', `backtest ${report.strategy} on ${report.symbol} ${report.interval}: ${report.candles} candles, ${report.metrics.trades} trades`);
      return report;
    } finally {
      clearInterval(timer);
      if (this.jobs === jobs) this.jobs = undefined;
      await jobs.close('the backtest was abandoned');
    }
  }

  private report(r: BacktestJobResult): BacktestReport {
    return reportFromJob(r, this.node.instruments.has(r.symbol) ? this.node.instruments.get(r.symbol).quoteAsset : '');
  }

  private note(level: SystemLogLine['level'], text: string, time?: number): void {
    this.lines.push({ time: time ?? this.wallNow(), level, text });
    if (this.lines.length > MAX_LINES) this.lines.splice(0, this.lines.length - MAX_LINES);
  }

  private changed(): void {
    for (const l of [...this.listeners]) l();
  }
}

import type { DaemonClient } from '../../client/daemon-client.js';
import { backtestJobFromJson, liveStrategyFromJson, type LiveStrategyReply } from '../../client/daemon-replies.js';
import { QtradeError, UsageError } from '../../engine/errors.js';
import { arr } from '../../engine/market/binance/rest-parse.js';
import type { Instrument } from '../../engine/market/types.js';
import type { BacktestJobResult } from '../../server/backtest-worker.js';
import type { BacktestDataChoice, BacktestReport, BacktestRequest, StartStrategyOptions, StrategiesSource, StrategyTemplate, StrategyView } from './strategies.js';
import type { SystemLogLine } from './system.js';
import { reportFromJob } from './backtest-report.js';
import { builtinTemplates } from './templates.js';

export interface DaemonStrategiesOptions {
  client: DaemonClient;
  /** The instrument of a symbol, asked of the daemon when not known yet. */
  instrument: (symbol: string) => Promise<Instrument | undefined>;
  /** Known instruments, synchronously (decoding marks). */
  known: (symbol: string) => Instrument | undefined;
  /** How often a running backtest's progress is read, ms; default 250. */
  pollMs?: number;
  /** The list is read again when asked and the last read is older than this (marks move with trades); default 2 s. */
  refreshMs?: number;
  wallNow?: () => number;
}

function view(s: LiveStrategyReply): StrategyView {
  const { logs: _logs, error, ...rest } = s;
  return error ? { ...rest, error } : rest;
}

/**
 * The daemon's live strategies (/api/qtrade/strategies) and backtest jobs (/api/qtrade/backtests).
 * The list is the daemon's as last read: DaemonSource reads it again on account events, on a
 * timer, and after every start, stop and resume. Starting, stopping and resuming need an admin
 * token, backtests a trade token; the daemon's refusal is the error shown.
 */
export class DaemonStrategies implements StrategiesSource {
  private items: LiveStrategyReply[] = [];
  private signature = '';
  private readonly listeners = new Set<() => void>();
  private running: Promise<BacktestReport> | undefined;
  private closed = false;
  private readAt = -Infinity;
  private reading: Promise<void> | undefined;
  private readonly wallNow: () => number;

  constructor(private readonly opts: DaemonStrategiesOptions) {
    this.wallNow = opts.wallNow ?? Date.now;
  }

  /**
   * The strategies this qtrade knows built in. The daemon has no route that lists its own; it runs
   * the same code, and one of another version refuses a name it lacks when asked to start it.
   */
  templates(): StrategyTemplate[] {
    return builtinTemplates();
  }

  list(): StrategyView[] {
    if (!this.closed && this.wallNow() - this.readAt >= (this.opts.refreshMs ?? 2_000)) void this.refresh().catch(() => undefined);
    return this.items.map(view);
  }

  /** The strategies' own log lines (their ctx.log and errors), for the System panel. */
  logLines(): SystemLogLine[] {
    return this.items.flatMap((s) => s.logs.map((l) => ({ time: l.time, level: l.level, text: `${s.id}: ${l.msg}` })));
  }

  async start(spec: StartStrategyOptions): Promise<StrategyView> {
    await this.opts.instrument(spec.symbol);
    const s = await this.decode(await this.opts.client.post('/api/qtrade/strategies', spec));
    await this.refresh();
    return view(s);
  }

  async stop(id: string): Promise<StrategyView> {
    const s = await this.decode(await this.opts.client.delete('/api/qtrade/strategies', { id }));
    await this.refresh();
    return view(s);
  }

  async resume(id: string): Promise<StrategyView> {
    const s = await this.decode(await this.opts.client.post('/api/qtrade/strategies/resume', undefined, { id }));
    await this.refresh();
    return view(s);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The daemon backtests on its own store; files on its host are not listed by any route. */
  backtestData(): BacktestDataChoice[] {
    return [{ data: 'store', kind: 'store', label: "the daemon's store (1m candles)" }];
  }

  backtest(request: BacktestRequest, onProgress: (fraction: number) => void): Promise<BacktestReport> {
    if (this.running) return Promise.reject(new UsageError('a backtest is running already', { hint: 'wait for it to finish' }));
    const run = this.runJob(request, onProgress).finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  /** Reads the list again (one read at a time); listeners hear about it when anything shown changed. */
  refresh(): Promise<void> {
    this.reading ??= (async () => {
      try {
        const list = arr(await this.opts.client.get('/api/qtrade/strategies'), 'strategies');
        for (const x of list) {
          const symbol = (x as { symbol?: unknown } | null)?.symbol;
          if (typeof symbol === 'string' && !this.opts.known(symbol)) await this.opts.instrument(symbol);
        }
        this.items = list.map((x, i) => liveStrategyFromJson(x, this.opts.known, `strategies[${i}]`));
      } finally {
        this.readAt = this.wallNow();
        this.reading = undefined;
      }
      const sig = JSON.stringify(this.items, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      if (sig === this.signature) return;
      this.signature = sig;
      for (const l of [...this.listeners]) l();
    })();
    return this.reading;
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
  }

  private async decode(x: unknown): Promise<LiveStrategyReply> {
    const symbol = (x as { symbol?: unknown } | null)?.symbol;
    if (typeof symbol === 'string') await this.opts.instrument(symbol);
    return liveStrategyFromJson(x, this.opts.known);
  }

  private async runJob(request: BacktestRequest, onProgress: (fraction: number) => void): Promise<BacktestReport> {
    const submitted = await this.opts.client.post<{ id?: unknown }>('/api/qtrade/backtests', request);
    if (typeof submitted.id !== 'string') throw new QtradeError('DAEMON_BAD_ANSWER', 'the daemon accepted the backtest without a job id');
    const id = submitted.id;
    let shown = -1;
    for (;;) {
      if (this.closed) throw new QtradeError('BACKTEST_ABANDONED', `backtest job ${id} left running on the daemon: the TUI closed`);
      const job = backtestJobFromJson(await this.opts.client.get('/api/qtrade/backtests', { id }));
      if (job.status === 'failed' || (job.status === 'done' && !job.result)) {
        const e = job.error ?? { message: 'the backtest failed without a reason' };
        throw new QtradeError('BACKTEST_FAILED', e.message, e.hint ? { hint: e.hint } : {});
      }
      if (job.status === 'done' && job.result) {
        onProgress(1);
        return this.report(job.result);
      }
      if (job.status === 'running' && job.progress !== shown) {
        shown = job.progress;
        onProgress(job.progress);
      }
      await new Promise((resolve) => setTimeout(resolve, this.opts.pollMs ?? 250));
    }
  }

  private async report(r: BacktestJobResult): Promise<BacktestReport> {
    const inst = await this.opts.instrument(r.symbol);
    return reportFromJob(r, inst?.quoteAsset ?? '');
  }
}

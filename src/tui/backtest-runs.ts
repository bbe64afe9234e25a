import type { EventLog } from './event-log.js';
import { describeError } from './format.js';
import type { BacktestReport, BacktestRequest, StrategiesSource } from './sources/strategies.js';
import type { StrategyDraft } from './strategy-form.js';

/**
 * The backtest launcher's state, outside any component: a run started from the `/backtest`
 * command line shows its progress and result in the Backtest panel, and a result survives the
 * panel leaving the screen on a layout switch. One per StrategiesSource.
 */
export type BacktestRunStatus = 'idle' | 'running' | 'done' | 'failed';

export interface BacktestRunState {
  status: BacktestRunStatus;
  request: BacktestRequest | undefined;
  /** 0..1 while running. */
  progress: number;
  report: BacktestReport | undefined;
  error: string | undefined;
}

const IDLE: BacktestRunState = { status: 'idle', request: undefined, progress: 0, report: undefined, error: undefined };

export class BacktestRuns {
  private current: BacktestRunState = IDLE;
  private readonly listeners = new Set<() => void>();
  /** The launcher form as last edited. */
  draft: StrategyDraft | undefined;

  constructor(private readonly strategies: StrategiesSource) {}

  state(): BacktestRunState {
    return this.current;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Runs a backtest unless one is running (false then). The outcome goes into the state, and into
   * the event log when one is given.
   */
  run(request: BacktestRequest, log?: EventLog): boolean {
    if (this.current.status === 'running') {
      log?.add('warn', 'a backtest is running already; wait for it to finish');
      return false;
    }
    this.set({ status: 'running', request, progress: 0, report: undefined, error: undefined });
    this.strategies
      .backtest(request, (progress) => {
        if (this.current.request === request && this.current.status === 'running') this.set({ ...this.current, progress });
      })
      .then(
        (report) => {
          this.set({ status: 'done', request, progress: 1, report, error: undefined });
          const ret = report.metrics.totalReturn;
          log?.add('good', `✓ backtest ${report.strategy} ${report.symbol} ${report.interval}: ${report.metrics.trades} trades, return ${ret >= 0 ? '+' : ''}${(ret * 100).toFixed(2)} %`);
        },
        (err: unknown) => {
          const text = describeError(err).text;
          this.set({ status: 'failed', request, progress: 0, report: undefined, error: text });
          log?.add('error', `✗ backtest ${request.strategy}: ${text}`);
        },
      );
    return true;
  }

  private set(s: BacktestRunState): void {
    this.current = s;
    for (const l of [...this.listeners]) l();
  }
}

const runs = new WeakMap<StrategiesSource, BacktestRuns>();

/** The launcher state of this source (made on first use). */
export function backtestRuns(strategies: StrategiesSource): BacktestRuns {
  let r = runs.get(strategies);
  if (!r) runs.set(strategies, (r = new BacktestRuns(strategies)));
  return r;
}

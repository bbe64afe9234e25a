import type { BacktestSummary } from '../engine/ai/backtest-report.js';
import type { StoredBacktestRequest } from '../engine/ai/view.js';
import { UsageError } from '../engine/errors.js';
import type { BacktestJob, BacktestJobs, BacktestRequest } from './backtest-jobs.js';
import type { BacktestJobResult } from './backtest-worker.js';

/**
 * The assistant's run_backtest on stored candles as a daemon backtest job: the request the job API
 * takes (POST /api/qtrade/backtests has the same fields as JSON), and the job's result in the
 * terms run_backtest answers with (backtestSummary). Shared by the CLI attached to a daemon and
 * the daemon's own assistant, so both run the same job the same way.
 */

export function storedBacktestJob(req: StoredBacktestRequest): BacktestRequest {
  return {
    ...(req.spec ? { spec: req.spec } : { strategy: req.strategy, params: req.params }),
    symbol: req.symbol,
    interval: req.interval,
    data: 'store',
    limit: req.bars,
    ...(req.balance !== undefined ? { balances: [req.balance] } : {}),
  };
}

/** A finished job's result; `where` names where it ran (prefixed to the result's data). */
function jobBacktestSummary(r: BacktestJobResult, where: string): BacktestSummary {
  return {
    strategy: r.strategy,
    symbol: r.symbol,
    interval: r.interval,
    params: r.params,
    data: `${where}: ${r.data}`,
    source: r.source,
    model: r.model,
    status: r.status,
    error: r.error,
    candles: r.candles,
    metrics: r.metrics,
    fills: r.fills,
    lastFills: r.lastFills ?? [],
    balances: r.balances,
    openOrders: r.openOrders,
    from: r.equity.from,
    to: r.equity.to,
  };
}

/**
 * Polls job `id` until it ends (`read` gives its state; undefined once the daemon dropped it): its
 * result in run_backtest's terms, `where` naming where it ran, or its failure as a UsageError.
 */
export async function awaitJobSummary(
  id: string,
  read: () => BacktestJob | undefined | Promise<BacktestJob | undefined>,
  where: string,
  opts: { pollMs: number; signal?: AbortSignal },
): Promise<BacktestSummary> {
  for (;;) {
    opts.signal?.throwIfAborted();
    const job = await read();
    if (!job) throw failure({ message: `backtest job ${id} is gone (the daemon keeps the most recent jobs only)` });
    if (job.status === 'done' && job.result) return jobBacktestSummary(job.result, where);
    if (job.status === 'failed' || job.status === 'done') throw failure(job.error);
    await new Promise((resolve) => setTimeout(resolve, opts.pollMs));
  }
}

function failure(error: { message: string; hint?: string } | undefined): UsageError {
  const e = error ?? { message: 'the backtest failed without a reason' };
  return new UsageError(e.message, e.hint ? { hint: e.hint } : {});
}

/**
 * The daemon's own assistant: runs run_backtest as one of its jobs, on a worker thread, so a
 * backtest never holds up the feed, the order path or the streams on the daemon's thread.
 */
export async function inProcessStoredBacktest(jobs: BacktestJobs, req: StoredBacktestRequest, pollMs = 25): Promise<BacktestSummary> {
  const { id } = await jobs.submit(storedBacktestJob(req));
  return awaitJobSummary(id, () => jobs.get(id), `the daemon's backtest job ${id}`, { pollMs });
}

import type { BacktestSummary } from '../engine/ai/backtest-report.js';
import type { StoredBacktestRequest } from '../engine/ai/view.js';
import { QtradeError, UsageError } from '../engine/errors.js';
import type { BacktestJobResult } from '../server/backtest-worker.js';
import type { DaemonClient } from './daemon-client.js';
import { DaemonRequestError } from './daemon-client.js';
import { backtestJobFromJson } from './daemon-replies.js';

/**
 * A backtest on a daemon's stored candles through its job API (POST /api/qtrade/backtests, then
 * GET ?id= until done): what the assistant's run_backtest uses when the CLI is attached, so it
 * runs on the daemon's store and worker threads, with the same engine and defaults as here.
 */

export interface DaemonBacktestOptions {
  /** Between polls of the job; default 200 ms. */
  pollMs?: number;
  signal?: AbortSignal;
}

const API = '/api/qtrade/backtests';

export async function daemonStoredBacktest(client: DaemonClient, req: StoredBacktestRequest, opts: DaemonBacktestOptions = {}): Promise<BacktestSummary> {
  const body = {
    ...(req.spec ? { spec: req.spec } : { strategy: req.strategy, params: req.params }),
    symbol: req.symbol,
    interval: req.interval,
    data: 'store',
    limit: req.bars,
    ...(req.balance !== undefined ? { balances: [req.balance] } : {}),
  };
  let submitted: { id?: unknown };
  try {
    submitted = await client.post<{ id?: unknown }>(API, body);
  } catch (err) {
    // The daemon refused the input (400): the model's to correct, as a refusal here would be.
    if (err instanceof DaemonRequestError && err.status === 400) throw new UsageError(err.msg, { cause: err });
    throw err;
  }
  if (typeof submitted.id !== 'string') throw new QtradeError('DAEMON_BAD_ANSWER', 'the daemon accepted the backtest without a job id');
  const id = submitted.id;
  for (;;) {
    opts.signal?.throwIfAborted();
    const job = backtestJobFromJson(await client.get(API, { id }));
    if (job.status === 'done' && job.result) return summaryOf(job.result, client.url);
    if (job.status === 'failed' || job.status === 'done') {
      const e = job.error ?? { message: 'the backtest failed without a reason' };
      throw new UsageError(e.message, e.hint ? { hint: e.hint } : {});
    }
    await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 200));
  }
}

/** The job's result in the terms run_backtest answers with (backtestSummary), its data naming the daemon. */
function summaryOf(r: BacktestJobResult, url: string): BacktestSummary {
  return {
    strategy: r.strategy,
    symbol: r.symbol,
    interval: r.interval,
    params: r.params,
    data: `daemon ${url}: ${r.data}`,
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

import type { BacktestSummary } from '../engine/ai/backtest-report.js';
import type { StoredBacktestRequest } from '../engine/ai/view.js';
import { QtradeError, UsageError } from '../engine/errors.js';
import { awaitJobSummary, storedBacktestJob } from '../server/backtest-summary.js';
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
  let submitted: { id?: unknown };
  try {
    submitted = await client.post<{ id?: unknown }>(API, storedBacktestJob(req));
  } catch (err) {
    // The daemon refused the input (400): the model's to correct, as a refusal here would be.
    if (err instanceof DaemonRequestError && err.status === 400) throw new UsageError(err.msg, { cause: err });
    throw err;
  }
  if (typeof submitted.id !== 'string') throw new QtradeError('DAEMON_BAD_ANSWER', 'the daemon accepted the backtest without a job id');
  const id = submitted.id;
  return awaitJobSummary(id, async () => backtestJobFromJson(await client.get(API, { id })), `daemon ${client.url}`, {
    pollMs: opts.pollMs ?? 200,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

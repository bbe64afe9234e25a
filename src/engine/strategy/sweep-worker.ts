import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Candle, Interval } from '../candles/types.js';
import { QtradeError } from '../errors.js';
import type { Trade } from '../market/types.js';
import { bundledMarket } from '../orders/bundled-filters.js';
import type { Amount } from '../orders/types.js';
import { runBacktest } from './backtest.js';
import { loadStrategy, openBacktestFile } from './load.js';
import type { EquitySeries } from './equity.js';
import type { Metrics } from './metrics.js';

/**
 * Where a sweep's data comes from, small enough to hand every worker once: a recording path
 * (replayed by each run, exactly as `qtrade backtest` does), a trade/klines file (read once per
 * worker into memory), or candles from the store (structured-cloned once per worker).
 */
export type SweepData =
  | { kind: 'recording'; path: string }
  | { kind: 'file'; path: string; symbol: string; from?: number; to?: number }
  | { kind: 'candles'; candles: Candle[] };

/** Everything but the swept params: the same for every run of a sweep. */
export interface SweepSetup {
  /** `--strategy` as given (a built-in name or a file path), resolved against `cwd`. */
  strategy: string;
  cwd: string;
  symbol: string;
  interval: Interval;
  fees?: { maker: string; taker: string };
  slippageTicks: number;
  initialBalances: Record<string, Amount>;
  data: SweepData;
}

export interface SweepJob {
  id: number;
  params: Record<string, unknown>;
  /** Restricts in-memory data to event/open times in [from, to) (walk-forward windows). */
  from?: number;
  to?: number;
  /** Return the equity curve too (walk-forward's out-of-sample runs). */
  equity?: boolean;
}

export interface SweepJobResult {
  id: number;
  params: Record<string, unknown>;
  metrics: Metrics;
  candles: number;
  /** The strategy threw and was paused: the metrics cover the run up to there. */
  error?: string;
  equity?: Array<{ time: number; equity: number }>;
}

/** First and last event time of in-memory data, and its size; null for a recording. */
export interface DataSpan {
  first: number;
  last: number;
  count: number;
}

export interface PreparedSweep {
  span: DataSpan | null;
  run(job: SweepJob): Promise<SweepJobResult>;
}

/** The curve as display figures (walk-forward chains them into one chart; not account money). */
function equityPoints(s: EquitySeries): Array<{ time: number; equity: number }> {
  const time = s.time;
  const equity = s.equity;
  return Array.from(time, (t, i) => ({ time: t, equity: equity[i]! }));
}

function lowerBound<T>(xs: readonly T[], t: number, time: (x: T) => number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (time(xs[mid]!) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function slice<T>(xs: T[], time: (x: T) => number, from: number | undefined, to: number | undefined): T[] {
  if (from === undefined && to === undefined) return xs;
  const a = from === undefined ? 0 : lowerBound(xs, from, time);
  const b = to === undefined ? xs.length : lowerBound(xs, to, time);
  return xs.slice(a, b);
}

/** Loads the strategy and the data once; `run` then backtests one parameter set. */
export async function prepareSweep(setup: SweepSetup): Promise<PreparedSweep> {
  const { strategy } = await loadStrategy(setup.strategy, { cwd: setup.cwd });
  const market = bundledMarket();
  let trades: Trade[] | undefined;
  let candles: Candle[] | undefined;
  const d = setup.data;
  if (d.kind === 'candles') candles = d.candles;
  else if (d.kind === 'file') {
    const f = await openBacktestFile(d.path, { symbol: d.symbol, ...(d.from === undefined ? {} : { from: d.from }), ...(d.to === undefined ? {} : { to: d.to }) });
    if (f.kind === 'trades') {
      trades = [];
      for await (const t of f.trades) trades.push(t);
    } else if (f.kind === 'candles') {
      candles = [];
      for await (const c of f.candles) candles.push(c);
    } else throw new QtradeError('SWEEP', `${d.path} is a recording: pass it as one`);
  }
  const tradeTime = (t: Trade): number => t.time;
  const candleTime = (c: Candle): number => c.openTime;
  let span: DataSpan | null = null;
  if (trades && trades.length > 0) span = { first: trades[0]!.time, last: trades[trades.length - 1]!.time, count: trades.length };
  if (candles && candles.length > 0) span = { first: candles[0]!.openTime, last: candles[candles.length - 1]!.closeTime, count: candles.length };

  return {
    span,
    async run(job) {
      const input =
        d.kind === 'recording'
          ? { recording: d.path }
          : trades
            ? { trades: slice(trades, tradeTime, job.from, job.to) }
            : { candles: slice(candles ?? [], candleTime, job.from, job.to) };
      const r = await runBacktest({
        strategy,
        params: job.params,
        symbol: setup.symbol,
        interval: setup.interval,
        ...input,
        ...(setup.fees ? { fees: setup.fees } : {}),
        slippageTicks: setup.slippageTicks,
        initialBalances: setup.initialBalances,
        ...market,
      });
      return {
        id: job.id,
        params: r.params,
        metrics: r.metrics,
        candles: r.candles,
        ...(r.error ? { error: `${r.error.callback}: ${r.error.message}` } : {}),
        ...(job.equity ? { equity: equityPoints(r.equity) } : {}),
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Worker protocol: workerData = { qtradeSweep: SweepSetup }; the worker answers
// { ready, span } once, then one { result } (or { error }) per { job }; { close } ends it.

export type ToWorker = { job: SweepJob } | { close: true };
export type FromWorker =
  | { ready: true; span: DataSpan | null }
  | { result: SweepJobResult }
  | { error: { message: string; hint?: string; code?: string; usage?: boolean } };

function errorMessage(err: unknown): FromWorker {
  if (err instanceof QtradeError) return { error: { message: err.message, ...(err.hint ? { hint: err.hint } : {}), code: err.code, usage: err.exitCode === 2 } };
  return { error: { message: err instanceof Error ? err.message : String(err) } };
}

async function main(port: NonNullable<typeof parentPort>, setup: SweepSetup): Promise<void> {
  let prepared: PreparedSweep;
  try {
    prepared = await prepareSweep(setup);
  } catch (err) {
    port.postMessage(errorMessage(err));
    return;
  }
  port.postMessage({ ready: true, span: prepared.span } satisfies FromWorker);
  port.on('message', (msg: ToWorker) => {
    if ('close' in msg) {
      port.close();
      return;
    }
    prepared.run(msg.job).then(
      (result) => port.postMessage({ result } satisfies FromWorker),
      (err: unknown) => port.postMessage(errorMessage(err)),
    );
  });
}

const data = workerData as { qtradeSweep?: SweepSetup } | null;
if (!isMainThread && parentPort && data?.qtradeSweep) void main(parentPort, data.qtradeSweep);

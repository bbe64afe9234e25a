import path from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { lastFillsJson } from '../engine/ai/backtest-report.js';
import { compileSpec, type StrategySpec } from '../engine/ai/strategy-spec.js';
import { INTERVAL_MS } from '../engine/candles/intervals.js';
import { queryCandles } from '../engine/candles/query.js';
import type { Candle, Interval } from '../engine/candles/types.js';
import { QtradeError, UsageError } from '../engine/errors.js';
import { readRecording } from '../engine/market/replay/recording.js';
import type { Trade } from '../engine/market/types.js';
import { formatAmount } from '../engine/orders/amounts.js';
import { bundledMarket } from '../engine/orders/bundled-filters.js';
import type { Amount } from '../engine/orders/types.js';
import { openStore } from '../engine/store/open.js';
import { runBacktest } from '../engine/strategy/backtest.js';
import { loadStrategy, openBacktestFile } from '../engine/strategy/load.js';
import type { Metrics } from '../engine/strategy/metrics.js';

/**
 * One backtest job of the daemon (POST /api/qtrade/backtests), run in a worker thread so the
 * daemon's event loop keeps serving: the same loadStrategy → runBacktest path as `qtrade backtest`,
 * with the same defaults, so its metrics equal what `qtrade backtest --json` prints for the same
 * input. Progress is the event time reached (each closed candle) over the data's time span.
 */

export type BacktestJobData =
  | { kind: 'store'; storeUrl: string; from?: number; to?: number; limit?: number }
  | { kind: 'file'; path: string; from?: number; to?: number };

export interface BacktestJobInput {
  /** A built-in name or an absolute strategy file path; with `spec`, the spec's name. */
  strategy: string;
  /** A declarative strategy spec (validated) to run instead of loading `strategy`. */
  spec?: StrategySpec;
  cwd: string;
  /** Required for the store; a file's own symbol otherwise. */
  symbol?: string;
  interval: Interval;
  params: Record<string, unknown>;
  data: BacktestJobData;
  fees?: { maker: string; taker: string };
  slippageTicks: number;
  initialBalances: Record<string, Amount>;
}

/** What a finished job reports; amounts as decimal strings, as `qtrade backtest --json` prints them. */
export interface BacktestJobResult {
  strategy: string;
  symbol: string;
  interval: Interval;
  params: Record<string, unknown>;
  data: string;
  source: string;
  model: string;
  book: string;
  status: string;
  error: { message: string; callback: string; time: number } | null;
  candles: number;
  metrics: Record<string, unknown>;
  /** Closed round trips (metrics.trades) and fills. */
  trades: number;
  fills: number;
  /** The last 5 fills, as the assistant's run_backtest reports them. */
  lastFills: Array<Record<string, unknown>>;
  equity: {
    start: string;
    end: string;
    peak: string;
    trough: string;
    points: number;
    from: number | null;
    to: number | null;
    /** At most EQUITY_SAMPLES evenly spaced [time, equity] marks (first and last included). */
    curve: Array<[number, string]>;
  };
  balances: Array<{ asset: string; free: string; locked: string }>;
  openOrders: number;
}

export type ToParent = { progress: number } | { done: BacktestJobResult } | { error: { message: string; hint?: string; usage: boolean } };

const DEFAULT_LIMIT = 1000;
const EQUITY_SAMPLES = 200;

/** As `qtrade backtest --json` writes metrics: the exact fee total as a decimal string. */
export function metricsJson(m: Metrics): Record<string, unknown> {
  const { feesPaidExact, ...rest } = m;
  return { ...rest, feesPaidExact: formatAmount(feesPaidExact) };
}

const minute = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);

/** First and last trade time of the symbol in a recording (one read of the file). */
async function recordingSpan(file: string, symbol: string): Promise<{ first: number; last: number } | undefined> {
  const sym = symbol.toLowerCase();
  const streams = new Set([`${sym}@aggTrade`, `${sym}@trade`]);
  let first: number | undefined;
  let last: number | undefined;
  for await (const line of readRecording(file)) {
    if (line.kind !== 'frame' || !streams.has(line.frame.stream)) continue;
    const t = (line.frame.data as { T?: unknown }).T;
    if (typeof t !== 'number') continue;
    first ??= t;
    last = t;
  }
  return first === undefined || last === undefined ? undefined : { first, last };
}

/** First and last event time of a trades or klines file within from/to (one read of the file). */
async function fileSpan(file: string, opts: { symbol?: string; from?: number; to?: number }): Promise<{ first: number; last: number } | undefined> {
  if (opts.from !== undefined && opts.to !== undefined) return { first: opts.from, last: opts.to };
  const f = await openBacktestFile(file, opts);
  let first: number | undefined;
  let last: number | undefined;
  if (f.kind === 'trades') {
    for await (const t of f.trades) {
      first ??= t.time;
      last = t.time;
    }
  } else if (f.kind === 'candles') {
    for await (const c of f.candles) {
      first ??= c.openTime;
      last = c.closeTime;
    }
  }
  return first === undefined || last === undefined ? undefined : { first, last };
}

export async function runBacktestJob(input: BacktestJobInput, onProgress: (fraction: number) => void): Promise<BacktestJobResult> {
  const strategy = input.spec ? compileSpec(input.spec) : (await loadStrategy(input.strategy, { cwd: input.cwd })).strategy;
  const market = bundledMarket();
  const interval = input.interval;
  let symbol: string;
  let describe: string;
  let span: { first: number; last: number } | undefined;
  let source: { candles: Candle[] } | { trades: AsyncIterable<Trade> } | { candles: AsyncIterable<Candle> } | { recording: string };
  const d = input.data;
  if (d.kind === 'store') {
    if (!input.symbol) throw new UsageError('which symbol?', { hint: 'give symbol (or a data file)' });
    symbol = market.instruments.get(input.symbol).symbol;
    const perBar = INTERVAL_MS[interval] / 60_000;
    const store = await openStore(d.storeUrl);
    let candles: Candle[];
    try {
      ({ candles } = await queryCandles(store, {
        symbol,
        interval: '1m',
        ...(d.from === undefined ? {} : { from: d.from }),
        ...(d.to === undefined ? {} : { to: d.to + INTERVAL_MS[interval] - 60_000 }),
        ...(d.from === undefined ? { limit: (d.limit ?? DEFAULT_LIMIT) * perBar } : {}),
      }));
    } finally {
      await store.close();
    }
    if (candles.length === 0) {
      throw new UsageError(`no ${symbol} 1m candles in the store${d.from !== undefined || d.to !== undefined ? ' in that range' : ''}`, {
        hint: `fetch some with \`qtrade history download ${symbol} --from 2024-01-01\`, or backtest a file`,
      });
    }
    const first = candles[0]!;
    const last = candles[candles.length - 1]!;
    describe = `the store (${candles.length} 1m candles ${minute(first.openTime)} → ${minute(last.openTime)} UTC)`;
    span = { first: first.openTime, last: last.closeTime };
    source = { candles };
  } else {
    const bounds = { ...(input.symbol ? { symbol: input.symbol } : {}), ...(d.from === undefined ? {} : { from: d.from }), ...(d.to === undefined ? {} : { to: d.to }) };
    const f = await openBacktestFile(d.path, bounds);
    symbol = f.symbol;
    const name = path.basename(f.path);
    if (f.kind === 'recording') {
      describe = `recording ${name}`;
      span = await recordingSpan(f.path, symbol);
      source = { recording: f.path };
    } else {
      span = await fileSpan(d.path, { ...bounds, symbol });
      if (f.kind === 'trades') {
        describe = `${f.fileKind} file ${name}`;
        source = { trades: f.trades };
      } else {
        describe = `klines file ${name}`;
        source = { candles: f.candles };
      }
    }
  }

  let reported = 0;
  const tick = (time: number): void => {
    if (!span || span.last <= span.first) return;
    const x = Math.min(1, Math.max(0, (time - span.first) / (span.last - span.first)));
    if (x - reported >= 0.01) {
      reported = x;
      onProgress(x);
    }
  };
  // The same definition with a look at each closed candle's time; everything else is untouched.
  const watched = {
    ...strategy,
    onCandle: (ctx: Parameters<typeof strategy.onCandle>[0], c: Candle) => {
      tick(c.closeTime);
      return strategy.onCandle(ctx, c);
    },
  };
  const r = await runBacktest({
    strategy: watched,
    params: input.params,
    symbol,
    interval,
    ...source,
    ...(input.fees ? { fees: input.fees } : {}),
    slippageTicks: input.slippageTicks,
    initialBalances: input.initialBalances,
    ...market,
  });
  if (r.candles === 0) {
    throw new UsageError(`no ${symbol} ${interval} candle closed in ${describe}${d.from !== undefined || d.to !== undefined ? ' within from/to' : ''}`, {
      hint: 'widen the range or use more data',
    });
  }
  const eq = r.equity;
  const n = eq.length;
  const times = eq.time;
  // Peak and trough found on the marks, printed exact.
  let peak = 0;
  let trough = 0;
  for (let i = 1; i < n; i++) {
    if (eq.compare(i, peak) > 0) peak = i;
    if (eq.compare(i, trough) < 0) trough = i;
  }
  const exactAt = (i: number): string => formatAmount(n > 0 ? eq.exact(i) : 0n);
  const step = Math.max(1, Math.ceil(n / EQUITY_SAMPLES));
  const curve: Array<[number, string]> = [];
  for (let i = 0; i < n; i += step) curve.push([times[i]!, exactAt(i)]);
  if (n > 0 && curve[curve.length - 1]?.[0] !== times[n - 1]) curve.push([times[n - 1]!, exactAt(n - 1)]);
  return {
    strategy: r.strategy,
    symbol: r.symbol,
    interval: r.interval,
    params: r.params,
    data: describe,
    source: r.source,
    model: r.model,
    book: r.book,
    status: r.status,
    error: r.error ? { message: r.error.message, callback: r.error.callback, time: r.error.time } : null,
    candles: r.candles,
    metrics: metricsJson(r.metrics),
    trades: r.metrics.trades,
    fills: r.fills.length,
    lastFills: lastFillsJson(r.fills, market.instruments.get(symbol)),
    equity: {
      start: exactAt(0),
      end: exactAt(n - 1),
      peak: exactAt(peak),
      trough: exactAt(trough),
      points: n,
      from: n > 0 ? times[0]! : null,
      to: n > 0 ? times[n - 1]! : null,
      curve,
    },
    balances: r.balances.map((b) => ({ asset: b.asset, free: formatAmount(b.free), locked: formatAmount(b.locked) })),
    openOrders: r.openOrders.length,
  };
}

function errorMessage(err: unknown): ToParent {
  if (err instanceof QtradeError) return { error: { message: err.message, ...(err.hint ? { hint: err.hint } : {}), usage: err.exitCode === 2 } };
  return { error: { message: err instanceof Error ? err.message : String(err), usage: false } };
}

const data = workerData as { qtradeBacktest?: BacktestJobInput } | null;
if (!isMainThread && parentPort && data?.qtradeBacktest) {
  const port = parentPort;
  runBacktestJob(data.qtradeBacktest, (progress) => port.postMessage({ progress } satisfies ToParent)).then(
    (done) => port.postMessage({ done } satisfies ToParent),
    (err: unknown) => port.postMessage(errorMessage(err)),
  );
}

import path from 'node:path';
import type { Command } from 'commander';
import { INTERVAL_MS, parseInterval } from '../engine/candles/intervals.js';
import { queryCandles } from '../engine/candles/query.js';
import type { Candle, Interval } from '../engine/candles/types.js';
import { UsageError } from '../engine/errors.js';
import { formatFixed } from '../engine/fixed.js';
import type { Instrument, Trade } from '../engine/market/types.js';
import { formatAmount } from '../engine/orders/amounts.js';
import { bundledMarket } from '../engine/orders/bundled-filters.js';
import { parseRate } from '../engine/orders/fees.js';
import { parseBalanceSpec } from '../engine/orders/service.js';
import type { Amount, Fill } from '../engine/orders/types.js';
import { openStore } from '../engine/store/open.js';
import { runBacktest, type BacktestResult } from '../engine/strategy/backtest.js';
import { loadStrategy, openBacktestFile, type BacktestFile } from '../engine/strategy/load.js';
import type { Metrics } from '../engine/strategy/metrics.js';
import { parseParamAssignments, resolveParams } from '../engine/strategy/params.js';
import { buildGrid, metricValue, openSweepPool, parseRankMetric, parseWorkers, rankResults, type RankMetric, type SweepData, type SweepJobResult } from '../engine/strategy/sweep.js';
import { parseWalkForward, parseWfUnit, runWalkForward, type WalkForwardResult } from '../engine/strategy/walk-forward.js';
import { DEFAULT_PAPER_BALANCES } from '../engine/trading.js';
import { parseLimit, parseTime } from './args.js';
import { lineChart, useColor } from './chart.js';
import { action, out, settingsFor } from './context.js';
import { utcMinute, utcTime } from './format.js';
import { Progress } from './progress.js';

interface BacktestOptions {
  strategy: string;
  symbol?: string;
  interval: string;
  from?: string;
  to?: string;
  limit?: string;
  param?: string[];
  data: string;
  fees?: string;
  slippage?: string;
  balance?: string[];
  trades?: string;
  json?: boolean;
  sweep?: string[];
  rank?: string;
  top?: string;
  workers?: string;
  walkForward?: string;
  wfUnit?: string;
}

const collect = (v: string, acc: string[] | undefined): string[] => [...(acc ?? []), v];
const DEFAULT_LIMIT = 1000;
/** A run shorter than this (wall time) never shows a bar. */
const PROGRESS_AFTER_MS = 1000;

interface DataPlan {
  symbol: string;
  /** What the report says about the data. */
  describe: string;
  input: { candles: AsyncIterable<Candle> | Iterable<Candle> } | { trades: AsyncIterable<Trade> } | { recording: string };
}

function parseFees(s: string | undefined): { maker: string; taker: string } | undefined {
  if (s === undefined) return undefined;
  const parts = s.split(/[,/]/).map((p) => p.trim());
  if (parts.length > 2 || parts.some((p) => p === '')) {
    throw new UsageError(`--fees "${s}" is not RATE or MAKER,TAKER`, { hint: 'e.g. --fees 0.001 (0.1 %) or --fees 0.0002,0.0005' });
  }
  for (const p of parts) parseRate(p);
  return { maker: parts[0]!, taker: parts[1] ?? parts[0]! };
}

function parseSlippage(s: string | undefined): number {
  if (s === undefined) return 0;
  const n = Number(s);
  if (!/^\d+$/.test(s.trim()) || !Number.isSafeInteger(n) || n > 10_000) {
    throw new UsageError(`--slippage "${s}" is not a whole number of ticks from 0 to 10000`, { hint: 'e.g. --slippage 2 (a taker pays 2 ticks beyond the print)' });
  }
  return n;
}

function parseBalances(specs: readonly string[] | undefined): Record<string, Amount> {
  if (!specs || specs.length === 0) return { ...DEFAULT_PAPER_BALANCES };
  const out: Record<string, Amount> = {};
  for (const spec of specs) {
    const { asset, amount } = parseBalanceSpec(spec);
    if (asset in out) throw new UsageError(`--balance names ${asset} twice`, { hint: 'give each asset once' });
    out[asset] = amount;
  }
  return out;
}

/** Counts what goes through an iterable and draws the progress bar from it. */
async function* counted<T>(items: AsyncIterable<T> | Iterable<T>, tick: (item: T, n: number) => void): AsyncGenerator<T> {
  let n = 0;
  for await (const item of items as AsyncIterable<T>) {
    n++;
    if ((n & 1023) === 0) tick(item, n);
    yield item;
  }
}

async function storePlan(cmd: Command, symbol: string, interval: Interval, from: number | undefined, to: number | undefined, limit: number | undefined): Promise<DataPlan & { count: number }> {
  const perBar = INTERVAL_MS[interval] / 60_000;
  const store = await openStore(settingsFor(cmd).storeUrl());
  try {
    const { candles } = await queryCandles(store, {
      symbol,
      interval: '1m',
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to: to + INTERVAL_MS[interval] - 60_000 }),
      ...(from === undefined ? { limit: (limit ?? DEFAULT_LIMIT) * perBar } : {}),
    });
    if (candles.length === 0) {
      const range = from !== undefined || to !== undefined ? ' in that range' : '';
      throw new UsageError(`no ${symbol} 1m candles in the store${range}`, {
        hint: `fetch some with \`qtrade history download ${symbol} --from 2024-01-01\`, import a file with \`qtrade history import FILE\`, or backtest a file with --data FILE`,
      });
    }
    const first = candles[0]!.openTime;
    const last = candles[candles.length - 1]!.openTime;
    return {
      symbol,
      describe: `the store (${candles.length} 1m candles ${utcMinute(first)} → ${utcMinute(last)} UTC)`,
      input: { candles },
      count: candles.length,
    };
  } finally {
    await store.close();
  }
}

function filePlan(f: BacktestFile): DataPlan {
  const name = path.basename(f.path);
  switch (f.kind) {
    case 'recording':
      return { symbol: f.symbol, describe: `recording ${name}`, input: { recording: f.path } };
    case 'trades':
      return { symbol: f.symbol, describe: `${f.fileKind} file ${name}`, input: { trades: f.trades } };
    case 'candles':
      return { symbol: f.symbol, describe: `klines file ${name}`, input: { candles: f.candles } };
  }
}

// ---------------------------------------------------------------------------------------------
// Output

// Annualising a few hours gives astronomic figures; print them short rather than pretend precision.
const fixed = (x: number, d: number): string => (Math.abs(x) >= 1e6 ? x.toExponential(1) : x.toFixed(d));
const pct = (x: number | null, sign = false): string => (x === null || !Number.isFinite(x) ? 'n/a' : `${sign && x > 0 ? '+' : ''}${fixed(x * 100, 2)} %`);
const num = (x: number | null, d = 2): string => (x === null || !Number.isFinite(x) ? 'n/a' : fixed(x, d));

const ratePct = (rate: string): string => `${Number((Number(rate) * 100).toPrecision(6))} %`;

export function formatDuration(ms: number): string {
  if (ms <= 0) return '0m';
  const m = Math.round(ms / 60_000);
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  const min = m % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${min}m`;
  return ms < 60_000 ? `${Math.round(ms / 1000)}s` : `${min}m`;
}

function fillJson(f: Fill, inst: Instrument): Record<string, unknown> {
  return {
    time: f.time,
    side: f.side,
    price: formatFixed(f.price, inst.priceScale),
    qty: formatFixed(f.qty, inst.qtyScale),
    quoteQty: formatAmount(f.quoteQty),
    commission: formatAmount(f.commission),
    commissionAsset: f.commissionAsset,
    maker: f.isMaker,
    orderId: f.orderId,
    clientOrderId: f.clientOrderId,
    tradeId: f.tradeId,
  };
}

function metricsJson(m: Metrics): Record<string, unknown> {
  const { feesPaidExact, ...rest } = m;
  return { ...rest, feesPaidExact: formatAmount(feesPaidExact) };
}

function resultJson(r: BacktestResult, inst: Instrument, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    strategy: r.strategy,
    symbol: r.symbol,
    interval: r.interval,
    params: r.params,
    ...extra,
    source: r.source,
    model: r.model,
    book: r.book,
    status: r.status,
    error: r.error ? { message: r.error.message, callback: r.error.callback, time: r.error.time } : null,
    candles: r.candles,
    metrics: metricsJson(r.metrics),
    fills: r.fills.map((f) => fillJson(f, inst)),
    equity: r.equity.toPoints().map((p) => ({ time: p.time, equity: formatAmount(p.equity), price: formatFixed(p.price, inst.priceScale), exposed: p.exposed })),
    balances: r.balances.map((b) => ({ asset: b.asset, free: formatAmount(b.free), locked: formatAmount(b.locked) })),
    openOrders: r.openOrders.length,
  };
}

function table(rows: string[][], right: ReadonlySet<number>): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

function modelText(r: BacktestResult, slippage: number): string {
  if (r.model === 'exact') {
    const book = r.book === 'recorded-depth' ? 'taker orders walk the recorded depth book' : `taker orders fill at each print's price + ${slippage} tick${slippage === 1 ? '' : 's'} slippage (no depth recorded)`;
    return `exact — every trade replayed through the paper order engine; ${book}`;
  }
  return `candle approximation — each candle becomes 4 prints (O→L→H→C up, O→H→L→C down); a signal fills at the next candle's open + ${slippage} tick${slippage === 1 ? '' : 's'}; intra-candle order is a guess`;
}

function printReport(r: BacktestResult, inst: Instrument, info: { describe: string; fees: { maker: string; taker: string }; slippage: number; balances: Record<string, Amount>; trades: number }): void {
  const m = r.metrics;
  const quote = inst.quoteAsset;
  const params = Object.entries(r.params).map(([k, v]) => `${k}=${String(v)}`).join(' ') || '(none)';
  const marks = r.equity.time;
  const first = marks[0];
  const last = marks[marks.length - 1];
  const span = first !== undefined && last !== undefined && r.source !== 'candles' ? `, ${utcMinute(first)} → ${utcMinute(last)} UTC` : '';
  const spanMs = first !== undefined && last !== undefined ? last - first : 0;
  const kv = (k: string, v: string): string => `${k.padEnd(10)}${v}`;
  out.line(kv('strategy', `${r.strategy} on ${r.symbol} ${r.interval}`));
  out.line(kv('params', params));
  out.line(kv('data', `${info.describe}${span}, ${r.candles} candles in, ${r.metrics.bars} ${r.interval} bars marked`));
  out.line(kv('model', modelText(r, info.slippage)));
  out.line(kv('costs', `fees ${ratePct(info.fees.maker)} maker / ${ratePct(info.fees.taker)} taker, slippage ${info.slippage} tick${info.slippage === 1 ? '' : 's'}`));
  out.line(kv('start', Object.entries(info.balances).map(([a, v]) => `${formatAmount(v, 0)} ${a}`).join(', ')));
  if (r.error) {
    out.line(kv('PAUSED', `the strategy threw in ${r.error.callback} at ${utcTime(r.error.time)} UTC: ${r.error.message}`));
    out.line(kv('', 'it was paused there; the figures below cover the run up to that point (open orders stayed on the book)'));
  }
  out.line();
  const rows: Array<[string, string]> = [
    ['total return', `${pct(m.totalReturn, true)}  (${num(m.startEquity)} → ${num(m.endEquity)} ${quote})`],
    ['CAGR', `${pct(m.cagr, true)}${spanMs < 30 * 86_400_000 ? `  (annualised from ${formatDuration(spanMs)} of data)` : ''}`],
    ['Sharpe', num(m.sharpe)],
    ['Sortino', num(m.sortino)],
    ['max drawdown', `${pct(m.maxDrawdown === 0 ? 0 : -m.maxDrawdown)}  lasting ${formatDuration(m.maxDrawdownDurationMs)}`],
    ['Calmar', num(m.calmar)],
    ['win rate', m.winRate === null ? 'n/a' : pct(m.winRate)],
    ['profit factor', num(m.profitFactor)],
    ['avg trade', m.avgTrade === null ? 'n/a' : `${num(m.avgTrade)} ${quote}`],
    ['exposure', pct(m.exposure)],
    ['trades', `${m.trades} round trip${m.trades === 1 ? '' : 's'}${m.openTrade ? ' (+1 still open)' : ''}, ${m.fills} fills`],
    ['fees paid', `${num(m.feesPaid)} ${quote}`],
  ];
  for (const [k, v] of rows) out.line(`  ${k.padEnd(14)}${v}`);

  if (r.equity.length > 1) {
    const columns = Math.max(40, Math.min(process.stdout.columns || 80, 160));
    const color = useColor();
    const eq = Array.from(r.equity.equity);
    let peak = -Infinity;
    const dd = eq.map((v) => {
      peak = Math.max(peak, v);
      return peak > 0 ? (v / peak - 1) * 100 : 0;
    });
    out.line();
    out.line(`equity (${quote})`);
    out.line(lineChart(eq, { columns, height: 10, ...(color ? { color: 'green' as const } : {}) }));
    out.line();
    out.line('drawdown (%)');
    out.line(lineChart(dd, { columns, height: 6, pick: 'min', ...(color ? { color: 'red' as const } : {}) }));
  }

  out.line();
  const shown = r.fills.slice(-info.trades);
  if (r.fills.length === 0) out.line('no fills');
  else {
    out.line(`fills (${shown.length === r.fills.length ? `all ${r.fills.length}` : `last ${shown.length} of ${r.fills.length}`})`);
    const head = ['time (UTC)', 'side', 'price', 'qty', quote, 'fee', ''];
    const body = shown.map((f) => [
      utcTime(f.time),
      f.side,
      formatFixed(f.price, inst.priceScale),
      formatFixed(f.qty, inst.qtyScale),
      formatAmount(f.quoteQty, 2),
      `${formatAmount(f.commission, 2)} ${f.commissionAsset}`,
      f.isMaker ? 'maker' : 'taker',
    ]);
    for (const l of table([head, ...body], new Set([2, 3, 4, 5]))) out.line(`  ${l}`);
  }
  if (r.openOrders.length > 0) out.line(`${r.openOrders.length} order${r.openOrders.length === 1 ? '' : 's'} still open at the end`);
}

// ---------------------------------------------------------------------------------------------
// Sweep and walk-forward

const RANK_LIST = 'sharpe, sortino, return, calmar, profitFactor or maxDrawdown';

type AnyStrategy = Awaited<ReturnType<typeof loadStrategy>>['strategy'];

interface SweepPlan {
  combos: Array<Record<string, unknown>>;
  swept: string[];
  skipped: number;
  rank: RankMetric;
  top: number;
  workers: number;
  walkForward: ReturnType<typeof parseWalkForward> | undefined;
}

function parseSweepOptions(opts: BacktestOptions, strategy: AnyStrategy, fixed: Record<string, string>): SweepPlan {
  const rank = parseRankMetric(opts.rank);
  const top = parseLimit(opts.top, '--top') ?? 10;
  const workers = parseWorkers(opts.workers);
  const unit = parseWfUnit(opts.wfUnit);
  if (opts.wfUnit !== undefined && opts.walkForward === undefined) throw new UsageError('--wf-unit applies to --walk-forward', { hint: 'add --walk-forward 6:1' });
  const walkForward = opts.walkForward === undefined ? undefined : parseWalkForward(opts.walkForward, unit);
  const grid = buildGrid(strategy, opts.sweep ?? [], fixed);
  if (grid.combos.length === 0) {
    throw new UsageError(`strategy ${strategy.name} refuses every combination of the sweep: ${grid.firstRefusal ?? ''}`, { hint: 'change the ranges so some combinations are valid' });
  }
  return { combos: grid.combos, swept: grid.axes.map((a) => a.name), skipped: grid.skipped, rank, top, workers, walkForward };
}

interface SweepRun extends SweepPlan {
  json: boolean;
  strategyName: string;
  strategySpec: string;
  plan: DataPlan;
  interval: Interval;
  inst: Instrument;
  fees: { maker: string; taker: string } | undefined;
  slippage: number;
  balances: Record<string, Amount>;
  data: SweepData;
}

function sweepMetricsJson(m: Metrics): Record<string, unknown> {
  return {
    totalReturn: m.totalReturn,
    sharpe: m.sharpe,
    sortino: m.sortino,
    calmar: m.calmar,
    maxDrawdown: m.maxDrawdown,
    profitFactor: m.profitFactor,
    winRate: m.winRate,
    trades: m.trades,
    fills: m.fills,
    feesPaid: formatAmount(m.feesPaidExact),
    endEquity: m.endEquity,
  };
}

function sweepRows(results: readonly SweepJobResult[], names: readonly string[], first = 1): string[][] {
  const head = ['#', ...names, 'return', 'sharpe', 'sortino', 'max dd', 'calmar', 'PF', 'trades'];
  return [
    head,
    ...results.map((r, i) => {
      const m = r.metrics;
      return [String(first + i), ...names.map((n) => String(r.params[n])), pct(m.totalReturn, true), num(m.sharpe), num(m.sortino), pct(m.maxDrawdown === 0 ? 0 : -m.maxDrawdown), num(m.calmar), num(m.profitFactor), String(m.trades)];
    }),
  ];
}

async function runSweepCommand(s: SweepRun): Promise<void> {
  const setup = {
    strategy: s.strategySpec,
    cwd: process.cwd(),
    symbol: s.plan.symbol,
    interval: s.interval,
    ...(s.fees ? { fees: s.fees } : {}),
    slippageTicks: s.slippage,
    initialBalances: s.balances,
    data: s.data,
  };
  const bar = !s.json && process.stderr.isTTY === true ? new Progress({ stream: process.stderr, label: s.walkForward ? 'walk-forward' : 'sweep' }) : undefined;
  const progress = bar ? (done: number, total: number): void => bar.update(done / total, `${done}/${total} runs`) : undefined;
  const pool = await openSweepPool(setup, { workers: Math.min(s.workers, s.combos.length) });
  try {
    if (s.walkForward) {
      const wf = await runWalkForward(pool, s.combos, s.walkForward, s.rank, progress);
      bar?.done();
      printWalkForward(s, wf, pool.size);
      return;
    }
    const jobs = s.combos.map((params, id) => ({ id, params }));
    const results = await pool.run(jobs, progress);
    bar?.done();
    const ran = results.filter((r) => r.candles > 0);
    if (ran.length === 0) {
      throw new UsageError(`no ${s.plan.symbol} ${s.interval} candle closed in ${s.plan.describe}`, { hint: 'widen the range or use more data' });
    }
    const ranked = rankResults(ran, s.rank).slice(0, s.top);
    const head = { strategy: s.strategyName, symbol: s.plan.symbol, interval: s.interval, data: s.plan.describe, rank: s.rank, combinations: s.combos.length, skipped: s.skipped, workers: pool.size };
    if (s.json) {
      out.json({ ...head, results: ranked.map((r, i) => ({ rank: i + 1, params: r.params, value: metricValue(r.metrics, s.rank), metrics: sweepMetricsJson(r.metrics), ...(r.error ? { error: r.error } : {}) })) });
      return;
    }
    out.line(`sweep     ${s.strategyName} on ${s.plan.symbol} ${s.interval}, ${s.plan.describe}`);
    out.line(`runs      ${s.combos.length} combination${s.combos.length === 1 ? '' : 's'}${s.skipped ? ` (${s.skipped} refused by the strategy, not run)` : ''} on ${pool.size} ${pool.mode === 'workers' ? 'worker thread' : 'thread'}${pool.size === 1 ? '' : 's'}, ranked by ${s.rank}`);
    out.line();
    for (const l of table(sweepRows(ranked, s.swept), new Set(Array.from({ length: 8 + s.swept.length }, (_, i) => i)))) out.line(`  ${l}`);
    const errors = ranked.filter((r) => r.error).length;
    if (errors) out.line(`${errors} of these runs paused after the strategy threw; their figures stop there`);
  } finally {
    bar?.done();
    await pool.close();
  }
}

function printWalkForward(s: SweepRun, wf: WalkForwardResult, threads: number): void {
  const spec = s.walkForward!;
  const v = (x: number | null): string => (s.rank === 'return' || s.rank === 'maxDrawdown' ? pct(x) : num(x));
  if (s.json) {
    out.json({
      strategy: s.strategyName,
      symbol: s.plan.symbol,
      interval: s.interval,
      data: s.plan.describe,
      rank: s.rank,
      walkForward: spec,
      combinations: s.combos.length,
      workers: threads,
      windows: wf.rows.map((r) => ({
        index: r.index,
        inSample: { from: r.isFrom, to: r.isTo },
        outOfSample: { from: r.isTo, to: r.oosTo },
        params: r.best?.params ?? null,
        isValue: r.isValue,
        oosValue: r.oosValue,
        isMetrics: r.best ? sweepMetricsJson(r.best.metrics) : null,
        oosMetrics: r.oos ? sweepMetricsJson(r.oos.metrics) : null,
      })),
      summary: { meanIs: wf.meanIs, meanOos: wf.meanOos, oosReturn: wf.oosReturn },
      equity: wf.equity,
    });
    return;
  }
  const unit = { m: 'minute', h: 'hour', d: 'day' }[spec.unit];
  out.line(`walk-forward  ${s.strategyName} on ${s.plan.symbol} ${s.interval}, ${s.plan.describe}`);
  out.line(`windows       ${spec.inSample} ${unit}${spec.inSample === 1 ? '' : 's'} in-sample, ${spec.outOfSample} out-of-sample, rolling by ${spec.outOfSample}; ${s.combos.length} combinations per window on ${threads} thread${threads === 1 ? '' : 's'}, best by ${s.rank}`);
  out.line();
  const head = ['#', 'in-sample (UTC)', 'out-of-sample', ...s.swept, `IS ${s.rank}`, `OOS ${s.rank}`, 'OOS return'];
  const body = wf.rows.map((r) => [
    String(r.index + 1),
    `${utcMinute(r.isFrom)} → ${utcMinute(r.isTo)}`,
    `→ ${utcMinute(r.oosTo)}`,
    ...s.swept.map((n) => (r.best ? String(r.best.params[n]) : '-')),
    v(r.isValue),
    v(r.oosValue),
    r.oos ? pct(r.oos.metrics.totalReturn, true) : 'n/a',
  ]);
  const right = new Set([0, ...Array.from({ length: s.swept.length + 3 }, (_, i) => i + 3)]);
  for (const l of table([head, ...body], right)) out.line(`  ${l}`);
  out.line();
  out.line(`mean ${s.rank}: in-sample ${v(wf.meanIs)}, out-of-sample ${v(wf.meanOos)}${wf.meanIs !== null && wf.meanOos !== null && wf.meanOos < wf.meanIs ? '  (out-of-sample falls short: a sign of overfitting)' : ''}`);
  out.line(`out-of-sample return, windows chained: ${pct(wf.oosReturn, true)}`);
  if (wf.equity.length > 1) {
    const color = useColor();
    out.line();
    out.line(`out-of-sample equity (${s.inst.quoteAsset}, chained)`);
    out.line(lineChart(wf.equity.map((p) => p.equity), { columns: Math.max(40, Math.min(process.stdout.columns || 80, 160)), height: 8, ...(color ? { color: 'green' as const } : {}) }));
  }
}

// ---------------------------------------------------------------------------------------------

export function register(program: Command): void {
  program
    .command('backtest')
    .description('run a strategy over history: recorded or downloaded trades (exact) or stored candles (an approximation)')
    .requiredOption('--strategy <name|file>', 'a built-in (`qtrade strategy list`) or a .ts/.js file that default-exports defineStrategy(...)')
    .option('--symbol <symbol>', 'symbol (default: the one a data file holds)')
    .option('--interval <interval>', "the strategy's candle interval (1m, 5m, 1h, ...)", '1m')
    .option('--from <time>', 'start (ISO date/date-time, UTC unless zoned, or epoch ms)')
    .option('--to <time>', 'end (inclusive)')
    .option('--limit <n>', `store data without --from: the latest n candles of the interval (default ${DEFAULT_LIMIT})`)
    .option('--param <name=value>', 'a strategy parameter; repeat for more', collect)
    .option('--data <store|file>', 'store, a qtrade recording (.jsonl.gz), or a data.binance.vision aggTrades/trades/klines .csv/.zip', 'store')
    .option('--fees <rate>', 'commission rate, or MAKER,TAKER (default 0.001 = 0.1 %)')
    .option('--slippage <ticks>', 'ticks a taker pays beyond the print price where the book is synthetic (default 0)')
    .option('--balance <amountAsset>', 'a starting balance such as 10000USDT; repeat for more assets (default 10000USDT)', collect)
    .option('--trades <n>', 'fills to list (the last n, default 20)')
    .option('--json', 'one JSON object: params, metrics, fills and equity, decimals as strings')
    .option('--sweep <name=from..to:step>', 'sweep a param over a range (or NAME=A,B,C); repeat for a grid of every combination', collect)
    .option('--rank <metric>', `rank sweep runs by ${RANK_LIST} (default sharpe)`)
    .option('--top <n>', 'sweep runs to list, best first (default 10)')
    .option('--workers <n>', 'sweep worker threads (default: cores − 1)')
    .option('--walk-forward <in:out>', 'with --sweep: sweep each in-sample window, run the best out-of-sample, e.g. 6:1')
    .option('--wf-unit <m|h|d>', 'unit of the --walk-forward windows: minutes, hours or days (default d)')
    .action(
      action(async (opts: BacktestOptions, cmd: Command) => {
        const interval = parseInterval(opts.interval);
        const from = opts.from === undefined ? undefined : parseTime(opts.from, '--from');
        const to = opts.to === undefined ? undefined : parseTime(opts.to, '--to');
        if (from !== undefined && to !== undefined && from > to) throw new UsageError('--from is after --to', { hint: 'swap them' });
        const limit = parseLimit(opts.limit);
        const listed = parseLimit(opts.trades, '--trades') ?? 20;
        const fees = parseFees(opts.fees);
        const slippage = parseSlippage(opts.slippage);
        const balances = parseBalances(opts.balance);

        // Strategy and params first: a typo should not wait for data to load.
        const { strategy } = await loadStrategy(opts.strategy);
        const params = parseParamAssignments(opts.param ?? []);
        const sweeping = (opts.sweep ?? []).length > 0;
        if (!sweeping) {
          for (const [flag, v] of [['--rank', opts.rank], ['--top', opts.top], ['--workers', opts.workers], ['--walk-forward', opts.walkForward], ['--wf-unit', opts.wfUnit]] as const) {
            if (v !== undefined) throw new UsageError(`${flag} applies to a sweep`, { hint: 'add --sweep NAME=FROM..TO:STEP, e.g. --sweep fast=5..50:5' });
          }
        }
        const sweep = sweeping ? parseSweepOptions(opts, strategy, params) : undefined;
        const resolved = resolveParams(strategy.name, strategy.params, params);
        const bad = strategy.validate?.(resolved);
        if (bad) throw new UsageError(`strategy ${strategy.name}: ${bad}`);

        const market = bundledMarket();
        let plan: DataPlan;
        let total: number | undefined;
        let data: SweepData | undefined;
        if (opts.data === 'store') {
          if (!opts.symbol) throw new UsageError('which symbol?', { hint: 'add --symbol BTCUSDT (or backtest a file with --data FILE)' });
          const symbol = market.instruments.get(opts.symbol).symbol;
          const p = await storePlan(cmd, symbol, interval, from, to, limit);
          plan = p;
          total = p.count;
          if ('candles' in p.input) data = { kind: 'candles', candles: p.input.candles as Candle[] };
        } else {
          const f = await openBacktestFile(opts.data, {
            ...(opts.symbol ? { symbol: opts.symbol } : {}),
            ...(from === undefined ? {} : { from }),
            ...(to === undefined ? {} : { to }),
          });
          plan = filePlan(f);
          data =
            f.kind === 'recording'
              ? { kind: 'recording', path: path.resolve(f.path) }
              : { kind: 'file', path: path.resolve(f.path), symbol: f.symbol, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
        }
        const inst = market.instruments.get(plan.symbol);
        if (sweep) {
          await runSweepCommand({ ...sweep, json: opts.json === true, strategyName: strategy.name, plan, interval, inst, fees, slippage, balances, data: data!, strategySpec: opts.strategy });
          return;
        }

        const bar = !opts.json && process.stderr.isTTY === true ? new Progress({ stream: process.stderr, label: `backtest ${strategy.name}` }) : undefined;
        const span = from !== undefined && to !== undefined && to > from ? to - from : undefined;
        const started = Date.now();
        const tick = (time: number, n: number, what: string): void => {
          if (!bar || Date.now() - started < PROGRESS_AFTER_MS) return;
          const fraction = total !== undefined ? n / total : span !== undefined ? (time - from!) / span : 0;
          bar.update(fraction, `${n.toLocaleString('en-US')} ${what}, ${utcMinute(time)}`);
        };
        let input = plan.input;
        if (bar && 'candles' in input) input = { candles: counted(input.candles, (c, n) => tick(c.openTime, n, 'candles')) };
        else if (bar && 'trades' in input) input = { trades: counted(input.trades, (t, n) => tick(t.time, n, 'trades')) };

        let result: BacktestResult;
        try {
          result = await runBacktest({
            strategy,
            params,
            symbol: plan.symbol,
            interval,
            ...input,
            ...(fees ? { fees } : {}),
            slippageTicks: slippage,
            initialBalances: balances,
            ...market,
          });
        } finally {
          bar?.done();
        }
        if (result.candles === 0) {
          throw new UsageError(`no ${plan.symbol} ${interval} candle closed in ${plan.describe}${from !== undefined || to !== undefined ? ' within --from/--to' : ''}`, {
            hint: `widen the range, or fetch data with \`qtrade history download ${plan.symbol} --from 2024-01-01\``,
          });
        }
        const usedFees = fees ?? { maker: '0.001', taker: '0.001' };
        if (opts.json) {
          out.json(resultJson(result, inst, { data: plan.describe, fees: usedFees, slippageTicks: slippage, initialBalances: Object.fromEntries(Object.entries(balances).map(([a, v]) => [a, formatAmount(v)])) }));
        } else {
          printReport(result, inst, { describe: plan.describe, fees: usedFees, slippage, balances, trades: listed });
        }
        if (result.error) {
          out.err(`warning: strategy ${strategy.name} threw in ${result.error.callback} at ${utcTime(result.error.time)} UTC and was paused: ${result.error.message}`);
        }
      }),
    );
}

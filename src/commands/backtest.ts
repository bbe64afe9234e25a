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
import { amountToNumber, type Metrics } from '../engine/strategy/metrics.js';
import { parseParamAssignments, resolveParams } from '../engine/strategy/params.js';
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
    equity: r.equity.map((p) => ({ time: p.time, equity: formatAmount(p.equity), price: formatFixed(p.price, inst.priceScale), exposed: p.exposed })),
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
  const first = r.equity[0]?.time;
  const last = r.equity[r.equity.length - 1]?.time;
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
    const eq = r.equity.map((p) => amountToNumber(p.equity));
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
        const resolved = resolveParams(strategy.name, strategy.params, params);
        const bad = strategy.validate?.(resolved);
        if (bad) throw new UsageError(`strategy ${strategy.name}: ${bad}`);

        const market = bundledMarket();
        let plan: DataPlan;
        let total: number | undefined;
        if (opts.data === 'store') {
          if (!opts.symbol) throw new UsageError('which symbol?', { hint: 'add --symbol BTCUSDT (or backtest a file with --data FILE)' });
          const symbol = market.instruments.get(opts.symbol).symbol;
          const p = await storePlan(cmd, symbol, interval, from, to, limit);
          plan = p;
          total = p.count;
        } else {
          const f = await openBacktestFile(opts.data, {
            ...(opts.symbol ? { symbol: opts.symbol } : {}),
            ...(from === undefined ? {} : { from }),
            ...(to === undefined ? {} : { to }),
          });
          plan = filePlan(f);
        }
        const inst = market.instruments.get(plan.symbol);

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

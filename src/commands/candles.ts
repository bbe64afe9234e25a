import fs from 'node:fs';
import type { Command } from 'commander';
import { candleJson, klineCsvRow } from '../engine/candles/format.js';
import { candlesFromTradeFile } from '../engine/candles/from-trades.js';
import { parseInterval, unitFactor } from '../engine/candles/intervals.js';
import { queryCandles } from '../engine/candles/query.js';
import type { Candle, Interval } from '../engine/candles/types.js';
import { UsageError } from '../engine/errors.js';
import { formatFixed } from '../engine/fixed.js';
import { bundledInstruments } from '../engine/market/bundled-instruments.js';
import { Instruments } from '../engine/market/instruments.js';
import type { TimeUnit } from '../engine/market/types.js';
import { openStore } from '../engine/store/open.js';
import { parseLimit, parseTime } from './args.js';
import { action, out, settingsFor } from './context.js';
import { utcMinute, utcTime } from './format.js';

interface CandlesOptions {
  interval: string;
  from?: string;
  to?: string;
  limit?: string;
  json?: boolean;
  csv?: boolean;
  fromTrades?: string;
}

type Format = 'csv' | 'json' | 'table';

const DEFAULT_STORE_LIMIT = 500;

function timeRange(opts: CandlesOptions): { from: number | undefined; to: number | undefined } {
  const from = opts.from === undefined ? undefined : parseTime(opts.from, '--from');
  const to = opts.to === undefined ? undefined : parseTime(opts.to, '--to');
  if (from !== undefined && to !== undefined && from > to) throw new UsageError('--from is after --to', { hint: 'swap them' });
  return { from, to };
}

/** Writes candles as CSV rows, JSON lines or an aligned table; buffered, flushed at the end. */
class Printer {
  private readonly lines: string[] = [];
  private readonly pending: Candle[] = [];
  private widths: number[] | undefined;
  private static readonly HEAD = ['open time (UTC)', 'open', 'high', 'low', 'close', 'volume', 'quote volume', 'trades', 'taker buy vol'];

  constructor(
    private readonly format: Format,
    private readonly unit: () => TimeUnit,
  ) {}

  add(c: Candle): void {
    if (this.format === 'csv') this.push(klineCsvRow(c));
    else if (this.format === 'json') this.push(JSON.stringify(candleJson(c)));
    else {
      // The first rows fix the column widths, so a long stream never has to be held in memory.
      this.pending.push(c);
      if (this.pending.length >= 200) this.drainTable();
    }
  }

  end(): void {
    this.drainTable();
    this.write();
  }

  private cells(c: Candle): string[] {
    const ps = c.priceScale;
    const qs = c.qtyScale;
    return [
      utcTime(Math.floor(c.openTime / unitFactor(this.unit()))) + (c.closed ? '' : ' *'),
      formatFixed(c.open, ps),
      formatFixed(c.high, ps),
      formatFixed(c.low, ps),
      formatFixed(c.close, ps),
      formatFixed(c.volume, qs),
      formatFixed(c.quoteVolume, ps + qs, Math.min(ps, 2)),
      String(c.trades),
      formatFixed(c.takerBuyVolume, qs),
    ];
  }

  private drainTable(): void {
    if (this.format !== 'table' || this.pending.length === 0) return;
    const rows = this.pending.splice(0).map((c) => this.cells(c));
    if (!this.widths) {
      this.widths = Printer.HEAD.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      this.push(Printer.HEAD.map((h, i) => (i === 0 ? h.padEnd(this.widths![i]!) : h.padStart(this.widths![i]!))).join('  '));
    }
    for (const r of rows) this.push(r.map((v, i) => (i === 0 ? v.padEnd(this.widths![i]!) : v.padStart(this.widths![i]!))).join('  '));
  }

  private push(line: string): void {
    this.lines.push(line);
    if (this.lines.length >= 1000) this.write();
  }

  private write(): void {
    if (this.lines.length === 0) return;
    process.stdout.write(this.lines.join('\n') + '\n');
    this.lines.length = 0;
  }
}

async function fromTrades(file: string, symbol: string | undefined, interval: Interval, opts: CandlesOptions, format: Format): Promise<void> {
  if (!fs.existsSync(file)) {
    throw new UsageError(`no such file: ${file}`, { hint: 'give the path of a data.binance.vision aggTrades/trades .csv or .zip, or a JSONL recording' });
  }
  const { from, to } = timeRange(opts);
  const limit = parseLimit(opts.limit);
  let unit: TimeUnit = 'ms';
  let lo = -Infinity;
  let hi = Infinity;
  const printer = new Printer(format, () => unit);
  // --limit without --from keeps the latest candles, as for the store.
  const tail: Candle[] | undefined = limit !== undefined && from === undefined ? [] : undefined;
  let printed = 0;
  const summary = await candlesFromTradeFile(file, {
    interval,
    ...(symbol ? { symbol } : {}),
    onOpen: (info) => {
      unit = info.unit;
      const f = unitFactor(unit);
      if (from !== undefined) lo = from * f;
      if (to !== undefined) hi = to * f;
    },
    onCandle: (c) => {
      if (c.openTime < lo) return true;
      if (c.openTime > hi) return false;
      if (tail) {
        tail.push(c);
        if (tail.length > limit!) tail.shift();
        return true;
      }
      printer.add(c);
      printed++;
      return limit === undefined || printed < limit;
    },
  });
  if (tail) for (const c of tail) printer.add(c);
  printer.end();
  if (summary.late > 0) out.err(`warning: ${summary.late} trades were out of order (their minute had closed) and were skipped`);
  if (summary.trades === 0) out.err(`note: ${file} has no ${summary.symbol} trades`);
}

async function fromStore(cmd: Command, symbolArg: string, interval: Interval, opts: CandlesOptions, format: Format): Promise<void> {
  const { from, to } = timeRange(opts);
  const limit = parseLimit(opts.limit) ?? (from === undefined ? DEFAULT_STORE_LIMIT : undefined);
  const symbol = symbolArg.toUpperCase();
  const store = await openStore(settingsFor(cmd).storeUrl());
  try {
    const { candles, skippedIncomplete } = await queryCandles(store, {
      symbol,
      interval,
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
      ...(limit === undefined ? {} : { limit }),
    });
    if (candles.length === 0) {
      const known = new Instruments([...bundledInstruments().all(), ...(await store.instruments())]);
      known.get(symbol); // unknown symbol: a UsageError with the closest ones
      out.err(`no ${symbol} ${interval} candles in the store${from !== undefined || to !== undefined ? ' in that range' : ''}`);
      out.err(`hint: fetch some with \`qtrade history download ${symbol} --from 2024-01-01\` or build them with \`qtrade candles --from-trades FILE\``);
      return;
    }
    const printer = new Printer(format, () => 'ms');
    for (const c of candles) printer.add(c);
    printer.end();
    if (skippedIncomplete.length > 0) {
      out.err(
        `left out ${skippedIncomplete.length} ${interval} candle${skippedIncomplete.length === 1 ? '' : 's'} with 1m data missing in the store (first ${utcMinute(skippedIncomplete[0]!)} UTC)`,
      );
      out.err(`hint: \`qtrade history download ${symbol} --interval 1m --from ...\` fills the holes from Binance`);
    }
  } finally {
    await store.close();
  }
}

export function register(program: Command): void {
  program
    .command('candles [symbol]')
    .description('print exact klines: from the store (1m aggregated to longer intervals as needed) or built from a trades file')
    .option('--interval <interval>', 'kline interval: 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 1w', '1m')
    .option('--from <time>', 'first open time (ISO date/date-time, UTC unless zoned, or epoch ms)')
    .option('--to <time>', 'last open time (inclusive)')
    .option('--limit <n>', `at most n candles: the first ones with --from, else the latest (store default ${DEFAULT_STORE_LIMIT})`)
    .option('--json', 'one JSON object per line, decimals as strings')
    .option('--csv', 'data.binance.vision klines CSV rows (the default with --from-trades)')
    .option('--from-trades <file>', 'build candles from a data.binance.vision aggTrades/trades CSV or .zip, or a JSONL recording')
    .action(
      action(async (symbol: string | undefined, opts: CandlesOptions, cmd: Command) => {
        if (opts.json && opts.csv) throw new UsageError('--json and --csv exclude each other', { hint: 'pick one output format' });
        const interval = parseInterval(opts.interval);
        const format: Format = opts.json ? 'json' : opts.csv ? 'csv' : opts.fromTrades ? 'csv' : 'table';
        if (opts.fromTrades) {
          await fromTrades(opts.fromTrades, symbol, interval, opts, format);
          return;
        }
        if (!symbol) {
          throw new UsageError('which symbol?', { hint: 'qtrade candles BTCUSDT --interval 5m, or qtrade candles --from-trades FILE' });
        }
        await fromStore(cmd, symbol, interval, opts, format);
      }),
    );
}

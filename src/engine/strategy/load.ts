import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { toMs } from '../candles/intervals.js';
import type { Candle } from '../candles/types.js';
import { QtradeError, UsageError } from '../errors.js';
import { closeMatches } from '../market/instruments.js';
import { readKlineFile } from '../market/files/kline-files.js';
import { detectFileKind, openTradeFile, symbolFromFileName, type FileKind } from '../market/files/trade-files.js';
import { readRecordingHeader } from '../market/replay/recording.js';
import type { Trade } from '../market/types.js';
import { loadSpecFile } from '../ai/strategy-spec.js';
import { defineStrategy, type StrategyDefinition } from './api.js';
import { BUILTIN_STRATEGIES } from './builtins/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStrategy = StrategyDefinition<any>;

export interface LoadedStrategy {
  strategy: AnyStrategy;
  /** 'builtin', or the absolute path of the user's file. */
  source: 'builtin' | string;
}

const FILE_EXT = /\.(?:[cm]?[jt]s)$/i;
const TS_EXT = /\.(?:[cm]?ts)$/i;
const SPEC_EXT = /\.json$/i;
const FILE_HINT = 'a strategy file must `export default defineStrategy({ name, params, onCandle, … })`';

/** Whether `--strategy` names a file rather than a built-in. */
export function isStrategyFile(spec: string): boolean {
  return FILE_EXT.test(spec) || SPEC_EXT.test(spec) || spec.includes('/') || spec.includes('\\');
}

/** The first line of an error's message: loaders (esbuild, Node) put whole frames after it. */
function firstLines(err: unknown, n = 3): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n').filter((l) => l.trim() !== '').slice(0, n).join('\n');
}

/**
 * `--strategy NAME|FILE`: a built-in by name, or a user module (.ts through tsx, .js/.mjs by
 * import) whose default export is a strategy. The export is checked again with defineStrategy, so
 * a plain object works too and a bad one is refused with the reason, never a stack.
 */
export async function loadStrategy(spec: string, opts: { cwd?: string } = {}): Promise<LoadedStrategy> {
  if (!isStrategyFile(spec)) {
    const builtin = BUILTIN_STRATEGIES.get(spec);
    if (builtin) return { strategy: builtin, source: 'builtin' };
    const names = [...BUILTIN_STRATEGIES.keys()];
    const near = closeMatches(spec.toLowerCase(), names);
    throw new UsageError(`unknown strategy "${spec}"`, {
      hint: `${near.length ? `did you mean ${near.join(', ')}? ` : ''}built-ins: ${names.join(', ')} (\`qtrade strategy list\`); or give a file such as ./my-strategy.ts`,
    });
  }
  const file = path.resolve(opts.cwd ?? process.cwd(), spec);
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
    throw new UsageError(`no such strategy file: ${spec}`, { hint: FILE_HINT });
  }
  // A declarative spec (qtrade ask --save-strategy) is data: validated and compiled, never imported.
  if (SPEC_EXT.test(file)) return { strategy: loadSpecFile(file), source: file };
  if (!FILE_EXT.test(file)) throw new UsageError(`${spec} is not a .ts, .mts, .js, .mjs or .json (strategy spec) file`, { hint: FILE_HINT });
  let mod: { default?: unknown };
  try {
    const url = pathToFileURL(file).href;
    if (TS_EXT.test(file)) {
      const { tsImport } = await import('tsx/esm/api');
      mod = (await tsImport(url, import.meta.url)) as { default?: unknown };
    } else {
      mod = (await import(url)) as { default?: unknown };
    }
  } catch (cause) {
    // The module's own errors (a defineStrategy refusal, a syntax error) are the user's to fix.
    throw new UsageError(`cannot load strategy file ${spec}: ${firstLines(cause)}`, { hint: FILE_HINT, cause });
  }
  // tsx may wrap a CommonJS-looking module once more.
  let def = mod.default;
  if (def && typeof def === 'object' && !('onCandle' in def) && 'default' in def) def = (def as { default: unknown }).default;
  if (def === undefined) throw new UsageError(`${spec} has no default export`, { hint: FILE_HINT });
  try {
    return { strategy: defineStrategy(def as AnyStrategy), source: file };
  } catch (err) {
    if (err instanceof QtradeError) throw new UsageError(`${spec}: ${err.message}`, { hint: err.hint ?? FILE_HINT });
    throw new UsageError(`${spec}: its default export is not a strategy (${firstLines(err, 1)})`, { hint: FILE_HINT });
  }
}

// ---------------------------------------------------------------------------------------------
// Data files for a backtest.

export type BacktestFile =
  | { kind: 'recording'; path: string; symbol: string; symbols: string[] }
  | { kind: 'trades'; path: string; fileKind: Exclude<FileKind, 'klines'>; symbol: string; trades: AsyncIterable<Trade> }
  | { kind: 'candles'; path: string; symbol: string; candles: AsyncIterable<Candle> };

export interface BacktestFileOptions {
  /** The symbol to backtest; default the file's (its name, or a recording's only symbol). */
  symbol?: string;
  /** Bounds on event times (trades) or open times (candles), ms, inclusive. */
  from?: number;
  to?: number;
}

/**
 * Opens `--data FILE`: a qtrade recording (replayed whole through the kernel), a
 * data.binance.vision aggTrades/trades CSV or .zip (trades, in ms, within from/to), or a klines
 * CSV or .zip (candles, in ms, within from/to). Nothing is read past the header until iterated.
 */
export async function openBacktestFile(file: string, opts: BacktestFileOptions = {}): Promise<BacktestFile> {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
    throw new UsageError(`no such data file: ${file}`, {
      hint: 'give a qtrade recording (.jsonl.gz), a data.binance.vision aggTrades/trades/klines .csv or .zip, or --data store',
    });
  }
  const want = opts.symbol?.toUpperCase();
  const kind = await detectFileKind(file);
  const lo = opts.from ?? -Infinity;
  const hi = opts.to ?? Infinity;
  if (kind === 'jsonl') {
    const header = await readRecordingHeader(file);
    if (header) {
      if (opts.from !== undefined || opts.to !== undefined) {
        throw new UsageError('--from/--to do not apply to a recording: it is replayed whole, exactly as recorded', {
          hint: 'leave them out, or cut the recording to the span you want',
        });
      }
      const symbols = header.symbols.map((s) => s.toUpperCase());
      const symbol = want ?? (symbols.length === 1 ? symbols[0]! : undefined);
      if (symbol === undefined) {
        throw new UsageError(`${file} records ${symbols.join(', ')}: which one?`, { hint: `add --symbol ${symbols[0] ?? 'BTCUSDT'}` });
      }
      if (symbols.length > 0 && !symbols.includes(symbol)) {
        throw new UsageError(`${file} has no ${symbol} data (it records ${symbols.join(', ')})`, { hint: `use --symbol ${symbols[0]}` });
      }
      return { kind: 'recording', path: file, symbol, symbols };
    }
  }
  const named = symbolFromFileName(file);
  if (want && named && named !== want) {
    throw new UsageError(`${path.basename(file)} holds ${named}, not ${want}`, { hint: `use --symbol ${named}, or the ${want} file` });
  }
  if (kind === 'klines') {
    const symbol = want ?? named;
    if (!symbol) throw new UsageError(`cannot tell the symbol of ${file}`, { hint: 'add --symbol BTCUSDT' });
    const source = readKlineFile(file, { symbol });
    async function* candles(): AsyncGenerator<Candle> {
      for await (const raw of source) {
        const c = raw.openTime >= 1e14 ? { ...raw, openTime: toMs(raw.openTime, 'us'), closeTime: toMs(raw.closeTime, 'us') } : raw;
        if (c.openTime < lo) continue;
        if (c.openTime > hi) break;
        yield c;
      }
    }
    return { kind: 'candles', path: file, symbol, candles: candles() };
  }
  const tf = await openTradeFile(file, { kind, ...(want ? { symbol: want } : {}) });
  const unit = tf.unit;
  async function* trades(): AsyncGenerator<Trade> {
    for await (const batch of tf.batches()) {
      for (const t of batch) {
        const ms = unit === 'ms' ? t.time : toMs(t.time, unit);
        if (ms < lo) continue;
        if (ms > hi) return;
        yield unit === 'ms' ? t : { ...t, time: ms };
      }
    }
  }
  return { kind: 'trades', path: file, fileKind: tf.kind, symbol: tf.symbol, trades: trades() };
}

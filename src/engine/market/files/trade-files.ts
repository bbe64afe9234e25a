import path from 'node:path';
import { ParseError, UsageError } from '../../errors.js';
import { parseFixed } from '../../fixed.js';
import { detectTimeUnit } from '../../candles/intervals.js';
import { bundledInstruments } from '../bundled-instruments.js';
import { wireInstrument } from '../instruments.js';
import type { Instrument, TimeUnit, Trade } from '../types.js';
import { parseDigits } from './fields.js';
import { readLines, type LineBatch } from './lines.js';

/** What a market-data file holds. */
export type FileKind = 'aggTrades' | 'trades' | 'klines' | 'jsonl';

export interface TradeFileOptions {
  /** Overrides the symbol taken from the file name (or, for JSONL, from the first trade). */
  symbol?: string;
  /** Scales to parse with; default: the bundled exchangeInfo's, else Binance's 8/8 wire precision. */
  instrument?: Instrument;
  /** Skip detection. */
  kind?: FileKind;
}

/** An opened trade file: what was detected, and its trades (iterable once). */
export interface TradeFile extends AsyncIterable<Trade> {
  readonly path: string;
  readonly kind: Exclude<FileKind, 'klines'>;
  readonly symbol: string;
  readonly instrument: Instrument;
  /** 'us' for data.binance.vision spot files from 2025 on, else 'ms'. */
  readonly unit: TimeUnit;
  /** The trades in batches (one per chunk read): the fast way to consume a large file. */
  batches(): AsyncIterable<Trade[]>;
}

const NAME_RE = /^([A-Z0-9]+)-(aggTrades|trades|\d+[smhdwM])-/i;

/** The symbol in a data.binance.vision file name (BTCUSDT-aggTrades-2024-08-08.zip → BTCUSDT). */
export function symbolFromFileName(file: string): string | undefined {
  const m = NAME_RE.exec(path.basename(file));
  return m ? m[1]!.toUpperCase() : undefined;
}

/** The interval in a klines file name (BTCUSDT-1m-2024-08-08.csv → 1m). */
export function intervalFromFileName(file: string): string | undefined {
  const m = NAME_RE.exec(path.basename(file));
  const k = m?.[2];
  return k && !/trades$/i.test(k) ? k : undefined;
}

/** The kind of a market-data file, from its name and, failing that, its first line. */
export async function detectFileKind(file: string): Promise<FileKind> {
  const base = path.basename(file).toLowerCase();
  if (/\.jsonl?(\.gz)?$/.test(base)) return 'jsonl';
  if (base.includes('-aggtrades-')) return 'aggTrades';
  if (base.includes('-trades-')) return 'trades';
  if (intervalFromFileName(file)) return 'klines';
  for await (const batch of readLines(file)) {
    for (const raw of batch.lines) {
      const line = raw.trim();
      if (line === '') continue;
      const kind = kindOfLine(line);
      if (kind) return kind;
      throw new UsageError(`cannot tell what ${file} holds`, {
        hint: 'expected a data.binance.vision aggTrades, trades or klines CSV (or .zip), or JSONL of aggTrade messages',
      });
    }
  }
  throw new UsageError(`${file} is empty`);
}

function kindOfLine(line: string): FileKind | undefined {
  const c0 = line.charCodeAt(0);
  if (c0 === 123 /* { */ || (c0 >= 48 && c0 <= 57 && /^\d+ \{/.test(line))) return 'jsonl';
  const cols = line.split(',').map((s) => s.trim().toLowerCase());
  if (cols[0] === 'agg_trade_id') return 'aggTrades';
  if (cols[0] === 'id') return 'trades';
  if (cols[0] === 'open_time') return 'klines';
  if (cols.length >= 12) return 'klines';
  const bool = (s: string | undefined): boolean => s === 'true' || s === 'false';
  if (cols.length >= 7 && bool(cols[6]) && !bool(cols[5])) return 'aggTrades';
  if (cols.length >= 6 && bool(cols[5])) return 'trades';
  return undefined;
}

/** Scales for a symbol: bundled exchangeInfo when it lists the symbol, else wire precision (8/8). */
export function instrumentFor(symbol: string): Instrument {
  const known = bundledInstruments();
  return known.has(symbol) ? known.get(symbol) : wireInstrument(symbol);
}

/** A row that cannot be read, naming the file, line and field. */
function rowError(file: string, line: number, field: string, value: string | undefined, why?: string): ParseError {
  const shown = value === undefined ? 'missing' : `"${value.length > 40 ? value.slice(0, 40) + '…' : value}"`;
  return new ParseError(`${path.basename(file)} line ${line}: bad ${field} ${shown}${why ? ` (${why})` : ''}`, {
    hint:
      field === 'price' || field === 'qty'
        ? 'if the file has more decimals than the bundled exchangeInfo allows, pass a wider instrument (8 decimals)'
        : `check that ${file} is a data.binance.vision file of the kind detected`,
  });
}

function isHeader(line: string): boolean {
  const c = line.charCodeAt(0);
  return !(c >= 48 && c <= 57) && c !== 123 && c !== 45;
}

function parseBool(s: string | undefined): boolean | undefined {
  switch (s) {
    case 'True':
    case 'true':
    case 'TRUE':
      return true;
    case 'False':
    case 'false':
    case 'FALSE':
      return false;
    default:
      return undefined;
  }
}

type RowParser = (line: string, lineNo: number) => Trade | undefined;

function csvParser(file: string, kind: 'aggTrades' | 'trades', inst: Instrument): RowParser {
  const symbol = inst.symbol;
  const ps = inst.priceScale;
  const qs = inst.qtyScale;
  const aggs = kind === 'aggTrades';
  const cols = aggs ? 7 : 6;
  const names = aggs
    ? ['agg_id', 'price', 'qty', 'first_id', 'last_id', 'time', 'is_buyer_maker']
    : ['id', 'price', 'qty', 'quote_qty', 'time', 'is_buyer_maker'];
  const f: string[] = new Array<string>(cols);
  return (line, lineNo) => {
    let start = 0;
    for (let i = 0; i < cols; i++) {
      let end = line.indexOf(',', start);
      if (end === -1) {
        if (i < cols - 1) throw rowError(file, lineNo, names[i + 1]!, undefined);
        end = line.length;
        if (line.charCodeAt(end - 1) === 13) end--;
      }
      f[i] = line.slice(start, end);
      start = end + 1;
    }
    const id = parseDigits(f[0]);
    if (id === undefined) throw rowError(file, lineNo, names[0]!, f[0]);
    let price: number;
    let qty: number;
    try {
      price = parseFixed(f[1]!, ps);
    } catch (err) {
      throw rowError(file, lineNo, 'price', f[1], (err as Error).message);
    }
    try {
      qty = parseFixed(f[2]!, qs);
    } catch (err) {
      throw rowError(file, lineNo, 'qty', f[2], (err as Error).message);
    }
    let firstId = id;
    let lastId = id;
    let ti = 4;
    if (aggs) {
      const first = parseDigits(f[3]);
      const last = parseDigits(f[4]);
      if (first === undefined) throw rowError(file, lineNo, 'first_id', f[3]);
      if (last === undefined || last < first) throw rowError(file, lineNo, 'last_id', f[4]);
      firstId = first;
      lastId = last;
      ti = 5;
    }
    const time = parseDigits(f[ti]);
    if (time === undefined) throw rowError(file, lineNo, 'time', f[ti]);
    const bm = parseBool(f[ti + 1]);
    if (bm === undefined) throw rowError(file, lineNo, 'is_buyer_maker', f[ti + 1]);
    return { symbol, id, price, qty, firstId, lastId, time, buyerMaker: bm };
  };
}

interface TradeMsg {
  e?: unknown;
  s?: unknown;
  a?: unknown;
  t?: unknown;
  p?: unknown;
  q?: unknown;
  f?: unknown;
  l?: unknown;
  T?: unknown;
  m?: unknown;
}

/** The trade payload inside a JSONL line (bare, combined-stream envelope, or a qtrade recording line), if any. */
function tradeMessage(file: string, line: string, lineNo: number): TradeMsg | undefined {
  let text = line;
  const c0 = text.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57) {
    // "<receive time> <frame>" capture lines
    const brace = text.indexOf('{');
    if (brace === -1) throw rowError(file, lineNo, 'JSON', line);
    text = text.slice(brace);
  }
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch (err) {
    throw rowError(file, lineNo, 'JSON', line, (err as Error).message);
  }
  if (msg === null || typeof msg !== 'object') return undefined;
  let o = msg as Record<string, unknown>;
  if ('r' in o && 'f' in o) {
    const frame = o.f;
    if (typeof frame === 'string') {
      try {
        o = JSON.parse(frame) as Record<string, unknown>;
      } catch (err) {
        throw rowError(file, lineNo, 'frame', frame, (err as Error).message);
      }
    } else if (frame !== null && typeof frame === 'object') {
      o = frame as Record<string, unknown>;
    } else return undefined;
    if (o === null || typeof o !== 'object') return undefined;
  }
  if ('data' in o && 'stream' in o && o.data !== null && typeof o.data === 'object') o = o.data as Record<string, unknown>;
  return o.e === 'aggTrade' || o.e === 'trade' ? (o as TradeMsg) : undefined;
}

function jsonlParser(file: string, inst: Instrument): RowParser {
  const symbol = inst.symbol;
  return (line, lineNo) => {
    const m = tradeMessage(file, line, lineNo);
    if (m === undefined || (typeof m.s === 'string' && m.s.toUpperCase() !== symbol)) return undefined;
    const agg = m.e === 'aggTrade';
    const id = agg ? m.a : m.t;
    if (typeof id !== 'number') throw rowError(file, lineNo, agg ? 'a' : 't', String(id));
    const firstId = agg ? m.f : id;
    const lastId = agg ? m.l : id;
    if (typeof firstId !== 'number') throw rowError(file, lineNo, 'f', String(firstId));
    if (typeof lastId !== 'number' || lastId < firstId) throw rowError(file, lineNo, 'l', String(lastId));
    if (typeof m.T !== 'number') throw rowError(file, lineNo, 'T', String(m.T));
    if (typeof m.m !== 'boolean') throw rowError(file, lineNo, 'm', String(m.m));
    let price: number;
    let qty: number;
    try {
      price = parseFixed(String(m.p), inst.priceScale);
    } catch (err) {
      throw rowError(file, lineNo, 'price', String(m.p), (err as Error).message);
    }
    try {
      qty = parseFixed(String(m.q), inst.qtyScale);
    } catch (err) {
      throw rowError(file, lineNo, 'qty', String(m.q), (err as Error).message);
    }
    return { symbol, id, price, qty, firstId, lastId, time: m.T, buyerMaker: m.m };
  };
}

/**
 * Opens a trade file (data.binance.vision aggTrades or trades CSV, plain, .zip or .gz, or JSONL
 * of aggTrade/trade messages) and detects its symbol, scales and time unit from its name and
 * first rows. Reading streams: memory stays constant whatever the file size.
 */
export async function openTradeFile(file: string, opts: TradeFileOptions = {}): Promise<TradeFile> {
  const kind = opts.kind ?? (await detectFileKind(file));
  if (kind === 'klines') {
    throw new UsageError(`${file} holds klines, not trades`, { hint: 'use a trades or aggTrades file, or `qtrade history import` for klines' });
  }
  const lines = readLines(file);
  const buffered: LineBatch[] = [];
  let symbol = opts.instrument?.symbol ?? opts.symbol?.toUpperCase() ?? symbolFromFileName(file);
  let firstTime: number | undefined;

  // Peek until the first data row, for the time unit (and, in JSONL, the symbol).
  peek: for (;;) {
    const next = await lines.next();
    if (next.done) break;
    buffered.push(next.value);
    const { lines: ls, firstLine } = next.value;
    for (let i = 0; i < ls.length; i++) {
      const line = ls[i]!.trim();
      if (line === '' || (kind !== 'jsonl' && isHeader(line))) continue;
      if (kind === 'jsonl') {
        const m = tradeMessage(file, line, firstLine + i);
        if (m === undefined) continue;
        if (symbol === undefined && typeof m.s === 'string') symbol = m.s.toUpperCase();
        if (symbol !== undefined && typeof m.s === 'string' && m.s.toUpperCase() !== symbol) continue;
        if (typeof m.T === 'number') firstTime = m.T;
      } else {
        const cols = line.split(',');
        const t = Number(cols[kind === 'aggTrades' ? 5 : 4]);
        if (Number.isFinite(t)) firstTime = t;
      }
      break peek;
    }
  }
  if (symbol === undefined) {
    throw new UsageError(`cannot tell the symbol of ${file}`, {
      hint: 'name the file as data.binance.vision does (BTCUSDT-aggTrades-2024-08-08.csv) or pass the symbol',
    });
  }
  const instrument = opts.instrument ?? instrumentFor(symbol);
  const unit = firstTime === undefined ? 'ms' : detectTimeUnit(firstTime);
  const parse = kind === 'jsonl' ? jsonlParser(file, instrument) : csvParser(file, kind, instrument);
  const csv = kind !== 'jsonl';
  let used = false;

  async function* batches(): AsyncGenerator<Trade[]> {
    if (used) throw new Error(`${file} is already being read`);
    used = true;
    const all = (async function* () {
      yield* buffered;
      yield* lines;
    })();
    for await (const { lines: ls, firstLine } of all) {
      const out: Trade[] = [];
      for (let i = 0; i < ls.length; i++) {
        const line = ls[i]!;
        if (line.length === 0 || line === '\r') continue;
        if (csv && firstLine + i === 1 && isHeader(line)) continue;
        const t = parse(line, firstLine + i);
        if (t !== undefined) out.push(t);
      }
      if (out.length) yield out;
    }
  }

  return {
    path: file,
    kind,
    symbol: instrument.symbol,
    instrument,
    unit,
    batches,
    async *[Symbol.asyncIterator]() {
      for await (const b of batches()) yield* b;
    },
  };
}

/** The trades of a file one by one (see openTradeFile for what it reads). */
export async function* readTradeFile(file: string, opts: TradeFileOptions = {}): AsyncGenerator<Trade> {
  yield* await openTradeFile(file, opts);
}

import { IncompleteMinutes } from '../candles/incomplete.js';
import { INTERVAL_MS, detectTimeUnit, toMs } from '../candles/intervals.js';
import { CandleSynthesizer } from '../candles/synthesizer.js';
import type { Candle, Interval } from '../candles/types.js';
import { UsageError } from '../errors.js';
import type { Store } from '../store/types.js';
import { detectFileKind, readKlineFile, type FileKind } from './files/kline-files.js';
import { openTradeFile, symbolFromFileName } from './files/trade-files.js';
import type { Instrument } from './types.js';

/** The one REST call a download needs (BinanceRest fits); oldest first, open times inclusive. */
export interface KlineSource {
  klines(q: { symbol: string; interval: Interval; startTime?: number; endTime?: number; limit?: number }): Promise<Candle[]>;
}

export interface DownloadOptions {
  rest: KlineSource;
  store: Store;
  symbol: string;
  interval: Interval;
  /** Open times ≥ from (ms). */
  from: number;
  /** Open times < to (ms): `--to 2024-02-01` stops with the last candle of January. */
  to: number;
  onProgress?: (p: DownloadProgress) => void;
  /** Checked between pages: the current page is always finished and saved first. */
  signal?: AbortSignal;
  /** Klines per request; Binance allows at most 1000. */
  pageSize?: number;
  /**
   * Binance's clock (exchangeInfo.serverTime). Candles closing at or after it are still open
   * and are neither stored nor counted as done; without it the candles' own `closed` decides.
   */
  serverTime?: number;
}

export interface DownloadProgress {
  symbol: string;
  interval: Interval;
  /** REST pages fetched so far. */
  pages: number;
  /** Candles written so far. */
  candles: number;
  /** Milliseconds of the missing range dealt with, out of `total`. */
  done: number;
  total: number;
  /** Open time the next page starts at. */
  cursor: number;
}

export interface DownloadSummary {
  symbol: string;
  interval: Interval;
  from: number;
  to: number;
  /** REST klines requests made. */
  pages: number;
  /** Candles written (new or updated). */
  candles: number;
  /** Open time of the first and last candle written, if any. */
  first: number | undefined;
  last: number | undefined;
  /** True when the whole range was already in the store: no REST call was made. */
  upToDate: boolean;
  /** True when the signal stopped the download; running it again resumes. */
  interrupted: boolean;
}

/** [first, last] open times (ms, inclusive) whose klines are all in the store. */
type Span = [number, number];

interface Coverage {
  v: 1;
  covered: Span[];
}

/** Where a download keeps its resume point: the open-time spans already complete in the store. */
export function historyStateKey(symbol: string, interval: Interval): string {
  return `history.klines.${symbol.toUpperCase()}.${interval}`;
}

function parseCoverage(text: string | undefined): Span[] {
  if (text === undefined) return [];
  try {
    const c = JSON.parse(text) as Partial<Coverage>;
    if (c.v !== 1 || !Array.isArray(c.covered)) return [];
    return c.covered.filter(
      (s): s is Span => Array.isArray(s) && s.length === 2 && Number.isSafeInteger(s[0]) && Number.isSafeInteger(s[1]) && s[0] <= s[1],
    );
  } catch {
    // An unreadable resume point only costs a re-download; the upserts keep that idempotent.
    return [];
  }
}

/** Adds a span and merges touching ones (b + 1 === next start: no open time lies between). */
export function addSpan(spans: readonly Span[], add: Span): Span[] {
  const all = [...spans, add].sort((a, b) => a[0] - b[0]);
  const out: Span[] = [];
  for (const s of all) {
    const last = out[out.length - 1];
    if (last && s[0] <= last[1] + 1) last[1] = Math.max(last[1], s[1]);
    else out.push([s[0], s[1]]);
  }
  return out;
}

/** The parts of [lo, hi] no span covers. */
export function missingSpans(spans: readonly Span[], lo: number, hi: number): Span[] {
  const out: Span[] = [];
  let at = lo;
  for (const [a, b] of [...spans].sort((x, y) => x[0] - y[0])) {
    if (b < at) continue;
    if (a > hi) break;
    if (a > at) out.push([at, Math.min(a - 1, hi)]);
    at = Math.max(at, b + 1);
    if (at > hi) break;
  }
  if (at <= hi) out.push([at, hi]);
  return out;
}

/**
 * Downloads klines over REST into the store, 1000 per page, oldest first. After every page
 * the candles are upserted and the covered span saved, so an interrupted download resumes
 * where it stopped and a finished range costs no REST call at all. Pacing is the REST
 * client's job; this only asks it for pages.
 */
export async function downloadKlines(opts: DownloadOptions): Promise<DownloadSummary> {
  const { rest, store, interval, signal, serverTime } = opts;
  const symbol = opts.symbol.toUpperCase();
  const iv = INTERVAL_MS[interval];
  if (iv === undefined) throw new UsageError(`unknown interval "${interval}"`);
  if (!Number.isSafeInteger(opts.from) || !Number.isSafeInteger(opts.to) || opts.from >= opts.to) {
    throw new UsageError(`the download range is empty or invalid (from ${opts.from}, to ${opts.to})`, {
      hint: '--from must be before --to',
    });
  }
  const pageSize = opts.pageSize ?? 1000;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    throw new UsageError(`page size must be 1..1000, got ${pageSize}`);
  }
  const lo = opts.from;
  const hi = opts.to - 1;
  const key = historyStateKey(symbol, interval);
  let covered = parseCoverage(await store.getState(key));
  const gaps = missingSpans(covered, lo, hi);
  const total = gaps.reduce((n, [a, b]) => n + (b - a + 1), 0);
  const summary: DownloadSummary = {
    symbol,
    interval,
    from: opts.from,
    to: opts.to,
    pages: 0,
    candles: 0,
    first: undefined,
    last: undefined,
    upToDate: gaps.length === 0,
    interrupted: false,
  };
  let done = 0;
  const isFinal = (c: Candle): boolean => c.closed && (serverTime === undefined || c.closeTime < serverTime);
  // Every open time up to `end` has closed once the candle opening at `end` has.
  const settledThrough = (end: number): boolean => serverTime !== undefined && end + iv <= serverTime;
  const progress = (cursor: number): void =>
    opts.onProgress?.({ symbol, interval, pages: summary.pages, candles: summary.candles, done, total, cursor });

  outer: for (const [start, end] of gaps) {
    let cursor = start;
    while (cursor <= end) {
      if (signal?.aborted) {
        summary.interrupted = true;
        break outer;
      }
      const page = await rest.klines({ symbol, interval, startTime: cursor, endTime: end, limit: pageSize });
      summary.pages++;
      const inRange = page.filter((c) => c.openTime >= cursor && c.openTime <= end);
      let n = 0;
      while (n < inRange.length && isFinal(inRange[n]!)) n++;
      const final = n === inRange.length ? inRange : inRange.slice(0, n);
      if (final.length > 0) {
        await store.upsertCandles(final);
        summary.candles += final.length;
        summary.first ??= final[0]!.openTime;
        summary.last = final[final.length - 1]!.openTime;
      }
      // Binance answers from the first kline at or after startTime, so [cursor, last final]
      // is complete even when it starts before the symbol was listed.
      const lastFinal = final[final.length - 1];
      const exhausted = page.length < pageSize || n < inRange.length || inRange.length === 0;
      let coveredTo = lastFinal ? lastFinal.closeTime : cursor - 1;
      if (exhausted && n === inRange.length && settledThrough(end)) coveredTo = end;
      coveredTo = Math.min(coveredTo, end);
      if (coveredTo >= cursor) {
        covered = addSpan(covered, [cursor, coveredTo]);
        await store.setState(key, JSON.stringify({ v: 1, covered } satisfies Coverage));
      }
      const next = exhausted || !lastFinal ? end + 1 : Math.max(cursor + 1, lastFinal.closeTime + 1);
      done += Math.min(next, end + 1) - cursor;
      cursor = next;
      progress(cursor);
    }
  }
  return summary;
}

export interface ImportOptions {
  /** Overrides the symbol in the file name. */
  symbol?: string;
  /** Overrides the interval of a klines file (else from its name or rows). */
  interval?: Interval;
  /** Scales; default the store's instrument for the symbol, else the readers' (bundled exchangeInfo, else 8/8). */
  instrument?: Instrument;
  /** Candles per upsert transaction. */
  batchSize?: number;
  /** Candles written so far, after every batch. */
  onProgress?: (candles: number) => void;
  signal?: AbortSignal;
}

export interface ImportSummary {
  file: string;
  kind: FileKind;
  symbol: string;
  interval: Interval | undefined;
  candles: number;
  /** Trades read (trade files only). */
  trades: number;
  first: number | undefined;
  last: number | undefined;
  /**
   * Minutes left out because the file cannot have all their trades: a recording's first (joined
   * part-way) and last (cut off) minutes, and minutes a jump in trade ids touches.
   */
  incomplete: number;
  interrupted: boolean;
}

/** Candles from files keep the file's unit (µs in 2025+ spot files); the store holds ms. */
function inMs(c: Candle): Candle {
  if (detectTimeUnit(c.openTime) === 'ms') return c;
  return { ...c, openTime: toMs(c.openTime, 'us'), closeTime: toMs(c.closeTime, 'us') };
}

/**
 * Loads a data.binance.vision file into the store: klines CSV/zip as they are, aggTrades or
 * trades CSV/zip (or a JSONL recording) as 1m candles synthesized from the trades.
 */
export async function importFile(file: string, store: Store, opts: ImportOptions = {}): Promise<ImportSummary> {
  const kind = await detectFileKind(file);
  const batchSize = opts.batchSize ?? 5000;
  let instrument = opts.instrument;
  const wanted = opts.symbol?.toUpperCase() ?? symbolFromFileName(file);
  if (!instrument && wanted) instrument = (await store.instruments()).find((i) => i.symbol === wanted);
  const summary: ImportSummary = {
    file,
    kind,
    symbol: wanted ?? '',
    interval: kind === 'klines' ? opts.interval : '1m',
    candles: 0,
    trades: 0,
    first: undefined,
    last: undefined,
    incomplete: 0,
    interrupted: false,
  };
  let buffer: Candle[] = [];
  const write = async (): Promise<void> => {
    if (buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    await store.upsertCandles(batch);
    summary.candles += batch.length;
    summary.first ??= batch[0]!.openTime;
    summary.last = batch[batch.length - 1]!.openTime;
    summary.symbol = batch[0]!.symbol;
    summary.interval = batch[0]!.interval;
    opts.onProgress?.(summary.candles);
  };

  if (kind === 'klines') {
    const readOpts = { ...(opts.symbol ? { symbol: opts.symbol } : {}), ...(opts.interval ? { interval: opts.interval } : {}), ...(instrument ? { instrument } : {}) };
    for await (const c of readKlineFile(file, readOpts)) {
      buffer.push(inMs(c));
      if (buffer.length >= batchSize) {
        await write();
        if (opts.signal?.aborted) {
          summary.interrupted = true;
          return summary;
        }
      }
    }
    await write();
    return summary;
  }

  const tf = await openTradeFile(file, { kind, ...(opts.symbol ? { symbol: opts.symbol } : {}), ...(instrument ? { instrument } : {}) });
  summary.symbol = tf.symbol;
  // A recording starts and stops mid-minute; a data.binance.vision file spans whole UTC days.
  const recording = kind === 'jsonl';
  const incomplete = new IncompleteMinutes();
  let lastId = -1;
  let lastTime = 0;
  const synth = new CandleSynthesizer({
    instrument: tf.instrument,
    unit: tf.unit,
    onClosed: (c) => {
      const m = inMs(c);
      if (incomplete.take(m.openTime)) summary.incomplete++;
      else buffer.push(m);
    },
  });
  for await (const trades of tf.batches()) {
    for (const t of trades) {
      const ms = toMs(t.time, tf.unit);
      if (recording) incomplete.onTrade(ms);
      if (lastId >= 0 && t.id > lastId + 1) incomplete.onUnfilledGap(lastTime, ms);
      if (t.id > lastId) {
        lastId = t.id;
        lastTime = ms;
      }
      synth.add(t);
    }
    summary.trades += trades.length;
    if (buffer.length >= batchSize) {
      await write();
      if (opts.signal?.aborted) {
        summary.interrupted = true;
        return summary;
      }
    }
  }
  if (recording) {
    if (synth.current()) summary.incomplete++;
  } else {
    synth.flush();
  }
  await write();
  return summary;
}

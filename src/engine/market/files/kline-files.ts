import path from 'node:path';
import { ParseError, UsageError } from '../../errors.js';
import { parseFixed, parseFixedBig } from '../../fixed.js';
import { INTERVAL_MS, detectTimeUnit, isInterval, parseInterval, unitFactor } from '../../candles/intervals.js';
import type { Candle, Interval } from '../../candles/types.js';
import type { Instrument } from '../types.js';
import { parseDigits } from './fields.js';
import { readLines } from './lines.js';
import { instrumentFor, intervalFromFileName, symbolFromFileName } from './trade-files.js';

export { detectFileKind, openTradeFile, readTradeFile, type FileKind, type TradeFile, type TradeFileOptions } from './trade-files.js';

export interface KlineFileOptions {
  /** Overrides the symbol in the file name (BTCUSDT-1m-2024-08-08.zip). */
  symbol?: string;
  /** Overrides the interval in the file name; else taken from the first row's span. */
  interval?: Interval;
  /** Scales to parse with; default: bundled exchangeInfo, else 8/8. */
  instrument?: Instrument;
}

const NAMES = [
  'open_time',
  'open',
  'high',
  'low',
  'close',
  'volume',
  'close_time',
  'quote_volume',
  'count',
  'taker_buy_volume',
  'taker_buy_quote_volume',
];

function intervalOfSpan(span: number): Interval | undefined {
  for (const [name, ms] of Object.entries(INTERVAL_MS) as [Interval, number][]) {
    if (span === ms || span === ms * 1000) return name;
  }
  return undefined;
}

/**
 * Reads a data.binance.vision klines CSV (plain, .zip or .gz; futures files' header row is
 * skipped) as closed candles, streaming. Times stay in the file's unit (µs for 2025+ spot
 * files). Files carry no trade ids, so first/last trade id are −1.
 */
export async function* readKlineFile(file: string, opts: KlineFileOptions = {}): AsyncGenerator<Candle> {
  const base = path.basename(file);
  const symbol = opts.instrument?.symbol ?? opts.symbol?.toUpperCase() ?? symbolFromFileName(file);
  if (symbol === undefined) {
    throw new UsageError(`cannot tell the symbol of ${file}`, {
      hint: 'name the file as data.binance.vision does (BTCUSDT-1m-2024-08-08.zip) or pass the symbol',
    });
  }
  let interval: Interval | undefined = opts.interval;
  if (interval === undefined) {
    const fromName = intervalFromFileName(file);
    if (fromName !== undefined && isInterval(fromName)) interval = fromName;
    else if (fromName !== undefined) interval = parseInterval(fromName);
  }
  const inst = opts.instrument ?? instrumentFor(symbol);
  const ps = inst.priceScale;
  const qs = inst.qtyScale;
  const xs = ps + qs;

  const bad = (lineNo: number, field: string, value: string | undefined, why?: string): ParseError =>
    new ParseError(`${base} line ${lineNo}: bad ${field} ${value === undefined ? 'missing' : `"${value}"`}${why ? ` (${why})` : ''}`, {
      hint: `check that ${file} is a data.binance.vision klines file`,
    });
  const dec = (s: string | undefined, scale: number, lineNo: number, field: string): number => {
    try {
      return parseFixed(s ?? '', scale);
    } catch (err) {
      throw bad(lineNo, field, s, (err as Error).message);
    }
  };
  const big = (s: string | undefined, scale: number, lineNo: number, field: string): bigint => {
    try {
      return parseFixedBig(s ?? '', scale);
    } catch (err) {
      throw bad(lineNo, field, s, (err as Error).message);
    }
  };
  const int = (s: string | undefined, lineNo: number, field: string): number => {
    const n = parseDigits(s);
    if (n === undefined) throw bad(lineNo, field, s);
    return n;
  };

  for await (const { lines, firstLine } of readLines(file)) {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      const lineNo = firstLine + i;
      if (line === '') continue;
      const c0 = line.charCodeAt(0);
      if (lineNo === 1 && !(c0 >= 48 && c0 <= 57)) continue;
      const f = line.split(',');
      if (f.length < 11) throw bad(lineNo, NAMES[f.length] ?? 'row', undefined);
      const openTime = int(f[0], lineNo, 'open_time');
      const closeTime = int(f[6], lineNo, 'close_time');
      if (interval === undefined) {
        interval = intervalOfSpan(closeTime - openTime + 1);
        if (interval === undefined) {
          throw new UsageError(`cannot tell the interval of ${file}`, { hint: 'pass the interval (1m, 5m, 1h, ...)' });
        }
      }
      const unit = detectTimeUnit(openTime);
      if (closeTime - openTime + 1 !== INTERVAL_MS[interval] * unitFactor(unit)) {
        throw bad(lineNo, 'close_time', f[6], `a ${interval} kline opening at ${openTime} closes at ${openTime + INTERVAL_MS[interval] * unitFactor(unit) - 1}`);
      }
      yield {
        symbol: inst.symbol,
        interval,
        priceScale: ps,
        qtyScale: qs,
        openTime,
        closeTime,
        open: dec(f[1], ps, lineNo, 'open'),
        high: dec(f[2], ps, lineNo, 'high'),
        low: dec(f[3], ps, lineNo, 'low'),
        close: dec(f[4], ps, lineNo, 'close'),
        volume: big(f[5], qs, lineNo, 'volume'),
        quoteVolume: big(f[7], xs, lineNo, 'quote_volume'),
        trades: int(f[8], lineNo, 'count'),
        takerBuyVolume: big(f[9], qs, lineNo, 'taker_buy_volume'),
        takerBuyQuoteVolume: big(f[10], xs, lineNo, 'taker_buy_quote_volume'),
        firstTradeId: -1,
        lastTradeId: -1,
        closed: true,
      };
    }
  }
}

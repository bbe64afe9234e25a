import type { Candle, Interval } from '../../candles/types.js';
import { ParseError } from '../../errors.js';
import { parseFixed, parseFixedBig } from '../../fixed.js';
import type { ExchangeInfo } from '../instruments.js';
import type { DepthSnapshot } from '../source.js';
import type { BookLevel, Instrument, Trade } from '../types.js';

/**
 * Strict decoders for Binance spot REST payloads (GET /api/v3/...). Anything that does not
 * match the documented format throws ParseError naming the path of the bad field, so a
 * changed API shows up as one clear error instead of NaN prices downstream.
 */

const HINT = 'Binance answered in a format qtrade does not know; check the API changelog or a proxy rewriting replies';

/** Throws the ParseError for the field at path `what`. */
export function fail(what: string, detail: string): never {
  throw new ParseError(`${what}: ${detail}`, { hint: HINT });
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

/** JSON.parse with a ParseError that shows the start of the body. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const head = text.length > 80 ? `${text.slice(0, 80)}…` : text;
    throw new ParseError(`${what}: reply is not JSON (${JSON.stringify(head)})`, { hint: HINT, cause: err });
  }
}

// Field checks shared by every Binance REST and user-stream decoder; `what` names the field's path.

export function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(what, `expected an object, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

export function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) fail(what, `expected an array, got ${describe(v)}`);
  return v;
}

export function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(what, `expected an integer, got ${describe(v)}`);
  return v;
}

export function str(v: unknown, what: string): string {
  if (typeof v !== 'string') fail(what, `expected a string, got ${describe(v)}`);
  return v;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') fail(what, `expected a boolean, got ${describe(v)}`);
  return v;
}

function decimal<T>(v: unknown, what: string, parse: (s: string) => T): T {
  const s = str(v, what);
  // Prices, quantities and amounts Binance sends are never negative; a sign means a broken reply.
  if (s.startsWith('-')) throw new ParseError(`${what}: negative value "${s}"`, { hint: HINT });
  try {
    return parse(s);
  } catch (err) {
    throw new ParseError(`${what}: ${(err as Error).message}`, { hint: HINT, cause: err });
  }
}

/** A decimal string as a raw integer at `scale` (prices, quantities). */
export function dec(v: unknown, scale: number, what: string): number {
  return decimal(v, what, (s) => parseFixed(s, scale));
}

/** A decimal string as an exact bigint at `scale` (volumes, asset amounts). */
export function decBig(v: unknown, scale: number, what: string): bigint {
  return decimal(v, what, (s) => parseFixedBig(s, scale));
}

export interface BinanceErrorBody {
  code: number;
  msg: string;
}

/** Binance's error body `{"code": -1121, "msg": "Invalid symbol."}`, or undefined for anything else. */
export function decodeBinanceError(text: string): BinanceErrorBody | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { code, msg } = v as { code?: unknown; msg?: unknown };
  if (typeof code !== 'number' || typeof msg !== 'string') return undefined;
  return { code, msg };
}

/** GET /api/v3/time → serverTime in ms. */
export function decodeServerTime(v: unknown): number {
  return int(obj(v, 'time').serverTime, 'time.serverTime');
}

/**
 * GET /api/v3/exchangeInfo. Checks the fields qtrade reads and returns the payload itself,
 * so fields it does not type (rateLimits, precisions, permissions) stay reachable.
 */
export function decodeExchangeInfo(v: unknown): ExchangeInfo {
  const o = obj(v, 'exchangeInfo');
  if (o.serverTime !== undefined) int(o.serverTime, 'exchangeInfo.serverTime');
  const symbols = arr(o.symbols, 'exchangeInfo.symbols');
  symbols.forEach((s, i) => {
    const w = `exchangeInfo.symbols[${i}]`;
    const so = obj(s, w);
    for (const k of ['symbol', 'status', 'baseAsset', 'quoteAsset'] as const) str(so[k], `${w}.${k}`);
    arr(so.filters, `${w}.filters`).forEach((f, j) => str(obj(f, `${w}.filters[${j}]`).filterType, `${w}.filters[${j}].filterType`));
  });
  return o as unknown as ExchangeInfo;
}

/** GET /api/v3/aggTrades → trades with raws at the instrument's scales. */
export function decodeAggTrades(v: unknown, inst: Instrument): Trade[] {
  const list = arr(v, 'aggTrades');
  const out: Trade[] = new Array<Trade>(list.length);
  for (let i = 0; i < list.length; i++) {
    const w = `aggTrades[${i}]`;
    const t = obj(list[i], w);
    out[i] = {
      symbol: inst.symbol,
      id: int(t.a, `${w}.a`),
      price: dec(t.p, inst.priceScale, `${w}.p`),
      qty: dec(t.q, inst.qtyScale, `${w}.q`),
      firstId: int(t.f, `${w}.f`),
      lastId: int(t.l, `${w}.l`),
      time: int(t.T, `${w}.T`),
      buyerMaker: bool(t.m, `${w}.m`),
    };
  }
  return out;
}

/**
 * GET /api/v3/klines → candles. REST klines carry no first/last trade id, so both are −1.
 * `closed` is closeTime < `serverNow`: pass the server's time (the reply's Date header) so
 * the still-open current kline is marked open; historical klines all come out closed.
 */
export function decodeKlines(v: unknown, inst: Instrument, interval: Interval, serverNow: number): Candle[] {
  const rows = arr(v, 'klines');
  const ps = inst.priceScale;
  const qs = inst.qtyScale;
  const out: Candle[] = new Array<Candle>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const w = `klines[${i}]`;
    const r = arr(rows[i], w);
    if (r.length < 11) fail(w, `expected 12 columns, got ${r.length}`);
    const closeTime = int(r[6], `${w}[6] close time`);
    out[i] = {
      symbol: inst.symbol,
      interval,
      priceScale: ps,
      qtyScale: qs,
      openTime: int(r[0], `${w}[0] open time`),
      closeTime,
      open: dec(r[1], ps, `${w}[1] open`),
      high: dec(r[2], ps, `${w}[2] high`),
      low: dec(r[3], ps, `${w}[3] low`),
      close: dec(r[4], ps, `${w}[4] close`),
      volume: decBig(r[5], qs, `${w}[5] volume`),
      quoteVolume: decBig(r[7], ps + qs, `${w}[7] quote volume`),
      trades: int(r[8], `${w}[8] trades`),
      takerBuyVolume: decBig(r[9], qs, `${w}[9] taker buy volume`),
      takerBuyQuoteVolume: decBig(r[10], ps + qs, `${w}[10] taker buy quote volume`),
      firstTradeId: -1,
      lastTradeId: -1,
      closed: closeTime < serverNow,
    };
  }
  return out;
}

/**
 * `[["price","qty"], ...]` as in depth snapshots and depthUpdate frames, at the instrument's
 * scales. Its qtyScale is the asset's wire precision, not today's stepSize, because books hold
 * levels finer than the current step (orders placed before a step change: BTCUSDT showed
 * 0.000001-BTC levels in 2024 with a 0.00001 step).
 */
export function decodeLevels(v: unknown, inst: Instrument, what: string): BookLevel[] {
  const list = arr(v, what);
  const out: BookLevel[] = new Array<BookLevel>(list.length);
  for (let i = 0; i < list.length; i++) {
    const w = `${what}[${i}]`;
    const l = arr(list[i], w);
    out[i] = { price: dec(l[0], inst.priceScale, `${w}[0] price`), qty: dec(l[1], inst.qtyScale, `${w}[1] qty`) };
  }
  return out;
}

/** GET /api/v3/depth → snapshot with raws at the instrument's scales. */
export function decodeDepthSnapshot(v: unknown, inst: Instrument): DepthSnapshot {
  const o = obj(v, 'depth');
  return {
    symbol: inst.symbol,
    lastUpdateId: int(o.lastUpdateId, 'depth.lastUpdateId'),
    bids: decodeLevels(o.bids, inst, 'depth.bids'),
    asks: decodeLevels(o.asks, inst, 'depth.asks'),
  };
}

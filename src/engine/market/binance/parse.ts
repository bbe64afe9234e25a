import { INTERVALS, type Candle, type Interval } from '../../candles/types.js';
import { ParseError, QtradeError } from '../../errors.js';
import { parseFixed, parseFixedBig } from '../../fixed.js';
import type { Instruments } from '../instruments.js';
import type { MarketEvent } from '../source.js';
import type { BookLevel, Instrument } from '../types.js';

/**
 * Decoding of Binance spot market-stream frames, combined (`{"stream":..,"data":..}`)
 * or raw, into MarketEvents with exact scaled prices. Every field is type-checked:
 * a string where a number belongs (or the reverse) is a ParseError, never a NaN.
 */

type Obj = Record<string, unknown>;

const HINT = 'the frame does not match Binance\'s documented stream format; if Binance changed it, report it with the frame';
const INTERVAL_SET: ReadonlySet<string> = new Set(INTERVALS);

/**
 * One frame as text → the event it carries, or null for frames that carry no market data
 * (SUBSCRIBE replies `{"result":null,"id":1}`, error replies, connection events such as
 * serverShutdown; see readControl). Throws ParseError for anything malformed.
 */
export function decodeFrame(text: string, instruments: Instruments): MarketEvent | null {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    throw new ParseError(`frame is not valid JSON (${(err as Error).message}): ${snippet(text)}`, { hint: HINT });
  }
  if (!isObj(root)) throw new ParseError(`frame is not a JSON object: ${snippet(text)}`, { hint: HINT });
  const stream = root.stream;
  if (stream === undefined) return decodePayload(root, instruments, true);
  if (typeof stream !== 'string') throw new ParseError(`frame's "stream" is not a string: ${snippet(text)}`, { hint: HINT });
  const data = root.data;
  if (!isObj(data)) throw new ParseError(`frame for stream "${stream}" has no "data" object: ${snippet(text)}`, { hint: HINT });
  return decodePayload(data, instruments, false);
}

/** A frame that is not market data: a reply to a control message, or a connection event. */
export type ControlFrame =
  | { kind: 'reply'; id: number | string | null; result: unknown }
  | { kind: 'error'; id: number | string | null; code: number | undefined; message: string }
  | { kind: 'serverShutdown'; time: number | undefined };

/**
 * Reads a control frame (for frames decodeFrame returned null for). Returns null when
 * the text is not one. Accepts serverShutdown both as a connection event
 * `{"event":{"e":"serverShutdown","E":..}}` (as Binance documents it) and as a plain
 * or combined-stream payload, since the stream servers' exact shape is not documented.
 */
export function readControl(text: string): ControlFrame | null {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObj(root)) return null;
  const id = root.id;
  if (id !== undefined && (typeof id === 'number' || typeof id === 'string' || id === null)) {
    if (isObj(root.error)) {
      const code = root.error.code;
      const msg = root.error.msg;
      return {
        kind: 'error',
        id,
        code: typeof code === 'number' ? code : undefined,
        message: typeof msg === 'string' ? msg : JSON.stringify(root.error),
      };
    }
    if ('result' in root) return { kind: 'reply', id, result: root.result };
  }
  const ev = isObj(root.event) ? root.event : isObj(root.data) ? root.data : root;
  if (ev.e === 'serverShutdown') return { kind: 'serverShutdown', time: typeof ev.E === 'number' ? ev.E : undefined };
  return null;
}

function decodePayload(d: Obj, instruments: Instruments, topLevel: boolean): MarketEvent | null {
  const e = d.e;
  switch (e) {
    case 'aggTrade':
      return aggTrade(d, instruments);
    case 'trade':
      return trade(d, instruments);
    case 'kline':
      return kline(d, instruments);
    case 'depthUpdate':
      return depth(d, instruments);
    case '24hrMiniTicker':
      return miniTicker(d, instruments);
    case 'serverShutdown':
      return null;
    case undefined:
      // bookTicker is the one spot payload without an event type.
      if (d.u !== undefined && d.b !== undefined && d.a !== undefined) return bookTicker(d, instruments);
      if (topLevel && d.id !== undefined && ('result' in d || 'error' in d)) return null;
      if (topLevel && isObj(d.event)) return null;
      throw new ParseError(`unrecognised frame (no event type): ${snippet(JSON.stringify(d))}`, { hint: HINT });
    default:
      throw new ParseError(
        typeof e === 'string' ? `unsupported event type "${e}"` : `event type "e" is not a string: ${snippet(JSON.stringify(d))}`,
        { hint: 'qtrade decodes aggTrade, trade, kline, bookTicker, depthUpdate and 24hrMiniTicker streams' },
      );
  }
}

function aggTrade(d: Obj, instruments: Instruments): MarketEvent {
  return tradeEvent(d, instrumentOf(instruments, d, 'aggTrade'), 'aggTrade', int(d, 'a', 'aggTrade'), int(d, 'f', 'aggTrade'), int(d, 'l', 'aggTrade'));
}

/** A raw `trade` is one trade: its own first and last trade id. */
function trade(d: Obj, instruments: Instruments): MarketEvent {
  const ins = instrumentOf(instruments, d, 'trade');
  const id = int(d, 't', 'trade');
  return tradeEvent(d, ins, 'trade', id, id, id);
}

/** The fields aggTrade and trade payloads share (p, q, T, m). */
function tradeEvent(d: Obj, ins: Instrument, what: string, id: number, firstId: number, lastId: number): MarketEvent {
  return {
    kind: 'trade',
    trade: {
      symbol: ins.symbol,
      id,
      price: fixed(d, 'p', what, ins.priceScale),
      qty: fixed(d, 'q', what, ins.qtyScale),
      firstId,
      lastId,
      time: int(d, 'T', what),
      buyerMaker: bool(d, 'm', what),
    },
  };
}

function kline(d: Obj, instruments: Instruments): MarketEvent {
  const k = d.k;
  if (!isObj(k)) throw fieldError('kline', 'k', 'an object', k);
  const ins = instrumentOf(instruments, k, 'kline');
  const interval = str(k, 'i', 'kline');
  if (!INTERVAL_SET.has(interval)) throw new ParseError(`kline frame: unknown interval "${interval}"`, { hint: `qtrade knows ${INTERVALS.join(', ')}` });
  const ps = ins.priceScale;
  const qs = ins.qtyScale;
  const trades = int(k, 'n', 'kline');
  const first = int(k, 'f', 'kline');
  const last = int(k, 'L', 'kline');
  const candle: Candle = {
    symbol: ins.symbol,
    interval: interval as Interval,
    priceScale: ps,
    qtyScale: qs,
    openTime: int(k, 't', 'kline'),
    closeTime: int(k, 'T', 'kline'),
    open: fixed(k, 'o', 'kline', ps),
    high: fixed(k, 'h', 'kline', ps),
    low: fixed(k, 'l', 'kline', ps),
    close: fixed(k, 'c', 'kline', ps),
    volume: fixedBig(k, 'v', 'kline', qs),
    quoteVolume: fixedBig(k, 'q', 'kline', ps + qs),
    trades,
    takerBuyVolume: fixedBig(k, 'V', 'kline', qs),
    takerBuyQuoteVolume: fixedBig(k, 'Q', 'kline', ps + qs),
    // A kline without trades carries first/last trade id −1.
    firstTradeId: trades === 0 ? -1 : first,
    lastTradeId: trades === 0 ? -1 : last,
    closed: bool(k, 'x', 'kline'),
  };
  return { kind: 'kline', candle };
}

function bookTicker(d: Obj, instruments: Instruments): MarketEvent {
  const ins = instrumentOf(instruments, d, 'bookTicker');
  return {
    kind: 'bookTicker',
    top: {
      symbol: ins.symbol,
      updateId: int(d, 'u', 'bookTicker'),
      bid: { price: fixed(d, 'b', 'bookTicker', ins.priceScale), qty: fixed(d, 'B', 'bookTicker', ins.qtyScale) },
      ask: { price: fixed(d, 'a', 'bookTicker', ins.priceScale), qty: fixed(d, 'A', 'bookTicker', ins.qtyScale) },
    },
  };
}

function depth(d: Obj, instruments: Instruments): MarketEvent {
  const ins = instrumentOf(instruments, d, 'depthUpdate');
  return {
    kind: 'depth',
    diff: {
      symbol: ins.symbol,
      eventTime: int(d, 'E', 'depthUpdate'),
      firstUpdateId: int(d, 'U', 'depthUpdate'),
      lastUpdateId: int(d, 'u', 'depthUpdate'),
      bids: levels(d, 'b', ins),
      asks: levels(d, 'a', ins),
    },
  };
}

function miniTicker(d: Obj, instruments: Instruments): MarketEvent {
  const ev = '24hrMiniTicker';
  const ins = instrumentOf(instruments, d, ev);
  const ps = ins.priceScale;
  return {
    kind: 'miniTicker',
    ticker: {
      symbol: ins.symbol,
      time: int(d, 'E', ev),
      open: fixed(d, 'o', ev, ps),
      high: fixed(d, 'h', ev, ps),
      low: fixed(d, 'l', ev, ps),
      close: fixed(d, 'c', ev, ps),
      volume: fixedBig(d, 'v', ev, ins.qtyScale),
      quoteVolume: fixedBig(d, 'q', ev, ps + ins.qtyScale),
    },
  };
}

function levels(d: Obj, k: string, ins: Instrument): BookLevel[] {
  const raw = d[k];
  if (!Array.isArray(raw)) throw fieldError('depthUpdate', k, 'an array of [price, qty]', raw);
  const out: BookLevel[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const lv: unknown = raw[i];
    if (!Array.isArray(lv) || lv.length < 2 || typeof lv[0] !== 'string' || typeof lv[1] !== 'string') {
      throw new ParseError(`depthUpdate frame: ${k}[${i}] must be a [price, qty] pair of strings, got ${snippet(JSON.stringify(lv) ?? String(lv))}`, { hint: HINT });
    }
    out[i] = { price: decimal(lv[0], `${k}[${i}] price`, 'depthUpdate', ins.priceScale), qty: decimal(lv[1], `${k}[${i}] qty`, 'depthUpdate', ins.qtyScale) };
  }
  return out;
}

// Symbol lookup: Instruments.get upper-cases and builds an error on a miss, so remember
// the last hit and a per-Instruments cache; frames of one symbol come in long runs.
let lastOwner: Instruments | undefined;
let lastSymbol = '';
let lastInstrument: Instrument | undefined;
const caches = new WeakMap<Instruments, Map<string, Instrument>>();

function instrumentOf(instruments: Instruments, o: Obj, ev: string): Instrument {
  const sym = o.s;
  if (typeof sym !== 'string') throw fieldError(ev, 's', 'a symbol string', sym);
  if (sym === lastSymbol && instruments === lastOwner && lastInstrument) return lastInstrument;
  let cache = caches.get(instruments);
  if (!cache) caches.set(instruments, (cache = new Map()));
  let ins = cache.get(sym);
  if (!ins) {
    try {
      ins = instruments.get(sym);
    } catch (err) {
      if (err instanceof QtradeError) {
        throw new ParseError(`${ev} frame for unknown symbol "${sym}"`, { hint: err.hint, cause: err });
      }
      throw err;
    }
    cache.set(sym, ins);
  }
  lastOwner = instruments;
  lastSymbol = sym;
  lastInstrument = ins;
  return ins;
}

function int(o: Obj, k: string, ev: string): number {
  const v = o[k];
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  throw fieldError(ev, k, 'an integer', v);
}

function str(o: Obj, k: string, ev: string): string {
  const v = o[k];
  if (typeof v === 'string') return v;
  throw fieldError(ev, k, 'a string', v);
}

function bool(o: Obj, k: string, ev: string): boolean {
  const v = o[k];
  if (v === true || v === false) return v;
  throw fieldError(ev, k, 'a boolean', v);
}

function fixed(o: Obj, k: string, ev: string, scale: number): number {
  const v = o[k];
  if (typeof v !== 'string') throw fieldError(ev, k, 'a decimal string', v);
  return decimal(v, `"${k}"`, ev, scale);
}

function decimal(s: string, what: string, ev: string, scale: number): number {
  if (s.charCodeAt(0) === 45 /* - */) throw new ParseError(`${ev} frame: field ${what} is negative: "${s}"`, { hint: HINT });
  try {
    return parseFixed(s, scale);
  } catch (err) {
    throw new ParseError(`${ev} frame: field ${what}: ${(err as Error).message}`, { hint: HINT, cause: err });
  }
}

function fixedBig(o: Obj, k: string, ev: string, scale: number): bigint {
  const v = o[k];
  if (typeof v !== 'string') throw fieldError(ev, k, 'a decimal string', v);
  if (v.charCodeAt(0) === 45 /* - */) throw new ParseError(`${ev} frame: field "${k}" is negative: "${v}"`, { hint: HINT });
  try {
    return parseFixedBig(v, scale);
  } catch (err) {
    throw new ParseError(`${ev} frame: field "${k}": ${(err as Error).message}`, { hint: HINT, cause: err });
  }
}

function fieldError(ev: string, k: string, expected: string, got: unknown): ParseError {
  const desc = got === undefined ? 'it is missing' : `got ${typeof got === 'string' ? JSON.stringify(got) : snippet(JSON.stringify(got) ?? String(got))} (${got === null ? 'null' : Array.isArray(got) ? 'array' : typeof got})`;
  return new ParseError(`${ev} frame: field "${k}" must be ${expected}, ${desc}`, { hint: HINT });
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function snippet(s: string): string {
  return s.length > 160 ? `${s.slice(0, 160)}…` : s;
}

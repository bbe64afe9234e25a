import type { EventColumns } from '../store/types.js';
import { utf8Text } from '../store/rows.js';
import { EventLogError, type OrderEvent } from './events.js';
import type { Fill, LedgerEntry, LedgerReason, Order, OrderStatus, OrderType, Side, TimeInForce } from './types.js';

/**
 * How an OrderEvent is written in the store's event log (the row's `body`).
 *
 * Format 3 (written since LOG_FORMAT 3): one JSON array per event, fields by position, kind as one
 * letter. Amounts (bigints) are decimal strings, booleans 1/0, an absent optional null:
 *
 *   accepted   [seq,"a",time, symbol,orderId,clientOrderId,side,type,timeInForce,price,stopPrice,origQty,
 *               origQuoteOrderQty,isWorking,lockAsset, state, ledger?]
 *              state is 0 for an order as accepted (executedQty 0, cumQuote 0, NEW, time and updateTime
 *              the event's, workingTime the event's when working else -1, locked 0), otherwise
 *              [executedQty,cumQuote,status,time,updateTime,workingTime,locked]
 *   fill       [seq,"f",time, symbol,orderId,clientOrderId,tradeId,side,price,qty,quoteQty,commission,
 *               commissionAsset,isMaker,fillTime (null: the event's),status, ledger?]
 *   triggered  [seq,"t",time,orderId, ledger?]   canceled "c", expired "x" alike
 *   ledger     [seq,"l",time,entry]
 *   rejected   [seq,"r",time, symbol,side,type,clientOrderId,code,msg]
 *   entry      [asset,dFree,dLocked,reason] when its orderId and tradeId are the event's (the order's
 *              id; a fill's tradeId; none for a ledger event), else [asset,dFree,dLocked,reason,orderId,tradeId]
 *
 * About 2.4× shorter than format 2 for the same events, which is most of the cost of the durable
 * order path: building the text, handing it to the writer thread and writing it.
 *
 * Format 2 (LOG_FORMAT 2): the event object as JSON (bigints as decimal strings). decodeEvent reads
 * both, row by row (an array is format 3, an object format 2), so a log that was started by an
 * older qtrade and continued by this one replays exactly.
 */

/**
 * Writes events in format 3 as UTF-8 straight into one growing byte buffer, row after row, with no
 * intermediate strings: the durable order path's batch (see OrderService) is handed to the store's
 * writer thread as that buffer, which is moved, not copied. `encodeEvent` is the same writer for
 * one event, decoded to a string.
 */
export class EventEncoder {
  private buf: Uint8Array;
  private p = 0;
  private first = 0;
  private n = 0;
  private times: Float64Array;
  private ends: Uint32Array;
  private kinds: string[] = [];

  constructor(bytes = 1 << 16, rows = 1024) {
    this.buf = new Uint8Array(Math.max(bytes, 2 * ROOM));
    this.times = new Float64Array(rows);
    this.ends = new Uint32Array(rows);
  }

  /** Rows written since the last take(). */
  get rows(): number {
    return this.n;
  }

  /** seq of the last row written (0 when none). */
  get lastSeq(): number {
    return this.n === 0 ? 0 : this.first + this.n - 1;
  }

  /** Appends one event; events must come in seq order without gaps. */
  add(ev: OrderEvent): void {
    if (this.n === 0) this.first = ev.seq;
    else if (ev.seq !== this.first + this.n) throw new EventLogError(`event ${ev.seq} does not follow ${this.first + this.n - 1} in the batch`);
    if (this.n === this.times.length) this.growRows();
    for (;;) {
      try {
        this.p = writeEvent(this.buf, this.p, ev);
        break;
      } catch (err) {
        if (err !== NO_ROOM) throw err;
        // Out of room part way: the event is written again, whole, into a buffer twice the size.
        const grown = new Uint8Array(this.buf.length * 2);
        grown.set(this.buf.subarray(0, this.p));
        this.buf = grown;
      }
    }
    this.times[this.n] = ev.time;
    this.kinds.push(ev.kind);
    this.ends[this.n++] = this.p;
  }

  /** The rows written so far, as columns that now belong to the caller; the encoder starts empty. */
  take(): EventColumns {
    const n = this.n;
    const cols: EventColumns = {
      first: this.first,
      times: this.times.subarray(0, n),
      kinds: this.kinds,
      bytes: this.buf.subarray(0, this.p),
      ends: this.ends.subarray(0, n),
    };
    // Fresh buffers: the caller may move these to another thread. Sized for a batch like this one,
    // with small floors: the daemon commits most orders alone, and zeroing 76 KiB for each of those
    // cost more than its JSON (they grow by doubling when a batch is larger).
    this.buf = new Uint8Array(Math.max(1 << 12, this.p + (this.p >> 2)));
    this.times = new Float64Array(Math.max(16, n));
    this.ends = new Uint32Array(Math.max(16, n));
    this.kinds = [];
    this.p = 0;
    this.n = 0;
    return cols;
  }

  /** Forgets the rows written since the last take(), keeping the buffers. */
  clear(): void {
    this.p = 0;
    this.n = 0;
    this.kinds = [];
  }

  /** The text of row `i` (since the last take). */
  text(i: number): string {
    return utf8Text(this.buf, i === 0 ? 0 : this.ends[i - 1]!, this.ends[i]!);
  }

  private growRows(): void {
    const times = new Float64Array(this.times.length * 2);
    times.set(this.times);
    this.times = times;
    const ends = new Uint32Array(this.ends.length * 2);
    ends.set(this.ends);
    this.ends = ends;
  }
}

/*
 * The writers below take the buffer and a position and return the position after what they wrote,
 * so the position stays in a register through a whole event (a field on the encoder was loaded and
 * stored for every byte, and most of the small methods it went through were not inlined).
 *
 * Room: a writer of fixed-size parts (numbers, punctuation, up to ~200 bytes between two checks)
 * relies on ROOM bytes being free at the last check; every variable-length part (strings, an amount
 * past 2^53, each ledger entry) checks that ROOM bytes remain after it. When they do not, NO_ROOM is
 * thrown and EventEncoder.add writes the event again into a larger buffer.
 */
const ROOM = 512;
const NO_ROOM = new RangeError('event encoder: buffer full');
const utf8 = new TextEncoder();

function room(b: Uint8Array, p: number, n: number): void {
  if (p + n + ROOM > b.length) throw NO_ROOM;
}

function writeEvent(b: Uint8Array, p: number, ev: OrderEvent): number {
  room(b, p, 0);
  const t = ev.time;
  b[p++] = 0x5b; // [
  p = putNum(b, p, ev.seq);
  b[p++] = 0x2c; // ,
  b[p++] = 0x22; // "
  switch (ev.kind) {
    case 'accepted': {
      p = putKind(b, p, 0x61, t); // a
      const o = ev.order;
      p = putIds(b, p, o.symbol, o.orderId, o.clientOrderId);
      p = putStr(b, p, o.side);
      b[p++] = 0x2c;
      p = putStr(b, p, o.type);
      b[p++] = 0x2c;
      p = o.timeInForce === undefined ? putNull(b, p) : putStr(b, p, o.timeInForce);
      b[p++] = 0x2c;
      p = putNum(b, p, o.price);
      b[p++] = 0x2c;
      p = putNum(b, p, o.stopPrice);
      b[p++] = 0x2c;
      p = putNum(b, p, o.origQty);
      b[p++] = 0x2c;
      p = putBig(b, p, o.origQuoteOrderQty);
      b[p++] = 0x2c;
      b[p++] = o.isWorking ? 0x31 : 0x30;
      b[p++] = 0x2c;
      p = putStr(b, p, o.lockAsset);
      b[p++] = 0x2c;
      const initial =
        o.executedQty === 0 &&
        o.cumQuote === 0n &&
        o.status === 'NEW' &&
        o.time === t &&
        o.updateTime === t &&
        o.workingTime === (o.isWorking ? t : -1) &&
        o.locked === 0n;
      if (initial) b[p++] = 0x30;
      else p = putOrderState(b, p, o);
      p = putLedger(b, p, ev.ledger, o.orderId, undefined);
      break;
    }
    case 'fill': {
      p = putKind(b, p, 0x66, t); // f
      const f = ev.fill;
      p = putIds(b, p, f.symbol, f.orderId, f.clientOrderId);
      p = putNum(b, p, f.tradeId);
      b[p++] = 0x2c;
      p = putStr(b, p, f.side);
      b[p++] = 0x2c;
      p = putNum(b, p, f.price);
      b[p++] = 0x2c;
      p = putNum(b, p, f.qty);
      b[p++] = 0x2c;
      p = putBig(b, p, f.quoteQty);
      b[p++] = 0x2c;
      p = putBig(b, p, f.commission);
      b[p++] = 0x2c;
      p = putStr(b, p, f.commissionAsset);
      b[p++] = 0x2c;
      b[p++] = f.isMaker ? 0x31 : 0x30;
      b[p++] = 0x2c;
      p = f.time === t ? putNull(b, p) : putNum(b, p, f.time);
      b[p++] = 0x2c;
      p = putStr(b, p, ev.status);
      p = putLedger(b, p, ev.ledger, f.orderId, f.tradeId);
      break;
    }
    case 'canceled':
    case 'expired':
    case 'triggered':
      p = putKind(b, p, ev.kind === 'canceled' ? 0x63 : ev.kind === 'expired' ? 0x78 : 0x74, t); // c x t
      p = putNum(b, p, ev.orderId);
      p = putLedger(b, p, ev.ledger, ev.orderId, undefined);
      break;
    case 'ledger':
      p = putKind(b, p, 0x6c, t); // l
      p = putEntry(b, p, ev.entry, undefined, undefined);
      break;
    case 'rejected': {
      p = putKind(b, p, 0x72, t); // r
      // Rejections echo the request's fields as given (any of them may be missing or malformed): rare, so the slow way.
      const rest = JSON.stringify([ev.symbol, ev.side, ev.type, ev.clientOrderId, ev.code, ev.msg]);
      p = putJson(b, p, rest.slice(1, -1));
      break;
    }
  }
  b[p++] = 0x5d; // ]
  return p;
}

/** The kind's letter, its closing quote, and `,time,` (the opening quote is written). */
function putKind(b: Uint8Array, p: number, letter: number, t: number): number {
  b[p++] = letter;
  b[p++] = 0x22;
  b[p++] = 0x2c;
  p = putNum(b, p, t);
  b[p++] = 0x2c;
  return p;
}

/** `symbol,orderId,clientOrderId,`: how accepted and fill events begin. */
function putIds(b: Uint8Array, p: number, symbol: string, orderId: number, clientOrderId: string): number {
  p = putStr(b, p, symbol);
  b[p++] = 0x2c;
  p = putNum(b, p, orderId);
  b[p++] = 0x2c;
  p = putStr(b, p, clientOrderId);
  b[p++] = 0x2c;
  return p;
}

/** [executedQty,cumQuote,status,time,updateTime,workingTime,locked] of an order not as accepted. */
function putOrderState(b: Uint8Array, p: number, o: Order): number {
  b[p++] = 0x5b;
  p = putNum(b, p, o.executedQty);
  b[p++] = 0x2c;
  p = putBig(b, p, o.cumQuote);
  b[p++] = 0x2c;
  p = putStr(b, p, o.status);
  b[p++] = 0x2c;
  p = putNum(b, p, o.time);
  b[p++] = 0x2c;
  p = putNum(b, p, o.updateTime);
  b[p++] = 0x2c;
  p = putNum(b, p, o.workingTime);
  b[p++] = 0x2c;
  p = putBig(b, p, o.locked);
  b[p++] = 0x5d;
  return p;
}

/** `,[entry,...]` when the event carries ledger entries. */
function putLedger(b: Uint8Array, p: number, entries: LedgerEntry[] | undefined, orderId: number | undefined, tradeId: number | undefined): number {
  if (entries === undefined) return p;
  b[p++] = 0x2c;
  b[p++] = 0x5b;
  for (let i = 0; i < entries.length; i++) {
    if (i > 0) b[p++] = 0x2c;
    p = putEntry(b, p, entries[i]!, orderId, tradeId);
  }
  b[p++] = 0x5d;
  return p;
}

/** One ledger entry; its ids are left out when they are the event's (`orderId`, `tradeId`). */
function putEntry(b: Uint8Array, p: number, e: LedgerEntry, orderId: number | undefined, tradeId: number | undefined): number {
  room(b, p, 0);
  b[p++] = 0x5b;
  p = putStr(b, p, e.asset);
  b[p++] = 0x2c;
  p = putBig(b, p, e.dFree);
  b[p++] = 0x2c;
  p = putBig(b, p, e.dLocked);
  b[p++] = 0x2c;
  p = putStr(b, p, e.reason);
  if (e.orderId !== orderId || e.tradeId !== tradeId) {
    b[p++] = 0x2c;
    p = e.orderId === undefined ? putNull(b, p) : putNum(b, p, e.orderId);
    b[p++] = 0x2c;
    p = e.tradeId === undefined ? putNull(b, p) : putNum(b, p, e.tradeId);
  }
  b[p++] = 0x5d;
  return p;
}

function putNull(b: Uint8Array, p: number): number {
  b[p] = 0x6e;
  b[p + 1] = 0x75;
  b[p + 2] = 0x6c;
  b[p + 3] = 0x6c;
  return p + 4;
}

/** A number as JSON.stringify writes it (safe integers digit by digit; non-finite as null). */
function putNum(b: Uint8Array, p: number, n: number): number {
  if (!Number.isSafeInteger(n)) return Number.isFinite(n) ? putAscii(b, p, `${n}`) : putNull(b, p);
  if (n < 0) {
    b[p++] = 0x2d;
    n = -n;
  }
  if (n < 1e9) return putDigits(b, p, n);
  // Above 2^31 division is on doubles: split into two Smi parts, the low one 9 digits with its zeros.
  const hi = Math.floor(n / 1e9);
  p = putDigits(b, p, hi);
  let lo = n - hi * 1e9;
  let i = p + 9;
  for (let k = 0; k < 4; k++) {
    const q = (lo / 100) | 0;
    const r = (lo - q * 100) << 1;
    b[--i] = PAIRS[r + 1]!;
    b[--i] = PAIRS[r]!;
    lo = q;
  }
  b[--i] = 0x30 + lo;
  return p + 9;
}

/** "00" to "99": digits go two per division (a division is most of a digit's cost). */
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = 0x30 + ((i / 10) | 0);
  PAIRS[2 * i + 1] = 0x30 + (i % 10);
}

/** 0 ≤ n < 1e9. */
function putDigits(b: Uint8Array, p: number, n: number): number {
  const len = n < 1e4 ? (n < 10 ? 1 : n < 100 ? 2 : n < 1e3 ? 3 : 4) : n < 1e6 ? (n < 1e5 ? 5 : 6) : n < 1e7 ? 7 : n < 1e8 ? 8 : 9;
  let i = p + len;
  while (n >= 100) {
    const q = (n / 100) | 0;
    const r = (n - q * 100) << 1;
    b[--i] = PAIRS[r + 1]!;
    b[--i] = PAIRS[r]!;
    n = q;
  }
  if (n >= 10) {
    b[--i] = PAIRS[(n << 1) + 1]!;
    b[--i] = PAIRS[n << 1]!;
  } else b[--i] = 0x30 + n;
  return p + len;
}

/** An amount as a quoted decimal string. */
function putBig(b: Uint8Array, p: number, x: bigint): number {
  b[p++] = 0x22;
  // Zero is common (a ledger entry moves one of free and locked); Number(x) costs more than the test.
  if (x === 0n) b[p++] = 0x30;
  else {
    // Number(x) is exact within ±(2^53 − 1) and, outside it, a value that is not a safe integer.
    const n = Number(x);
    p = Number.isSafeInteger(n) ? putNum(b, p, n) : putAscii(b, p, x.toString());
  }
  b[p++] = 0x22;
  return p;
}

/** A JSON string, escaped as JSON.stringify escapes it. */
function putStr(b: Uint8Array, p: number, s: string): number {
  const len = s.length;
  room(b, p, len + 2);
  let q = p;
  b[q++] = 0x22;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    // Escapes or non-ASCII: rare (client ids are ASCII by Binance's rule), so JSON.stringify's own text.
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return putJson(b, p, JSON.stringify(s));
    b[q++] = c;
  }
  b[q++] = 0x22;
  return q;
}

/** ASCII text as is (digits, an exponent). */
function putAscii(b: Uint8Array, p: number, s: string): number {
  room(b, p, s.length);
  for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
  return p;
}

/** Any JSON text, as UTF-8 (at most 3 bytes per UTF-16 unit). */
function putJson(b: Uint8Array, p: number, s: string): number {
  room(b, p, s.length * 3);
  return p + utf8.encodeInto(s, b.subarray(p)).written;
}

const scratch = new EventEncoder(1 << 12, 1);

/** One event's text in format 3 (what EventEncoder writes for it). */
export function encodeEvent(ev: OrderEvent): string {
  scratch.clear();
  scratch.add(ev);
  const s = scratch.text(0);
  scratch.clear();
  return s;
}

/** Reads an event written in format 3 or format 2. Throws EventLogError on anything else. */
export function decodeEvent(text: string): OrderEvent {
  const v: unknown = JSON.parse(text);
  if (Array.isArray(v)) return fromArray(v);
  if (v !== null && typeof v === 'object') return fromObject(v as Record<string, unknown>);
  throw new EventLogError('not an event');
}

type Row = unknown[];

const big = (v: unknown): bigint => {
  if (typeof v !== 'string') throw new EventLogError(`amount ${String(v)} is not a decimal string`);
  return BigInt(v);
};
const absent = <T>(v: unknown): T | undefined => (v === null ? undefined : (v as T));

function fromArray(a: Row): OrderEvent {
  const seq = a[0] as number;
  const time = a[2] as number;
  switch (a[1]) {
    case 'a': {
      const isWorking = a[13] === 1;
      const s = a[15];
      const order: Order = {
        symbol: a[3] as string,
        orderId: a[4] as number,
        clientOrderId: a[5] as string,
        side: a[6] as Side,
        type: a[7] as OrderType,
        timeInForce: absent<TimeInForce>(a[8]),
        price: a[9] as number,
        stopPrice: a[10] as number,
        origQty: a[11] as number,
        origQuoteOrderQty: big(a[12]),
        executedQty: 0,
        cumQuote: 0n,
        status: 'NEW',
        isWorking,
        time,
        updateTime: time,
        workingTime: isWorking ? time : -1,
        lockAsset: a[14] as string,
        locked: 0n,
      };
      if (Array.isArray(s)) {
        order.executedQty = s[0] as number;
        order.cumQuote = big(s[1]);
        order.status = s[2] as OrderStatus;
        order.time = s[3] as number;
        order.updateTime = s[4] as number;
        order.workingTime = s[5] as number;
        order.locked = big(s[6]);
      } else if (s !== 0) throw new EventLogError(`event ${seq}: bad order state`);
      return withLedger({ seq, kind: 'accepted', time, order }, a[16], order.orderId, undefined);
    }
    case 'f': {
      const fill: Fill = {
        symbol: a[3] as string,
        orderId: a[4] as number,
        clientOrderId: a[5] as string,
        tradeId: a[6] as number,
        side: a[7] as Side,
        price: a[8] as number,
        qty: a[9] as number,
        quoteQty: big(a[10]),
        commission: big(a[11]),
        commissionAsset: a[12] as string,
        isMaker: a[13] === 1,
        time: a[14] === null ? time : (a[14] as number),
      };
      return withLedger({ seq, kind: 'fill', time, fill, status: a[15] as 'FILLED' | 'PARTIALLY_FILLED' }, a[16], fill.orderId, fill.tradeId);
    }
    case 't':
      return withLedger({ seq, kind: 'triggered', time, orderId: a[3] as number }, a[4], a[3] as number, undefined);
    case 'c':
      return withLedger({ seq, kind: 'canceled', time, orderId: a[3] as number }, a[4], a[3] as number, undefined);
    case 'x':
      return withLedger({ seq, kind: 'expired', time, orderId: a[3] as number }, a[4], a[3] as number, undefined);
    case 'l':
      return { seq, kind: 'ledger', time, entry: entryOf(a[3], undefined, undefined) };
    case 'r':
      return {
        seq,
        kind: 'rejected',
        time,
        symbol: a[3] as string,
        side: absent<Side>(a[4])!,
        type: absent<OrderType>(a[5])!,
        clientOrderId: absent<string>(a[6]),
        code: a[7] as number,
        msg: a[8] as string,
      };
    default:
      throw new EventLogError(`unknown event kind ${JSON.stringify(a[1])}`);
  }
}

function withLedger<E extends Exclude<OrderEvent, { kind: 'ledger' | 'rejected' }>>(ev: E, ledger: unknown, orderId: number, tradeId: number | undefined): E {
  if (ledger === undefined) return ev;
  if (!Array.isArray(ledger)) throw new EventLogError(`event ${ev.seq}: ledger is not a list`);
  ev.ledger = ledger.map((v) => entryOf(v, orderId, tradeId));
  return ev;
}

/** A ledger entry; one written without ids has the event's (`orderId`, `tradeId`). */
function entryOf(v: unknown, orderId: number | undefined, tradeId: number | undefined): LedgerEntry {
  if (!Array.isArray(v) || (v.length !== 4 && v.length !== 6)) throw new EventLogError('ledger entry is not a list of 4 or 6');
  const e: LedgerEntry = { asset: v[0] as string, dFree: big(v[1]), dLocked: big(v[2]), reason: v[3] as LedgerReason };
  if (v.length === 6) {
    orderId = absent<number>(v[4]);
    tradeId = absent<number>(v[5]);
  }
  if (orderId !== undefined) e.orderId = orderId;
  if (tradeId !== undefined) e.tradeId = tradeId;
  return e;
}

const BIG_ORDER = ['origQuoteOrderQty', 'cumQuote', 'locked'] as const;
const BIG_FILL = ['quoteQty', 'commission'] as const;
const BIG_LEDGER = ['dFree', 'dLocked'] as const;

/** Format 2: the event object with its bigints as decimal strings. */
function fromObject(o: Record<string, unknown>): OrderEvent {
  const ev = o as unknown as OrderEvent & Record<string, Record<string, unknown>>;
  const lift = (obj: Record<string, unknown>, keys: readonly string[]): void => {
    for (const k of keys) if (typeof obj[k] === 'string') obj[k] = BigInt(obj[k]);
  };
  if (ev.kind === 'accepted') lift(ev.order as unknown as Record<string, unknown>, BIG_ORDER);
  else if (ev.kind === 'fill') lift(ev.fill as unknown as Record<string, unknown>, BIG_FILL);
  else if (ev.kind === 'ledger') lift(ev.entry as unknown as Record<string, unknown>, BIG_LEDGER);
  if (ev.kind !== 'ledger' && ev.kind !== 'rejected' && Array.isArray(ev.ledger)) {
    for (const e of ev.ledger) lift(e as unknown as Record<string, unknown>, BIG_LEDGER);
  }
  if (ev.kind === 'rejected' && ev.clientOrderId === null) (ev as { clientOrderId: string | undefined }).clientOrderId = undefined;
  return ev;
}

/**
 * Format 2's text for an event, as qtrade wrote it before format 3. Nothing writes it any more;
 * tests use it to build logs the way an older qtrade left them.
 */
export function encodeEventV2(ev: OrderEvent): string {
  return JSON.stringify(ev, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

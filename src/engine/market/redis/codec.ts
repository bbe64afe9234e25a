import { INTERVALS, type Candle, type Interval } from '../../candles/types.js';
import { ParseError } from '../../errors.js';
import type { DepthDiff, DepthSnapshot, MarketEvent } from '../source.js';
import type { BookLevel, BookTop, MiniTicker, Trade } from '../types.js';

/**
 * The wire form of a MarketEvent on the Redis bus: one JSON array per event, tagged by its first
 * element. Prices and quantities stay the raw integers at the instrument's scales (exact in JSON
 * below 2^53), bigint volumes travel as decimal strings, book levels as flat [price, qty, ...]
 * lists. Positional arrays keep a busy stream small; decode checks every field, so a foreign or
 * corrupted entry is refused rather than turned into wrong prices.
 */

type Wire = readonly unknown[];

export function encodeMarketEvent(ev: MarketEvent): string {
  return JSON.stringify(toWire(ev));
}

/** The symbol an event belongs to (its stream). */
export function eventSymbol(ev: MarketEvent): string {
  switch (ev.kind) {
    case 'trade':
      return ev.trade.symbol;
    case 'kline':
      return ev.candle.symbol;
    case 'bookTicker':
      return ev.top.symbol;
    case 'depth':
      return ev.diff.symbol;
    case 'depthSnapshot':
      return ev.snapshot.symbol;
    case 'miniTicker':
      return ev.ticker.symbol;
  }
}

function toWire(ev: MarketEvent): Wire {
  switch (ev.kind) {
    case 'trade': {
      const t = ev.trade;
      return ['t', t.symbol, t.id, t.price, t.qty, t.firstId, t.lastId, t.time, t.buyerMaker ? 1 : 0];
    }
    case 'kline': {
      const c = ev.candle;
      return [
        'k', c.symbol, c.interval, c.priceScale, c.qtyScale, c.openTime, c.closeTime, c.open, c.high, c.low, c.close,
        String(c.volume), String(c.quoteVolume), c.trades, String(c.takerBuyVolume), String(c.takerBuyQuoteVolume),
        c.firstTradeId, c.lastTradeId, c.closed ? 1 : 0,
      ];
    }
    case 'bookTicker': {
      const b = ev.top;
      return ['b', b.symbol, b.updateId, b.bid.price, b.bid.qty, b.ask.price, b.ask.qty];
    }
    case 'depth': {
      const d = ev.diff;
      return ['d', d.symbol, d.eventTime, d.firstUpdateId, d.lastUpdateId, flat(d.bids), flat(d.asks)];
    }
    case 'depthSnapshot': {
      const s = ev.snapshot;
      return ['s', s.symbol, s.lastUpdateId, flat(s.bids), flat(s.asks)];
    }
    case 'miniTicker': {
      const m = ev.ticker;
      return ['m', m.symbol, m.time, m.open, m.high, m.low, m.close, String(m.volume), String(m.quoteVolume)];
    }
  }
}

function flat(levels: readonly BookLevel[]): number[] {
  const out = new Array<number>(levels.length * 2);
  for (let i = 0; i < levels.length; i++) {
    out[2 * i] = levels[i]!.price;
    out[2 * i + 1] = levels[i]!.qty;
  }
  return out;
}

/** Decodes one bus entry; throws ParseError naming the bad field. */
export function decodeMarketEvent(text: string): MarketEvent {
  let w: unknown;
  try {
    w = JSON.parse(text);
  } catch (err) {
    throw new ParseError(`bus entry is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(w) || w.length === 0) throw new ParseError('bus entry is not a tagged array');
  const r = new Reader(w);
  const tag = r.str('kind');
  switch (tag) {
    case 't': {
      const trade: Trade = {
        symbol: r.str('symbol'),
        id: r.int('id'),
        price: r.int('price'),
        qty: r.int('qty'),
        firstId: r.int('firstId'),
        lastId: r.int('lastId'),
        time: r.int('time'),
        buyerMaker: r.flag('buyerMaker'),
      };
      r.end();
      return { kind: 'trade', trade };
    }
    case 'k': {
      const candle: Candle = {
        symbol: r.str('symbol'),
        interval: r.interval(),
        priceScale: r.int('priceScale'),
        qtyScale: r.int('qtyScale'),
        openTime: r.int('openTime'),
        closeTime: r.int('closeTime'),
        open: r.int('open'),
        high: r.int('high'),
        low: r.int('low'),
        close: r.int('close'),
        volume: r.big('volume'),
        quoteVolume: r.big('quoteVolume'),
        trades: r.int('trades'),
        takerBuyVolume: r.big('takerBuyVolume'),
        takerBuyQuoteVolume: r.big('takerBuyQuoteVolume'),
        firstTradeId: r.int('firstTradeId'),
        lastTradeId: r.int('lastTradeId'),
        closed: r.flag('closed'),
      };
      r.end();
      return { kind: 'kline', candle };
    }
    case 'b': {
      const top: BookTop = {
        symbol: r.str('symbol'),
        updateId: r.int('updateId'),
        bid: { price: r.int('bid price'), qty: r.int('bid qty') },
        ask: { price: r.int('ask price'), qty: r.int('ask qty') },
      };
      r.end();
      return { kind: 'bookTicker', top };
    }
    case 'd': {
      const diff: DepthDiff = {
        symbol: r.str('symbol'),
        eventTime: r.int('eventTime'),
        firstUpdateId: r.int('firstUpdateId'),
        lastUpdateId: r.int('lastUpdateId'),
        bids: r.levels('bids'),
        asks: r.levels('asks'),
      };
      r.end();
      return { kind: 'depth', diff };
    }
    case 's': {
      const snapshot: DepthSnapshot = {
        symbol: r.str('symbol'),
        lastUpdateId: r.int('lastUpdateId'),
        bids: r.levels('bids'),
        asks: r.levels('asks'),
      };
      r.end();
      return { kind: 'depthSnapshot', snapshot };
    }
    case 'm': {
      const ticker: MiniTicker = {
        symbol: r.str('symbol'),
        time: r.int('time'),
        open: r.int('open'),
        high: r.int('high'),
        low: r.int('low'),
        close: r.int('close'),
        volume: r.big('volume'),
        quoteVolume: r.big('quoteVolume'),
      };
      r.end();
      return { kind: 'miniTicker', ticker };
    }
    default:
      throw new ParseError(`bus entry has an unknown kind "${tag}"`);
  }
}

const BIG = /^-?(0|[1-9]\d*)$/;
const INTERVAL_SET = new Set<string>(INTERVALS);

/** Walks a wire array field by field, so errors can name the field. */
class Reader {
  private i = 1;
  private readonly kind: string;

  constructor(private readonly w: unknown[]) {
    this.kind = typeof w[0] === 'string' ? w[0] : '?';
  }

  private next(field: string): unknown {
    if (this.i >= this.w.length) throw this.bad(field, 'is missing');
    return this.w[this.i++];
  }

  private bad(field: string, why: string): ParseError {
    return new ParseError(`bus entry "${this.kind}": ${field} ${why}`);
  }

  str(field: string): string {
    const v = field === 'kind' ? this.w[0] : this.next(field);
    if (typeof v !== 'string' || v.length === 0) throw this.bad(field, 'is not a string');
    return v;
  }

  int(field: string): number {
    const v = this.next(field);
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw this.bad(field, `is not an exact integer: ${JSON.stringify(v)}`);
    return v;
  }

  big(field: string): bigint {
    const v = this.next(field);
    if (typeof v !== 'string' || !BIG.test(v)) throw this.bad(field, `is not an integer string: ${JSON.stringify(v)}`);
    return BigInt(v);
  }

  flag(field: string): boolean {
    const v = this.next(field);
    if (v !== 0 && v !== 1) throw this.bad(field, `is not 0 or 1: ${JSON.stringify(v)}`);
    return v === 1;
  }

  interval(): Interval {
    const v = this.next('interval');
    if (typeof v !== 'string' || !INTERVAL_SET.has(v)) throw this.bad('interval', `is not an interval: ${JSON.stringify(v)}`);
    return v as Interval;
  }

  levels(field: string): BookLevel[] {
    const v = this.next(field);
    if (!Array.isArray(v) || v.length % 2 !== 0) throw this.bad(field, 'is not a flat [price, qty, ...] list');
    const out: BookLevel[] = new Array<BookLevel>(v.length / 2);
    for (let k = 0; k < v.length; k += 2) {
      const price: unknown = v[k];
      const qty: unknown = v[k + 1];
      if (typeof price !== 'number' || !Number.isSafeInteger(price) || typeof qty !== 'number' || !Number.isSafeInteger(qty)) {
        throw this.bad(field, `has a level that is not two exact integers at ${k / 2}`);
      }
      out[k / 2] = { price, qty };
    }
    return out;
  }

  end(): void {
    if (this.i !== this.w.length) throw this.bad('entry', `has ${this.w.length - this.i} extra field(s)`);
  }
}

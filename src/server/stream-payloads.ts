import { firingJson } from '../engine/alerts/format.js';
import type { AlertFiring } from '../engine/alerts/types.js';
import type { RiskStateChange } from '../engine/bus.js';
import type { Candle } from '../engine/candles/types.js';
import { formatFixed } from '../engine/fixed.js';
import type { BookLevel, BookTop, Instrument, MiniTicker, Trade } from '../engine/market/types.js';
import { formatAmount } from '../engine/orders/amounts.js';
import { fillJson, positionJson } from '../engine/orders/binance-json.js';
import type { OrderEvent } from '../engine/orders/events.js';
import { hasLimitPrice, isTerminal, type Fill, type Order } from '../engine/orders/types.js';
import type { MarkedPosition } from '../engine/trading.js';

/**
 * The daemon's WebSocket payloads as JSON text: Binance's market-stream shapes (web-socket-streams.md)
 * and user-data `executionReport`, with prices and quantities as exact decimal strings at Binance's
 * 8 decimals. `E` is always an exchange time handed in by the caller, never the wall clock.
 * Each function builds the text directly: the stream server encodes an event once and sends that
 * one string to every subscriber.
 */

const W = 8;
const quote = (s: string): string => JSON.stringify(s);
const px = (raw: number, inst: Instrument): string => formatFixed(raw, inst.priceScale, W);
const qty = (raw: number, inst: Instrument): string => formatFixed(raw, inst.qtyScale, W);

/** `<symbol>@aggTrade`. Binance's E is its send time; ours is the trade time, the only exchange time a Trade has. */
export function aggTradeJson(t: Trade, inst: Instrument): string {
  return (
    `{"e":"aggTrade","E":${t.time},"s":${quote(t.symbol)},"a":${t.id},"p":"${px(t.price, inst)}","q":"${qty(t.qty, inst)}",` +
    `"f":${t.firstId},"l":${t.lastId},"T":${t.time},"m":${t.buyerMaker},"M":true}`
  );
}

/**
 * `<symbol>@trade`. A raw trade (firstId === lastId) maps exactly. An aggregated print's single raw
 * trades are not known (only their total quantity), so it goes out as one trade carrying the
 * aggregate's quantity and its last trade id: ids then skip the trades folded into it.
 */
export function tradeJson(t: Trade, inst: Instrument): string {
  return `{"e":"trade","E":${t.time},"s":${quote(t.symbol)},"t":${t.lastId},"p":"${px(t.price, inst)}","q":"${qty(t.qty, inst)}","T":${t.time},"m":${t.buyerMaker},"M":true}`;
}

/** `<symbol>@kline_<interval>`; `eventTime` is the latest exchange time seen when the update was made. */
export function klineJson(c: Candle, eventTime: number): string {
  const ps = c.priceScale;
  const qs = c.qtyScale;
  const qq = ps + qs;
  return (
    `{"e":"kline","E":${eventTime},"s":${quote(c.symbol)},"k":{"t":${c.openTime},"T":${c.closeTime},"s":${quote(c.symbol)},"i":"${c.interval}",` +
    `"f":${c.firstTradeId},"L":${c.lastTradeId},"o":"${formatFixed(c.open, ps, W)}","c":"${formatFixed(c.close, ps, W)}",` +
    `"h":"${formatFixed(c.high, ps, W)}","l":"${formatFixed(c.low, ps, W)}","v":"${formatFixed(c.volume, qs, W)}","n":${c.trades},` +
    `"x":${c.closed},"q":"${formatFixed(c.quoteVolume, qq, W)}","V":"${formatFixed(c.takerBuyVolume, qs, W)}",` +
    `"Q":"${formatFixed(c.takerBuyQuoteVolume, qq, W)}","B":"0"}}`
  );
}

/** `<symbol>@bookTicker` (Binance's one market payload without an event type or time). */
export function bookTickerJson(top: BookTop, inst: Instrument): string {
  return (
    `{"u":${top.updateId},"s":${quote(top.symbol)},"b":"${px(top.bid.price, inst)}","B":"${qty(top.bid.qty, inst)}",` +
    `"a":"${px(top.ask.price, inst)}","A":"${qty(top.ask.qty, inst)}"}`
  );
}

/** `<symbol>@miniTicker`: volumes at qtyScale, quote volume at priceScale + qtyScale (as the decoder reads them). */
export function miniTickerJson(t: MiniTicker, inst: Instrument): string {
  return (
    `{"e":"24hrMiniTicker","E":${t.time},"s":${quote(t.symbol)},"c":"${px(t.close, inst)}","o":"${px(t.open, inst)}",` +
    `"h":"${px(t.high, inst)}","l":"${px(t.low, inst)}","v":"${formatFixed(t.volume, inst.qtyScale, W)}",` +
    `"q":"${formatFixed(t.quoteVolume, inst.priceScale + inst.qtyScale, W)}"}`
  );
}

function levelsJson(levels: readonly BookLevel[], inst: Instrument): string {
  let s = '[';
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    if (i > 0) s += ',';
    s += `["${px(l.price, inst)}","${qty(l.qty, inst)}"]`;
  }
  return s + ']';
}

export interface DepthUpdate {
  symbol: string;
  eventTime: number;
  firstUpdateId: number;
  lastUpdateId: number;
  /** Changed levels; quantity 0 removes the level. */
  bids: readonly BookLevel[];
  asks: readonly BookLevel[];
}

/** `<symbol>@depth`: Binance's depthUpdate. */
export function depthUpdateJson(d: DepthUpdate, inst: Instrument): string {
  return (
    `{"e":"depthUpdate","E":${d.eventTime},"s":${quote(d.symbol)},"U":${d.firstUpdateId},"u":${d.lastUpdateId},` +
    `"b":${levelsJson(d.bids, inst)},"a":${levelsJson(d.asks, inst)}}`
  );
}

/** `<symbol>@depth<levels>`: the top of the book, best first. */
export function partialDepthJson(lastUpdateId: number, bids: readonly BookLevel[], asks: readonly BookLevel[], inst: Instrument): string {
  return `{"lastUpdateId":${lastUpdateId},"bids":${levelsJson(bids, inst)},"asks":${levelsJson(asks, inst)}}`;
}

/**
 * One side of the book as last sent to diff-depth subscribers, best level first, and the changes
 * that turn it into `current` (also best first): new or changed quantities, and 0 for levels that
 * are gone. A merge walk over two sorted lists: no hashing, one pass.
 */
export class BookSideShadow {
  private prices: number[] = [];
  private qtys: number[] = [];

  /** `bids`: prices descend from the best; otherwise they ascend. */
  constructor(private readonly bids: boolean) {}

  /** Replaces the shadow without reporting changes. */
  reset(levels: readonly BookLevel[]): void {
    this.prices = levels.map((l) => l.price);
    this.qtys = levels.map((l) => l.qty);
  }

  /** Changes from the shadow to `current`, in book order; the shadow becomes `current`. */
  diff(current: readonly BookLevel[]): BookLevel[] {
    const out: BookLevel[] = [];
    const pp = this.prices;
    const pq = this.qtys;
    const np: number[] = new Array(current.length);
    const nq: number[] = new Array(current.length);
    let i = 0;
    let j = 0;
    while (i < pp.length || j < current.length) {
      const c = current[j];
      if (c !== undefined) {
        np[j] = c.price;
        nq[j] = c.qty;
      }
      if (i >= pp.length) {
        out.push({ price: c!.price, qty: c!.qty });
        j++;
      } else if (c === undefined) {
        out.push({ price: pp[i]!, qty: 0 });
        i++;
      } else if (pp[i] === c.price) {
        if (pq[i] !== c.qty) out.push({ price: c.price, qty: c.qty });
        i++;
        j++;
      } else if (this.bids ? pp[i]! > c.price : pp[i]! < c.price) {
        // The old level sorts first: it is no longer in the book.
        out.push({ price: pp[i]!, qty: 0 });
        i++;
      } else {
        out.push({ price: c.price, qty: c.qty });
        j++;
      }
    }
    this.prices = np;
    this.qtys = nq;
    return out;
  }
}

// ------------------------------------------------------------------ private streams

export type ExecutionType = 'NEW' | 'TRADE' | 'CANCELED' | 'EXPIRED';

/** Binance's `executionReport` for one change of `o` (its state after the change) at exchange time `time`. */
export function executionReportJson(o: Order, inst: Instrument, x: ExecutionType, time: number, fill?: Fill): string {
  const working = o.isWorking && hasLimitPrice(o.type) && !isTerminal(o.status);
  const canceled = x === 'CANCELED';
  return (
    `{"e":"executionReport","E":${time},"s":${quote(o.symbol)},"c":${quote(o.clientOrderId)},"S":"${o.side}","o":"${o.type}",` +
    `"f":"${o.timeInForce ?? 'GTC'}","q":"${qty(o.origQty, inst)}","p":"${px(o.price, inst)}","P":"${px(o.stopPrice, inst)}",` +
    `"F":"0.00000000","g":-1,"C":${canceled ? quote(o.clientOrderId) : '""'},"x":"${x}","X":"${o.status}","r":"NONE",` +
    `"i":${o.orderId},"l":"${fill ? qty(fill.qty, inst) : '0.00000000'}","z":"${qty(o.executedQty, inst)}",` +
    `"L":"${fill ? px(fill.price, inst) : '0.00000000'}","n":"${fill ? formatAmount(fill.commission) : '0'}",` +
    `"N":${fill ? quote(fill.commissionAsset) : 'null'},"T":${time},"t":${fill ? fill.tradeId : -1},"w":${working},` +
    `"m":${fill ? fill.isMaker : false},"M":false,"O":${o.time},"Z":"${formatAmount(o.cumQuote)}",` +
    `"Y":"${fill ? formatAmount(fill.quoteQty) : '0.00000000'}","Q":"${formatAmount(o.origQuoteOrderQty)}",` +
    `${o.workingTime >= 0 ? `"W":${o.workingTime},` : ''}"V":"NONE"}`
  );
}

/**
 * Turns the order engine's events into execution reports that show each order as it was right after
 * each change (`order.update` carries only the state at the end of a call, so a market order's
 * second fill would otherwise report the cumulative quantity of its last). Keeps a copy of every open
 * order: seeded with the account's open orders, then from `accepted` events; terminal orders leave.
 */
export class ExecutionReports {
  private readonly open = new Map<number, Order>();

  constructor(
    private readonly instrument: (symbol: string) => Instrument,
    seed: readonly Order[],
    /** The engine's current copy, for an order this mirror has not seen (accepted before it was made). */
    private readonly lookup: (orderId: number) => Order | undefined,
  ) {
    for (const o of seed) if (!isTerminal(o.status)) this.open.set(o.orderId, { ...o });
  }

  /**
   * The report an event causes; undefined for ledger entries and rejections (refused calls answer the
   * caller). With `encode` false the mirror follows the event but no report is built (nobody listens).
   */
  onEvent(ev: OrderEvent, encode = true): string | undefined {
    switch (ev.kind) {
      case 'accepted': {
        const o = { ...ev.order };
        if (!isTerminal(o.status)) this.open.set(o.orderId, o);
        return encode ? executionReportJson(o, this.instrument(o.symbol), 'NEW', ev.time) : undefined;
      }
      case 'triggered': {
        const o = this.order(ev.orderId);
        if (!o) return undefined;
        o.isWorking = true;
        o.workingTime = ev.time;
        o.updateTime = ev.time;
        return encode ? executionReportJson(o, this.instrument(o.symbol), 'NEW', ev.time) : undefined;
      }
      case 'fill': {
        const f = ev.fill;
        const o = this.order(f.orderId);
        if (!o) return undefined;
        o.executedQty += f.qty;
        o.cumQuote += f.quoteQty;
        o.status = ev.status;
        o.updateTime = ev.time;
        if (isTerminal(o.status)) this.open.delete(o.orderId);
        return encode ? executionReportJson(o, this.instrument(o.symbol), 'TRADE', ev.time, f) : undefined;
      }
      case 'canceled':
      case 'expired': {
        const o = this.order(ev.orderId);
        if (!o) return undefined;
        o.status = ev.kind === 'canceled' ? 'CANCELED' : 'EXPIRED';
        o.updateTime = ev.time;
        this.open.delete(o.orderId);
        return encode ? executionReportJson(o, this.instrument(o.symbol), ev.kind === 'canceled' ? 'CANCELED' : 'EXPIRED', ev.time) : undefined;
      }
      default:
        return undefined;
    }
  }

  /** Open orders mirrored (for tests and metrics). */
  get size(): number {
    return this.open.size;
  }

  private order(orderId: number): Order | undefined {
    let o = this.open.get(orderId);
    if (!o) {
      const cur = this.lookup(orderId);
      if (!cur) return undefined;
      // Only an order accepted before the mirror existed gets here: its copy is the latest state.
      o = { ...cur };
      this.open.set(orderId, o);
    }
    return o;
  }
}

/** The `fills` stream: GET /api/v3/myTrades' shape with an event type and time. */
export function fillEventJson(f: Fill, inst: Instrument): string {
  return JSON.stringify({ e: 'fill', E: f.time, ...fillJson(f, inst) });
}

/** The `positions` stream: every position of the account, marked at the last trade prices. */
export function positionsJson(positions: readonly MarkedPosition[], time: number): string {
  return JSON.stringify({ e: 'positions', E: time, positions: positions.map(positionJson) });
}

/** The `risk` stream: a risk-state transition. */
export function riskStateJson(r: RiskStateChange): string {
  return JSON.stringify({ e: 'riskState', E: r.time, state: r.state, previous: r.previous, reason: r.reason });
}

/** An alert firing, as the daemon logs and webhooks carry it, with Binance's e/E envelope keys. */
export function alertFiredJson(f: AlertFiring): string {
  return JSON.stringify({ e: 'alertFired', E: f.time, ...firingJson(f) });
}

// ------------------------------------------------------------------ control replies

export type RequestId = number | string | null;

/** `{"result":…,"id":…}`. */
export function resultJson(result: unknown, id: RequestId): string {
  return JSON.stringify({ result, id });
}

/** `{"error":{"code":…,"msg":…},"id":…}`. */
export function errorJson(code: number, msg: string, id: RequestId): string {
  return JSON.stringify({ error: { code, msg }, id });
}

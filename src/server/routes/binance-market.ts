import { aggregateCandles } from '../../engine/candles/aggregate.js';
import { bucketOpen, isInterval } from '../../engine/candles/intervals.js';
import { queryCandles } from '../../engine/candles/query.js';
import type { Candle, Interval } from '../../engine/candles/types.js';
import { formatFixed, pow10n } from '../../engine/fixed.js';
import type { ExchangeSymbol } from '../../engine/market/instruments.js';
import type { BookTop, Instrument, Trade } from '../../engine/market/types.js';
import { intParam, optionalParam, requiredParam } from '../http.js';
import { ApiError, ApiErrors, type ApiRequest, type DaemonContext, type Route } from '../types.js';

/**
 * Binance's public market-data endpoints (/api/v3), answered from what the daemon's feed delivered:
 * the market cache (trades, 24h mini ticker, book top), the local order book and the candle store.
 * Shapes and decimal strings follow Binance's REST API documentation so Binance clients read them
 * unchanged; data the feed does not carry is left out rather than made up (see ticker/24hr).
 */

/** Binance prints every price and quantity with at least 8 decimals. */
const W = 8;
const DAY_MS = 86_400_000;

const px = (raw: number, inst: Instrument): string => formatFixed(raw, inst.priceScale, W);
const qty = (raw: number | bigint, inst: Instrument): string => formatFixed(raw, inst.qtyScale, W);
/** price × qty products (quote volumes) sit at priceScale + qtyScale. */
const quote = (raw: bigint, inst: Instrument): string => formatFixed(raw, inst.priceScale + inst.qtyScale, W);

/** The `symbol` parameter as a known instrument; unknown → Binance's -1121. */
export function instrumentParam(ctx: DaemonContext, req: ApiRequest): Instrument {
  return instrumentOf(ctx, requiredParam(req, 'symbol'));
}

function instrumentOf(ctx: DaemonContext, symbol: string): Instrument {
  if (!ctx.node.instruments.has(symbol)) throw ApiErrors.invalidSymbol();
  return ctx.node.instruments.get(symbol);
}

/**
 * `symbol`, `symbols` (a JSON array, as Binance takes it) or neither (undefined: every symbol).
 * Sending both is Binance's -1128.
 */
function symbolsParam(ctx: DaemonContext, req: ApiRequest): { one: boolean; list: Instrument[] } | undefined {
  const one = optionalParam(req, 'symbol');
  const many = optionalParam(req, 'symbols');
  if (one !== undefined && many !== undefined) throw new ApiError(400, -1128, 'Combination of optional parameters invalid: send symbol or symbols, not both.');
  if (one !== undefined) return { one: true, list: [instrumentOf(ctx, one)] };
  if (many === undefined) return undefined;
  let names: unknown;
  try {
    names = JSON.parse(many);
  } catch {
    names = undefined;
  }
  if (!Array.isArray(names) || names.length === 0 || !names.every((n): n is string => typeof n === 'string')) {
    throw ApiErrors.badParam('symbols', 'expected a JSON array of symbols such as ["BTCUSDT","ETHUSDT"]');
  }
  return { one: false, list: names.map((n) => instrumentOf(ctx, n)) };
}

/**
 * Market data the daemon does not have (yet): Binance's -1001 ("unable to process your request,
 * please try again"), as a 409 rather than a 5xx: the daemon is healthy and the request valid, the
 * feed simply has not delivered it, and a 5xx would be logged as a server failure.
 */
function notReady(why: string): ApiError {
  return new ApiError(409, -1001, `Unable to process your request: ${why}.`);
}

/** Why a known symbol has no market data yet: the feed does not carry it, or carries it but saw nothing. */
function noData(ctx: DaemonContext, symbol: string, what: string): ApiError {
  const carried = ctx.node.symbols();
  if (!carried.includes(symbol)) {
    return notReady(`the daemon's feed does not carry ${symbol} (it carries ${carried.join(', ') || 'no symbol'}); start it with ${symbol.toLowerCase()} in --symbols`);
  }
  return notReady(`no ${what} of ${symbol} has arrived from the feed yet; try again shortly`);
}

/** Binance's limit parameters: at least 1; above the maximum the answer is truncated to it, as Binance does. */
function limitParam(req: ApiRequest, fallback: number, max: number): number {
  return Math.min(intParam(req, 'limit', { min: 1, fallback })!, max);
}

/** num / den at `decimals` places, rounded half away from zero; 0 when den is 0. */
function ratio(num: bigint, den: bigint, decimals: number): string {
  if (den === 0n) return formatFixed(0n, decimals, decimals);
  const neg = num < 0n !== den < 0n;
  const n = (num < 0n ? -num : num) * pow10n(decimals);
  const d = den < 0n ? -den : den;
  let q = n / d;
  if ((n % d) * 2n >= d) q += 1n;
  return formatFixed(neg ? -q : q, decimals, decimals);
}

// ------------------------------------------------------------------ exchangeInfo

function exchangeInfo(ctx: DaemonContext, req: ApiRequest): Record<string, unknown> {
  const wanted = symbolsParam(ctx, req);
  let symbols: readonly ExchangeSymbol[] = ctx.node.exchangeSymbols;
  if (wanted) {
    const by = new Map(symbols.map((s) => [s.symbol, s]));
    symbols = wanted.list.map((i) => {
      const s = by.get(i.symbol);
      if (!s) throw ApiErrors.invalidSymbol();
      return s;
    });
  }
  const status = optionalParam(req, 'symbolStatus');
  if (status !== undefined) symbols = symbols.filter((s) => s.status === status);
  const permissions = optionalParam(req, 'permissions');
  if (permissions !== undefined) {
    const want = new Set(permissionList(permissions));
    symbols = symbols.filter((s) => symbolPermissions(s).some((p) => want.has(p)));
  }
  return {
    timezone: 'UTC',
    serverTime: ctx.wallNow(),
    // The daemon enforces no request-weight or order-rate limits, so it announces none.
    rateLimits: [],
    exchangeFilters: [],
    symbols,
  };
}

/** `SPOT` or `["MARGIN","LEVERAGED"]`. */
function permissionList(text: string): string[] {
  if (!text.startsWith('[')) return [text];
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v) && v.every((p) => typeof p === 'string')) return v as string[];
  } catch {
    // falls through to the error below
  }
  throw ApiErrors.badParam('permissions', 'expected a permission such as SPOT or a JSON array such as ["SPOT","MARGIN"]');
}

/** A symbol's permissions: the flat list, and every permission set (Binance moved them there in 2024). */
function symbolPermissions(s: ExchangeSymbol): string[] {
  const raw = s as ExchangeSymbol & { permissions?: unknown; permissionSets?: unknown };
  const out: string[] = [];
  if (Array.isArray(raw.permissions)) out.push(...raw.permissions.filter((p): p is string => typeof p === 'string'));
  if (Array.isArray(raw.permissionSets)) {
    for (const set of raw.permissionSets) if (Array.isArray(set)) out.push(...set.filter((p): p is string => typeof p === 'string'));
  }
  return out;
}

// ------------------------------------------------------------------ klines

/** One REST kline: Binance's 12 columns. */
function klineRow(c: Candle): unknown[] {
  const ps = c.priceScale;
  const qs = c.qtyScale;
  const d = (raw: number | bigint, scale: number) => formatFixed(raw, scale, W);
  return [
    c.openTime,
    d(c.open, ps),
    d(c.high, ps),
    d(c.low, ps),
    d(c.close, ps),
    d(c.volume, qs),
    c.closeTime,
    d(c.quoteVolume, ps + qs),
    c.trades,
    d(c.takerBuyVolume, qs),
    d(c.takerBuyQuoteVolume, ps + qs),
    '0',
  ];
}

function intervalParam(req: ApiRequest): Interval {
  const v = requiredParam(req, 'interval');
  if (isInterval(v)) return v;
  throw new ApiError(400, -1120, `Invalid interval. qtrade serves 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d and 1w klines (not 1s, 3d or 1M).`);
}

/**
 * The open kline of `interval`, as Binance lists it last: the running 1m candle, or for longer
 * intervals the stored 1m candles of the running bucket plus the running minute. Shown only when
 * whole: the minute before the running one must be stored (a feed that joined part-way, or came
 * back after an outage, has not seen the running minute from its start) and so must every earlier
 * minute of the bucket; a partial sum is not Binance's kline.
 */
async function openKline(ctx: DaemonContext, symbol: string, interval: Interval): Promise<Candle | undefined> {
  const cur = ctx.node.kernel.currentCandle(symbol);
  if (!cur) return undefined;
  const open = bucketOpen(cur.openTime, interval);
  const from = Math.min(open, cur.openTime - 60_000);
  const stored = await ctx.node.store.candles({ symbol, interval: '1m', from, to: cur.openTime - 60_000 });
  if (stored.length < (cur.openTime - from) / 60_000) return undefined;
  if (interval === '1m') return cur;
  const bucket = aggregateCandles([...stored.filter((c) => c.openTime >= open), cur], interval, 'ms').find((c) => c.openTime === open);
  return bucket ? { ...bucket, closed: false } : undefined;
}

async function klines(ctx: DaemonContext, req: ApiRequest): Promise<unknown[]> {
  const inst = instrumentParam(ctx, req);
  const interval = intervalParam(req);
  const startTime = intParam(req, 'startTime', { min: 0 });
  const endTime = intParam(req, 'endTime', { min: 0 });
  const limit = limitParam(req, 500, 1000);
  const { candles } = await queryCandles(ctx.node.store, {
    symbol: inst.symbol,
    interval,
    ...(startTime === undefined ? {} : { from: startTime }),
    ...(endTime === undefined ? {} : { to: endTime }),
    limit,
  });
  let rows = candles;
  const open = await openKline(ctx, inst.symbol, interval);
  if (open && (startTime === undefined || open.openTime >= startTime) && (endTime === undefined || open.openTime <= endTime)) {
    rows = rows.filter((c) => c.openTime < open.openTime);
    rows.push(open);
  }
  // With startTime Binance answers the first `limit` klines from it, otherwise the latest ones.
  rows = startTime !== undefined ? rows.slice(0, limit) : rows.slice(-limit);
  return rows.map(klineRow);
}

// ------------------------------------------------------------------ tickers

function priceTicker(ctx: DaemonContext, inst: Instrument): Record<string, unknown> | undefined {
  const last = ctx.node.market.get(inst.symbol)?.lastTrade;
  return last ? { symbol: inst.symbol, price: px(last.price, inst) } : undefined;
}

function bookTop(ctx: DaemonContext, symbol: string): BookTop | undefined {
  return ctx.node.market.get(symbol)?.top ?? ctx.node.kernel.orderBook(symbol)?.top();
}

/**
 * Binance's 24hr ticker from the feed's 24hrMiniTicker, whose statistics cover the 24 hours up to
 * its event time. Exact: open/high/low/last prices, volumes, priceChange, and bid/ask from the book
 * top. priceChangePercent (3 decimals) and weightedAvgPrice (quoteVolume / volume, 8 decimals) are
 * derived from those exactly and rounded half away from zero at Binance's printed precision.
 * Left out because the mini ticker does not carry them: prevClosePrice, lastQty, firstId, lastId,
 * count (and bid/ask fields while no book top has arrived).
 */
function dayTicker(ctx: DaemonContext, inst: Instrument, mini: boolean): Record<string, unknown> | undefined {
  const m = ctx.node.market.get(inst.symbol);
  const t = m?.ticker;
  if (!t) return undefined;
  const window = { openTime: t.time - DAY_MS, closeTime: t.time };
  const stats = {
    openPrice: px(t.open, inst),
    highPrice: px(t.high, inst),
    lowPrice: px(t.low, inst),
  };
  const volumes = { volume: qty(t.volume, inst), quoteVolume: quote(t.quoteVolume, inst) };
  if (mini) return { symbol: inst.symbol, ...stats, lastPrice: px(t.close, inst), ...volumes, ...window };
  const top = bookTop(ctx, inst.symbol);
  const change = BigInt(t.close - t.open);
  return {
    symbol: inst.symbol,
    priceChange: px(t.close - t.open, inst),
    priceChangePercent: ratio(change * 100n, BigInt(t.open), 3),
    weightedAvgPrice: ratio(t.quoteVolume, t.volume * pow10n(inst.priceScale), W),
    lastPrice: px(t.close, inst),
    ...(top ? { bidPrice: px(top.bid.price, inst), bidQty: qty(top.bid.qty, inst), askPrice: px(top.ask.price, inst), askQty: qty(top.ask.qty, inst) } : {}),
    ...stats,
    ...volumes,
    ...window,
  };
}

/** symbol → one object, symbols → an array of those, neither → every symbol the feed has data for. */
function tickers(ctx: DaemonContext, req: ApiRequest, make: (inst: Instrument) => Record<string, unknown> | undefined, what: string): unknown {
  const wanted = symbolsParam(ctx, req);
  if (!wanted) {
    return ctx.node.market
      .list()
      .filter((s) => ctx.node.instruments.has(s))
      .map((s) => make(ctx.node.instruments.get(s)))
      .filter((t) => t !== undefined);
  }
  const out = wanted.list.map((inst) => {
    const t = make(inst);
    if (!t) throw noData(ctx, inst.symbol, what);
    return t;
  });
  return wanted.one ? out[0] : out;
}

function tickerType(req: ApiRequest): boolean {
  const type = optionalParam(req, 'type') ?? 'FULL';
  if (type !== 'FULL' && type !== 'MINI') throw ApiErrors.badParam('type', 'expected FULL or MINI');
  return type === 'MINI';
}

// ------------------------------------------------------------------ depth and trades

function depth(ctx: DaemonContext, req: ApiRequest): Record<string, unknown> {
  const inst = instrumentParam(ctx, req);
  const limit = limitParam(req, 100, 5000);
  const book = ctx.node.kernel.orderBook(inst.symbol);
  if (!book || book.status !== 'synced') {
    if (!ctx.node.symbols().includes(inst.symbol)) throw noData(ctx, inst.symbol, 'order book');
    if (!ctx.node.channels().includes('depth')) throw notReady("the daemon's feed runs without the depth channel, so it keeps no order book");
    throw notReady(`the local order book of ${inst.symbol} is ${book ? book.status : 'awaiting its first depth update'}; it answers once synced with Binance's snapshot, try again shortly`);
  }
  const level = (l: { price: number; qty: number }) => [px(l.price, inst), qty(l.qty, inst)];
  return { lastUpdateId: book.lastUpdateId, bids: book.levels('bid', limit).map(level), asks: book.levels('ask', limit).map(level) };
}

function cachedTrades(ctx: DaemonContext, inst: Instrument): Trade[] {
  const m = ctx.node.market.get(inst.symbol);
  if (!m?.lastTrade) throw noData(ctx, inst.symbol, 'trade');
  return m.trades;
}

/**
 * GET /api/v3/trades. The feed carries aggregate trades (aggTrade), not Binance's individual
 * trades: each entry here is one aggregate trade, `id` its aggregate id and `qty` the summed
 * quantity of the raw trades it merges (same taker order, same price).
 */
function recentTrades(ctx: DaemonContext, req: ApiRequest): unknown[] {
  const inst = instrumentParam(ctx, req);
  const limit = limitParam(req, 500, 1000);
  return cachedTrades(ctx, inst)
    .slice(-limit)
    .map((t) => ({
      id: t.id,
      price: px(t.price, inst),
      qty: qty(t.qty, inst),
      quoteQty: quote(BigInt(t.price) * BigInt(t.qty), inst),
      time: t.time,
      isBuyerMaker: t.buyerMaker,
      isBestMatch: true,
    }));
}

/**
 * GET /api/v3/aggTrades from the market cache, which holds the latest trades the feed delivered
 * (see MarketCache's maxTrades). Aggregate ids are contiguous, so a fromId older than the cache is
 * refused rather than answered with a gap; startTime/endTime filter what the cache holds.
 * `M` (best price match) is true on every Binance spot trade, and the feed's parser does not keep it.
 */
function aggTrades(ctx: DaemonContext, req: ApiRequest): unknown[] {
  const inst = instrumentParam(ctx, req);
  const fromId = intParam(req, 'fromId', { min: 0 });
  const startTime = intParam(req, 'startTime', { min: 0 });
  const endTime = intParam(req, 'endTime', { min: 0 });
  const limit = limitParam(req, 500, 1000);
  let list = cachedTrades(ctx, inst);
  if (fromId !== undefined && list.length > 0 && fromId < list[0]!.id) {
    throw new ApiError(400, -1130, `Data sent for parameter 'fromId' is not valid: aggregate trades of ${inst.symbol} before id ${list[0]!.id} are no longer in the daemon's cache; ask Binance for older ones.`);
  }
  if (startTime !== undefined) list = list.filter((t) => t.time >= startTime);
  if (endTime !== undefined) list = list.filter((t) => t.time <= endTime);
  if (fromId !== undefined) list = list.filter((t) => t.id >= fromId).slice(0, limit);
  else list = startTime !== undefined ? list.slice(0, limit) : list.slice(-limit);
  return list.map((t) => ({ a: t.id, p: px(t.price, inst), q: qty(t.qty, inst), f: t.firstId, l: t.lastId, T: t.time, m: t.buyerMaker, M: true }));
}

// ------------------------------------------------------------------ routes

export function binanceMarketRoutes(ctx: DaemonContext): Route[] {
  const symbol = { symbol: 'symbol, e.g. BTCUSDT (required)' };
  const symbols = { symbol: 'one symbol, e.g. BTCUSDT', symbols: 'a JSON array of symbols, e.g. ["BTCUSDT","ETHUSDT"]' };
  return [
    { method: 'GET', path: '/api/v3/ping', scope: 'public', summary: 'Test connectivity: {}', handle: () => ({ body: {} }) },
    { method: 'GET', path: '/api/v3/time', scope: 'public', summary: "The daemon's clock: {serverTime}", handle: () => ({ body: { serverTime: ctx.wallNow() } }) },
    {
      method: 'GET',
      path: '/api/v3/exchangeInfo',
      scope: 'read',
      summary: "Binance's exchangeInfo for the symbols the daemon knows",
      params: { ...symbols, permissions: 'SPOT, or a JSON array of permissions', symbolStatus: 'TRADING, HALT or BREAK' },
      handle: (req) => ({ body: exchangeInfo(ctx, req) }),
    },
    {
      method: 'GET',
      path: '/api/v3/klines',
      scope: 'read',
      summary: 'Klines from the candle store, the open one last (Binance 12-column rows)',
      params: { ...symbol, interval: '1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d or 1w (required)', startTime: 'open time from (ms)', endTime: 'open time until (ms)', limit: 'default 500, max 1000' },
      handle: async (req) => ({ body: await klines(ctx, req) }),
    },
    {
      method: 'GET',
      path: '/api/v3/ticker/price',
      scope: 'read',
      summary: 'Last trade price per symbol',
      params: symbols,
      handle: (req) => ({ body: tickers(ctx, req, (inst) => priceTicker(ctx, inst), 'trade') }),
    },
    {
      method: 'GET',
      path: '/api/v3/ticker/24hr',
      scope: 'read',
      summary: '24h rolling statistics from the feed (fields the feed lacks are left out)',
      params: { ...symbols, type: 'FULL (default) or MINI' },
      handle: (req) => {
        const mini = tickerType(req);
        return { body: tickers(ctx, req, (inst) => dayTicker(ctx, inst, mini), '24h ticker') };
      },
    },
    {
      method: 'GET',
      path: '/api/v3/depth',
      scope: 'read',
      summary: 'The local order book (503 until it is synced)',
      params: { ...symbol, limit: 'levels per side, default 100, max 5000' },
      handle: (req) => ({ body: depth(ctx, req) }),
    },
    {
      method: 'GET',
      path: '/api/v3/trades',
      scope: 'read',
      summary: 'Recent trades (each one an aggregate trade of the feed)',
      params: { ...symbol, limit: 'default 500, max 1000' },
      handle: (req) => ({ body: recentTrades(ctx, req) }),
    },
    {
      method: 'GET',
      path: '/api/v3/aggTrades',
      scope: 'read',
      summary: "Recent aggregate trades from the daemon's cache",
      params: { ...symbol, fromId: 'aggregate id from (inclusive)', startTime: 'trade time from (ms)', endTime: 'trade time until (ms)', limit: 'default 500, max 1000' },
      handle: (req) => ({ body: aggTrades(ctx, req) }),
    },
  ];
}

/**
 * The signed half of the fake Binance spot API: one account with in-memory orders and balances
 * behind POST/GET/DELETE /api/v3/order, DELETE/GET /api/v3/openOrders, GET /api/v3/account and
 * the (legacy) /api/v3/userDataStream listenKey endpoints. Requests are authenticated exactly
 * as Binance does it: X-MBX-APIKEY must name the account, `signature` must be the hex
 * HMAC-SHA256 of the raw query string followed directly by the raw body (signature param
 * removed), keyed by the secret, and `timestamp` must satisfy
 * `timestamp < serverTime + 1000 && serverTime − timestamp <= recvWindow`.
 *
 * Deliberately independent of src/engine/market/binance/signing.ts (node:crypto directly), so a
 * bug there cannot make the fake agree with it.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { formatFixed, parseFixedBig } from '../../src/engine/fixed.js';

export const SIGNED_ROUTES = new Set([
  'POST /api/v3/order',
  'GET /api/v3/order',
  'DELETE /api/v3/order',
  'GET /api/v3/openOrders',
  'DELETE /api/v3/openOrders',
  'GET /api/v3/account',
  'POST /api/v3/userDataStream',
  'PUT /api/v3/userDataStream',
  'DELETE /api/v3/userDataStream',
]);

const USER_STREAM_ROUTES = new Set(['POST /api/v3/userDataStream', 'PUT /api/v3/userDataStream', 'DELETE /api/v3/userDataStream']);

export interface FakeAccountOptions {
  apiKey: string;
  apiSecret: string;
  /** Starting free balances, decimal strings by asset. */
  balances?: Record<string, string>;
  /** Price MARKET (and crossing LIMIT) orders fill at, decimal strings by symbol. */
  marketPrices?: Record<string, string>;
  /** Answer the listenKey endpoints with 410 Gone, as Binance spot has since 2026-02-20. */
  retireListenKeys?: boolean;
}

/** An order as the fake keeps it; amounts are bigints at 8 decimals. */
export interface FakeOrder {
  symbol: string;
  orderId: number;
  clientOrderId: string;
  side: 'BUY' | 'SELL';
  type: string;
  timeInForce: string;
  price: bigint;
  stopPrice: bigint;
  origQty: bigint;
  origQuoteOrderQty: bigint;
  executedQty: bigint;
  cumQuote: bigint;
  status: 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED' | 'REJECTED';
  time: number;
  updateTime: number;
  workingTime: number;
  /** Asset locked for the order and how much is still locked. */
  lockAsset: string;
  locked: bigint;
}

export interface FakeUserData {
  /** Calls `listener` with every account event (executionReport, outboundAccountPosition). */
  onEvent(listener: (apiKey: string, event: Record<string, unknown>) => void): () => void;
  /** Active listen keys of the account owning `apiKey`. */
  listenKeysOf(apiKey: string): string[];
  /** Verifies a WebSocket API `userDataStream.subscribe.signature` request's params. */
  verifyWsSignature(params: Record<string, unknown>, serverNow: number): { apiKey: string } | { code: number; msg: string };
}

export interface SignedReply {
  status: number;
  body: unknown;
  /** Set when a `lostReplies` entry matched: the request was processed but no reply goes out. */
  lost?: 'destroy' | 'hang';
}

export interface FakeAccount {
  readonly apiKey: string;
  readonly orders: Map<number, FakeOrder>;
  /** asset → {free, locked} at 8 decimals. */
  readonly balances: Map<string, { free: bigint; locked: bigint }>;
  readonly marketPrices: Map<string, string>;
  readonly listenKeys: Set<string>;
  /** Every event emitted, in order. */
  readonly events: Array<Record<string, unknown>>;
  /**
   * Requests to process normally but answer with no reply: 'destroy' resets the connection after
   * processing, 'hang' never answers (the client times out). First match is consumed.
   */
  readonly lostReplies: Array<{ method?: string; path?: string; mode: 'destroy' | 'hang' }>;
  /** Orders accepted by POST /api/v3/order (including any a lost reply hid). */
  placed: number;
  retireListenKeys: boolean;
  readonly user: FakeUserData;
  handle(req: IncomingMessage, body: string, serverNow: number): SignedReply;
  /** Fills a resting order (all of what is left by default) at its price or `price`, emitting events. */
  fill(orderId: number, qty?: string, price?: string): void;
  balance(asset: string): { free: string; locked: string };
}

class Reject {
  constructor(
    readonly status: number,
    readonly code: number,
    readonly msg: string,
  ) {}
}

const W = 8;
const ONE = 10n ** 8n;
const dec = (s: string): bigint => parseFixedBig(s, W);
const fmt = (v: bigint): string => formatFixed(v, W);
const mandatory = (p: string) => new Reject(400, -1102, `Mandatory parameter '${p}' was not sent, was empty/null, or malformed.`);

function hmac(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

/** The raw string without its `signature=` parameter, and that signature. */
function stripSignature(raw: string): { rest: string; signature: string | undefined } {
  if (!raw) return { rest: '', signature: undefined };
  let signature: string | undefined;
  const kept = raw.split('&').filter((part) => {
    if (part.startsWith('signature=')) {
      signature = decodeURIComponent(part.slice('signature='.length));
      return false;
    }
    return true;
  });
  return { rest: kept.join('&'), signature };
}

interface SymbolSpec {
  base: string;
  quote: string;
  filters: Array<Record<string, unknown>>;
}

export function createFakeAccount(
  opts: FakeAccountOptions,
  env: { now: () => number; exchangeInfo: () => { symbols: Array<{ symbol: string; [k: string]: unknown }> } },
): FakeAccount {
  const listeners = new Set<(apiKey: string, event: Record<string, unknown>) => void>();
  let nextOrderId = 1001;
  let nextTradeId = 501;

  const account: FakeAccount = {
    apiKey: opts.apiKey,
    orders: new Map(),
    balances: new Map(Object.entries(opts.balances ?? {}).map(([a, v]) => [a, { free: dec(v), locked: 0n }])),
    marketPrices: new Map(Object.entries(opts.marketPrices ?? {})),
    listenKeys: new Set(),
    events: [],
    lostReplies: [],
    placed: 0,
    retireListenKeys: opts.retireListenKeys ?? false,
    user: {
      onEvent(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      listenKeysOf(apiKey) {
        return apiKey === opts.apiKey ? [...account.listenKeys] : [];
      },
      verifyWsSignature(params, serverNow) {
        try {
          if (params.apiKey !== opts.apiKey) return { code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' };
          const sig = params.signature;
          const payload = Object.keys(params)
            .filter((k) => k !== 'signature')
            .sort()
            .map((k) => `${k}=${String(params[k])}`)
            .join('&');
          if (typeof sig !== 'string' || hmac(opts.apiSecret, payload) !== sig.toLowerCase()) {
            return { code: -1022, msg: 'Signature for this request is not valid.' };
          }
          checkTimestamp(String(params.timestamp ?? ''), params.recvWindow === undefined ? null : String(params.recvWindow), serverNow);
          return { apiKey: opts.apiKey };
        } catch (err) {
          if (err instanceof Reject) return { code: err.code, msg: err.msg };
          throw err;
        }
      },
    },
    handle(req, body, serverNow) {
      const url = new URL(req.url ?? '/', 'http://fake');
      const route = `${req.method} ${url.pathname}`;
      try {
        const key = req.headers['x-mbx-apikey'];
        if (typeof key !== 'string' || key === '') throw new Reject(401, -2014, 'API-key format invalid.');
        if (key !== opts.apiKey) throw new Reject(401, -2015, 'Invalid API-key, IP, or permissions for action.');
        let params: URLSearchParams;
        if (USER_STREAM_ROUTES.has(route)) {
          params = new URLSearchParams(url.search);
          for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
        } else {
          params = verify((req.url ?? '').split('?')[1] ?? '', body, serverNow);
        }
        const result = dispatch(route, params, serverNow);
        const li = account.lostReplies.findIndex((l) => (l.method === undefined || l.method === req.method) && (l.path === undefined || l.path === url.pathname));
        if (li !== -1) return { status: 200, body: result, lost: account.lostReplies.splice(li, 1)[0]!.mode };
        return { status: 200, body: result };
      } catch (err) {
        if (err instanceof Reject) return { status: err.status, body: { code: err.code, msg: err.msg } };
        throw err;
      }
    },
    fill(orderId, qty, price) {
      const o = account.orders.get(orderId);
      if (!o || (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED')) throw new Error(`fake: order ${orderId} is not open`);
      const q = qty === undefined ? o.origQty - o.executedQty : dec(qty);
      const p = price === undefined ? o.price : dec(price);
      execute(o, q, p, true, env.now());
    },
    balance(asset) {
      const b = bal(asset);
      return { free: fmt(b.free), locked: fmt(b.locked) };
    },
  };

  function emit(event: Record<string, unknown>): void {
    account.events.push(event);
    for (const l of listeners) l(opts.apiKey, event);
  }

  function bal(asset: string): { free: bigint; locked: bigint } {
    let b = account.balances.get(asset);
    if (!b) account.balances.set(asset, (b = { free: 0n, locked: 0n }));
    return b;
  }

  function checkTimestamp(tsText: string, rwText: string | null, serverNow: number): void {
    if (!/^\d{1,20}$/.test(tsText)) throw mandatory('timestamp');
    const ts = Number(tsText);
    const recvWindow = rwText === null ? 5000 : Number(rwText);
    if (!Number.isFinite(recvWindow) || recvWindow <= 0) throw mandatory('recvWindow');
    if (recvWindow > 60_000) throw new Reject(400, -1131, 'recvWindow must be less than 60000');
    if (ts >= serverNow + 1000) throw new Reject(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.");
    if (serverNow - ts > recvWindow) throw new Reject(400, -1021, 'Timestamp for this request is outside of the recvWindow.');
  }

  /** Binance's SIGNED check over the raw strings as received; returns the merged params. */
  function verify(rawQuery: string, rawBody: string, serverNow: number): URLSearchParams {
    const q = stripSignature(rawQuery);
    const b = stripSignature(rawBody);
    const signature = q.signature ?? b.signature;
    if (!signature || hmac(opts.apiSecret, q.rest + b.rest) !== signature.toLowerCase()) {
      throw new Reject(400, -1022, 'Signature for this request is not valid.');
    }
    const params = new URLSearchParams(q.rest);
    for (const [k, v] of new URLSearchParams(b.rest)) params.set(k, v);
    checkTimestamp(params.get('timestamp') ?? '', params.get('recvWindow'), serverNow);
    return params;
  }

  function spec(symbol: string | null): { symbol: string } & SymbolSpec {
    if (!symbol) throw mandatory('symbol');
    const s = env.exchangeInfo().symbols.find((x) => x.symbol === symbol);
    if (!s) throw new Reject(400, -1121, 'Invalid symbol.');
    return { symbol, base: String(s.baseAsset), quote: String(s.quoteAsset), filters: (s.filters as Array<Record<string, unknown>>) ?? [] };
  }

  function filter(sp: SymbolSpec, type: string): Record<string, unknown> | undefined {
    return sp.filters.find((f) => f.filterType === type);
  }

  function checkRange(v: bigint, f: Record<string, unknown> | undefined, minK: string, maxK: string, stepK: string, name: string): void {
    if (!f) return;
    const min = dec(String(f[minK]));
    const max = dec(String(f[maxK]));
    const step = dec(String(f[stepK]));
    if ((min > 0n && v < min) || (max > 0n && v > max) || (step > 0n && (v - min) % step !== 0n)) {
      throw new Reject(400, -1013, `Filter failure: ${name}`);
    }
  }

  const notional = (price: bigint, qty: bigint): bigint => (price * qty) / ONE;

  function dispatch(route: string, p: URLSearchParams, now: number): unknown {
    switch (route) {
      case 'POST /api/v3/order':
        return place(p, now);
      case 'GET /api/v3/order':
        return orderJson(find(p, -2013, 'Order does not exist.'));
      case 'DELETE /api/v3/order': {
        const o = find(p, -2011, 'Unknown order sent.');
        if (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED') throw new Reject(400, -2011, 'Unknown order sent.');
        const cancelId = p.get('newClientOrderId') ?? randomId();
        return cancelJson(cancel(o, now, cancelId), cancelId);
      }
      case 'DELETE /api/v3/openOrders': {
        const sp = spec(p.get('symbol'));
        const open = [...account.orders.values()].filter((o) => o.symbol === sp.symbol && (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED'));
        if (open.length === 0) throw new Reject(400, -2011, 'Unknown order sent.');
        return open.map((o) => {
          const cancelId = randomId();
          return cancelJson(cancel(o, now, cancelId), cancelId);
        });
      }
      case 'GET /api/v3/openOrders': {
        const sym = p.get('symbol');
        if (sym) spec(sym);
        return [...account.orders.values()]
          .filter((o) => (!sym || o.symbol === sym) && (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED'))
          .map(orderJson);
      }
      case 'GET /api/v3/account':
        return {
          makerCommission: 0,
          takerCommission: 0,
          buyerCommission: 0,
          sellerCommission: 0,
          commissionRates: { maker: '0.00000000', taker: '0.00000000', buyer: '0.00000000', seller: '0.00000000' },
          canTrade: true,
          canWithdraw: false,
          canDeposit: false,
          brokered: false,
          requireSelfTradePrevention: false,
          preventSor: false,
          updateTime: now,
          accountType: 'SPOT',
          balances: [...account.balances.entries()]
            .filter(([, b]) => p.get('omitZeroBalances') !== 'true' || b.free !== 0n || b.locked !== 0n)
            .map(([asset, b]) => ({ asset, free: fmt(b.free), locked: fmt(b.locked) })),
          permissions: ['SPOT'],
          uid: 1,
        };
      case 'POST /api/v3/userDataStream': {
        if (account.retireListenKeys) throw new Reject(410, -1, 'Gone');
        const existing = [...account.listenKeys][0];
        if (existing) return { listenKey: existing };
        const key = randomBytes(30).toString('hex');
        account.listenKeys.add(key);
        return { listenKey: key };
      }
      case 'PUT /api/v3/userDataStream':
      case 'DELETE /api/v3/userDataStream': {
        if (account.retireListenKeys) throw new Reject(410, -1, 'Gone');
        const key = p.get('listenKey');
        if (!key) throw mandatory('listenKey');
        if (!account.listenKeys.has(key)) throw new Reject(400, -1125, 'This listenKey does not exist.');
        if (route.startsWith('DELETE')) account.listenKeys.delete(key);
        return {};
      }
    }
    throw new Error(`fake account: unrouted ${route}`);
  }

  function find(p: URLSearchParams, code: number, msg: string): FakeOrder {
    const sp = spec(p.get('symbol'));
    const id = p.get('orderId');
    const cid = p.get('origClientOrderId');
    if (id === null && cid === null) throw new Reject(400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!");
    const o =
      id !== null
        ? account.orders.get(Number(id))
        : [...account.orders.values()].reverse().find((x) => x.clientOrderId === cid);
    if (!o || o.symbol !== sp.symbol) throw new Reject(400, code, msg);
    return o;
  }

  function place(p: URLSearchParams, now: number): unknown {
    const sp = spec(p.get('symbol'));
    const side = p.get('side');
    if (side !== 'BUY' && side !== 'SELL') throw side === null ? mandatory('side') : new Reject(400, -1117, 'Invalid side.');
    const type = p.get('type');
    const types = ['MARKET', 'LIMIT', 'LIMIT_MAKER', 'STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT'];
    if (!type || !types.includes(type)) throw type === null ? mandatory('type') : new Reject(400, -1116, 'Invalid orderType.');
    const limitType = type === 'LIMIT' || type === 'STOP_LOSS_LIMIT' || type === 'TAKE_PROFIT_LIMIT';
    const tif = p.get('timeInForce') ?? '';
    if (limitType && !tif) throw mandatory('timeInForce');
    if (tif && !['GTC', 'IOC', 'FOK'].includes(tif)) throw new Reject(400, -1115, 'Invalid timeInForce.');
    const hasPrice = limitType || type === 'LIMIT_MAKER';
    const priceText = p.get('price');
    if (hasPrice && !priceText) throw mandatory('price');
    const price = hasPrice ? dec(priceText!) : 0n;
    const stopType = type.startsWith('STOP') || type.startsWith('TAKE');
    const stopText = p.get('stopPrice');
    if (stopType && !stopText) throw mandatory('stopPrice');
    const stopPrice = stopType ? dec(stopText!) : 0n;

    const market = account.marketPrices.get(sp.symbol);
    const mkt = market === undefined ? undefined : dec(market);
    let qty: bigint;
    let quoteQty = 0n;
    const qtyText = p.get('quantity');
    const quoteText = p.get('quoteOrderQty');
    if (type === 'MARKET' && !qtyText && quoteText) {
      quoteQty = dec(quoteText);
      if (mkt === undefined) throw new Reject(400, -2010, 'Order book liquidity is less than symbol minimum quantity.');
      const step = dec(String(filter(sp, 'LOT_SIZE')?.stepSize ?? '0.00000001'));
      qty = (quoteQty * ONE) / mkt;
      qty -= qty % (step > 0n ? step : 1n);
    } else {
      if (!qtyText) throw type === 'MARKET' ? new Reject(400, -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!") : mandatory('quantity');
      qty = dec(qtyText);
    }
    if (hasPrice) checkRange(price, filter(sp, 'PRICE_FILTER'), 'minPrice', 'maxPrice', 'tickSize', 'PRICE_FILTER');
    if (stopType) checkRange(stopPrice, filter(sp, 'PRICE_FILTER'), 'minPrice', 'maxPrice', 'tickSize', 'PRICE_FILTER');
    checkRange(qty, filter(sp, 'LOT_SIZE'), 'minQty', 'maxQty', 'stepSize', 'LOT_SIZE');
    const nf = filter(sp, 'NOTIONAL');
    const refPrice = hasPrice ? price : mkt;
    if (nf && refPrice !== undefined && (hasPrice || nf.applyMinToMarket === true) && notional(refPrice, qty) < dec(String(nf.minNotional))) {
      throw new Reject(400, -1013, 'Filter failure: NOTIONAL');
    }

    const clientOrderId = p.get('newClientOrderId') ?? randomId();
    if (clientOrderId === '') throw new Reject(400, -1118, 'New client order ID was empty.');
    for (const o of account.orders.values()) {
      if (o.clientOrderId === clientOrderId && o.symbol === sp.symbol && (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED')) {
        throw new Reject(400, -2010, 'Duplicate order sent.');
      }
    }

    const crosses = mkt !== undefined && hasPrice && !stopType && (side === 'BUY' ? price >= mkt : price <= mkt);
    if (type === 'LIMIT_MAKER' && crosses) throw new Reject(400, -2010, 'Order would immediately match and take.');
    if (type === 'MARKET' && mkt === undefined) throw new Reject(400, -2010, 'Order book liquidity is less than symbol minimum quantity.');

    // Lock (or, for a market order, check) the funds.
    const lockAsset = side === 'BUY' ? sp.quote : sp.base;
    const lockPrice = type === 'MARKET' ? mkt! : price > 0n ? price : stopPrice;
    const need = side === 'BUY' ? notional(lockPrice, qty) : qty;
    const b = bal(lockAsset);
    if (b.free < need) throw new Reject(400, -2010, 'Account has insufficient balance for requested action.');

    const o: FakeOrder = {
      symbol: sp.symbol,
      orderId: nextOrderId++,
      clientOrderId,
      side,
      type,
      timeInForce: tif || 'GTC',
      price,
      stopPrice,
      origQty: qty,
      origQuoteOrderQty: quoteQty,
      executedQty: 0n,
      cumQuote: 0n,
      status: 'NEW',
      time: now,
      updateTime: now,
      workingTime: stopType ? -1 : now,
      lockAsset,
      locked: need,
    };
    b.free -= need;
    b.locked += need;
    account.orders.set(o.orderId, o);
    account.placed++;
    report(o, 'NEW', now);
    position([lockAsset], now);

    const fills: unknown[] = [];
    if (type === 'MARKET' || crosses) {
      fills.push(execute(o, qty, mkt!, false, now));
    } else if (tif === 'IOC' || tif === 'FOK') {
      o.status = 'EXPIRED';
      release(o);
      report(o, 'EXPIRED', now);
      position([lockAsset], now);
    }
    const respType = p.get('newOrderRespType') ?? (type === 'MARKET' || type === 'LIMIT' ? 'FULL' : 'ACK');
    if (respType === 'ACK') return { symbol: o.symbol, orderId: o.orderId, orderListId: -1, clientOrderId, transactTime: now };
    const result = {
      symbol: o.symbol,
      orderId: o.orderId,
      orderListId: -1,
      clientOrderId,
      transactTime: now,
      price: fmt(o.price),
      origQty: fmt(o.origQty),
      executedQty: fmt(o.executedQty),
      origQuoteOrderQty: fmt(o.origQuoteOrderQty),
      cummulativeQuoteQty: fmt(o.cumQuote),
      status: o.status,
      timeInForce: o.timeInForce,
      type: o.type,
      side: o.side,
      ...(stopType ? { stopPrice: fmt(o.stopPrice) } : {}),
      workingTime: o.workingTime,
      selfTradePreventionMode: 'NONE',
    };
    return respType === 'FULL' ? { ...result, fills } : result;
  }

  /** Executes `qty` of `o` at `price`, settling balances; returns the FULL-response fill. */
  function execute(o: FakeOrder, qty: bigint, price: bigint, maker: boolean, now: number): Record<string, unknown> {
    const sp = spec(o.symbol);
    const quote = notional(price, qty);
    const tradeId = nextTradeId++;
    o.executedQty += qty;
    o.cumQuote += quote;
    o.status = o.executedQty >= o.origQty ? 'FILLED' : 'PARTIALLY_FILLED';
    o.updateTime = now;
    const base = bal(sp.base);
    const q = bal(sp.quote);
    if (o.side === 'BUY') {
      const lockedPart = o.status === 'FILLED' ? o.locked : notional(o.price > 0n ? o.price : price, qty);
      q.locked -= lockedPart;
      o.locked -= lockedPart;
      q.free += lockedPart - quote;
      base.free += qty;
    } else {
      base.locked -= qty;
      o.locked -= qty;
      q.free += quote;
    }
    report(o, 'TRADE', now, { l: fmt(qty), L: fmt(price), n: '0.00000000', N: o.side === 'BUY' ? sp.base : sp.quote, t: tradeId, m: maker, Y: fmt(quote) });
    position([sp.base, sp.quote], now);
    return { price: fmt(price), qty: fmt(qty), commission: '0.00000000', commissionAsset: o.side === 'BUY' ? sp.base : sp.quote, tradeId };
  }

  function release(o: FakeOrder): void {
    const b = bal(o.lockAsset);
    b.locked -= o.locked;
    b.free += o.locked;
    o.locked = 0n;
  }

  function cancel(o: FakeOrder, now: number, cancelId: string): FakeOrder {
    o.status = 'CANCELED';
    o.updateTime = now;
    release(o);
    // As on Binance: `c` is the cancel request's client id, `C` the canceled order's.
    report(o, 'CANCELED', now, { c: cancelId, C: o.clientOrderId });
    position([o.lockAsset], now);
    return o;
  }

  function report(o: FakeOrder, x: string, now: number, trade?: Record<string, unknown>): void {
    emit({
      e: 'executionReport',
      E: now,
      s: o.symbol,
      c: o.clientOrderId,
      S: o.side,
      o: o.type,
      f: o.timeInForce,
      q: fmt(o.origQty),
      p: fmt(o.price),
      P: fmt(o.stopPrice),
      F: '0.00000000',
      g: -1,
      C: '',
      x,
      X: o.status,
      r: 'NONE',
      i: o.orderId,
      l: '0.00000000',
      z: fmt(o.executedQty),
      L: '0.00000000',
      n: '0',
      N: null,
      T: now,
      t: -1,
      I: 1,
      w: o.status === 'NEW' || o.status === 'PARTIALLY_FILLED',
      m: false,
      M: false,
      O: o.time,
      Z: fmt(o.cumQuote),
      Y: '0.00000000',
      Q: fmt(o.origQuoteOrderQty),
      ...(o.workingTime !== -1 ? { W: o.workingTime } : {}),
      V: 'NONE',
      ...trade,
    });
  }

  function position(assets: string[], now: number): void {
    emit({
      e: 'outboundAccountPosition',
      E: now,
      u: now,
      B: [...new Set(assets)].map((a) => ({ a, f: fmt(bal(a).free), l: fmt(bal(a).locked) })),
    });
  }

  function orderJson(o: FakeOrder): unknown {
    return {
      symbol: o.symbol,
      orderId: o.orderId,
      orderListId: -1,
      clientOrderId: o.clientOrderId,
      price: fmt(o.price),
      origQty: fmt(o.origQty),
      executedQty: fmt(o.executedQty),
      cummulativeQuoteQty: fmt(o.cumQuote),
      status: o.status,
      timeInForce: o.timeInForce,
      type: o.type,
      side: o.side,
      stopPrice: fmt(o.stopPrice),
      icebergQty: '0.00000000',
      time: o.time,
      updateTime: o.updateTime,
      isWorking: o.workingTime !== -1,
      workingTime: o.workingTime,
      origQuoteOrderQty: fmt(o.origQuoteOrderQty),
      selfTradePreventionMode: 'NONE',
    };
  }

  function cancelJson(o: FakeOrder, cancelId: string): unknown {
    return {
      symbol: o.symbol,
      origClientOrderId: o.clientOrderId,
      orderId: o.orderId,
      orderListId: -1,
      clientOrderId: cancelId,
      transactTime: o.updateTime,
      price: fmt(o.price),
      origQty: fmt(o.origQty),
      executedQty: fmt(o.executedQty),
      origQuoteOrderQty: fmt(o.origQuoteOrderQty),
      cummulativeQuoteQty: fmt(o.cumQuote),
      status: o.status,
      timeInForce: o.timeInForce,
      type: o.type,
      side: o.side,
      ...(o.stopPrice > 0n ? { stopPrice: fmt(o.stopPrice) } : {}),
      selfTradePreventionMode: 'NONE',
    };
  }

  return account;
}

function randomId(): string {
  return `fake${randomBytes(9).toString('hex')}`;
}

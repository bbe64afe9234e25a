import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { requestWeight } from '../../src/engine/market/binance/rest-client.js';
import type { RawAggTrade } from '../../src/engine/market/replay/generator.js';
import { createFakeAccount, SIGNED_ROUTES, type FakeAccount, type FakeAccountOptions, type FakeUserData } from './fake-binance-account.js';

/**
 * The REST half of a fake Binance spot API, serving public market-data endpoints from
 * in-memory state in Binance's documented JSON formats (prices and quantities as strings),
 * with X-MBX-USED-WEIGHT-1M headers computed from the same weight table as the real API.
 * Mount `handler` on an http server; it returns false for paths it does not serve.
 */

export type { RawAggTrade };

/** A kline row: the 12 REST columns. */
export type RawKline = [number, string, string, string, string, string, number, string, number, string, string, string];

export interface RawDepth {
  lastUpdateId: number;
  bids: [string, string][];
  asks: [string, string][];
}

/** A reply the server sends instead of the real one, taken from the front of `state.forced`. */
export interface ForcedResponse {
  /** Default 200. */
  status?: number;
  /** A JSON value, or a string sent verbatim (e.g. a malformed body). Default `{}`. */
  body?: unknown;
  /** Seconds, sent as Retry-After. */
  retryAfter?: number;
  headers?: Record<string, string>;
  /** Only used for a request to this path; requests to other paths are served normally. */
  path?: string;
  /** Close the socket without a reply (a network error for the client). */
  destroy?: boolean;
}

export interface RestLogEntry {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Server clock (opts.now) when the request arrived. */
  time: number;
  weight: number;
  status: number;
  /** X-MBX-USED-WEIGHT-1M sent with the reply. */
  usedWeight: number;
}

export interface FakeRestState {
  /** symbol → aggTrades, ascending by id. */
  trades: Map<string, RawAggTrade[]>;
  /** klineKey(symbol, interval) → klines, ascending by open time (see setKlines). */
  klines: Map<string, RawKline[]>;
  depth: Map<string, RawDepth>;
  exchangeInfo: { serverTime?: number; symbols: Array<{ symbol: string; [k: string]: unknown }>; [k: string]: unknown };
  /** Replies to force, first in first out. */
  forced: ForcedResponse[];
  log: RestLogEntry[];
  /** Weight counted in the current minute (server clock). */
  usedWeight: number;
  /** Set after a 429 when weightLimit is enforced; a request before it gets banned (418). */
  blockedUntil: number;
  bannedUntil: number;
  setKlines(symbol: string, interval: string, rows: RawKline[]): void;
  /** The signed half (orders, balances, user data streams); present when opts.account is given. */
  account: FakeAccount | undefined;
}

export interface FakeRestOptions {
  /** Server clock in ms (serverTime, weight minutes, log times). Default Date.now. */
  now?: () => number;
  /** Enforce the IP weight limit like Binance: over it → 429 + Retry-After; ignoring that → 418. */
  weightLimit?: number;
  /** Ban length after ignoring a 429, seconds. */
  banSeconds?: number;
  /** Default: fixtures/binance/exchangeInfo.json. */
  exchangeInfo?: FakeRestState['exchangeInfo'];
  /** Serve the signed endpoints (orders, account, userDataStream) for this key pair. */
  account?: FakeAccountOptions;
}

export type RestHandler = (req: IncomingMessage, res: ServerResponse, body: string) => boolean | Promise<boolean>;

export function klineKey(symbol: string, interval: string): string {
  return `${symbol.toUpperCase()}@${interval}`;
}

const INTERVALS = new Set(['1s', '1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1M']);
const PATHS = new Set(['/api/v3/ping', '/api/v3/time', '/api/v3/exchangeInfo', '/api/v3/aggTrades', '/api/v3/klines', '/api/v3/depth']);
const MINUTE = 60_000;

class BinanceReject {
  constructor(
    readonly status: number,
    readonly code: number,
    readonly msg: string,
  ) {}
}

function loadExchangeInfo(): FakeRestState['exchangeInfo'] {
  return JSON.parse(readFileSync(new URL('../../fixtures/binance/exchangeInfo.json', import.meta.url), 'utf8')) as FakeRestState['exchangeInfo'];
}

export function createFakeRest(opts: FakeRestOptions = {}): { handler: RestHandler; state: FakeRestState; user: FakeUserData | undefined } {
  const now = opts.now ?? Date.now;
  const limit = opts.weightLimit;
  let window = -1;
  const state: FakeRestState = {
    trades: new Map(),
    klines: new Map(),
    depth: new Map(),
    exchangeInfo: opts.exchangeInfo ?? loadExchangeInfo(),
    forced: [],
    log: [],
    usedWeight: 0,
    blockedUntil: 0,
    bannedUntil: 0,
    setKlines(symbol, interval, rows) {
      this.klines.set(klineKey(symbol, interval), rows);
    },
    account: undefined,
  };
  if (opts.account) state.account = createFakeAccount(opts.account, { now, exchangeInfo: () => state.exchangeInfo });

  const known = (symbol: string): boolean =>
    state.trades.has(symbol) ||
    state.depth.has(symbol) ||
    [...state.klines.keys()].some((k) => k.startsWith(`${symbol}@`)) ||
    state.exchangeInfo.symbols.some((s) => s.symbol === symbol);

  const handler: RestHandler = (req, res, body = '') => {
    const signedPath = state.account !== undefined && SIGNED_ROUTES.has(`${req.method} ${new URL(req.url ?? '/', 'http://fake').pathname}`);
    if (req.method !== 'GET' && req.method !== 'HEAD' && !signedPath) return false;
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname;
    if (!PATHS.has(path) && !signedPath) return false;

    const t = now();
    const m = Math.floor(t / MINUTE);
    if (m !== window) {
      window = m;
      state.usedWeight = 0;
    }
    const weight = requestWeight(path, url.searchParams);
    state.usedWeight += weight;
    const entry: RestLogEntry = {
      method: req.method ?? 'GET',
      path,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      time: t,
      weight,
      status: 0,
      usedWeight: state.usedWeight,
    };
    state.log.push(entry);

    const send = (status: number, body: unknown, headers: Record<string, string> = {}): true => {
      entry.status = status;
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json;charset=UTF-8',
        'x-mbx-used-weight': String(state.usedWeight),
        'x-mbx-used-weight-1m': String(state.usedWeight),
        ...headers,
      });
      res.end(req.method === 'HEAD' ? undefined : text);
      return true;
    };

    const fi = state.forced.findIndex((f) => f.path === undefined || f.path === path);
    if (fi !== -1) {
      const f = state.forced.splice(fi, 1)[0]!;
      if (f.destroy) {
        entry.status = -1;
        req.socket.destroy();
        return true;
      }
      const headers: Record<string, string> = { ...(f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {}), ...f.headers };
      return send(f.status ?? 200, f.body ?? {}, headers);
    }

    if (limit !== undefined) {
      if (state.bannedUntil > t || state.blockedUntil > t) {
        // Ignoring a 429's Retry-After is what gets an IP banned.
        if (state.bannedUntil <= t) state.bannedUntil = t + (opts.banSeconds ?? 120) * 1000;
        const s = Math.ceil((state.bannedUntil - t) / 1000);
        return send(418, { code: -1003, msg: `Way too much request weight used; IP banned until ${state.bannedUntil}. Please use WebSocket Streams for live updates to avoid bans.` }, { 'retry-after': String(s) });
      }
      if (state.usedWeight > limit) {
        const next = (m + 1) * MINUTE;
        state.blockedUntil = next;
        return send(429, { code: -1003, msg: `Too much request weight used; current limit is ${limit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.` }, {
          'retry-after': String(Math.ceil((next - t) / 1000)),
        });
      }
    }

    try {
      if (signedPath) {
        const r = state.account!.handle(req, body, t);
        if (r.lost === 'destroy') {
          entry.status = -1;
          req.socket.destroy();
          return true;
        }
        if (r.lost === 'hang') {
          entry.status = -2;
          return true;
        }
        return send(r.status, r.body);
      }
      return send(200, route(path, url.searchParams, t));
    } catch (err) {
      if (err instanceof BinanceReject) return send(err.status, { code: err.code, msg: err.msg });
      throw err;
    }
  };

  function route(path: string, q: URLSearchParams, t: number): unknown {
    switch (path) {
      case '/api/v3/ping':
        return {};
      case '/api/v3/time':
        return { serverTime: t };
      case '/api/v3/exchangeInfo':
        return exchangeInfo(q, t);
      case '/api/v3/aggTrades':
        return aggTrades(q);
      case '/api/v3/klines':
        return klines(q);
      case '/api/v3/depth':
        return depth(q);
    }
    throw new Error(`unrouted ${path}`);
  }

  function symbolParam(q: URLSearchParams): string {
    const s = q.get('symbol');
    if (!s) throw new BinanceReject(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    if (s !== s.toUpperCase() || !known(s)) throw new BinanceReject(400, -1121, 'Invalid symbol.');
    return s;
  }

  function intParam(q: URLSearchParams, name: string): number | undefined {
    const v = q.get(name);
    if (v === null) return undefined;
    if (!/^[0-9]{1,20}$/.test(v)) {
      throw new BinanceReject(400, -1100, `Illegal characters found in parameter '${name}'; legal range is '^[0-9]{1,20}$'.`);
    }
    return Number(v);
  }

  /** Binance answers limits above the maximum with the maximum. */
  function limitParam(q: URLSearchParams, def: number, max: number): number {
    const n = intParam(q, 'limit') ?? def;
    if (n < 1) throw new BinanceReject(400, -1100, "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.");
    return Math.min(n, max);
  }

  function exchangeInfo(q: URLSearchParams, t: number): unknown {
    let symbols = state.exchangeInfo.symbols;
    const one = q.get('symbol');
    const many = q.get('symbols');
    if (one !== null || many !== null) {
      let wanted: string[];
      try {
        wanted = one !== null ? [one] : (JSON.parse(many!) as string[]);
      } catch {
        throw new BinanceReject(400, -1100, "Illegal characters found in parameter 'symbols'; legal range is '^\\[(\"[A-Z0-9-_.]{1,20}\"(,\"[A-Z0-9-_.]{1,20}\"){0,}){0,1}\\]$'.");
      }
      symbols = wanted.map((w) => {
        const s = state.exchangeInfo.symbols.find((x) => x.symbol === w);
        if (!s) throw new BinanceReject(400, -1121, 'Invalid symbol.');
        return s;
      });
    }
    return { ...state.exchangeInfo, serverTime: t, symbols };
  }

  function aggTrades(q: URLSearchParams): RawAggTrade[] {
    const symbol = symbolParam(q);
    const fromId = intParam(q, 'fromId');
    const startTime = intParam(q, 'startTime');
    const endTime = intParam(q, 'endTime');
    const n = limitParam(q, 500, 1000);
    let list = state.trades.get(symbol) ?? [];
    if (startTime !== undefined) list = list.filter((x) => x.T >= startTime);
    if (endTime !== undefined) list = list.filter((x) => x.T <= endTime);
    if (fromId !== undefined) return list.filter((x) => x.a >= fromId).slice(0, n);
    // No fromId: from startTime forward, otherwise the most recent ones (up to endTime).
    return startTime !== undefined ? list.slice(0, n) : list.slice(Math.max(0, list.length - n));
  }

  function klines(q: URLSearchParams): RawKline[] {
    const symbol = symbolParam(q);
    const interval = q.get('interval');
    if (interval === null) throw new BinanceReject(400, -1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.");
    if (!INTERVALS.has(interval)) throw new BinanceReject(400, -1120, 'Invalid interval.');
    const startTime = intParam(q, 'startTime');
    const endTime = intParam(q, 'endTime');
    const n = limitParam(q, 500, 1000);
    let list = state.klines.get(klineKey(symbol, interval)) ?? [];
    if (startTime !== undefined) list = list.filter((k) => k[0] >= startTime);
    if (endTime !== undefined) list = list.filter((k) => k[0] <= endTime);
    return startTime !== undefined ? list.slice(0, n) : list.slice(Math.max(0, list.length - n));
  }

  function depth(q: URLSearchParams): RawDepth {
    const symbol = symbolParam(q);
    const n = limitParam(q, 100, 5000);
    const d = state.depth.get(symbol) ?? { lastUpdateId: 0, bids: [], asks: [] };
    return { lastUpdateId: d.lastUpdateId, bids: d.bids.slice(0, n), asks: d.asks.slice(0, n) };
  }

  return { handler, state, user: state.account?.user };
}

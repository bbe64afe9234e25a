import { request } from 'undici';
import { INTERVALS, type Candle, type Interval } from '../../candles/types.js';
import { UsageError, VenueError } from '../../errors.js';
import { Instruments, type ExchangeInfo } from '../instruments.js';
import { restDispatcher, type NetOptions } from '../net.js';
import type { DepthSnapshot } from '../source.js';
import type { Instrument, Trade } from '../types.js';
import {
  decodeAggTrades,
  decodeBinanceError,
  decodeDepthSnapshot,
  decodeExchangeInfo,
  decodeKlines,
  decodeServerTime,
  parseJson,
} from './rest-parse.js';

/**
 * Request weights of the public spot endpoints qtrade calls, as Binance's REST docs list
 * them (IP limit REQUEST_WEIGHT, 6000 per minute by default). The fake server uses the same
 * table, so a change here is a change to what the tests expect from Binance.
 */
export const REST_WEIGHTS = {
  '/api/v3/ping': 1,
  '/api/v3/time': 1,
  '/api/v3/exchangeInfo': 20,
  '/api/v3/aggTrades': 4,
  '/api/v3/klines': 2,
} as const;

/** GET /api/v3/depth weight by limit (Binance's default limit is 100). */
export function depthWeight(limit = 100): number {
  if (limit <= 100) return 5;
  if (limit <= 500) return 25;
  if (limit <= 1000) return 50;
  return 250;
}

/** The weight Binance charges for a GET of `path` with these query parameters. */
export function requestWeight(path: string, params: URLSearchParams | Record<string, string | undefined> = {}): number {
  if (path === '/api/v3/depth') {
    const raw = params instanceof URLSearchParams ? params.get('limit') : params.limit;
    const n = raw === null || raw === undefined ? 100 : Number(raw);
    return depthWeight(Number.isFinite(n) ? n : 100);
  }
  return (REST_WEIGHTS as Record<string, number>)[path] ?? 1;
}

export interface BinanceRestOptions {
  /** e.g. https://api.binance.com (no trailing path). */
  baseUrl: string;
  /** Proxy settings; REST goes through `net.proxy` with HTTP CONNECT unless NO_PROXY matches. */
  net: NetOptions;
  /** Scales per symbol; when absent, exchangeInfo is fetched once on first need. */
  instruments?: Instruments;
  /** REQUEST_WEIGHT budget per minute (Binance's IP limit is 6000). */
  weightLimit?: number;
  /** Retries for 429, 5xx and network errors (not for 418, 4xx or malformed replies). */
  maxRetries?: number;
  /** First backoff delay for 5xx / network errors, doubled per retry up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Per-request timeout for headers and body. */
  timeoutMs?: number;
  /** Wall-time hooks for pacing and backoff (never event time); injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Called with X-MBX-USED-WEIGHT-1M after every reply that carries it. */
  onWeight?: (used: number) => void;
}

export interface AggTradesQuery {
  symbol: string;
  /** Aggregate trade id to start from, inclusive. */
  fromId?: number;
  /** Trade time bounds in ms, inclusive. */
  startTime?: number;
  endTime?: number;
  /** 1..1000, Binance's default 500. */
  limit?: number;
}

export interface KlinesQuery {
  symbol: string;
  interval: Interval;
  /** Open-time bounds in ms, inclusive. */
  startTime?: number;
  endTime?: number;
  /** 1..1000, Binance's default 500. */
  limit?: number;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

const MINUTE = 60_000;
const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function header(h: Reply['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Retry-After in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(h: Reply['headers'], now: number): number | undefined {
  const v = header(h, 'retry-after');
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const CODE_HINTS: Record<number, string> = {
  [-1003]: 'too much request weight used; qtrade paces itself, so another program on this IP may be polling Binance',
  [-1021]: 'the local clock is off; sync it (the signed-request offset comes from GET /api/v3/time)',
  [-1100]: 'a parameter qtrade sent was rejected; please report this with the command you ran',
  [-1101]: 'a parameter qtrade sent was rejected; please report this with the command you ran',
  [-1102]: 'a parameter qtrade sent was rejected; please report this with the command you ran',
  [-1120]: 'use an interval Binance supports (1m, 5m, 1h, 1d, ...)',
  [-1121]: 'check the symbol (e.g. BTCUSDT); exchangeInfo lists the symbols Binance trades',
};

/**
 * Binance spot REST client for the public market-data endpoints. Decodes replies into
 * qtrade's exact types, paces itself by the X-MBX-USED-WEIGHT-1M header so it never runs
 * into the IP limit, honours 429 Retry-After, and stops calling entirely while banned (418).
 */
export class BinanceRest {
  private readonly base: string;
  private readonly net: NetOptions;
  private readonly limit: number;
  private readonly maxRetries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly onWeight: ((used: number) => void) | undefined;
  private instruments: Instruments | undefined;
  private instrumentsLoading: Promise<Instruments> | undefined;
  private used = 0;
  private window = -1;
  private blockedUntil = 0;
  private bannedUntil = 0;

  constructor(opts: BinanceRestOptions) {
    let u: URL;
    try {
      u = new URL(opts.baseUrl);
    } catch (err) {
      throw new UsageError(`not a URL: "${opts.baseUrl}"`, { hint: 'set the REST base URL, e.g. https://api.binance.com', cause: err });
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new UsageError(`REST base URL must be http(s): "${opts.baseUrl}"`);
    }
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.net = opts.net;
    this.instruments = opts.instruments;
    this.limit = opts.weightLimit ?? 6000;
    this.maxRetries = opts.maxRetries ?? 3;
    this.backoffMs = opts.backoffMs ?? 500;
    this.maxBackoffMs = opts.maxBackoffMs ?? 8000;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.sleep = opts.sleep ?? defaultSleep;
    this.now = opts.now ?? Date.now;
    this.onWeight = opts.onWeight;
  }

  /** Weight used in the current minute as far as this client knows (server header or own count). */
  get usedWeight(): number {
    this.roll(this.now());
    return this.used;
  }

  async ping(): Promise<void> {
    await this.get('/api/v3/ping', {});
  }

  /** Binance's clock, ms. */
  async time(): Promise<number> {
    return decodeServerTime((await this.get('/api/v3/time', {})).body);
  }

  async exchangeInfo(): Promise<ExchangeInfo> {
    const info = decodeExchangeInfo((await this.get('/api/v3/exchangeInfo', {})).body);
    this.instruments ??= Instruments.fromExchangeInfo(info);
    return info;
  }

  /** The symbol's scales, from the instruments given or from exchangeInfo (fetched once). */
  async instrument(symbol: string): Promise<Instrument> {
    if (!this.instruments) {
      this.instrumentsLoading ??= this.exchangeInfo().then(
        (info) => this.instruments ?? Instruments.fromExchangeInfo(info),
        (err: unknown) => {
          this.instrumentsLoading = undefined;
          throw err;
        },
      );
      this.instruments = await this.instrumentsLoading;
    }
    return this.instruments.get(symbol);
  }

  /** GET /api/v3/aggTrades, oldest first. */
  async aggTrades(q: AggTradesQuery): Promise<Trade[]> {
    const inst = await this.instrument(q.symbol);
    checkLimit(q.limit, 1000, 'aggTrades');
    const { body } = await this.get('/api/v3/aggTrades', {
      symbol: inst.symbol,
      fromId: q.fromId,
      startTime: q.startTime,
      endTime: q.endTime,
      limit: q.limit,
    });
    return decodeAggTrades(body, inst);
  }

  /**
   * Pages through aggregate trades from `fromId` by id until `toId` / `endTime` (inclusive) or
   * until Binance has no more; each page is at most `limit` trades.
   */
  async *aggTradesPages(q: { symbol: string; fromId: number; toId?: number; endTime?: number; limit?: number }): AsyncGenerator<Trade[]> {
    const limit = q.limit ?? 1000;
    let fromId = q.fromId;
    for (;;) {
      const page = await this.aggTrades({ symbol: q.symbol, fromId, limit });
      let cut = page.length;
      while (cut > 0 && ((q.toId !== undefined && page[cut - 1]!.id > q.toId) || (q.endTime !== undefined && page[cut - 1]!.time > q.endTime))) cut--;
      if (cut > 0) yield cut === page.length ? page : page.slice(0, cut);
      if (cut < page.length || page.length < limit) return;
      fromId = page[page.length - 1]!.id + 1;
    }
  }

  /**
   * GET /api/v3/klines. First/last trade id are −1 (REST klines do not carry them).
   * `closed` is closeTime < the server's time taken from the reply's Date header (second
   * precision, rounded down, so an open kline is never marked closed); historical klines
   * therefore always come out closed.
   */
  async klines(q: KlinesQuery): Promise<Candle[]> {
    const inst = await this.instrument(q.symbol);
    if (!(INTERVALS as readonly string[]).includes(q.interval)) {
      throw new UsageError(`unsupported interval "${q.interval}"`, { hint: `use one of ${INTERVALS.join(', ')}` });
    }
    checkLimit(q.limit, 1000, 'klines');
    const reply = await this.get('/api/v3/klines', {
      symbol: inst.symbol,
      interval: q.interval,
      startTime: q.startTime,
      endTime: q.endTime,
      limit: q.limit,
    });
    const date = Date.parse(header(reply.headers, 'date') ?? '');
    return decodeKlines(reply.body, inst, q.interval, Number.isNaN(date) ? this.now() : date);
  }

  /** Pages through klines by open time from `startTime` to `endTime` (inclusive). */
  async *klinesPages(q: { symbol: string; interval: Interval; startTime: number; endTime?: number; limit?: number }): AsyncGenerator<Candle[]> {
    const limit = q.limit ?? 1000;
    let startTime = q.startTime;
    for (;;) {
      const page = await this.klines({ symbol: q.symbol, interval: q.interval, startTime, endTime: q.endTime, limit });
      if (page.length > 0) yield page;
      if (page.length < limit) return;
      const last = page[page.length - 1]!;
      if (q.endTime !== undefined && last.closeTime >= q.endTime) return;
      startTime = last.closeTime + 1;
    }
  }

  /**
   * GET /api/v3/depth. Defaults to 1000 levels (weight 50), enough for the local order book;
   * Binance's own default is 100. Raws at the instrument's scales (see decodeLevels).
   */
  async depth(symbol: string, limit = 1000): Promise<DepthSnapshot> {
    const inst = await this.instrument(symbol);
    checkLimit(limit, 5000, 'depth');
    const { body } = await this.get('/api/v3/depth', { symbol: inst.symbol, limit });
    return decodeDepthSnapshot(body, inst);
  }

  /**
   * A paced, retried GET returning the decoded JSON body. Public for endpoints without a
   * typed method; `weight` defaults to requestWeight(path, params).
   */
  async get(
    path: string,
    params: Record<string, string | number | undefined>,
    weight?: number,
  ): Promise<{ body: unknown; headers: Reply['headers'] }> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.set(k, String(v));
    const w = weight ?? requestWeight(path, qs);
    const query = qs.toString();
    const url = `${this.base}${path}${query ? `?${query}` : ''}`;
    const what = `GET ${path}`;

    for (let attempt = 0; ; attempt++) {
      this.checkBan(what);
      await this.reserve(w);
      const sentMinute = Math.floor(this.now() / MINUTE);
      let reply: Reply;
      try {
        reply = await this.send(url);
      } catch (err) {
        if (attempt >= this.maxRetries) {
          throw new VenueError('NETWORK', `${what}: ${(err as Error).message} (after ${attempt + 1} attempts)`, {
            hint: this.net.proxy
              ? `check the network and the proxy ${this.net.proxy}`
              : 'check the network connection; set a proxy in the config if Binance is only reachable through one',
            cause: err,
          });
        }
        await this.sleep(this.backoff(attempt));
        continue;
      }
      this.noteWeight(reply.headers, sentMinute);

      const { status } = reply;
      if (status >= 200 && status < 300) return { body: parseJson(reply.text, what), headers: reply.headers };

      if (status === 418) {
        const ms = retryAfterMs(reply.headers, this.now());
        this.bannedUntil = this.now() + (ms ?? MINUTE);
        throw new VenueError('BANNED', `${what}: Binance has banned this IP (HTTP 418)${ms === undefined ? '' : `; Retry-After ${Math.ceil(ms / 1000)} s`}`, {
          status,
          hint: `wait${ms === undefined ? '' : ` ${Math.ceil(ms / 1000)} s`} until ${new Date(this.bannedUntil).toISOString()} before any REST call; bans grow with every repeat, so stop other programs polling from this IP`,
        });
      }

      if (status === 429) {
        const ms = retryAfterMs(reply.headers, this.now()) ?? this.untilNextMinute();
        this.blockedUntil = Math.max(this.blockedUntil, this.now() + ms);
        if (attempt >= this.maxRetries) {
          throw this.httpError(what, reply, 'RATE_LIMITED', `wait ${Math.ceil(ms / 1000)} s; another program on this IP may be using the request weight`);
        }
        continue; // reserve() waits until blockedUntil
      }

      if (status >= 500) {
        if (attempt >= this.maxRetries) {
          throw this.httpError(what, reply, 'SERVER', `Binance is failing (HTTP ${status}); try again later`);
        }
        await this.sleep(this.backoff(attempt));
        continue;
      }

      throw this.httpError(what, reply, status === 403 ? 'WAF' : `HTTP_${status}`, status === 403 ? 'Binance\'s firewall refused the request' : undefined);
    }
  }

  private async send(url: string): Promise<Reply> {
    const dispatcher = restDispatcher(url, this.net);
    const res = await request(url, {
      method: 'GET',
      headers: { accept: 'application/json', 'user-agent': 'qtrade' },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      ...(dispatcher ? { dispatcher } : {}),
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  }

  private httpError(what: string, reply: Reply, fallbackCode: string, fallbackHint?: string): VenueError {
    const be = decodeBinanceError(reply.text);
    if (be) {
      return new VenueError(`BINANCE_${be.code}`, `${what}: ${be.msg} (Binance code ${be.code}, HTTP ${reply.status})`, {
        status: reply.status,
        hint: CODE_HINTS[be.code] ?? fallbackHint,
      });
    }
    const head = reply.text.length > 120 ? `${reply.text.slice(0, 120)}…` : reply.text;
    return new VenueError(fallbackCode, `${what}: HTTP ${reply.status}${head ? ` ${JSON.stringify(head)}` : ''}`, {
      status: reply.status,
      hint: fallbackHint,
    });
  }

  private checkBan(what: string): void {
    const now = this.now();
    if (this.bannedUntil > now) {
      const s = Math.ceil((this.bannedUntil - now) / 1000);
      throw new VenueError('BANNED', `${what}: not sent, Binance banned this IP for another ${s} s`, {
        status: 418,
        hint: `wait until ${new Date(this.bannedUntil).toISOString()}`,
      });
    }
  }

  private roll(now: number): void {
    const m = Math.floor(now / MINUTE);
    if (m !== this.window) {
      this.window = m;
      this.used = 0;
    }
  }

  private untilNextMinute(): number {
    const now = this.now();
    return (Math.floor(now / MINUTE) + 1) * MINUTE - now;
  }

  /** Waits out a 429 block and, if this request would pass the weight limit, the minute. */
  private async reserve(weight: number): Promise<void> {
    for (;;) {
      const now = this.now();
      const until = this.blockedUntil;
      if (until > now) {
        await this.sleep(until - now);
        if (this.blockedUntil === until) this.blockedUntil = 0;
        continue;
      }
      this.roll(now);
      // A request heavier than the whole budget still goes out alone in a fresh minute.
      if (this.used === 0 || this.used + weight <= this.limit) {
        this.used += weight;
        return;
      }
      const next = (Math.floor(now / MINUTE) + 1) * MINUTE;
      await this.sleep(next - now);
      // Even if the injected clock did not move, the minute is over for our purposes.
      if (this.window < next / MINUTE) {
        this.window = next / MINUTE;
        this.used = 0;
      }
    }
  }

  private noteWeight(headers: Reply['headers'], sentMinute: number): void {
    const v = header(headers, 'x-mbx-used-weight-1m');
    if (v === undefined) return;
    const n = Number(v);
    if (!Number.isFinite(n)) return;
    this.roll(this.now());
    // A count from a request sent in an earlier minute says nothing about this one. The header
    // counts the whole IP, so it may exceed our own tally; keep the larger.
    if (sentMinute === this.window) this.used = Math.max(this.used, n);
    this.onWeight?.(n);
  }

  private backoff(attempt: number): number {
    return Math.min(this.maxBackoffMs, this.backoffMs * 2 ** attempt);
  }
}

function checkLimit(limit: number | undefined, max: number, what: string): void {
  if (limit === undefined) return;
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new UsageError(`${what} limit must be an integer 1..${max}, got ${limit}`);
  }
}

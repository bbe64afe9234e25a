import { request } from 'undici';
import { UsageError, VenueError } from '../../errors.js';
import { restDispatcher, type NetOptions } from '../net.js';
import { decodeBinanceError, parseJson, type BinanceErrorBody } from './rest-parse.js';

/**
 * The HTTP layer both Binance REST clients (public market data and signed account calls) share:
 * one REQUEST_WEIGHT budget per minute kept in step with X-MBX-USED-WEIGHT-1M, no call at all
 * during a 418 ban, 429 Retry-After blocks, per-request timeouts, bounded retries with backoff for
 * network errors and 5xx, the proxy, and Binance's `{code, msg}` replies mapped to VenueError.
 * What a retry may do (repeat a call, re-sign it) is the caller's decision, made per call.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';
export type ReplyHeaders = Record<string, string | string[] | undefined>;

export interface Reply {
  status: number;
  headers: ReplyHeaders;
  text: string;
}

/** Where both REST clients send their calls, their budget, and their wall-time hooks. */
export interface RestConnection {
  /** e.g. https://api.binance.com (no trailing path). */
  baseUrl: string;
  /** Proxy settings; REST goes through `net.proxy` with HTTP CONNECT unless NO_PROXY matches. */
  net: NetOptions;
  /** REQUEST_WEIGHT budget per minute (Binance's IP limit is 6000). */
  weightLimit?: number;
  /** Per-request timeout for headers and body. Default 10 s. */
  timeoutMs?: number;
  /** Wall clock for pacing, backoff and signed timestamps (never event time); injectable for tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Called with X-MBX-USED-WEIGHT-1M after every reply that carries it. */
  onWeight?: (used: number) => void;
}

/** How a client wants failures handled. */
export interface TransportPolicy {
  /**
   * During a 429 block: 'wait' sleeps until Retry-After has passed (and retries a 429 within the
   * call's retries); 'refuse' sends nothing and throws RATE_LIMITED, leaving the timing to the caller.
   */
  whenRateLimited: 'wait' | 'refuse';
  /** First backoff delay after a network error or 5xx, doubled per retry up to maxBackoffMs (default 8 s). */
  backoffMs: number;
  maxBackoffMs?: number;
}

export interface TransportCall {
  method: HttpMethod;
  path: string;
  /**
   * Query string and form body of one attempt, built again for every attempt after the weight
   * budget admitted it, so a signed call always carries a fresh timestamp.
   */
  encode?: () => { query: string; body?: string };
  /** Extra request headers (the API key). */
  headers?: Record<string, string>;
  /** REQUEST_WEIGHT of the call. */
  weight: number;
  /** Retries after network errors and 5xx (and 429 when waiting); 0 when repeating could do harm. */
  retries: number;
  /** Sees every error reply first; resolving true sends the call again (limiting that is the caller's job). */
  again?: (error: BinanceErrorBody | undefined, reply: Reply) => Promise<boolean>;
  /** The error for a 5xx that is not retried; by default Binance's error, or SERVER. */
  serverError?: (what: string, reply: Reply) => VenueError;
}

export interface Answer {
  /** The decoded JSON body of a 2xx reply. */
  body: unknown;
  headers: ReplyHeaders;
  /** Local wall clock when the answered attempt went out and when its reply had arrived. */
  sentAt: number;
  receivedAt: number;
}

const MINUTE = 60_000;
/** Binance's shortest ban; assumed when a 418 carries no Retry-After. */
const MIN_BAN_MS = 2 * MINUTE;
const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const AUTH_HINT =
  'check the API key and secret (testnet keys come from https://testnet.binance.vision and do not work on mainnet, nor the reverse), the key\'s IP whitelist and that it has spot trading enabled';
const PARAM_HINT = 'a parameter qtrade sent was rejected; please report this with the command you ran';

const CODE_HINTS: Record<number, string> = {
  [-1003]: 'too much request weight used; qtrade paces itself, so another program on this IP may be polling Binance',
  [-1015]: 'too many new orders; wait for the order rate limit window to pass',
  // Only signed calls carry a timestamp, and they re-sync once before reporting -1021.
  [-1021]: 'the local clock is far off and re-syncing did not help; sync the system clock (NTP)',
  [-1022]: `Binance rejected the signature; ${AUTH_HINT}`,
  [-1100]: PARAM_HINT,
  [-1101]: PARAM_HINT,
  [-1102]: PARAM_HINT,
  [-1120]: 'use an interval Binance supports (1m, 5m, 1h, 1d, ...)',
  [-1121]: 'check the symbol (e.g. BTCUSDT); exchangeInfo lists the symbols Binance trades',
  [-2014]: AUTH_HINT,
  [-2015]: AUTH_HINT,
};

/** A Binance error reply `{code, msg}` to a REST call. Exit code 4 unless a caller maps it. */
export class BinanceApiError extends VenueError {
  readonly binanceCode: number;
  readonly binanceMsg: string;
  constructor(what: string, status: number, code: number, msg: string, fallbackHint?: string) {
    super(`BINANCE_${code}`, `${what}: ${msg} (Binance code ${code}, HTTP ${status})`, { status, hint: CODE_HINTS[code] ?? fallbackHint });
    this.binanceCode = code;
    this.binanceMsg = msg;
  }
}

/** First value of a reply header (undici lower-cases names). */
export function header(h: ReplyHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Retry-After in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(h: ReplyHeaders, now: number): number | undefined {
  const v = header(h, 'retry-after')?.trim();
  if (v === undefined || v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The error for a reply that will not be retried: Binance's own `{code, msg}` as BinanceApiError
 * when the body has one, else `fallbackCode` (WAF for 403, HTTP_<status> otherwise).
 */
export function httpError(what: string, reply: Reply, fallbackCode?: string, fallbackHint?: string): VenueError {
  const { status } = reply;
  if (status === 410) {
    return new VenueError('GONE', `${what}: HTTP 410, Binance retired this endpoint`, {
      status,
      hint: what.includes('/userDataStream')
        ? 'Binance retired spot listenKey user streams on 2026-02-20; use the WebSocket API user stream (mode "ws-api")'
        : 'Binance retired this endpoint; update qtrade',
    });
  }
  if (status === 403) {
    fallbackCode ??= 'WAF';
    fallbackHint ??= 'Binance\'s firewall refused the request';
  }
  const be = decodeBinanceError(reply.text);
  if (be) return new BinanceApiError(what, status, be.code, be.msg, fallbackHint);
  const head = reply.text.length > 120 ? `${reply.text.slice(0, 120)}…` : reply.text;
  return new VenueError(fallbackCode ?? `HTTP_${status}`, `${what}: HTTP ${status}${head ? ` ${JSON.stringify(head)}` : ''}`, {
    status,
    hint: fallbackHint,
  });
}

export class BinanceTransport {
  readonly baseUrl: string;
  private readonly net: NetOptions;
  private readonly whenRateLimited: 'wait' | 'refuse';
  private readonly limit: number;
  private readonly timeoutMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly onWeight: ((used: number) => void) | undefined;
  private used = 0;
  private window = -1;
  private blockedUntil = 0;
  private bannedUntil = 0;

  constructor(opts: RestConnection, policy: TransportPolicy) {
    let u: URL;
    try {
      u = new URL(opts.baseUrl);
    } catch (err) {
      throw new UsageError(`not a URL: "${opts.baseUrl}"`, {
        hint: 'set the REST base URL, e.g. https://api.binance.com (testnet: https://testnet.binance.vision)',
        cause: err,
      });
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`REST base URL must be http(s): "${opts.baseUrl}"`);
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.net = opts.net;
    this.whenRateLimited = policy.whenRateLimited;
    this.limit = opts.weightLimit ?? 6000;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.backoffMs = policy.backoffMs;
    this.maxBackoffMs = policy.maxBackoffMs ?? 8000;
    this.sleep = opts.sleep ?? defaultSleep;
    this.now = opts.now ?? Date.now;
    this.onWeight = opts.onWeight;
  }

  /** Weight used in the current minute as far as this transport knows (server header or own count). */
  get usedWeight(): number {
    this.roll(this.now());
    return this.used;
  }

  /** Sends a call, paced and retried as it allows, and returns its decoded 2xx reply. */
  async call(c: TransportCall): Promise<Answer> {
    const what = `${c.method} ${c.path}`;
    for (let attempt = 0; ; attempt++) {
      await this.admit(what, c.weight);
      const { query, body = '' } = c.encode?.() ?? { query: '' };
      const sentAt = this.now();
      let reply: Reply;
      try {
        reply = await this.send(c.method, `${this.baseUrl}${c.path}${query ? `?${query}` : ''}`, body, c.headers);
      } catch (err) {
        if (attempt < c.retries) {
          await this.sleep(this.backoff(attempt));
          continue;
        }
        throw this.networkError(what, err, attempt + 1);
      }
      const receivedAt = this.now();
      this.noteWeight(reply.headers, sentAt);

      const { status } = reply;
      if (status >= 200 && status < 300) return { body: parseJson(reply.text, what), headers: reply.headers, sentAt, receivedAt };
      if (c.again && (await c.again(decodeBinanceError(reply.text), reply))) continue;
      if (status === 418) throw this.banned(what, reply);
      if (status === 429) {
        const ms = retryAfterMs(reply.headers, this.now()) ?? this.untilNextMinute();
        this.blockedUntil = Math.max(this.blockedUntil, this.now() + ms);
        if (this.whenRateLimited === 'wait') {
          if (attempt < c.retries) continue; // admit() waits until blockedUntil
          throw httpError(what, reply, 'RATE_LIMITED', `wait ${Math.ceil(ms / 1000)} s; another program on this IP may be using the request weight`);
        }
        const be = decodeBinanceError(reply.text);
        throw new VenueError('RATE_LIMITED', `${what}: ${be ? `${be.msg} (Binance code ${be.code}, HTTP 429)` : 'HTTP 429'}`, {
          status,
          hint: `wait ${Math.ceil(ms / 1000)} s before the next request`,
        });
      }
      if (status >= 500) {
        if (attempt < c.retries) {
          await this.sleep(this.backoff(attempt));
          continue;
        }
        throw c.serverError?.(what, reply) ?? httpError(what, reply, 'SERVER', `Binance is failing (HTTP ${status}); try again later`);
      }
      throw httpError(what, reply);
    }
  }

  private async send(method: HttpMethod, url: string, body: string, extra: Record<string, string> | undefined): Promise<Reply> {
    const dispatcher = restDispatcher(url, this.net);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'qtrade', ...extra };
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await request(url, {
      method,
      headers,
      body: body || undefined,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      ...(dispatcher ? { dispatcher } : {}),
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  }

  private networkError(what: string, err: unknown, attempts: number): VenueError {
    const code = (err as { code?: string }).code ?? '';
    const timeout = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
    // The underlying message names the host at most; parameters, keys and signatures never reach it.
    const detail = timeout ? `no reply within ${this.timeoutMs} ms` : (err as Error).message;
    return new VenueError(timeout ? 'TIMEOUT' : 'NETWORK', `${what}: ${detail}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}`, {
      hint: this.net.proxy
        ? `check the network and the proxy ${this.net.proxy}`
        : 'check the network connection; set a proxy in the config if Binance is only reachable through one',
      cause: err,
    });
  }

  private banned(what: string, reply: Reply): VenueError {
    const now = this.now();
    const ms = retryAfterMs(reply.headers, now) ?? MIN_BAN_MS;
    this.bannedUntil = Math.max(this.bannedUntil, now + ms);
    const s = Math.ceil(ms / 1000);
    return new VenueError('BANNED', `${what}: Binance has banned this IP for ${s} s (HTTP 418)`, {
      status: 418,
      hint: `wait ${s} s, until ${new Date(this.bannedUntil).toISOString()}, before any REST call; bans grow with every repeat, so stop every program calling Binance from this IP`,
    });
  }

  /**
   * Lets a request of `weight` go once no ban or (when waiting) 429 block stands in the way and
   * the minute's budget has room; a request heavier than the whole budget goes out alone in a
   * fresh minute.
   */
  private async admit(what: string, weight: number): Promise<void> {
    for (;;) {
      const now = this.now();
      if (this.bannedUntil > now) {
        throw new VenueError('BANNED', `${what}: not sent, Binance banned this IP for another ${Math.ceil((this.bannedUntil - now) / 1000)} s`, {
          status: 418,
          hint: `wait until ${new Date(this.bannedUntil).toISOString()}`,
        });
      }
      const until = this.blockedUntil;
      if (until > now) {
        if (this.whenRateLimited === 'refuse') {
          throw new VenueError('RATE_LIMITED', `${what}: not sent, rate limited for another ${Math.ceil((until - now) / 1000)} s`, {
            status: 429,
            hint: 'Binance bans IPs that ignore Retry-After; wait and try again',
          });
        }
        await this.sleep(until - now);
        if (this.blockedUntil === until) this.blockedUntil = 0;
        continue;
      }
      this.roll(now);
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

  private noteWeight(headers: ReplyHeaders, sentAt: number): void {
    const v = header(headers, 'x-mbx-used-weight-1m');
    if (v === undefined) return;
    const n = Number(v);
    if (!Number.isFinite(n)) return;
    this.roll(this.now());
    // A count from a request sent in an earlier minute says nothing about this one. The header
    // counts the whole IP, so it may exceed our own tally; keep the larger.
    if (Math.floor(sentAt / MINUTE) === this.window) this.used = Math.max(this.used, n);
    this.onWeight?.(n);
  }

  private backoff(attempt: number): number {
    return Math.min(this.maxBackoffMs, this.backoffMs * 2 ** attempt);
  }
}

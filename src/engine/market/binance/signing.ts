import { createHmac } from 'node:crypto';
import { request } from 'undici';
import { UsageError, VenueError } from '../../errors.js';
import { restDispatcher, type NetOptions } from '../net.js';
import type { Credentials, Secret } from './credentials.js';
import { decodeBinanceError, decodeServerTime, parseJson } from './rest-parse.js';

/**
 * Binance SIGNED requests (TRADE / USER_DATA) and USER_STREAM requests.
 *
 * The signature is HMAC-SHA256, keyed by the API secret, of the query string followed directly
 * by the request body (no `&` between them), as lowercase hex. Binance now requires the payload
 * to be percent-encoded before signing, so we sign exactly the strings we put on the wire.
 * Every signed call carries `timestamp` (our clock plus the offset learned from GET
 * /api/v3/time) and `recvWindow`; Binance accepts it when
 * `timestamp < serverTime + 1000 && serverTime − timestamp <= recvWindow`.
 */

export const DEFAULT_RECV_WINDOW = 5000;

/** Hex HMAC-SHA256 of `payload` keyed by `secret`. */
export function hmacSha256Hex(secret: string | Secret, payload: string): string {
  const key = typeof secret === 'string' ? secret : secret.reveal();
  return createHmac('sha256', key).update(payload, 'utf8').digest('hex');
}

/** Binance's REST signature: HMAC of the query string followed directly by the body. */
export function signRequest(secret: string | Secret, query: string, body = ''): string {
  return hmacSha256Hex(secret, query + body);
}

/**
 * The payload a WebSocket API request signs: every param except `signature`, sorted by name,
 * as `k=v` joined by `&`.
 */
export function wsApiPayload(params: Record<string, string | number | boolean>): string {
  return Object.keys(params)
    .filter((k) => k !== 'signature')
    .sort()
    .map((k) => `${k}=${String(params[k])}`)
    .join('&');
}

/** Binance's clock as seen through ours: serverTime − the midpoint of the round trip. */
export function clockOffset(serverTime: number, sentAt: number, receivedAt: number): number {
  return Math.round(serverTime - (sentAt + receivedAt) / 2);
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';
export type Params = Record<string, string | number | boolean | undefined>;

export interface SignedCall {
  method: HttpMethod;
  path: string;
  params?: Params;
  /** SIGNED adds timestamp, recvWindow and signature; USER_STREAM sends only the API key. */
  security?: 'SIGNED' | 'USER_STREAM';
  /**
   * True when repeating the call is harmless (queries, cancels by id): network errors and 5xx are
   * retried. False (default for POST) leaves an unknown outcome to the caller, which must find
   * out what happened before trying again.
   */
  idempotent?: boolean;
  /** REQUEST_WEIGHT of the call, for pacing. Default 1. */
  weight?: number;
}

export interface SignedRestOptions {
  baseUrl: string;
  net: NetOptions;
  credentials: Pick<Credentials, 'apiKey' | 'apiSecret'>;
  /** ms, up to 60000. Default 5000. */
  recvWindow?: number;
  /** Per-request timeout for headers and body. Default 10 s. */
  timeoutMs?: number;
  /** Retries of idempotent calls after network errors / 5xx. Default 2. */
  maxRetries?: number;
  backoffMs?: number;
  /** REQUEST_WEIGHT budget per minute. Default 6000. */
  weightLimit?: number;
  /** Local wall clock for timestamps and pacing (never event time). Default Date.now. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  onWeight?: (used: number) => void;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

const MINUTE = 60_000;
const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const AUTH_HINT =
  'check the API key and secret (testnet keys come from https://testnet.binance.vision and do not work on mainnet, nor the reverse), the key\'s IP whitelist and that it has spot trading enabled';

const CODE_HINTS: Record<number, string> = {
  [-1021]: 'the local clock is far off and re-syncing did not help; sync the system clock (NTP)',
  [-1022]: `Binance rejected the signature; ${AUTH_HINT}`,
  [-2014]: AUTH_HINT,
  [-2015]: AUTH_HINT,
  [-1003]: 'too much request weight used; another program on this IP may be using it',
  [-1015]: 'too many new orders; wait for the order rate limit window to pass',
};

/** A Binance error reply `{code, msg}` to a REST call. Exit code 4 unless a caller maps it. */
export class BinanceApiError extends VenueError {
  readonly binanceCode: number;
  readonly binanceMsg: string;
  constructor(what: string, status: number, code: number, msg: string) {
    super(`BINANCE_${code}`, `${what}: ${msg} (Binance code ${code}, HTTP ${status})`, { status, hint: CODE_HINTS[code] });
    this.binanceCode = code;
    this.binanceMsg = msg;
  }
}

/**
 * True when a call failed in a way that leaves its outcome unknown: the request may have been
 * sent and executed (timeout, connection reset, 5xx) even though no answer came back.
 */
export function isUnknownOutcome(err: unknown): boolean {
  return err instanceof VenueError && (err.code === 'NETWORK' || err.code === 'TIMEOUT' || err.code === 'SERVER');
}

/**
 * A client for Binance's signed REST endpoints. Keeps the server-time offset (synced before the
 * first signed call and again, with one retry, when Binance answers -1021), paces itself by
 * X-MBX-USED-WEIGHT-1M, stops calling after 429 until Retry-After and after 418 until the ban
 * ends, and reports failures as VenueError / BinanceApiError without ever echoing parameters,
 * keys or signatures.
 */
export class SignedRest {
  readonly baseUrl: string;
  readonly recvWindow: number;
  private readonly net: NetOptions;
  private readonly apiKey: string;
  private readonly secret: Secret;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly backoffMs: number;
  private readonly weightLimit: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly onWeight: ((used: number) => void) | undefined;
  private offset = 0;
  private synced = false;
  private syncing: Promise<number> | undefined;
  private used = 0;
  private window = -1;
  private blockedUntil = 0;
  private bannedUntil = 0;

  constructor(opts: SignedRestOptions) {
    let u: URL;
    try {
      u = new URL(opts.baseUrl);
    } catch (err) {
      throw new UsageError(`not a URL: "${opts.baseUrl}"`, { hint: 'set the REST base URL, e.g. https://testnet.binance.vision', cause: err });
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`REST base URL must be http(s): "${opts.baseUrl}"`);
    const rw = opts.recvWindow ?? DEFAULT_RECV_WINDOW;
    if (!(rw > 0 && rw <= 60_000)) throw new UsageError(`recvWindow must be 1..60000 ms, got ${rw}`);
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.recvWindow = rw;
    this.net = opts.net;
    this.apiKey = opts.credentials.apiKey;
    this.secret = opts.credentials.apiSecret;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxRetries = opts.maxRetries ?? 2;
    this.backoffMs = opts.backoffMs ?? 250;
    this.weightLimit = opts.weightLimit ?? 6000;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? defaultSleep;
    this.onWeight = opts.onWeight;
  }

  /** Server time minus local time, ms (0 before the first sync). */
  get offsetMs(): number {
    return this.offset;
  }

  /** Our best estimate of Binance's clock now. */
  timestamp(): number {
    return this.now() + this.offset;
  }

  /** Sign a WebSocket API request's params (adds apiKey, timestamp, recvWindow, signature). */
  async signWsParams(params: Record<string, string | number | boolean> = {}): Promise<Record<string, string | number | boolean>> {
    if (!this.synced) await this.syncTime();
    const p: Record<string, string | number | boolean> = { ...params, apiKey: this.apiKey, recvWindow: this.recvWindow, timestamp: this.timestamp() };
    return { ...p, signature: hmacSha256Hex(this.secret, wsApiPayload(p)) };
  }

  /** The API key, for USER_STREAM WebSocket requests. */
  get key(): string {
    return this.apiKey;
  }

  /** GET /api/v3/time; sets the offset from the midpoint of the round trip. Concurrent calls share one request. */
  syncTime(): Promise<number> {
    this.syncing ??= (async () => {
      try {
        const sentAt = this.now();
        const reply = await this.send('GET', '/api/v3/time', '', '', false);
        const receivedAt = this.now();
        if (reply.status !== 200) throw this.httpError('GET /api/v3/time', reply);
        const serverTime = decodeServerTime(parseJson(reply.text, 'GET /api/v3/time'));
        this.offset = clockOffset(serverTime, sentAt, receivedAt);
        this.synced = true;
        return this.offset;
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  /** Sends a signed (or USER_STREAM) call and returns the decoded JSON reply. */
  async call(c: SignedCall): Promise<unknown> {
    const security = c.security ?? 'SIGNED';
    const idempotent = c.idempotent ?? c.method !== 'POST';
    const what = `${c.method} ${c.path}`;
    if (security === 'SIGNED' && !this.synced) await this.syncTime();

    let resynced = false;
    for (let attempt = 0; ; attempt++) {
      const { query, body } = this.encode(c.method, c.params ?? {}, security);
      this.checkBlocked(what);
      await this.reserve(c.weight ?? 1);
      const sentMinute = Math.floor(this.now() / MINUTE);
      let reply: Reply;
      try {
        reply = await this.send(c.method, c.path, query, body, true);
      } catch (err) {
        if (idempotent && attempt < this.maxRetries) {
          await this.sleep(this.backoffMs * 2 ** attempt);
          continue;
        }
        throw err;
      }
      this.noteWeight(reply.headers, sentMinute);
      if (reply.status >= 200 && reply.status < 300) return parseJson(reply.text, what);

      const be = decodeBinanceError(reply.text);
      // -1021: the request was refused before processing, so re-syncing and sending again is safe.
      if (be?.code === -1021 && security === 'SIGNED' && !resynced) {
        resynced = true;
        await this.syncTime();
        continue;
      }
      if (reply.status === 418) {
        const ms = retryAfterMs(reply.headers) ?? 2 * MINUTE;
        this.bannedUntil = this.now() + ms;
        throw new VenueError('BANNED', `${what}: Binance has banned this IP for ${Math.ceil(ms / 1000)} s (HTTP 418)`, {
          status: 418,
          hint: 'stop every program calling Binance from this IP until the ban ends; bans grow with each repeat',
        });
      }
      if (reply.status === 429) {
        const ms = retryAfterMs(reply.headers) ?? this.untilNextMinute();
        this.blockedUntil = this.now() + ms;
        const base = be ? `${be.msg} (Binance code ${be.code}, HTTP 429)` : 'HTTP 429';
        throw new VenueError('RATE_LIMITED', `${what}: ${base}`, { status: 429, hint: `wait ${Math.ceil(ms / 1000)} s before the next request` });
      }
      if (reply.status >= 500) {
        if (idempotent && attempt < this.maxRetries) {
          await this.sleep(this.backoffMs * 2 ** attempt);
          continue;
        }
        throw new VenueError('SERVER', `${what}: Binance answered HTTP ${reply.status}; the outcome is unknown`, {
          status: reply.status,
          hint: 'Binance is failing; check the order state before retrying',
        });
      }
      throw this.httpError(what, reply);
    }
  }

  private encode(method: HttpMethod, params: Params, security: 'SIGNED' | 'USER_STREAM'): { query: string; body: string } {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.set(k, String(v));
    if (security === 'SIGNED') {
      qs.set('recvWindow', String(this.recvWindow));
      qs.set('timestamp', String(this.timestamp()));
    }
    const payload = qs.toString();
    const inBody = method === 'POST' || method === 'PUT';
    if (security === 'SIGNED') {
      const sig = inBody ? signRequest(this.secret, '', payload) : signRequest(this.secret, payload);
      const signed = `${payload}${payload ? '&' : ''}signature=${sig}`;
      return inBody ? { query: '', body: signed } : { query: signed, body: '' };
    }
    return inBody ? { query: '', body: payload } : { query: payload, body: '' };
  }

  private async send(method: HttpMethod, path: string, query: string, body: string, withKey: boolean): Promise<Reply> {
    const url = `${this.baseUrl}${path}${query ? `?${query}` : ''}`;
    const dispatcher = restDispatcher(url, this.net);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'qtrade' };
    if (withKey) headers['x-mbx-apikey'] = this.apiKey;
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    try {
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
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      const timeout = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
      // The underlying message names the host at most; parameters never reach it.
      throw new VenueError(timeout ? 'TIMEOUT' : 'NETWORK', `${method} ${path}: ${timeout ? `no reply within ${this.timeoutMs} ms` : (err as Error).message}`, {
        hint: this.net.proxy ? `check the network and the proxy ${this.net.proxy}` : 'check the network connection; set a proxy in the config if Binance is only reachable through one',
        cause: err,
      });
    }
  }

  private httpError(what: string, reply: Reply): VenueError {
    if (reply.status === 410) {
      return new VenueError('GONE', `${what}: HTTP 410, Binance retired this endpoint`, {
        status: 410,
        hint: what.includes('/userDataStream')
          ? 'Binance retired spot listenKey user streams on 2026-02-20; use the WebSocket API user stream (mode "ws-api")'
          : 'Binance retired this endpoint; update qtrade',
      });
    }
    const be = decodeBinanceError(reply.text);
    if (be) return new BinanceApiError(what, reply.status, be.code, be.msg);
    const head = reply.text.length > 120 ? `${reply.text.slice(0, 120)}…` : reply.text;
    return new VenueError(`HTTP_${reply.status}`, `${what}: HTTP ${reply.status}${head ? ` ${JSON.stringify(head)}` : ''}`, {
      status: reply.status,
    });
  }

  private checkBlocked(what: string): void {
    const now = this.now();
    if (this.bannedUntil > now) {
      throw new VenueError('BANNED', `${what}: not sent, Binance banned this IP for another ${Math.ceil((this.bannedUntil - now) / 1000)} s`, { status: 418 });
    }
    if (this.blockedUntil > now) {
      throw new VenueError('RATE_LIMITED', `${what}: not sent, rate limited for another ${Math.ceil((this.blockedUntil - now) / 1000)} s`, {
        status: 429,
        hint: 'Binance bans IPs that ignore Retry-After; wait and try again',
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

  private async reserve(weight: number): Promise<void> {
    this.roll(this.now());
    if (this.used > 0 && this.used + weight > this.weightLimit) {
      await this.sleep(this.untilNextMinute());
      this.window = -1;
      this.roll(this.now());
    }
    this.used += weight;
  }

  private noteWeight(headers: Reply['headers'], sentMinute: number): void {
    const raw = headers['x-mbx-used-weight-1m'];
    const v = Array.isArray(raw) ? raw[0] : raw;
    if (v === undefined) return;
    const n = Number(v);
    if (!Number.isFinite(n)) return;
    this.roll(this.now());
    if (sentMinute === this.window) this.used = Math.max(this.used, n);
    this.onWeight?.(n);
  }
}

function retryAfterMs(h: Reply['headers']): number | undefined {
  const raw = h['retry-after'];
  const v = Array.isArray(raw) ? raw[0] : raw;
  if (v === undefined || !/^\d+$/.test(v.trim())) return undefined;
  return Number(v.trim()) * 1000;
}

import { createHmac } from 'node:crypto';
import { UsageError, VenueError } from '../../errors.js';
import type { Credentials, Secret } from './credentials.js';
import { decodeServerTime } from './rest-parse.js';
import { BinanceTransport, type HttpMethod, type Reply, type RestConnection } from './transport.js';

export { BinanceApiError } from './transport.js';
export type { HttpMethod } from './transport.js';

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

export interface SignedRestOptions extends RestConnection {
  credentials: Pick<Credentials, 'apiKey' | 'apiSecret'>;
  /** ms, up to 60000. Default 5000. */
  recvWindow?: number;
  /** Retries of idempotent calls after network errors / 5xx. Default 2. */
  maxRetries?: number;
  /** First backoff delay (default 250 ms), doubled per retry. */
  backoffMs?: number;
}

/** A 5xx to a call Binance may have executed anyway. */
function outcomeUnknown(what: string, reply: Reply): VenueError {
  return new VenueError('SERVER', `${what}: Binance answered HTTP ${reply.status}; the outcome is unknown`, {
    status: reply.status,
    hint: 'Binance is failing; check the order state before retrying',
  });
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
  private readonly transport: BinanceTransport;
  private readonly apiKey: string;
  private readonly secret: Secret;
  private readonly maxRetries: number;
  private readonly now: () => number;
  private offset = 0;
  private synced = false;
  private syncing: Promise<number> | undefined;

  constructor(opts: SignedRestOptions) {
    this.transport = new BinanceTransport(opts, { whenRateLimited: 'refuse', backoffMs: opts.backoffMs ?? 250 });
    const rw = opts.recvWindow ?? DEFAULT_RECV_WINDOW;
    if (!(rw > 0 && rw <= 60_000)) throw new UsageError(`recvWindow must be 1..60000 ms, got ${rw}`);
    this.baseUrl = this.transport.baseUrl;
    this.recvWindow = rw;
    this.apiKey = opts.credentials.apiKey;
    this.secret = opts.credentials.apiSecret;
    this.maxRetries = opts.maxRetries ?? 2;
    this.now = opts.now ?? Date.now;
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
        const { body, sentAt, receivedAt } = await this.transport.call({ method: 'GET', path: '/api/v3/time', weight: 1, retries: this.maxRetries });
        this.offset = clockOffset(decodeServerTime(body), sentAt, receivedAt);
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
    if (security === 'SIGNED' && !this.synced) await this.syncTime();
    let resynced = false;
    const { body } = await this.transport.call({
      method: c.method,
      path: c.path,
      encode: () => this.encode(c.method, c.params ?? {}, security),
      headers: { 'x-mbx-apikey': this.apiKey },
      weight: c.weight ?? 1,
      retries: idempotent ? this.maxRetries : 0,
      // -1021: the request was refused before processing, so re-syncing and sending again is safe.
      again: async (be) => {
        if (be?.code !== -1021 || security !== 'SIGNED' || resynced) return false;
        resynced = true;
        await this.syncTime();
        return true;
      },
      serverError: outcomeUnknown,
    });
    return body;
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
}

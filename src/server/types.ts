import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { TradingNode } from '../engine/node.js';
import type { StrategyManager } from '../engine/strategy/manager.js';
import type { BacktestJobs } from './backtest-jobs.js';
import type { DaemonMetrics } from './metrics.js';
import type { DaemonAlerts } from './routes/qtrade-alerts.js';

/**
 * The daemon's API contract: routes, requests, principals and errors. Route modules under
 * routes/ export `routes(ctx): Route[]`; http.ts parses, authenticates and dispatches.
 */

/** Token scopes, each including the ones before it. */
export const SCOPES = ['read', 'trade', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export function scopeAllows(granted: Scope, needed: Scope): boolean {
  return SCOPES.indexOf(granted) >= SCOPES.indexOf(needed);
}

/** Who is calling. With no tokens configured (loopback only) every caller is `open` with admin rights. */
export interface Principal {
  kind: 'open' | 'token' | 'apiKey';
  scope: Scope;
  /** Token id and name (never the secret). */
  tokenId?: string;
  name?: string;
}

export interface ApiRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Query string and form-encoded body parameters, merged as Binance does (query values win, as on Binance). */
  params: URLSearchParams;
  /** A parsed application/json body; undefined otherwise. */
  json: unknown;
  headers: IncomingHttpHeaders;
  principal: Principal;
}

export interface ApiResult {
  status?: number;
  /** JSON-encoded (bigints as decimal strings). */
  body?: unknown;
  /** Sent as is with `contentType` (Prometheus metrics). */
  text?: string;
  contentType?: string;
  /** Takes over the response (streamed answers); the route writes and ends it. */
  stream?: (res: ServerResponse) => void | Promise<void>;
}

/**
 * `public`: anyone, even with tokens configured (ping, time, health). Binance's SIGNED endpoints set
 * `signed`: an X-MBX-APIKEY caller must then send a valid timestamp + signature.
 */
export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  scope: Scope | 'public';
  signed?: boolean;
  /** One line for /openapi.json. */
  summary: string;
  /** Parameters for /openapi.json: name → description (required ones end with " (required)"). */
  params?: Record<string, string>;
  handle(req: ApiRequest): Promise<ApiResult> | ApiResult;
}

/** An error answer: HTTP status and Binance's `{code, msg}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    readonly msg: string,
  ) {
    super(msg);
    this.name = 'ApiError';
  }

  toJSON(): { code: number; msg: string } {
    return { code: this.code, msg: this.msg };
  }
}

/** Binance's generic codes used outside order entry. */
export const ApiErrors = {
  unknownRoute: (method: string, path: string) => new ApiError(404, -1020, `${method} ${path} is not an endpoint of this daemon (see /openapi.json).`),
  methodNotAllowed: (method: string, path: string) => new ApiError(405, -1020, `${path} does not accept ${method}.`),
  tooLarge: (limit: number) => new ApiError(413, -1104, `Request body is larger than ${limit} bytes.`),
  badJson: (detail: string) => new ApiError(400, -1100, `Illegal characters found in a parameter: body is not valid JSON (${detail}).`),
  mandatory: (param: string) => new ApiError(400, -1102, `Mandatory parameter '${param}' was not sent, was empty/null, or malformed.`),
  badParam: (param: string, why: string) => new ApiError(400, -1100, `Illegal characters found in parameter '${param}'; ${why}.`),
  invalidSymbol: () => new ApiError(400, -1121, 'Invalid symbol.'),
  unauthorized: (why: string) => new ApiError(401, -2015, `Invalid API-key, IP, or permissions for action: ${why}.`),
  forbidden: (needed: Scope) => new ApiError(403, -2015, `Invalid API-key, IP, or permissions for action: this needs a token with scope ${needed}.`),
  badSignature: () => new ApiError(401, -1022, 'Signature for this request is not valid.'),
  badTimestamp: () => new ApiError(400, -1021, "Timestamp for this request is outside of the recvWindow."),
  unavailable: (why: string) => new ApiError(503, -1001, `Internal error; unable to process your request: ${why}.`),
} as const;

/** Checks a request's principal (tokens.ts). */
export interface Authenticator {
  /** True once any token exists: from then on every non-public route needs one. */
  required(): boolean;
  /**
   * Who is calling: `Authorization: Bearer <token>`, or `X-MBX-APIKEY` (+ `timestamp`, `signature`
   * over the query string and body when `signed`). Throws ApiError 401 when credentials are given
   * but wrong, or required and missing. `totalParams` is Binance's query string + body, verbatim.
   */
  authenticate(headers: IncomingHttpHeaders, totalParams: { query: string; body: string }, signed: boolean, now: number): Principal;
  /** For WebSocket upgrades: a token from the header or `?token=` / `?listenKey=`. */
  authenticateToken(token: string | undefined): Principal;
}

/** Counters the HTTP and WS layers feed; metrics.ts renders them with the engine's stats. */
export interface ServerCounters {
  request(route: string, status: number): void;
  wsClients(delta: number): void;
  wsDropped(reason: string): void;
}

/** Everything a route may use. */
export interface DaemonContext {
  node: TradingNode;
  auth: Authenticator;
  log: Logger;
  counters: ServerCounters;
  /** Bus-fed counters and gauges for /metrics and /health (one per daemon). */
  metrics: DaemonMetrics;
  /** Local wall clock, for /api/v3/time, signatures and lag metrics (never event time). */
  wallNow(): number;
  version: string;
  startedAt: number;
  /** No market message for this long (whole feed or one symbol) makes /health degraded; default STALE_AFTER_MS. */
  staleAfterMs?: number;
  /** Where market data comes from, for /health's reasons ("Binance", "the leader"), and what to check when a symbol gets none. */
  feedSource?: { name: string; checkSymbol?: (symbol: string) => string };
  /** Store and bus health probes for /health. */
  probes: Array<{ name: string; check(): Promise<void> }>;
  /** Resolves the daemon's shutdown (admin route). */
  shutdown(reason: string): void;
  /** Live strategies on the node (routes/qtrade-strategies.ts); absent: those routes answer 503. */
  strategies?: StrategyManager;
  /** Backtest jobs on worker threads (routes/qtrade-strategies.ts). */
  backtests?: BacktestJobs;
  /** Alerts on the node with their delivery (routes/qtrade-alerts.ts); absent: those routes answer 503. */
  alerts?: DaemonAlerts;
}

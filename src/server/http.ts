import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { QtradeError, UsageError, VenueError } from '../engine/errors.js';
import { OrderRejectedError } from '../engine/orders/rejections.js';
import { RiskRejectedError } from '../engine/risk/rejections.js';
import type { SignedPayload } from './tokens.js';
import { ApiError, ApiErrors, scopeAllows, type ApiRequest, type ApiResult, type DaemonContext, type Principal, type Route } from './types.js';

/** Largest request body accepted (orders and control messages are small). */
export const MAX_BODY_BYTES = 64 * 1024;

/** bigint → decimal string; everything else as JSON.stringify does. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/**
 * The request handler: route lookup, body limit, form/JSON parsing, authentication and scope,
 * then the route; every failure is a `{code, msg}` answer. No CORS headers are ever sent, so
 * browsers refuse cross-origin reads.
 */
export function createRequestHandler(ctx: DaemonContext, routes: readonly Route[]): (req: IncomingMessage, res: ServerResponse) => void {
  const byPath = new Map<string, Map<string, Route>>();
  const templates: PathTemplate[] = [];
  for (const r of routes) {
    let m = byPath.get(r.path);
    if (!m) {
      byPath.set(r.path, (m = new Map()));
      if (r.path.includes('{')) templates.push(pathTemplate(r.path, m));
    }
    if (m.has(r.method)) throw new Error(`duplicate route ${r.method} ${r.path}`);
    m.set(r.method, r);
  }
  const lookup = (path: string): { methods: Map<string, Route>; pathParams: Array<[string, string]> } | undefined => {
    const exact = byPath.get(path);
    if (exact) return { methods: exact, pathParams: [] };
    for (const t of templates) {
      const m = t.re.exec(path);
      if (m) return { methods: t.methods, pathParams: t.names.map((n, i) => [n, pathSegment(n, m[i + 1]!)]) };
    }
    return undefined;
  };
  return (req, res) => {
    void handle(ctx, lookup, req, res);
  };
}

/** A route path with `{name}` segments (/api/qtrade/proposals/{id}/approve); a segment's value arrives as parameter `name`. */
interface PathTemplate {
  re: RegExp;
  names: string[];
  methods: Map<string, Route>;
}

function pathTemplate(path: string, methods: Map<string, Route>): PathTemplate {
  const names: string[] = [];
  const source = path
    .split('/')
    .map((seg) => {
      const m = /^\{([A-Za-z][A-Za-z0-9]*)\}$/.exec(seg);
      if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(m[1]!);
      return '([^/]{1,200})';
    })
    .join('/');
  return { re: new RegExp(`^${source}$`), names, methods };
}

function pathSegment(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw ApiErrors.badParam(name, 'malformed percent-escape in the path');
  }
}

async function handle(
  ctx: DaemonContext,
  lookup: (path: string) => { methods: Map<string, Route>; pathParams: Array<[string, string]> } | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const method = req.method ?? 'GET';
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = q === -1 ? '' : rawUrl.slice(q + 1);
  let label = 'unknown';
  try {
    const found = lookup(path);
    if (!found) throw ApiErrors.unknownRoute(method, path);
    const route = found.methods.get(method === 'HEAD' ? 'GET' : method);
    if (!route) throw ApiErrors.methodNotAllowed(method, path);
    label = `${route.method} ${route.path}`;
    const body = await readBody(req);
    const params = parseQuery(query, 'query');
    // The path names the resource: its segments win over query and body parameters of the same name.
    for (const [k, v] of found.pathParams) params.set(k, v);
    let json: unknown;
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (body.length > 0) {
      if (type === 'application/json') {
        try {
          json = JSON.parse(body);
        } catch (err) {
          throw ApiErrors.badJson((err as Error).message);
        }
      } else if (type === 'application/x-www-form-urlencoded' || type === '') {
        // A parameter in both the query string and the body: Binance uses the query string's.
        for (const [k, v] of parseQuery(body, 'body')) if (!params.has(k)) params.set(k, v);
      } else {
        throw new ApiError(415, -1100, `Content-Type ${type} is not accepted; send application/x-www-form-urlencoded or application/json.`);
      }
    }
    const signed = route.signed === true;
    // The signature covers a JSON body too, or its content could be swapped under a valid signature.
    const total: SignedPayload = { query, body, form: json === undefined };
    const principal: Principal = route.scope === 'public' ? { kind: 'open', scope: 'read' } : ctx.auth.authenticate(req.headers, total, signed, ctx.wallNow());
    if (route.scope !== 'public' && principal.kind === 'open') {
      const refusal = browserRefusal(req.headers);
      if (refusal) throw refusal;
    }
    if (route.scope !== 'public' && !scopeAllows(principal.scope, route.scope)) throw ApiErrors.forbidden(route.scope);
    const apiReq: ApiRequest = { method, path, params, json, headers: req.headers, principal };
    const result = await route.handle(apiReq);
    send(res, result, method === 'HEAD');
    ctx.counters.request(label, result.status ?? 200);
  } catch (err) {
    const e = toApiError(err);
    if (e.status >= 500) ctx.log.error({ err: errorFields(err), route: label }, 'request failed');
    if (!res.headersSent) send(res, { status: e.status, body: e.toJSON() }, false);
    else res.destroy();
    ctx.counters.request(label, e.status);
  }
}

function send(res: ServerResponse, r: ApiResult, head: boolean): void {
  if (r.stream) {
    void Promise.resolve(r.stream(res)).catch(() => res.destroy());
    return;
  }
  const status = r.status ?? 200;
  const text = r.text ?? jsonText(r.body ?? {});
  res.writeHead(status, {
    'content-type': r.text !== undefined ? (r.contentType ?? 'text/plain; charset=utf-8') : 'application/json;charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(head ? undefined : text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      req.resume();
      reject(ApiErrors.tooLarge(MAX_BODY_BYTES));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        failed = true;
        reject(ApiErrors.tooLarge(MAX_BODY_BYTES));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    // A client that hangs up mid-body is its own failure, not the daemon's (no 5xx, no error log).
    const abandoned = (): void => {
      if (!failed) reject(new ApiError(400, -1100, 'The request body ended early.'));
      failed = true;
    };
    req.on('error', abandoned);
    req.on('aborted', abandoned);
  });
}

function parseQuery(text: string, where: string): URLSearchParams {
  // URLSearchParams accepts anything; malformed percent-escapes are the one thing to refuse.
  try {
    decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new ApiError(400, -1100, `Illegal characters found in the ${where}: malformed percent-encoding.`);
  }
  const params = new URLSearchParams(text);
  // Binance refuses a repeated parameter; taking one copy silently would let a value the
  // client did not mean (or a proxy appended) decide the request.
  const seen = new Set<string>();
  for (const k of params.keys()) {
    if (seen.has(k)) throw new ApiError(400, -1101, `Duplicate values for a parameter detected: '${k}' is sent more than once in the ${where}.`);
    seen.add(k);
  }
  return params;
}

/**
 * Answers what Node's HTTP parser refuses before any route sees it (malformed request line,
 * oversized or slow headers, bad Content-Length) with a `{code, msg}` like every other error,
 * then closes the connection. For `server.on('clientError', ...)`.
 */
export function handleClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // As Node's default handler: a dead socket, or one already answering a request, is just closed.
  const current = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || current?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, reason, msg] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'Request headers are too large.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'The request took too long to arrive.']
        : [400, 'Bad Request', 'Malformed HTTP request.'];
  const text = jsonText({ code: status === 431 ? -1104 : -1100, msg });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json;charset=UTF-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
}

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d{1,5})?$/i;

/**
 * Without tokens the daemon trusts whoever reaches its loopback port, and a web page in the user's
 * browser reaches it too: a form POST needs no CORS preflight, a WebSocket ignores the same-origin
 * policy, and DNS rebinding lets a page read the answers. Such a caller shows itself by an Origin
 * other than the daemon's own address, or (rebinding) a Host that is not a loopback address. For
 * `open` callers only: with tokens configured, a page has no token to send.
 */
export function browserRefusal(headers: IncomingHttpHeaders): ApiError | undefined {
  const host = headers.host ?? '';
  if (host !== '' && !LOOPBACK_HOST.test(host)) {
    return new ApiError(403, -1002, `You are not authorized to execute this request: without tokens the daemon answers only requests addressed to a loopback address, not "${host.slice(0, 100)}".`);
  }
  const origin = headers.origin;
  if (origin === undefined) return undefined;
  let originHost: string | undefined;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = undefined;
  }
  if (originHost !== undefined && originHost.toLowerCase() === host.toLowerCase()) return undefined;
  return new ApiError(403, -1002, 'You are not authorized to execute this request: without tokens the daemon refuses requests from web pages (any site the browser visits could send them); create a token for browser clients.');
}

/** Maps any failure to its answer: typed engine errors keep their Binance code, bugs are 500. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof OrderRejectedError || err instanceof RiskRejectedError) {
    const j = err.toJSON();
    return new ApiError(400, j.code, j.msg);
  }
  if (err instanceof UsageError) return new ApiError(400, -1100, err.message + (err.hint ? ` (${err.hint})` : ''));
  if (err instanceof VenueError) return new ApiError(503, -1001, err.message);
  if (err instanceof QtradeError) return new ApiError(err.exitCode === 5 ? 503 : 400, -1000, err.message);
  return new ApiError(500, -1000, 'An unknown error occurred while processing the request.');
}

function errorFields(err: unknown): Record<string, unknown> {
  const e = err as Error;
  return { type: e?.name, message: e?.message, stack: e?.stack };
}

// ------------------------------------------------------------------ parameter helpers for routes

export function requiredParam(req: ApiRequest, name: string): string {
  const v = req.params.get(name);
  if (v === null || v === '') throw ApiErrors.mandatory(name);
  return v;
}

export function optionalParam(req: ApiRequest, name: string): string | undefined {
  const v = req.params.get(name);
  return v === null || v === '' ? undefined : v;
}

/** An integer parameter within bounds; absent → `fallback`. */
export function intParam(req: ApiRequest, name: string, opts: { min?: number; max?: number; fallback?: number } = {}): number | undefined {
  const v = optionalParam(req, name);
  if (v === undefined) return opts.fallback;
  if (!/^-?\d{1,16}$/.test(v)) throw ApiErrors.badParam(name, 'expected an integer');
  const n = Number(v);
  if ((opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
    throw ApiErrors.badParam(name, `expected ${opts.min ?? '-∞'}..${opts.max ?? '∞'}`);
  }
  return n;
}

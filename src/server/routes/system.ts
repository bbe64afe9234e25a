import type { ApiResult, DaemonContext, Route } from '../types.js';

/**
 * Operations routes: /health (public), /metrics (read), /openapi.json (public) and the admin
 * shutdown. /openapi.json describes `listRoutes()` — the list the daemon dispatches, taken lazily so
 * the document can never disagree with the routes actually served.
 */

/**
 * No market message for this long → degraded, for the whole feed and for each configured symbol
 * (Binance's book ticker and diffs tick several times a second on any listed symbol).
 */
export const STALE_AFTER_MS = 60_000;
/** A probe that has not answered by then counts as failed, so /health itself never hangs. */
export const PROBE_TIMEOUT_MS = 2_000;

export type HealthStatus = 'ok' | 'degraded' | 'down';

export interface ProbeResult {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export interface HealthReport {
  status: HealthStatus;
  /** Why the status is not ok, one line each. */
  reasons: string[];
  feed: {
    state: string;
    connected: boolean;
    attempt: number;
    lagMs: number | null;
    lastMessageAgeMs: number | null;
    /** Per configured symbol: has any market data arrived, how long ago the last did, and is that past the grace period. */
    symbols: Record<string, SymbolHealth>;
  };
  uptimeSec: number;
  version: string;
  /** One entry per probe, by its name (store, bus). */
  [probe: string]: unknown;
}

export interface SymbolHealth {
  seen: boolean;
  lastMessageAgeMs: number | null;
  stale: boolean;
}

/**
 * The health rule: the store failing is `down` (orders cannot be made durable, nothing works);
 * the feed not open, no market message for the grace period (ctx.staleAfterMs, STALE_AFTER_MS by
 * default) on the whole feed or on any configured symbol, or another probe (the bus) failing is
 * `degraded` (the daemon answers, but its market data is stale or not shared). Per symbol, because
 * a busy symbol keeps the feed as a whole fresh while another gets nothing (a follower whose
 * leader does not publish it, a symbol the exchange halted).
 */
export async function checkHealth(ctx: DaemonContext): Promise<HealthReport> {
  const probes = await Promise.all(ctx.probes.map(async (p) => [p.name, await runProbe(p.check, ctx.wallNow)] as const));
  const now = ctx.wallNow();
  const feed = ctx.metrics.feed();
  const reasons: string[] = [];
  let status: HealthStatus = 'ok';
  for (const [name, r] of probes) {
    if (r.ok) continue;
    reasons.push(`${name} unreachable: ${r.error}`);
    if (name === 'store') status = 'down';
    else if (status === 'ok') status = 'degraded';
  }
  if (!feed.connected) reasons.push(`feed ${feed.state}${feed.attempt > 0 ? ` (attempt ${feed.attempt})` : ''}`);
  const staleAfterMs = ctx.staleAfterMs ?? STALE_AFTER_MS;
  const silentMs = feed.lastMessageAgeMs ?? now - feed.since;
  if (silentMs > staleAfterMs) {
    reasons.push(feed.lastMessageAgeMs === null ? `no market message since start ${Math.round(silentMs / 1000)} s ago` : `last market message ${Math.round(silentMs / 1000)} s ago`);
  }
  const symbols: Record<string, SymbolHealth> = {};
  for (const s of feed.symbols) {
    const silent = s.lastMessageAgeMs ?? now - s.since;
    const stale = silent > staleAfterMs;
    symbols[s.symbol] = { seen: s.messages > 0, lastMessageAgeMs: s.lastMessageAgeMs, stale };
    if (stale) reasons.push(symbolSilence(s.symbol, s.lastMessageAgeMs === null, silent, ctx.feedSource));
  }
  if (status === 'ok' && reasons.length > 0) status = 'degraded';
  const { since: _since, symbols: _symbols, ...feedOut } = feed;
  return {
    status,
    reasons,
    feed: { ...feedOut, symbols },
    ...Object.fromEntries(probes),
    uptimeSec: Math.floor((now - ctx.startedAt) / 1000),
    version: ctx.version,
  };
}

/** "no market data for ETHUSDT from the leader since start 12 s ago (check that ...)". */
function symbolSilence(symbol: string, never: boolean, silentMs: number, source: DaemonContext['feedSource']): string {
  const from = source ? ` from ${source.name}` : '';
  const when = never ? `since start ${Math.round(silentMs / 1000)} s ago` : `for ${Math.round(silentMs / 1000)} s`;
  const hint = source?.checkSymbol ? ` (${source.checkSymbol(symbol)})` : '';
  return `no market data for ${symbol}${from} ${when}${hint}`;
}

async function runProbe(check: () => Promise<void>, wallNow: () => number): Promise<ProbeResult> {
  const t0 = wallNow();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
        timer.unref();
      }),
    ]);
    return { ok: true, latencyMs: wallNow() - t0 };
  } catch (err) {
    return { ok: false, latencyMs: wallNow() - t0, error: publicMessage(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** /health is public: an error's message without credentials a connection URL may carry. */
function publicMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/(\w+:\/\/)[^/\s@]*@/g, '$1***@').slice(0, 300);
}

// ------------------------------------------------------------------ OpenAPI

type JsonObject = Record<string, unknown>;

const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'A qtrade token (`qtrade token create --scope read|trade|admin`). The scopes listed on an operation are the least scope it needs.',
  },
  binanceApiKey: {
    type: 'apiKey',
    in: 'header',
    name: 'X-MBX-APIKEY',
    description:
      'A Binance-style API key issued by `qtrade token create`. SIGNED operations also need `timestamp` and `signature` (HMAC-SHA256 of the query string and body with the API secret), checked as Binance does.',
  },
} as const;

const ERROR_SCHEMA = {
  type: 'object',
  required: ['code', 'msg'],
  properties: { code: { type: 'integer', description: "Binance's error code" }, msg: { type: 'string' } },
};

const SIGNED_PARAMS: Record<string, string> = {
  timestamp: 'Milliseconds since the epoch; required with X-MBX-APIKEY',
  signature: 'HMAC-SHA256 hex of the query string and body; required with X-MBX-APIKEY',
  recvWindow: 'Milliseconds the request stays valid after timestamp (default 5000, at most 60000)',
};

/** An OpenAPI 3.1 document of these routes. */
export function openApiDocument(routes: readonly Route[], version: string): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const r of routes) {
    (paths[r.path] ??= {})[r.method.toLowerCase()] = operation(r);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'qtrade daemon',
      version,
      description:
        "Binance-compatible REST (/api/v3) plus qtrade's own (/api/qtrade). Errors are Binance's {code, msg}. With no tokens created the daemon listens on loopback only and every caller has admin rights.",
    },
    paths,
    components: {
      securitySchemes: SECURITY_SCHEMES,
      schemas: { Error: ERROR_SCHEMA },
    },
  };
}

function operation(r: Route): JsonObject {
  const declared = r.params ?? {};
  const all: Record<string, string> = r.signed ? { ...declared, ...pick(SIGNED_PARAMS, (k) => !(k in declared)) } : declared;
  // `{name}` segments of the path are path parameters (always required); the rest go in the query or body.
  const inPath = new Set([...r.path.matchAll(/\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]!));
  const parameters = [
    ...[...inPath].map((name) => ({ name, in: 'path', required: true, description: (all[name] ?? name).replace(/ \(required\)$/, ''), schema: { type: 'string' } })),
    ...Object.entries(all)
      .filter(([name]) => !inPath.has(name))
      .map(([name, text]) => {
        const required = text.endsWith(' (required)');
        return { name, in: 'query', required, description: required ? text.slice(0, -' (required)'.length) : text, schema: { type: 'string' } };
      }),
  ];
  const bodyParameters = parameters.filter((p) => p.in !== 'path');
  const errorResponse = { description: "Error: Binance's {code, msg}", content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  const op: JsonObject = {
    operationId: `${r.method.toLowerCase()}${r.path.replace(/[^A-Za-z0-9]+/g, '_')}`,
    summary: r.summary,
    security: r.scope === 'public' ? [] : [{ bearer: [r.scope] }, { binanceApiKey: [r.scope] }],
    'x-qtrade-scope': r.scope,
    responses: {
      '200': { description: 'Success' },
      ...(r.scope === 'public' ? {} : { '401': errorResponse, '403': errorResponse }),
      default: errorResponse,
    },
  };
  if (r.signed) op['x-binance-signed'] = true;
  if (parameters.length > 0) op.parameters = parameters;
  if (bodyParameters.length > 0 && r.method !== 'GET') {
    // Binance clients send these form-encoded in the body as often as in the query; query values win, as on Binance.
    op.requestBody = {
      required: false,
      content: {
        'application/x-www-form-urlencoded': {
          schema: { type: 'object', properties: Object.fromEntries(bodyParameters.map((p) => [p.name, { type: 'string', description: p.description }])) },
        },
      },
    };
  }
  return op;
}

function pick(o: Record<string, string>, keep: (k: string) => boolean): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => keep(k)));
}

// ------------------------------------------------------------------ routes

/** `listRoutes` returns every route the daemon serves (this module's included), for /openapi.json. */
export function systemRoutes(ctx: DaemonContext, listRoutes: () => readonly Route[]): Route[] {
  let openApiText: string | undefined;
  return [
    {
      method: 'GET',
      path: '/health',
      scope: 'public',
      summary: 'Daemon health: feed state, lag and silence (also per symbol), store and bus reachability. 200 when ok or degraded, 503 when down.',
      async handle(): Promise<ApiResult> {
        const report = await checkHealth(ctx);
        return { status: report.status === 'down' ? 503 : 200, body: report };
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      scope: 'read',
      summary: 'Prometheus metrics (text exposition format 0.0.4).',
      handle: () => ({ text: ctx.metrics.render(), contentType: 'text/plain; version=0.0.4; charset=utf-8' }),
    },
    {
      method: 'GET',
      path: '/openapi.json',
      scope: 'public',
      summary: 'This OpenAPI 3.1 document, generated from the routes the daemon serves.',
      handle: () => {
        // Routes are fixed once the server starts, so the document is built once.
        openApiText ??= JSON.stringify(openApiDocument(listRoutes(), ctx.version));
        return { text: openApiText, contentType: 'application/json;charset=UTF-8' };
      },
    },
    {
      method: 'POST',
      path: '/api/qtrade/shutdown',
      scope: 'admin',
      summary: 'Stops the daemon gracefully (stop accepting, close sockets, flush the store).',
      handle: (req) => {
        ctx.log.warn({ by: req.principal.tokenId ?? req.principal.kind }, 'shutdown requested over the API');
        ctx.shutdown('api');
        return { body: { stopping: true } };
      },
    },
  ];
}

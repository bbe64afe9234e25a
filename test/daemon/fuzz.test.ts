import net from 'node:net';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MAX_BODY_BYTES } from '../../src/server/http.js';
import { allRoutes } from '../../src/server/routes/index.js';
import { TokenStore } from '../../src/server/tokens.js';
import type { Route } from '../../src/server/types.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

/**
 * 10k invalid HTTP requests and WebSocket frames against a live daemon: none may crash it or get a
 * 5xx; every refusal is a 4xx with Binance's `{code, msg}`. Requests invalid by construction must
 * get the exact refusal their flaw calls for. Routes come from allRoutes, so new ones are fuzzed
 * too. FUZZ_SEED=<n> replays a run.
 */

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);
const RUNS = 10_000;
const CONCURRENCY = 32;
const WS_CONNECTIONS = 16;
const T = Date.UTC(2024, 0, 2, 0, 0, 10);

let d: TestDaemon;
let routes: Route[];
let agent: Agent;
let adminToken: string;
let apiKey: string;
/** Started first and checked last: it takes the server's whole headersTimeout. */
let slowloris: Promise<{ status: number; body: string }>;

beforeAll(async () => {
  d = await startTestDaemon();
  routes = allRoutes(d.daemon.ctx);
  const store = new TokenStore(d.dataDir);
  adminToken = store.create({ scope: 'admin', name: 'fuzz-admin' }).token!;
  apiKey = store.create({ scope: 'admin', name: 'fuzz-key', apiKey: true }).apiKey!;
  agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 10_000 });
  slowloris = raw('GET /api/v3/ping HTTP/1.1\r\nHost: x\r\nX-Slow: ', { keepWriting: true });
  slowloris.catch(() => undefined); // checked (and reported) by its own test
  // Market data in place (a trade, a ticker, a synced book), so the fuzz reaches the routes' real
  // data paths rather than their "nothing has arrived yet" answers.
  const node = d.daemon.node;
  d.rest.depth.set('BTCUSDT', { lastUpdateId: 500, bids: [['60000.00', '1.00']], asks: [['60010.00', '0.50']] });
  d.trade({ id: 1, time: T, price: '60005.00', qty: '0.02' });
  d.fake.send('btcusdt@miniTicker', { e: '24hrMiniTicker', E: T, s: 'BTCUSDT', c: '60005.00', o: '59000.00', h: '61000.00', l: '58000.00', v: '10', q: '600000' });
  d.fake.send('btcusdt@bookTicker', { u: 501, s: 'BTCUSDT', b: '60000.00', B: '1.00', a: '60010.00', A: '0.50' });
  d.fake.send('btcusdt@depth@100ms', { e: 'depthUpdate', E: T, s: 'BTCUSDT', U: 501, u: 501, b: [], a: [] });
  await d.fake.waitFor(
    () => node.market.get('BTCUSDT')?.lastTrade !== undefined && node.market.get('BTCUSDT')?.ticker !== undefined && node.kernel.orderBook('BTCUSDT')?.status === 'synced',
    'a trade, a ticker and a synced book',
    10_000,
  );
});
afterAll(async () => {
  await agent?.close();
  await d?.close();
});

// ------------------------------------------------------------------ generators

interface Case {
  kind: string;
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body?: string;
  /** The refusal this request must get; undefined: any non-5xx answer (it may be accidentally valid). */
  want?: { status: number; code: number };
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'] as const;
/** Routes a fuzzer must not call validly: they end the daemon under test. */
const UNSAFE = /\/shutdown$/;

const paramValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer().map(String),
  fc.double({ noNaN: false }).map(String),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
  fc.integer({ min: 100, max: 2000 }).map((n) => '9'.repeat(n)),
  fc.constantFrom('', '-1', '0', 'null', 'NaN', 'Infinity', '1e309', '0x10', '1_000', ' 1', 'true', '[]', '{}', '["BTCUSDT"]', 'BTCUSDT', 'btcusdt', 'ETHBTC', 'BUY', 'SELL', 'LIMIT', 'MARKET', 'GTC', '0.00000001', '99999999999999999999.99', '-0', '\u0000', '../../etc/passwd'),
);
const paramName = (r: Route): fc.Arbitrary<string> =>
  fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...Object.keys(r.params ?? {}), 'symbol', 'limit', 'timestamp', 'recvWindow', 'orderId', 'side', 'type', 'quantity', 'price') }, { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) });

/** A query string without repeated names, every part percent-encoded properly. */
const cleanQuery = (r: Route, maxParams = 6): fc.Arbitrary<string> =>
  fc
    .uniqueArray(fc.tuple(paramName(r), paramValue), { maxLength: maxParams, selector: ([k]) => k })
    .map((ps) => ps.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));

type Headers = Record<string, string>;
const admin = (): Headers => ({ authorization: `Bearer ${adminToken}` });
const credentials: fc.Arbitrary<Headers> = fc.oneof(
  fc.constant<Headers>({}),
  fc.constant(0).map(admin),
  fc.string({ minLength: 1, maxLength: 80 }).map((t): Headers => ({ authorization: `Bearer qt_${t.replace(/[^\x21-\x7e]/g, 'x')}` })),
  fc.constantFrom<Headers>({ authorization: 'Basic YWRtaW46YWRtaW4=' }, { authorization: 'Bearer' }, { authorization: 'bearer  a b' }, { 'x-mbx-apikey': 'x'.repeat(64) }),
);

const BAD_ESCAPES = ['%', '%z', '%zz', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '%FF', 'a=%', 'a%2=1', '%%', 'x=%u0041'];
const BAD_TYPES = ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'image/png', 'application/jsonx', 'form', 'application/x-www-form-urlencoded-x'];

function caseArbitrary(): fc.Arbitrary<Case> {
  const real = new Set(routes.map((r) => r.path));
  const methodsOf = (p: string): Set<string> => new Set(routes.filter((r) => r.path === p).map((r) => r.method));
  const route = fc.constantFrom(...routes);
  const withBody = fc.constantFrom(...routes.filter((r) => r.method !== 'GET'));
  const guarded = fc.constantFrom(...routes.filter((r) => r.scope !== 'public'));
  const probeable = fc.constantFrom(...routes.filter((r) => !UNSAFE.test(r.path)));
  const refusal = (status: number, code: number) => ({ status, code });

  const unknownPath = fc
    .tuple(
      route,
      fc.constantFrom<(p: string, s: string) => string>(
        (p, s) => p + s,
        (p) => p.toUpperCase(),
        (p) => `${p}/`,
        (p) => `/${p}`,
        (p, s) => p.replace(/\/[^/]*$/, `/${s}`),
        (p) => p.replace('/v3/', '/v4/'),
        (p) => p.slice(0, -1),
        (p) => `${p}%00`,
        (p) => p.replace(/\//g, '%2F'),
        (p, s) => `${p}/${s}`,
      ),
      fc.stringMatching(/^[A-Za-z0-9_.~-]{1,12}$/),
      fc.constantFrom(...METHODS),
      credentials,
    )
    .map(([r, mutate, s, method, headers]) => ({ kind: 'unknown path', method, path: mutate(r.path, s), query: '', headers }))
    .filter((c) => !real.has(c.path) && c.path.startsWith('/'))
    .map((c): Case => ({ ...c, want: refusal(404, -1020) }));

  const wrongMethod = fc
    .tuple(route, fc.constantFrom(...METHODS), credentials)
    .filter(([r, m]) => !methodsOf(r.path).has(m) && !(m === 'HEAD' && methodsOf(r.path).has('GET')))
    .map(([r, method, headers]): Case => ({ kind: 'wrong method', method, path: r.path, query: '', headers, want: refusal(405, -1020) }));

  const badEscape = fc
    .tuple(route, fc.constantFrom(...BAD_ESCAPES), fc.boolean(), credentials)
    .chain(([r, bad, inBody, headers]) =>
      cleanQuery(r).map((q): Case => {
        const broken = q ? `${q}&${bad}` : bad;
        return inBody && r.method !== 'GET'
          ? { kind: 'bad escape in body', method: r.method, path: r.path, query: '', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: broken, want: refusal(400, -1100) }
          : { kind: 'bad escape in query', method: r.method, path: r.path, query: broken, headers, want: refusal(400, -1100) };
      }),
    );

  const duplicate = fc
    .tuple(route, paramName(routes[0]!), paramValue, paramValue, credentials)
    .chain(([r, k, v1, v2, headers]) =>
      cleanQuery(r).map((q): Case => {
        const rest = new URLSearchParams(q);
        rest.delete(k);
        const parts = [rest.toString(), `${encodeURIComponent(k)}=${encodeURIComponent(v1)}`, `${encodeURIComponent(k)}=${encodeURIComponent(v2)}`].filter(Boolean);
        return { kind: 'repeated parameter', method: r.method, path: r.path, query: parts.join('&'), headers, want: refusal(400, -1101) };
      }),
    );

  const oversized = fc
    .tuple(withBody, fc.integer({ min: 1, max: 8192 }), fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain'), credentials)
    .map(([r, extra, type, headers]): Case => ({ kind: 'oversized body', method: r.method, path: r.path, query: '', headers: { ...headers, 'content-type': type }, body: 'a'.repeat(MAX_BODY_BYTES + extra), want: refusal(413, -1104) }));

  const wrongType = fc
    .tuple(withBody, fc.constantFrom(...BAD_TYPES), fc.string({ minLength: 1, maxLength: 200 }), credentials)
    .map(([r, type, body, headers]): Case => ({ kind: 'wrong content type', method: r.method, path: r.path, query: '', headers: { ...headers, 'content-type': type }, body, want: refusal(415, -1100) }));

  const badJson = fc
    .tuple(withBody, fc.oneof(fc.string({ minLength: 1, maxLength: 300 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 100 }), fc.jsonValue().map((v) => JSON.stringify(v).slice(0, -1))), fc.constantFrom('application/json', 'Application/JSON; charset=utf-8'), credentials)
    .map(([r, text, type, headers]) => ({ r, text: isJson(text) ? `{${text}` : text, type, headers }))
    .filter(({ text }) => text.length > 0 && !isJson(text))
    .map(({ r, text, type, headers }): Case => ({ kind: 'invalid JSON', method: r.method, path: r.path, query: '', headers: { ...headers, 'content-type': type }, body: text, want: refusal(400, -1100) }));

  const hugeUrl = fc
    .tuple(route, fc.integer({ min: 17 * 1024, max: 40 * 1024 }))
    .map(([r, n]): Case => ({ kind: 'huge query', method: r.method, path: r.path, query: `symbol=${'A'.repeat(n)}`, headers: admin(), want: refusal(431, -1104) }));

  const unauthenticated = fc
    .tuple(
      guarded,
      fc.constantFrom<Headers>({}, { authorization: 'Basic YWRtaW46YWRtaW4=' }, { authorization: 'Bearer qt_00000000_nope' }, { authorization: 'Token x' }, { 'x-mbx-apikey': 'nope' }),
    )
    .chain(([r, headers]) => cleanQuery(r).map((query): Case => ({ kind: 'no or bad credentials', method: r.method, path: r.path, query, headers, want: refusal(401, -2015) })));

  const badSignature = fc
    .tuple(
      fc.constantFrom(...routes.filter((r) => r.signed)),
      fc.stringMatching(/^[0-9a-f]{64}$/),
    )
    .chain(([r, sig]) =>
      cleanQuery(r, 4).map((q): Case => {
        const rest = new URLSearchParams(q);
        for (const k of ['timestamp', 'recvWindow', 'signature']) rest.delete(k);
        const query = [rest.toString(), `timestamp=${d.daemon.ctx.wallNow()}`, `signature=${sig}`].filter(Boolean).join('&');
        return { kind: 'wrong signature', method: r.method, path: r.path, query, headers: { 'x-mbx-apikey': apiKey }, want: refusal(401, -1022) };
      }),
    );

  const probe = fc
    .tuple(
      probeable,
      fc.oneof(
        fc.constant<string | undefined>(undefined),
        fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
        fc.integer({ min: 1000, max: 20_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
        fc.dictionary(fc.constantFrom('symbol', 'side', 'qty', 'quoteQty', 'limit', 'stop', 'type', 'tif', 'clientId', 'reason', 'key', 'value', 'balances', 'name', '__proto__', 'constructor'), fc.oneof(paramValue, fc.jsonValue({ maxDepth: 2 }))).map((o) => JSON.stringify(o)),
      ),
    )
    .chain(([r, json]) =>
      cleanQuery(r).map((query): Case => ({
        kind: 'random parameters',
        method: r.method,
        path: r.path,
        query,
        headers: json !== undefined && r.method !== 'GET' ? { ...admin(), 'content-type': 'application/json' } : admin(),
        body: r.method !== 'GET' ? json : undefined,
      })),
    );

  return fc.oneof(
    { weight: 8, arbitrary: probe },
    { weight: 2, arbitrary: unknownPath },
    { weight: 1, arbitrary: wrongMethod },
    { weight: 1, arbitrary: badEscape },
    { weight: 1, arbitrary: duplicate },
    { weight: 1, arbitrary: wrongType },
    { weight: 1, arbitrary: badJson },
    { weight: 2, arbitrary: unauthenticated },
    { weight: 1, arbitrary: badSignature },
    { weight: 1, arbitrary: fc.oneof({ weight: 3, arbitrary: oversized }, { weight: 1, arbitrary: hugeUrl }) },
  );
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------ WebSocket frames

interface Frame {
  kind: string;
  data: string | Buffer;
  binary: boolean;
  /** An error reply, or the connection closed with one of these codes. */
  want: 'error' | { close: number };
}

const WS_METHODS = ['SUBSCRIBE', 'UNSUBSCRIBE', 'LIST_SUBSCRIPTIONS', 'SET_PROPERTY', 'GET_PROPERTY'];

/** Stream names no daemon serves: wrong types, malformed, unknown symbols, symbols off the feed, unknown kinds. */
const badStreamName: fc.Arbitrary<unknown> = fc.oneof(
  fc.oneof(fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.string(), { maxLength: 2 }), fc.object({ maxDepth: 1 })),
  fc.constantFrom('', '@trade', 'btcusdt', 'btcusdt@', 'btcusdt@kline_7m', 'btcusdt@kline_5m', 'btcusdt@depth7', 'btcusdt@depth@250ms', 'zzzzzz@trade', 'ethbtc@aggTrade', 'BTCUSDT@@trade', 'b'.repeat(101) + '@trade'),
  fc.stringMatching(/^[a-z]{3,10}@[a-z]{1,10}$/).filter((n) => !/^btcusdt@(aggtrade|trade|bookticker|miniticker|depth)$/i.test(n)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }).filter((n) => !n.includes('@')),
);

/** A request ID Binance refuses: not a safe integer, nor an alphanumeric string of at most 36 characters. */
const badId: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(2 ** 53, -(2 ** 53) - 2, 1e300, 1.5, -0.25, 'a'.repeat(37), 'with space', '', 'ünï', true, [], {}, [1]),
  fc.bigInt({ min: 2n ** 53n, max: 10n ** 30n }).map((n) => Number(n)),
  fc.string({ minLength: 37, maxLength: 500 }),
);

function frameArbitrary(): fc.Arbitrary<Frame> {
  const id = fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.stringMatching(/^[A-Za-z0-9]{1,36}$/), fc.constant(null));
  const json = (kind: string, v: fc.Arbitrary<unknown>): fc.Arbitrary<Frame> => v.map((x) => ({ kind, data: JSON.stringify(x), binary: false, want: 'error' as const }));
  const otherMethod = fc.oneof(
    fc.string({ maxLength: 20 }).filter((m) => !WS_METHODS.includes(m)),
    fc.constantFrom('subscribe', 'Subscribe', 'PING', 'LIST', 'SUBSCRIBE ', 123, null, [], { m: 1 }, true),
  );
  return fc.oneof(
    fc.uint8Array({ minLength: 0, maxLength: 300 }).map((b): Frame => ({ kind: 'binary frame', data: Buffer.from(b), binary: true, want: 'error' })),
    fc
      .tuple(fc.uint8Array({ maxLength: 50 }), fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80], [0xe2, 0x82]))
      .map(([b, bad]): Frame => ({ kind: 'invalid UTF-8 text', data: Buffer.concat([Buffer.from(b).map((x) => x & 0x7f), Buffer.from(bad)]), binary: false, want: { close: 1007 } })),
    fc
      .oneof(fc.string({ maxLength: 200 }), fc.jsonValue().map((v) => JSON.stringify(v).slice(1)), fc.constantFrom('{', '{"method":"SUBSCRIBE",', "{'method':'SUBSCRIBE'}", 'NaN', '{"id":01}'))
      .filter((t) => !isJson(t))
      .map((t): Frame => ({ kind: 'invalid JSON', data: t, binary: false, want: 'error' })),
    json('not an object', fc.oneof(fc.integer(), fc.string(), fc.array(fc.jsonValue(), { maxLength: 3 }), fc.constant(null), fc.boolean())),
    json('no method', fc.record({ params: fc.array(fc.string(), { maxLength: 2 }), id })),
    json('unknown method', fc.record({ method: otherMethod, params: fc.array(fc.string(), { maxLength: 2 }), id })),
    json(
      'params not an array',
      fc.record({ method: fc.constantFrom(...WS_METHODS), params: fc.oneof(fc.string(), fc.integer(), fc.object({ maxDepth: 1 }), fc.constant(null), fc.boolean()), id }),
    ),
    json('bad stream names', fc.record({ method: fc.constant('SUBSCRIBE'), params: fc.array(badStreamName, { minLength: 1, maxLength: 4 }), id })),
    json('empty subscription', fc.record({ method: fc.constantFrom('SUBSCRIBE', 'UNSUBSCRIBE'), params: fc.constant([]), id })),
    json('unsubscribe non-strings', fc.record({ method: fc.constant('UNSUBSCRIBE'), params: fc.array(fc.oneof(fc.integer(), fc.constant(null), fc.object({ maxDepth: 1 })), { minLength: 1, maxLength: 3 }), id })),
    json('list with params', fc.record({ method: fc.constant('LIST_SUBSCRIPTIONS'), params: fc.array(fc.jsonValue(), { minLength: 1, maxLength: 3 }), id })),
    json(
      'bad property',
      fc.oneof(
        fc.record({ method: fc.constant('SET_PROPERTY'), params: fc.oneof(fc.constant([]), fc.tuple(fc.constant('combined')), fc.tuple(fc.constant('combined'), fc.oneof(fc.string(), fc.integer(), fc.constant(null))), fc.tuple(fc.string().filter((p) => p !== 'combined'), fc.boolean())), id }),
        fc.record({ method: fc.constant('GET_PROPERTY'), params: fc.oneof(fc.constant([]), fc.tuple(fc.string().filter((p) => p !== 'combined')), fc.tuple(fc.constant('combined'), fc.constant('combined'))), id }),
      ),
    ),
    json('bad id', fc.record({ method: fc.constantFrom(...WS_METHODS), params: fc.constant(['btcusdt@aggTrade']), id: badId })),
    fc.integer({ min: 64 * 1024 + 1, max: 200 * 1024 }).map((n): Frame => ({ kind: 'oversized message', data: JSON.stringify({ method: 'SUBSCRIBE', params: ['x'.repeat(n)], id: 1 }), binary: false, want: 'error' })),
  );
}

/** One client connection answering frames in order; reopened whenever the daemon closes it. */
class FuzzClient {
  private ws!: WebSocket;
  private waiter: ((r: { text?: string; close?: { code: number; reason: string } }) => void) | undefined;
  closes = 0;

  async open(): Promise<void> {
    const ws = new WebSocket(`${d.url.replace(/^http/, 'ws')}/ws`, { headers: admin() });
    ws.on('message', (data: Buffer) => this.take({ text: data.toString('utf8') }));
    ws.on('close', (code: number, reason: Buffer) => this.take({ close: { code, reason: reason.toString('utf8') } }));
    ws.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_q, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    this.ws = ws;
  }

  private take(r: { text?: string; close?: { code: number; reason: string } }): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.(r);
  }

  /** Sends one frame and returns what came back first: a reply, or the close. */
  async exchange(f: Frame): Promise<{ text?: string; close?: { code: number; reason: string } }> {
    if (this.ws.readyState !== WebSocket.OPEN) await this.open();
    const answer = new Promise<{ text?: string; close?: { code: number; reason: string } }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply within 5 s')), 5_000);
      this.waiter = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
    });
    this.ws.send(f.data, { binary: f.binary });
    const r = await answer;
    if (r.close) {
      this.closes++;
      await this.open();
    }
    return r;
  }

  close(): void {
    this.ws.removeAllListeners('close');
    this.ws.close();
  }
}

function wsVerdict(f: Frame, r: { text?: string; close?: { code: number; reason: string } }): string | undefined {
  if (f.want === 'error') {
    if (r.close) return `closed ${r.close.code} "${r.close.reason}", wanted an error reply`;
    let v: { error?: { code?: unknown; msg?: unknown }; id?: unknown };
    try {
      v = JSON.parse(r.text!) as typeof v;
    } catch {
      return `reply is not JSON: ${r.text?.slice(0, 100)}`;
    }
    if (typeof v.error?.code !== 'number' || typeof v.error.msg !== 'string' || v.error.msg === '') return `not an error reply: ${r.text?.slice(0, 200)}`;
    return undefined;
  }
  if (!r.close) return `reply ${r.text?.slice(0, 100)}, wanted close ${f.want.close}`;
  return r.close.code === f.want.close ? undefined : `closed ${r.close.code} "${r.close.reason}", wanted ${f.want.close}`;
}

// ------------------------------------------------------------------ checks

interface Outcome {
  status: number;
  text: string;
}

async function send(c: Case): Promise<Outcome> {
  const res = await request(`${d.url}${c.path}${c.query ? `?${c.query}` : ''}`, { method: c.method as 'GET', headers: c.headers, body: c.body, dispatcher: agent });
  return { status: res.statusCode, text: await res.body.text() };
}

/** What is wrong with this answer to this case, or undefined. */
function verdict(c: Case, o: Outcome): string | undefined {
  if (o.status >= 500) return `${o.status}`;
  if (c.want && o.status !== c.want.status) return `status ${o.status}, wanted ${c.want.status}`;
  if (c.method === 'HEAD') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(o.text);
  } catch {
    // Text routes (Prometheus /metrics) answer 200 text by design.
    return o.status < 300 ? undefined : 'body is not JSON';
  }
  if (o.status < 400) return undefined;
  const e = body as { code?: unknown; msg?: unknown };
  if (typeof e.code !== 'number' || typeof e.msg !== 'string' || e.msg === '') return 'not a {code, msg} body';
  if (c.want && e.code !== c.want.code) return `code ${e.code}, wanted ${c.want.code}`;
  return undefined;
}

const show = (c: Case, o: Outcome | Error): string =>
  `${c.kind}: ${c.method} ${c.path}${c.query ? `?${c.query.slice(0, 200)}` : ''} ${JSON.stringify(c.headers)} body=${JSON.stringify(c.body?.slice(0, 200))} -> ${o instanceof Error ? o.message : `${o.status} ${o.text.slice(0, 300)}`}`;

async function pool<T>(items: readonly T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function ping(): Promise<void> {
  const res = await request(`${d.url}/api/v3/ping`, { dispatcher: agent });
  expect(res.statusCode).toBe(200);
  expect(await res.body.json()).toEqual({});
}

/** One raw exchange on a fresh socket: what the server answers (status line and body) before it closes. */
function raw(bytes: string | Buffer, opts: { keepWriting?: boolean } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(d.url);
    const socket = net.connect(Number(url.port), url.hostname);
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (data += c));
    socket.on('error', (err) => (data ? undefined : reject(err)));
    socket.on('close', () => {
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(data);
      const body = data.slice(data.indexOf('\r\n\r\n') + 4);
      resolve({ status: m ? Number(m[1]) : 0, body });
    });
    socket.write(bytes);
    if (!opts.keepWriting) socket.end();
  });
}

// ------------------------------------------------------------------ tests

describe('fuzzing the daemon', () => {
  it(`answers ${RUNS} invalid or random HTTP requests with 4xx {code, msg}, never 5xx (seed ${SEED})`, async () => {
    const cases = fc.sample(caseArbitrary(), { numRuns: RUNS, seed: SEED });
    const failures: string[] = [];
    const kinds = new Map<string, number>();
    await pool(cases, CONCURRENCY, async (c) => {
      kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
      try {
        const o = await send(c);
        const bad = verdict(c, o);
        if (bad) failures.push(`${bad} — ${show(c, o)}`);
      } catch (err) {
        failures.push(`no answer — ${show(c, err as Error)}`);
      }
    });
    // Every kind of flaw was tried, many times each.
    expect([...kinds.keys()].sort()).toEqual(
      ['bad escape in body', 'bad escape in query', 'huge query', 'invalid JSON', 'no or bad credentials', 'oversized body', 'random parameters', 'repeated parameter', 'unknown path', 'wrong content type', 'wrong method', 'wrong signature'].sort(),
    );
    expect(failures.slice(0, 15), `${failures.length} failures with FUZZ_SEED=${SEED}`).toEqual([]);
    await ping();
    expect(d.logs.filter((l) => l.includes('"request failed"'))).toEqual([]);
  }, 180_000);

  it(`answers ${RUNS} invalid WebSocket frames on /ws with error replies or a close with a code, and keeps serving (seed ${SEED})`, async () => {
    const frames = fc.sample(frameArbitrary(), { numRuns: RUNS, seed: SEED });
    const clients = await Promise.all(
      Array.from({ length: WS_CONNECTIONS }, async () => {
        const c = new FuzzClient();
        await c.open();
        return c;
      }),
    );
    const failures: string[] = [];
    const kinds = new Map<string, number>();
    const shares = clients.map((_, i) => frames.filter((_f, j) => j % clients.length === i));
    await Promise.all(
      clients.map(async (c, i) => {
        for (const f of shares[i]!) {
          kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
          try {
            const bad = wsVerdict(f, await c.exchange(f));
            if (bad) failures.push(`${f.kind}: ${bad} — sent ${JSON.stringify(String(f.data).slice(0, 200))}`);
          } catch (err) {
            failures.push(`${f.kind}: ${(err as Error).message} — sent ${JSON.stringify(String(f.data).slice(0, 200))}`);
          }
        }
      }),
    );
    for (const c of clients) c.close();
    expect(kinds.size).toBe(14);
    expect(failures.slice(0, 15), `${failures.length} failures with FUZZ_SEED=${SEED}`).toEqual([]);
    expect(d.logs.filter((l) => l.includes('"WebSocket request failed"'))).toEqual([]);

    // Still serving: REST, and a fresh WebSocket subscription.
    await ping();
    const ok = new FuzzClient();
    await ok.open();
    expect(JSON.parse((await ok.exchange({ kind: 'valid', data: JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@aggTrade'], id: 7 }), binary: false, want: 'error' })).text!)).toEqual({ result: null, id: 7 });
    ok.close();
  }, 180_000);

  it('answers what the HTTP parser refuses (malformed, oversized or slow requests) with a 4xx {code, msg} and closes', async () => {
    const big = 'x'.repeat(20 * 1024);
    const cases: Array<[string, string, number]> = [
      ['garbage', 'GARBAGE\r\n\r\n', 400],
      ['bad version', 'GET /api/v3/ping HTTP/9.9\r\nHost: x\r\n\r\n', 400],
      ['unknown method', 'BREW /api/v3/ping HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['header without colon', 'GET /api/v3/ping HTTP/1.1\r\nHost x\r\n\r\n', 400],
      ['bad header name', 'GET /api/v3/ping HTTP/1.1\r\nHo st: x\r\n\r\n', 400],
      ['bad content-length', 'POST /api/qtrade/orders HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400],
      ['negative content-length', 'POST /api/qtrade/orders HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', 400],
      ['two content-lengths', 'POST /api/qtrade/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400],
      ['length and chunked', 'POST /api/qtrade/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
      ['bad chunk', 'POST /api/qtrade/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n', 400],
      ['control character in path', 'GET /api/v3/\x01ping HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['header too large', `GET /api/v3/ping HTTP/1.1\r\nHost: x\r\nX-Pad: ${big}\r\n\r\n`, 431],
      ['declared body too large', `POST /api/qtrade/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${MAX_BODY_BYTES * 1024}\r\nConnection: close\r\n\r\n{`, 413],
    ];
    for (const [name, bytes, status] of cases) {
      const r = await raw(bytes);
      expect(r.status, `${name}: ${r.body}`).toBe(status);
      const body = JSON.parse(r.body) as { code: unknown; msg: unknown };
      expect(typeof body.code, name).toBe('number');
      expect(typeof body.msg, name).toBe('string');
    }
    await ping();
  });

  it('times out a slowloris client that never finishes its headers with a 408 {code, msg}', async () => {
    const r = await slowloris;
    expect(r.status).toBe(408);
    expect(JSON.parse(r.body)).toEqual({ code: -1100, msg: expect.any(String) });
    await ping();
  }, 40_000);
});

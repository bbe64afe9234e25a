import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { allRoutes } from '../../src/server/routes/index.js';
import { TokenStore, type TokenRecord } from '../../src/server/tokens.js';
import type { Route, Scope } from '../../src/server/types.js';
import { ROOT, runCli, tempDir } from '../helpers/cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

/**
 * Who may call what, over real HTTP against an in-process daemon: open on loopback without tokens,
 * closed once one exists, scopes read < trade < admin, revocation at once, Binance's HMAC
 * signatures, WebSocket upgrades, and no credential ever in a log line or an answer. The route
 * list is the daemon's own (allRoutes), so routes added later are covered too.
 */

let d: TestDaemon;
let routes: Route[];
let store: TokenStore;
/** Every answer body this file received from the daemon, for the leak scan. */
const bodies: string[] = [];
/** Every credential issued here, with what must never be shown of it. */
const secrets: string[] = [];

beforeAll(async () => {
  // trace: the most the daemon would ever log, so the leak scan sees all of it.
  d = await startTestDaemon({ logLevel: 'trace' });
  routes = allRoutes(d.daemon.ctx);
  store = new TokenStore(d.dataDir);
});
afterAll(async () => {
  await d?.close();
});

interface Answer {
  status: number;
  text: string;
  json: unknown;
}

async function call(method: string, route: string, opts: { headers?: Record<string, string>; query?: string; body?: string; contentType?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/x-www-form-urlencoded';
  const res = await fetch(`${d.url}${route}${opts.query ? `?${opts.query}` : ''}`, { method, headers, body: opts.body });
  const text = await res.text();
  bodies.push(text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/** Opens a WebSocket and says whether the upgrade succeeded, or the refusal's HTTP status. */
const wsOutcome = (url: string, headers: Record<string, string> = {}): Promise<number | 'open'> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        bodies.push(text);
        resolve(res.statusCode ?? 0);
      });
    });
    ws.once('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

function issueToken(scope: Scope, name: string): string {
  const t = store.create({ scope, name }).token!;
  secrets.push(t);
  return t;
}

function issuePair(scope: Scope, name: string): { apiKey: string; apiSecret: string } {
  const p = store.create({ scope, name, apiKey: true });
  secrets.push(p.apiKey!, p.apiSecret!);
  return { apiKey: p.apiKey!, apiSecret: p.apiSecret! };
}

const sign = (secret: string, payload: string): string => createHmac('sha256', secret).update(payload).digest('hex');

function expectRefusal(a: Answer, status: number, code: number): void {
  expect(a.status, a.text).toBe(status);
  expect(a.json).toEqual({ code, msg: expect.any(String) });
}

const ORDER = 'symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.00100000&price=10000.00';
const guarded = (): Route[] => routes.filter((r) => r.scope !== 'public');
const needing = (scope: Scope): Route[] => routes.filter((r) => r.scope === scope);

describe('daemon users and tokens', () => {
  it('serves every route to anyone on loopback while no token exists', async () => {
    expect(store.list()).toEqual([]);
    const gets = guarded().filter((r) => r.method === 'GET');
    expect(gets.length).toBeGreaterThan(5);
    for (const r of gets) {
      const a = await call('GET', r.path);
      expect([401, 403], `${r.path}: ${a.text}`).not.toContain(a.status);
    }
    // Even an admin action: nothing stands between a loopback caller and the account.
    const halt = await call('POST', '/api/qtrade/risk/halt', { body: JSON.stringify({ reason: 'open test' }), contentType: 'application/json' });
    expect(halt.status, halt.text).toBe(200);
    expect((await call('POST', '/api/qtrade/risk/resume', { body: '{}', contentType: 'application/json' })).status).toBe(200);
    expect(d.daemon.node.trading.status().state).toBe('ACTIVE');
  });

  it('while open, refuses what a web page could send: a foreign Origin, or a Host that is not loopback (DNS rebinding)', async () => {
    const port = new URL(d.url).port;
    const raw = async (method: string, route: string, headers: Record<string, string>, body?: string): Promise<Answer> => {
      const res = await request(`${d.url}${route}`, { method: method as 'GET', headers, body });
      const text = await res.body.text();
      bodies.push(text);
      return { status: res.statusCode, text, json: JSON.parse(text) as unknown };
    };
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    // What a page can send without a CORS preflight: a form POST, a bodiless POST, a text/plain body.
    expectRefusal(await raw('POST', '/api/v3/order/test', { ...form, origin: 'http://evil.example' }, ORDER), 403, -1002);
    expectRefusal(await raw('POST', '/api/qtrade/risk/halt', { origin: 'http://evil.example' }), 403, -1002);
    expectRefusal(await raw('POST', '/api/qtrade/risk/halt', { origin: 'null' }), 403, -1002);
    expectRefusal(await raw('POST', '/api/qtrade/risk/halt', { origin: 'http://evil.example', 'content-type': 'text/plain' }, '{"reason":"csrf"}'), 415, -1100);
    expectRefusal(await raw('GET', '/api/qtrade/balances', { host: `evil.example:${port}` }), 403, -1002);
    expectRefusal(await raw('GET', '/api/qtrade/balances', { host: `evil.example:${port}`, origin: `http://evil.example:${port}` }), 403, -1002);
    expect(d.daemon.node.trading.status().state).toBe('ACTIVE');
    // The daemon's own addresses, and clients that send no Origin, are served.
    expect((await raw('GET', '/api/qtrade/balances', { origin: `http://127.0.0.1:${port}` })).status).toBe(200);
    expect((await raw('GET', '/api/qtrade/balances', { host: `localhost:${port}` })).status).toBe(200);
    expect((await raw('POST', '/api/v3/order/test', form, ORDER)).status).toBe(200);
    // Public routes say nothing worth protecting.
    expect((await raw('GET', '/api/v3/ping', { origin: 'http://evil.example' })).status).toBe(200);
    // Browsers open WebSockets to any host without asking: the upgrade gets the same check.
    const wsUrl = d.url.replace(/^http/, 'ws');
    expect(await wsOutcome(`${wsUrl}/ws`, { origin: 'http://evil.example' })).toBe(403);
    expect(await wsOutcome(`${wsUrl}/stream?streams=orders`, { host: `evil.example:${port}` })).toBe(403);
    expect(await wsOutcome(`${wsUrl}/ws`, { origin: `http://127.0.0.1:${port}` })).toBe('open');
    expect(await wsOutcome(`${wsUrl}/ws`)).toBe('open');
  });

  it('refuses every non-public route without credentials once a token exists; public ones stay open', async () => {
    issueToken('admin', 'root');
    expect(guarded().length).toBeGreaterThan(10);
    for (const r of guarded()) {
      expectRefusal(await call(r.method, r.path), 401, -2015);
      // A malformed or unknown credential is no better than none.
      expectRefusal(await call(r.method, r.path, { headers: bearer('qt_00000000_nope') }), 401, -2015);
      expectRefusal(await call(r.method, r.path, { headers: { authorization: 'Basic cm9vdDpyb290' } }), 401, -2015);
      expectRefusal(await call(r.method, r.path, { headers: { 'x-mbx-apikey': 'A'.repeat(64) } }), 401, -2015);
    }
    for (const r of routes.filter((x) => x.scope === 'public' && x.method === 'GET')) {
      const a = await call('GET', r.path);
      expect(a.status, `${r.path}: ${a.text}`).toBeLessThan(400);
    }
  });

  it('holds each token to its scope: read cannot trade, trade cannot control risk or strategies', async () => {
    const read = issueToken('read', 'reader');
    const trade = issueToken('trade', 'trader');
    const admin = issueToken('admin', 'operator');
    expect(needing('trade').length).toBeGreaterThan(0);
    expect(needing('admin').map((r) => `${r.method} ${r.path}`)).toContain('POST /api/qtrade/risk/halt');

    for (const r of [...needing('trade'), ...needing('admin')]) expectRefusal(await call(r.method, r.path, { headers: bearer(read) }), 403, -2015);
    for (const r of needing('admin')) expectRefusal(await call(r.method, r.path, { headers: bearer(trade) }), 403, -2015);
    for (const r of needing('read').filter((x) => x.method === 'GET' && !x.signed)) {
      const a = await call('GET', r.path, { headers: bearer(read) });
      expect([401, 403], `${r.path}: ${a.text}`).not.toContain(a.status);
    }
    expect(d.daemon.node.trading.status().state).toBe('ACTIVE');

    // What each may do, it can: a trade token checks an order, an admin token halts.
    expectRefusal(await call('POST', '/api/v3/order/test', { headers: bearer(read), body: ORDER }), 403, -2015);
    const test = await call('POST', '/api/v3/order/test', { headers: bearer(trade), body: ORDER });
    expect(test.status, test.text).toBe(200);
    expect(test.json).toEqual({});
    const halt = await call('POST', '/api/qtrade/risk/halt', { headers: bearer(admin), body: JSON.stringify({ reason: 'scope test' }), contentType: 'application/json' });
    expect(halt.status, halt.text).toBe(200);
    expect(d.daemon.node.trading.status().state).toBe('HALTED');
    expect((await call('POST', '/api/qtrade/risk/resume', { headers: bearer(admin), body: '{}', contentType: 'application/json' })).status).toBe(200);
  });

  it('stops honouring a revoked token with the very next request', async () => {
    const t = issueToken('read', 'short-lived');
    expect((await call('GET', '/api/qtrade/balances', { headers: bearer(t) })).status).toBe(200);
    expect(store.revoke('short-lived')?.name).toBe('short-lived');
    expectRefusal(await call('GET', '/api/qtrade/balances', { headers: bearer(t) }), 401, -2015);
  });

  describe('Binance API keys (X-MBX-APIKEY, HMAC-SHA256 signature, timestamp, recvWindow)', () => {
    let pair: { apiKey: string; apiSecret: string };
    let readPair: { apiKey: string; apiSecret: string };
    const key = (k: string): Record<string, string> => ({ 'x-mbx-apikey': k });

    beforeAll(() => {
      pair = issuePair('trade', 'bot');
      readPair = issuePair('read', 'watcher');
    });

    it('accepts a correctly signed request, in the query, the body or both (no & between them)', async () => {
      const now = d.daemon.ctx.wallNow();
      const q = `${ORDER}&recvWindow=5000&timestamp=${now}`;
      const inQuery = await call('POST', '/api/v3/order/test', { headers: key(pair.apiKey), query: `${q}&signature=${sign(pair.apiSecret, q)}` });
      expect(inQuery.status, inQuery.text).toBe(200);
      const inBody = await call('POST', '/api/v3/order/test', { headers: key(pair.apiKey), body: `${q}&signature=${sign(pair.apiSecret, q)}` });
      expect(inBody.status, inBody.text).toBe(200);
      const head = 'symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC';
      const tail = `quantity=0.00100000&price=10000.00&timestamp=${now}`;
      const mixed = await call('POST', '/api/v3/order/test', { headers: key(pair.apiKey), query: head, body: `${tail}&signature=${sign(pair.apiSecret, head + tail)}` });
      expect(mixed.status, mixed.text).toBe(200);
      // Signatures are not case-sensitive on Binance.
      const upper = await call('GET', '/api/v3/account', { headers: key(pair.apiKey), query: `timestamp=${now}&signature=${sign(pair.apiSecret, `timestamp=${now}`).toUpperCase()}` });
      expect(upper.status, upper.text).toBe(200);
    });

    it('answers -1022 to a wrong secret or a tampered request, -1021 to a stale or future timestamp', async () => {
      const now = d.daemon.ctx.wallNow();
      const q = `timestamp=${now}`;
      expectRefusal(await call('GET', '/api/v3/account', { headers: key(pair.apiKey), query: `${q}&signature=${sign('not-the-secret', q)}` }), 401, -1022);
      expectRefusal(await call('GET', '/api/v3/account', { headers: key(pair.apiKey), query: `${q}&signature=${sign(readPair.apiSecret, q)}` }), 401, -1022);
      expectRefusal(await call('GET', '/api/v3/account', { headers: key(pair.apiKey), query: `${q}&signature=nothex` }), 401, -1022);
      const order = `${ORDER}&timestamp=${now}`;
      const tampered = order.replace('quantity=0.00100000', 'quantity=0.00200000');
      expectRefusal(await call('POST', '/api/v3/order/test', { headers: key(pair.apiKey), query: `${tampered}&signature=${sign(pair.apiSecret, order)}` }), 401, -1022);

      const at = (ts: number, extra = ''): Promise<Answer> => {
        const p = `timestamp=${ts}${extra}`;
        return call('GET', '/api/v3/account', { headers: key(pair.apiKey), query: `${p}&signature=${sign(pair.apiSecret, p)}` });
      };
      expectRefusal(await at(now - 60_000), 400, -1021);
      expectRefusal(await at(now - 6_000), 400, -1021);
      expectRefusal(await at(now + 5_000), 400, -1021);
      // Within a wider recvWindow the same age passes; past Binance's 60000 ms maximum it is refused.
      expect((await at(now - 6_000, '&recvWindow=30000')).status).toBe(200);
      expectRefusal(await at(now, '&recvWindow=60001'), 400, -1131);
      expectRefusal(await at(now, '&recvWindow=soon'), 400, -1100);
    });

    it('answers -1102 to a signed route without a signature or timestamp, and -1101 to two signatures', async () => {
      const now = d.daemon.ctx.wallNow();
      expect(routes.filter((r) => r.signed).length).toBeGreaterThan(0);
      for (const r of routes.filter((x) => x.signed)) {
        expectRefusal(await call(r.method, r.path, { headers: key(pair.apiKey), query: `symbol=BTCUSDT&timestamp=${now}` }), 400, -1102);
      }
      const noTs = 'symbol=BTCUSDT';
      expectRefusal(await call('GET', '/api/v3/openOrders', { headers: key(pair.apiKey), query: `${noTs}&signature=${sign(pair.apiSecret, noTs)}` }), 400, -1102);
      const q = `${ORDER}&timestamp=${now}`;
      const s = sign(pair.apiSecret, q);
      expectRefusal(await call('POST', '/api/v3/order/test', { headers: key(pair.apiKey), query: `${q}&signature=${s}`, body: `signature=${s}` }), 400, -1101);
      // Within one part, a repeated parameter is refused before anything else looks at it.
      expectRefusal(await call('POST', '/api/v3/order/test', { headers: key(pair.apiKey), query: `${q}&signature=${s}&signature=${s}` }), 400, -1101);
    });

    it('lets a key alone read but never trade; a read pair cannot trade even when signed', async () => {
      expect((await call('GET', '/api/qtrade/balances', { headers: key(pair.apiKey) })).status).toBe(200);
      expectRefusal(await call('POST', '/api/qtrade/orders', { headers: key(pair.apiKey), body: '{}', contentType: 'application/json' }), 403, -2015);
      const q = `${ORDER}&timestamp=${d.daemon.ctx.wallNow()}`;
      expectRefusal(await call('POST', '/api/v3/order/test', { headers: key(readPair.apiKey), query: `${q}&signature=${sign(readPair.apiSecret, q)}` }), 403, -2015);
    });

    it('signs a JSON body too: swapping it under a valid signature is refused', async () => {
      const now = d.daemon.ctx.wallNow();
      const body = JSON.stringify({ reason: 'signed json' });
      const q = `timestamp=${now}`;
      const sig = sign(pair.apiSecret, q + body);
      // trade scope: admin routes stay closed however well signed.
      expectRefusal(await call('POST', '/api/qtrade/risk/halt', { headers: key(pair.apiKey), query: `${q}&signature=${sig}`, body, contentType: 'application/json' }), 403, -2015);
      const other = JSON.stringify({ reason: 'swapped' });
      expectRefusal(await call('POST', '/api/qtrade/risk/halt', { headers: key(pair.apiKey), query: `${q}&signature=${sig}`, body: other, contentType: 'application/json' }), 401, -1022);
    });
  });

  it('refuses WebSocket upgrades on /ws and /stream without a valid token once tokens exist', async () => {
    const admin = issueToken('read', 'ws-reader');
    const wsUrl = d.url.replace(/^http/, 'ws');
    for (const p of ['/ws', '/stream?streams=btcusdt@trade']) {
      expect(await wsOutcome(`${wsUrl}${p}`)).toBe(401);
      expect(await wsOutcome(`${wsUrl}${p}`, bearer('qt_00000000_nope'))).toBe(401);
      expect(await wsOutcome(`${wsUrl}${p}`, bearer(admin))).toBe('open');
    }
  });

  describe('qtrade token (the built CLI) on the running daemon', () => {
    const qtrade = (...args: string[]) => runCli(['--data-dir', d.dataDir, ...args], { cwd: d.dataDir });

    beforeAll(() => {
      if (!fs.existsSync(path.join(ROOT, 'dist/bin/qtrade.js'))) throw new Error('run `npm run build` first: these tests run the built binary');
    });

    // Each run of the binary is a Node start-up: give these room on a busy machine.
    it('creates a token that the daemon honours at once, shows it once, lists it without secrets, and revokes it', { timeout: 120_000 }, async () => {
      const created = await qtrade('token', 'create', '--scope', 'trade', '--name', 'cli-trader');
      expect(created.code, created.stderr).toBe(0);
      const token = created.stdout.trim();
      secrets.push(token);
      expect(token).toMatch(/^qt_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
      expect(created.stderr).toMatch(/cannot be shown again/);
      expect(fs.statSync(path.join(d.dataDir, 'tokens.json')).mode & 0o777).toBe(0o600);

      const ok = await call('POST', '/api/v3/order/test', { headers: bearer(token), body: ORDER });
      expect(ok.status, ok.text).toBe(200);

      const stored = JSON.parse(fs.readFileSync(path.join(d.dataDir, 'tokens.json'), 'utf8')) as { tokens: TokenRecord[] };
      const rec = stored.tokens.find((t) => t.name === 'cli-trader')!;
      expect(rec.hash).not.toContain(token);
      expect(fs.readFileSync(path.join(d.dataDir, 'tokens.json'), 'utf8')).not.toContain(token);

      const list = await qtrade('token', 'list');
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toMatch(/^id\s+name\s+scope\s+kind\s+created \(UTC\)/);
      expect(list.stdout).toMatch(new RegExp(`${rec.id}\\s+cli-trader\\s+trade\\s+token\\s+\\d{4}-\\d\\d-\\d\\d`));
      const listJson = await qtrade('token', 'list', '--json');
      const listed = JSON.parse(listJson.stdout) as Array<Record<string, unknown>>;
      expect(listed.find((t) => t.name === 'cli-trader')).toEqual({ id: rec.id, name: 'cli-trader', scope: 'trade', kind: 'token', createdAt: rec.createdAt });
      for (const t of stored.tokens) {
        for (const out of [list.stdout, listJson.stdout]) {
          expect(out).not.toContain(t.hash);
          if (t.secret) expect(out).not.toContain(t.secret);
        }
      }
      for (const s of secrets) expect(list.stdout + listJson.stdout).not.toContain(s);

      const revoked = await qtrade('token', 'revoke', 'cli-trader');
      expect(revoked.code, revoked.stderr).toBe(0);
      expect(revoked.stdout).toBe(`revoked trade token "cli-trader" (id ${rec.id})\n`);
      expectRefusal(await call('POST', '/api/v3/order/test', { headers: bearer(token), body: ORDER }), 401, -2015);
      const again = await qtrade('token', 'revoke', 'cli-trader');
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/no token has the id or name "cli-trader"/);
    });

    it('issues an API key pair once (human and --json), and refuses bad input with exit 2', { timeout: 120_000 }, async () => {
      const pair = await qtrade('token', 'create', '--scope', 'read', '--api-key', '--name', 'cli-bot');
      expect(pair.code, pair.stderr).toBe(0);
      const m = /^API key: {4}([A-Za-z0-9]{64})\nAPI secret: ([A-Za-z0-9]{64})\n$/.exec(pair.stdout);
      expect(m, pair.stdout).not.toBeNull();
      secrets.push(m![1]!, m![2]!);
      expect(pair.stderr).toMatch(/cannot be shown again/);
      const now = d.daemon.ctx.wallNow();
      const a = await call('GET', '/api/v3/account', { headers: { 'x-mbx-apikey': m![1]! }, query: `timestamp=${now}&signature=${sign(m![2]!, `timestamp=${now}`)}` });
      expect(a.status, a.text).toBe(200);

      const json = await qtrade('token', 'create', '--scope', 'admin', '--json');
      expect(json.code, json.stderr).toBe(0);
      const j = JSON.parse(json.stdout) as Record<string, string>;
      secrets.push(j.token!);
      expect(Object.keys(j).sort()).toEqual(['createdAt', 'id', 'kind', 'name', 'scope', 'token']);
      expect(j).toMatchObject({ scope: 'admin', kind: 'token' });
      const revokedJson = await qtrade('token', 'revoke', j.id!, '--json');
      expect(JSON.parse(revokedJson.stdout)).toEqual({ id: j.id, name: j.name, scope: 'admin', kind: 'token', createdAt: j.createdAt });

      for (const args of [['token', 'create'], ['token', 'create', '--scope', 'root'], ['token', 'create', '--scope', 'read', '--name', 'cli-bot'], ['token', 'create', '--scope', 'read', '--name', 'a b']]) {
        const r = await qtrade(...args);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(/^error: /);
      }
    });

    it('refuses to start a daemon on a non-loopback address while no token exists', { timeout: 60_000 }, async () => {
      const tmp = tempDir('qtrade-auth-cli-');
      try {
        const r = await runCli(['--data-dir', tmp.dir, 'daemon', '--host', '0.0.0.0', '--port', '0'], { cwd: tmp.dir });
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(/error: refusing to listen on 0\.0\.0\.0: no tokens exist/);
        expect(r.stderr).toMatch(/hint: create one first \(qtrade token create --scope admin\)/);
        expect(fs.existsSync(path.join(tmp.dir, 'daemon.json'))).toBe(false);
      } finally {
        tmp.cleanup();
      }
    });
  });

  it('never writes a token, API key, secret or token hash into a log line or an answer', () => {
    const hashes = store.list().map((t) => t.hash);
    expect(secrets.length).toBeGreaterThan(10);
    expect(d.logs.length).toBeGreaterThan(0);
    expect(bodies.length).toBeGreaterThan(100);
    for (const s of [...secrets, ...hashes]) {
      for (const line of d.logs) expect(line.includes(s), `log line leaks a credential: ${line}`).toBe(false);
      for (const b of bodies) expect(b.includes(s), `answer leaks a credential: ${b}`).toBe(false);
    }
  });
});

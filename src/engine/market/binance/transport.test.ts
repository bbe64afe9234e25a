import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UsageError, VenueError } from '../../errors.js';
import { BinanceApiError, BinanceTransport, retryAfterMs, type TransportCall, type TransportPolicy } from './transport.js';

/** One scripted reply per request; `hang` never answers (a timeout for the client). */
type Step = { status?: number; body?: string; headers?: Record<string, string> } | 'destroy' | 'hang';

let server: Server;
let base: string;
let script: Step[] = [];
let seen: { method: string; url: string; body: string; headers: IncomingMessage['headers'] }[] = [];
const hanging: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, body, headers: req.headers });
      const step = script.shift() ?? { body: '{}' };
      if (step === 'destroy') return void req.socket.destroy();
      if (step === 'hang') return void hanging.push(res);
      res.writeHead(step.status ?? 200, { 'content-type': 'application/json', ...step.headers }).end(step.body ?? '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

// Virtual wall clock: sleeping advances it.
const clock = { t: 0, sleeps: [] as number[] };
const now = (): number => clock.t;
const sleep = (ms: number): Promise<void> => {
  clock.sleeps.push(ms);
  clock.t += ms;
  return Promise.resolve();
};

beforeEach(() => {
  clock.t = Date.UTC(2024, 7, 8, 23, 58, 10);
  clock.sleeps = [];
  script = [];
  seen = [];
});

function transport(policy: Partial<TransportPolicy> = {}, extra: { weightLimit?: number; timeoutMs?: number } = {}): BinanceTransport {
  return new BinanceTransport({ baseUrl: `${base}/`, net: {}, now, sleep, ...extra }, { whenRateLimited: 'wait', backoffMs: 100, ...policy });
}

const get = (extra: Partial<TransportCall> = {}): TransportCall => ({ method: 'GET', path: '/api/v3/x', weight: 1, retries: 2, ...extra });

/** The rejection of `p`; a fulfilled `p` fails the test. */
const failure = (p: Promise<unknown>): Promise<VenueError> =>
  p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err as VenueError,
  );

const BODY_1003 = JSON.stringify({ code: -1003, msg: 'Too much request weight used.' });

describe('BinanceTransport', () => {
  it('refuses a base URL that is not http(s)', () => {
    expect(() => transport().baseUrl).not.toThrow();
    expect(() => new BinanceTransport({ baseUrl: 'nope', net: {} }, { whenRateLimited: 'wait', backoffMs: 1 })).toThrow(UsageError);
    expect(() => new BinanceTransport({ baseUrl: 'ftp://x', net: {} }, { whenRateLimited: 'wait', backoffMs: 1 })).toThrow(/http\(s\)/);
  });

  it('sends query, form body and headers, and times the answered attempt', async () => {
    script.push({ body: '{"ok":true}' });
    const tr = transport();
    const a = await tr.call({ method: 'POST', path: '/api/v3/order', weight: 1, retries: 0, headers: { 'x-mbx-apikey': 'k' }, encode: () => ({ query: 'a=1', body: 'b=2' }) });
    expect(a.body).toEqual({ ok: true });
    expect(a.sentAt).toBe(clock.t);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/v3/order?a=1', body: 'b=2' });
    expect(seen[0]!.headers['x-mbx-apikey']).toBe('k');
    expect(seen[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('builds each attempt after the weight budget admitted it (a signed timestamp is never stale)', async () => {
    const tr = transport({}, { weightLimit: 10 });
    const stamps: number[] = [];
    const call = get({ weight: 6, encode: () => ({ query: `timestamp=${stamps[stamps.push(clock.t) - 1]}` }) });
    await tr.call(call);
    await tr.call(call); // 6 + 6 > 10: waits for the next minute first
    expect(clock.sleeps).toEqual([50_000]);
    expect(stamps[1]! - stamps[0]!).toBe(50_000);
    expect(seen[1]!.url).toBe(`/api/v3/x?timestamp=${stamps[1]}`);
  });

  it("'refuse' sends nothing during a 429 block; 'wait' waits it out and retries", async () => {
    script.push({ status: 429, body: BODY_1003, headers: { 'retry-after': '30' } });
    const refuse = transport({ whenRateLimited: 'refuse' });
    expect(await failure(refuse.call(get()))).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    const blocked = await failure(refuse.call(get()));
    expect(blocked.message).toMatch(/not sent, rate limited for another 30 s/);
    expect(seen).toHaveLength(1);
    clock.t += 30_000;
    await refuse.call(get());
    expect(seen).toHaveLength(2);

    seen = [];
    script.push({ status: 429, body: BODY_1003, headers: { 'retry-after': '30' } });
    await transport().call(get());
    expect(clock.sleeps).toEqual([30_000]);
    expect(seen).toHaveLength(2);
  });

  it('418 without Retry-After bans for Binance\'s shortest ban (2 min); an HTTP-date Retry-After is read', async () => {
    script.push({ status: 418, body: BODY_1003 });
    const tr = transport();
    const err = await failure(tr.call(get()));
    expect(err).toMatchObject({ code: 'BANNED', status: 418 });
    expect(err.message).toContain('for 120 s');
    clock.t += 119_000;
    expect((await failure(tr.call(get()))).message).toMatch(/not sent, Binance banned this IP for another 1 s/);
    expect(seen).toHaveLength(1);
    clock.t += 1000;
    await tr.call(get());
    expect(seen).toHaveLength(2);

    expect(retryAfterMs({ 'retry-after': new Date(clock.t + 90_000).toUTCString() }, clock.t)).toBe(90_000);
    expect(retryAfterMs({ 'retry-after': 'soon' }, clock.t)).toBeUndefined();
  });

  it('retries network errors and 5xx within `retries`, with capped exponential backoff', async () => {
    script.push('destroy', { status: 502, body: 'bad gateway' }, 'destroy');
    const tr = transport({ maxBackoffMs: 250 });
    await tr.call(get({ retries: 3 }));
    expect(clock.sleeps).toEqual([100, 200, 250]);

    clock.sleeps = [];
    script.push('destroy', 'destroy');
    const err = await failure(tr.call(get({ retries: 1 })));
    expect(err).toMatchObject({ code: 'NETWORK' });
    expect(err.message).toMatch(/^GET \/api\/v3\/x: .* \(after 2 attempts\)$/);
  });

  it('a timeout is TIMEOUT, and retries: 0 sends once', async () => {
    script.push('hang');
    const err = await failure(transport({}, { timeoutMs: 100 }).call(get({ retries: 0 })));
    expect(err).toMatchObject({ code: 'TIMEOUT' });
    expect(err.message).toBe('GET /api/v3/x: no reply within 100 ms');
    expect(seen).toHaveLength(1);
  });

  it('maps a final 5xx through serverError when given, else Binance\'s error or SERVER', async () => {
    const tr = transport();
    script.push({ status: 500, body: JSON.stringify({ code: -1000, msg: 'unknown' }) });
    const hooked = await failure(tr.call(get({ retries: 0, serverError: (what, r) => new VenueError('SERVER', `${what}: ${r.status} unknown outcome`) })));
    expect(hooked.message).toBe('GET /api/v3/x: 500 unknown outcome');
    script.push({ status: 500, body: JSON.stringify({ code: -1000, msg: 'unknown' }) });
    expect(await failure(tr.call(get({ retries: 0 })))).toBeInstanceOf(BinanceApiError);
    script.push({ status: 503, body: '' });
    expect(await failure(tr.call(get({ retries: 0 })))).toMatchObject({ code: 'SERVER', status: 503 });
  });

  it('lets `again` send a call once more, and maps 403, 410 and Binance bodies', async () => {
    const tr = transport();
    script.push({ status: 400, body: JSON.stringify({ code: -1021, msg: 'Timestamp outside recvWindow.' }) }, { body: '{"n":1}' });
    let agains = 0;
    const a = await tr.call(get({ again: async (be) => be?.code === -1021 && agains++ === 0 }));
    expect(a.body).toEqual({ n: 1 });
    expect(seen).toHaveLength(2);

    script.push({ status: 403, body: '' });
    expect(await failure(tr.call(get()))).toMatchObject({ code: 'WAF', status: 403, hint: expect.stringMatching(/firewall/) });
    script.push({ status: 410, body: '' });
    expect(await failure(tr.call(get({ path: '/api/v3/userDataStream' })))).toMatchObject({ code: 'GONE', hint: expect.stringMatching(/ws-api/) });
    script.push({ status: 400, body: JSON.stringify({ code: -1121, msg: 'Invalid symbol.' }) });
    const e = (await failure(tr.call(get()))) as BinanceApiError;
    expect(e).toMatchObject({ code: 'BINANCE_-1121', status: 400, binanceCode: -1121, binanceMsg: 'Invalid symbol.' });
    expect(e.message).toBe('GET /api/v3/x: Invalid symbol. (Binance code -1121, HTTP 400)');
  });
});

import { inspect } from 'node:util';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startConnectProxy, type ConnectProxy } from '../../../../test/helpers/connect-proxy.js';
import { API_KEY, API_SECRET, startLiveVenue, type LiveVenue } from '../../../../test/helpers/live-venue.js';
import { VenueError } from '../../errors.js';
import { Secret } from './credentials.js';
import { BinanceApiError, clockOffset, hmacSha256Hex, signRequest, SignedRest, wsApiPayload } from './signing.js';

// Binance spot API docs, "SIGNED Endpoint Examples for POST /api/v3/order" (HMAC keys).
const QUERY = 'symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559';
const SIG_ALL = 'c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71';
const SIG_MIXED = '0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77';

describe('signature', () => {
  it('matches the documented example: all parameters in the query string', () => {
    expect(signRequest(API_SECRET, QUERY)).toBe(SIG_ALL);
  });

  it('matches the documented example: all parameters in the body', () => {
    expect(signRequest(new Secret(API_SECRET), '', QUERY)).toBe(SIG_ALL);
  });

  it('matches the documented example: query then body with no & between them', () => {
    const q = 'symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC';
    const b = 'quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559';
    expect(signRequest(API_SECRET, q, b)).toBe(SIG_MIXED);
    expect(hmacSha256Hex(API_SECRET, `${q}&${b}`)).toBe(SIG_ALL);
  });

  it('signs WebSocket API params sorted by name, without the signature', () => {
    expect(wsApiPayload({ timestamp: 2, apiKey: 'k', recvWindow: 5000, signature: 'x' })).toBe('apiKey=k&recvWindow=5000&timestamp=2');
  });

  it('takes the clock offset from the midpoint of the round trip', () => {
    expect(clockOffset(10_500, 1000, 1200)).toBe(9400);
    expect(clockOffset(1000, 1000, 1000)).toBe(0);
  });
});

describe('SignedRest against the fake Binance', () => {
  let venue: LiveVenue;
  beforeAll(async () => {
    venue = await startLiveVenue();
  });
  afterAll(async () => {
    await venue.close();
  });
  afterEach(() => {
    venue.skew.ms = 0;
    venue.state.forced.length = 0;
  });

  it('sends a correctly signed request with timestamp and recvWindow', async () => {
    const rest = venue.signed();
    const body = (await rest.call({ method: 'GET', path: '/api/v3/account' })) as { balances: unknown[] };
    expect(body.balances.length).toBeGreaterThan(0);
    const entry = venue.state.log.filter((e) => e.path === '/api/v3/account').at(-1)!;
    expect(entry.status).toBe(200);
    expect(entry.query.recvWindow).toBe('5000');
    expect(Number(entry.query.timestamp)).toBeGreaterThan(0);
    expect(entry.query.signature).toMatch(/^[0-9a-f]{64}$/);
    expect(entry.headers['x-mbx-apikey']).toBe(API_KEY);
    // the first signed call synced the clock first
    expect(venue.state.log.some((e) => e.path === '/api/v3/time')).toBe(true);
  });

  it('signs POST bodies: an order placed through the body is accepted', async () => {
    const rest = venue.signed();
    const reply = (await rest.call({
      method: 'POST',
      path: '/api/v3/order',
      params: { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.001', price: '50000.00' },
    })) as { status: string };
    expect(reply.status).toBe('NEW');
  });

  it('is refused with -1022 when the query is tampered with after signing', async () => {
    const ts = Date.now();
    const q = `symbol=BTCUSDT&recvWindow=5000&timestamp=${ts}`;
    const sig = signRequest(API_SECRET, q);
    const send = async (query: string) => {
      const res = await request(`${venue.fake.restUrl}/api/v3/openOrders?${query}`, { headers: { 'x-mbx-apikey': API_KEY } });
      return { status: res.statusCode, body: (await res.body.json()) as { code?: number; msg?: string } };
    };
    expect((await send(`${q}&signature=${sig}`)).status).toBe(200);
    const tampered = await send(`${q.replace('BTCUSDT', 'ETHUSDT')}&signature=${sig}`);
    expect(tampered).toEqual({ status: 400, body: { code: -1022, msg: 'Signature for this request is not valid.' } });
    const missing = await send(q);
    expect(missing.body.code).toBe(-1022);
  });

  it('answers -2014 without an API key and -2015 for an unknown one', async () => {
    const res = await request(`${venue.fake.restUrl}/api/v3/account?timestamp=1&signature=00`);
    expect(await res.body.json()).toEqual({ code: -2014, msg: 'API-key format invalid.' });
    const other = new SignedRest({ baseUrl: venue.fake.restUrl, net: {}, credentials: { apiKey: 'x'.repeat(64), apiSecret: new Secret(API_SECRET) } });
    const err = await other.call({ method: 'GET', path: '/api/v3/account' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BinanceApiError);
    expect((err as BinanceApiError).binanceCode).toBe(-2015);
    expect((err as VenueError).exitCode).toBe(4);
  });

  it('a wrong secret is -1022, and the secret appears nowhere in the error', async () => {
    const planted = 'S3cretThatMustNeverLeak0123456789abcdefABCDEF0123456789abcdefXYZ';
    const bad = new SignedRest({ baseUrl: venue.fake.restUrl, net: {}, credentials: { apiKey: API_KEY, apiSecret: new Secret(planted) } });
    const err = (await bad.call({ method: 'GET', path: '/api/v3/account' }).catch((e: unknown) => e)) as BinanceApiError;
    expect(err.binanceCode).toBe(-1022);
    for (const text of [err.message, err.hint ?? '', JSON.stringify(err), inspect(err, { depth: 5 }), String(err.stack)]) {
      expect(text).not.toContain(planted);
      expect(text).not.toContain(API_KEY);
    }
  });

  it('syncs to a skewed server clock before the first signed call', async () => {
    venue.skew.ms = 30_000; // our clock is 30 s behind Binance's
    const rest = venue.signed();
    await rest.call({ method: 'GET', path: '/api/v3/openOrders' });
    expect(rest.offsetMs).toBeGreaterThan(29_000);
    expect(rest.offsetMs).toBeLessThan(31_000);
  });

  it('re-syncs and retries once when the clock drifts (-1021)', async () => {
    const rest = venue.signed();
    await rest.call({ method: 'GET', path: '/api/v3/openOrders' });
    const before = venue.state.log.length;
    venue.skew.ms = -20_000; // Binance's clock now 20 s behind: our timestamps look 1000 ms+ ahead
    await rest.call({ method: 'GET', path: '/api/v3/openOrders' });
    const calls = venue.state.log.slice(before).map((e) => `${e.path} ${e.status}`);
    expect(calls).toEqual(['/api/v3/openOrders 400', '/api/v3/time 200', '/api/v3/openOrders 200']);
    expect(rest.offsetMs).toBeLessThan(-19_000);
  });

  it('gives up after one re-sync when -1021 persists', async () => {
    const rest = venue.signed();
    await rest.syncTime();
    const r1021 = { status: 400, body: { code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.' }, path: '/api/v3/openOrders' };
    venue.state.forced.push(r1021, { ...r1021 });
    const before = venue.state.log.length;
    const err = (await rest.call({ method: 'GET', path: '/api/v3/openOrders' }).catch((e: unknown) => e)) as BinanceApiError;
    expect(err).toBeInstanceOf(BinanceApiError);
    expect(err.binanceCode).toBe(-1021);
    expect(err.hint).toMatch(/clock/);
    expect(venue.state.log.slice(before).map((e) => e.path)).toEqual(['/api/v3/openOrders', '/api/v3/time', '/api/v3/openOrders']);
  });

  it('a timestamp older than recvWindow is -1021 at the fake, as on Binance', async () => {
    const ts = Date.now() - 6000;
    const q = `recvWindow=5000&timestamp=${ts}`;
    const res = await request(`${venue.fake.restUrl}/api/v3/account?${q}&signature=${signRequest(API_SECRET, q)}`, { headers: { 'x-mbx-apikey': API_KEY } });
    expect(await res.body.json()).toEqual({ code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.' });
  });

  it('stops calling after a 429 until Retry-After has passed', async () => {
    const rest = venue.signed();
    await rest.syncTime();
    venue.state.forced.push({ status: 429, retryAfter: 30, body: { code: -1003, msg: 'Too much request weight used.' }, path: '/api/v3/openOrders' });
    const first = (await rest.call({ method: 'GET', path: '/api/v3/openOrders' }).catch((e: unknown) => e)) as VenueError;
    expect(first.code).toBe('RATE_LIMITED');
    const before = venue.state.log.length;
    const second = (await rest.call({ method: 'GET', path: '/api/v3/openOrders' }).catch((e: unknown) => e)) as VenueError;
    expect(second.code).toBe('RATE_LIMITED');
    expect(venue.state.log.length).toBe(before);
  });

  it('retries a 5xx only for idempotent calls; a POST is reported as an unknown outcome', async () => {
    const rest = venue.signed();
    await rest.syncTime();
    venue.state.forced.push({ status: 503, body: '', path: '/api/v3/openOrders' });
    await rest.call({ method: 'GET', path: '/api/v3/openOrders' });
    venue.state.forced.push({ status: 500, body: { code: -1000, msg: 'An unknown error occurred while processing the request.' }, path: '/api/v3/order' });
    const before = venue.state.log.length;
    const err = (await rest
      .call({ method: 'POST', path: '/api/v3/order', params: { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.001', price: '50000.00' } })
      .catch((e: unknown) => e)) as VenueError;
    expect(err).toMatchObject({ code: 'SERVER', status: 500 });
    expect(err.message).toMatch(/outcome is unknown/);
    expect(venue.state.log.length - before).toBe(1);
  });

  it('after a 418 sends nothing, not even a clock sync, until the ban ends', async () => {
    const rest = venue.signed();
    venue.state.forced.push({ status: 418, retryAfter: 60, body: { code: -1003, msg: 'Way too much request weight used; IP banned.' }, path: '/api/v3/time' });
    const first = (await rest.call({ method: 'GET', path: '/api/v3/account' }).catch((e: unknown) => e)) as VenueError;
    expect(first).toMatchObject({ code: 'BANNED', status: 418 });
    expect(first.message).toContain('60 s');
    const before = venue.state.log.length;
    const second = (await rest.call({ method: 'GET', path: '/api/v3/account' }).catch((e: unknown) => e)) as VenueError;
    expect(second.code).toBe('BANNED');
    expect(second.message).toMatch(/not sent/);
    expect(venue.state.log.length).toBe(before);
  });
});

describe('SignedRest through a CONNECT proxy', () => {
  let venue: LiveVenue;
  let proxy: ConnectProxy;
  beforeAll(async () => {
    venue = await startLiveVenue();
    proxy = await startConnectProxy();
  });
  afterAll(async () => {
    await proxy.close();
    await venue.close();
  });

  it('tunnels signed calls through the proxy', async () => {
    const rest = venue.signed({ net: { proxy: proxy.url } });
    await rest.call({ method: 'GET', path: '/api/v3/account' });
    expect(proxy.tunnels.some((t) => t.port === venue.fake.port)).toBe(true);
    expect(venue.state.log.filter((e) => e.path === '/api/v3/account').at(-1)!.status).toBe(200);
  });

  it('reports an unreachable venue as VenueError (exit 4)', async () => {
    const rest = new SignedRest({ baseUrl: 'http://127.0.0.1:9', net: {}, credentials: { apiKey: API_KEY, apiSecret: new Secret(API_SECRET) }, maxRetries: 0 });
    const err = (await rest.call({ method: 'GET', path: '/api/v3/account' }).catch((e: unknown) => e)) as VenueError;
    expect(err).toBeInstanceOf(VenueError);
    expect(err.exitCode).toBe(4);
    expect(err.code).toBe('NETWORK');
  });
});

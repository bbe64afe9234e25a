import { readFileSync } from 'node:fs';
import { ProxyAgent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { FeedState } from '../src/engine/bus.js';
import { BinanceWsFeed } from '../src/engine/market/binance/ws-client.js';
import { Instruments, type ExchangeInfo } from '../src/engine/market/instruments.js';
import { restDispatcher, type NetOptions } from '../src/engine/market/net.js';
import type { MarketEvent } from '../src/engine/market/source.js';
import { startConnectProxy, type ConnectProxy } from './helpers/connect-proxy.js';
import { startFakeBinance, type FakeBinance } from './helpers/fake-binance.js';

const info = JSON.parse(readFileSync(new URL('../fixtures/binance/exchangeInfo.json', import.meta.url), 'utf8')) as ExchangeInfo;
const instruments = Instruments.fromExchangeInfo(info);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ server: FakeBinance; proxy: ConnectProxy }> {
  const server = await startFakeBinance({
    rest: (req, res) => {
      if (req.url !== '/api/v3/ping') return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
      return true;
    },
  });
  cleanups.push(() => server.close());
  const proxy = await startConnectProxy();
  cleanups.push(() => proxy.close());
  return { server, proxy };
}

async function runFeed(server: FakeBinance, net: NetOptions) {
  const events: MarketEvent[] = [];
  const states: FeedState[] = [];
  const feed = new BinanceWsFeed({ baseUrl: server.wsUrl, net, instruments, backoff: { initialMs: 10, maxMs: 20 } });
  cleanups.push(() => feed.stop());
  const started = feed.start(['btcusdt@trade'], { event: (e) => events.push(e), state: (s) => states.push(s) });
  // Tests that never connect stop the feed, which rejects `started`.
  started.catch(() => {});
  return { feed, events, states, started };
}

const trade = { e: 'trade', E: 2, s: 'BTCUSDT', t: 1, p: '61837.63000000', q: '0.02000000', T: 1, m: true, M: true };

describe('traffic through an HTTP CONNECT proxy', () => {
  it('tunnels the market-data WebSocket through the configured proxy', async () => {
    const { server, proxy } = await setup();
    const { events, started } = await runFeed(server, { proxy: proxy.url });
    await started;
    expect(proxy.tunnels).toEqual([{ host: '127.0.0.1', port: server.port }]);
    server.send('btcusdt@trade', trade);
    await server.waitFor(() => events.length === 1, 'a frame through the tunnel');
    expect(events[0]).toMatchObject({ kind: 'trade', trade: { id: 1, price: 6183763 } });
    // Pings and pongs pass the tunnel too.
    expect(await server.ping('via-proxy')).toEqual(['via-proxy']);
  });

  it('bypasses the proxy for hosts in NO_PROXY', async () => {
    const { server, proxy } = await setup();
    const { started } = await runFeed(server, { proxy: proxy.url, noProxy: 'localhost,127.0.0.1' });
    await started;
    expect(server.connectionCount).toBe(1);
    expect(proxy.tunnels).toEqual([]);
  });

  it('reports a dead proxy as a failed connection and keeps retrying', async () => {
    const { server, proxy } = await setup();
    const deadUrl = proxy.url;
    await proxy.close();
    const { states } = await runFeed(server, { proxy: deadUrl });
    await server.waitFor(() => states.filter((s) => s.state === 'reconnecting').length >= 2, 'retries');
    expect(states.find((s) => s.state === 'reconnecting')!.reason).toMatch(/refused|ECONNREFUSED/);
    expect(server.connectAttempts).toBe(0);
  });

  it('tunnels REST calls made with restDispatcher (undici uses CONNECT for http targets too)', async () => {
    const { server, proxy } = await setup();
    const url = `${server.restUrl}/api/v3/ping`;
    const res = await request(url, { dispatcher: restDispatcher(url, { proxy: proxy.url }) });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({});
    expect(proxy.tunnels).toEqual([{ host: '127.0.0.1', port: server.port }]);
    expect(proxy.forwarded).toEqual([]);
    expect(restDispatcher(url, { proxy: proxy.url, noProxy: '127.0.0.1' })).toBeUndefined();
  });

  it('forwards absolute-URI requests from clients that do not tunnel plain http', async () => {
    const { server, proxy } = await setup();
    const agent = new ProxyAgent({ uri: proxy.url, proxyTunnel: false });
    cleanups.push(() => agent.close());
    const res = await request(`${server.restUrl}/api/v3/ping`, { dispatcher: agent });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    const missing = await request(`${server.restUrl}/nope`, { dispatcher: agent });
    expect(missing.statusCode).toBe(404);
    expect(await missing.body.json()).toMatchObject({ code: -1 });
    expect(proxy.forwarded).toEqual([
      { method: 'GET', url: `${server.restUrl}/api/v3/ping` },
      { method: 'GET', url: `${server.restUrl}/nope` },
    ]);
    expect(proxy.tunnels).toEqual([]);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../src/server/routes/index.js';
import { STALE_AFTER_MS } from '../../src/server/routes/system.js';
import { TokenStore } from '../../src/server/tokens.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { counterValue, parsePrometheus, sampleValue, type PromFamily } from '../helpers/prometheus.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Health {
  status: 'ok' | 'degraded' | 'down';
  reasons: string[];
  feed: {
    state: string;
    connected: boolean;
    lagMs: number | null;
    lastMessageAgeMs: number | null;
    symbols: Record<string, { seen: boolean; lastMessageAgeMs: number | null; stale: boolean }>;
  };
  store: { ok: boolean; error?: string };
  uptimeSec: number;
  version: string;
}

let d: TestDaemon;
/** Added to the daemon's wall clock: lets a test make the feed look silent without waiting a minute. */
let skew = 0;
let nextId = 1;

beforeAll(async () => {
  d = await startTestDaemon({ wallNow: () => Date.now() + skew });
});
afterAll(async () => {
  await d?.close();
});

async function health(daemon: TestDaemon = d): Promise<{ code: number; body: Health }> {
  const res = await fetch(`${daemon.url}/health`);
  return { code: res.status, body: (await res.json()) as Health };
}

async function metrics(headers: Record<string, string> = {}): Promise<Map<string, PromFamily>> {
  const res = await fetch(`${d.url}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheus(await res.text());
}

const connected = (): boolean => d.daemon.ctx.metrics.feed().connected;

/** A trade on the fake feed with the next id (ids stay contiguous, so no gap fill kicks in). */
function trade(price: string): void {
  d.trade({ id: nextId++, time: Date.now(), price, qty: '0.01000000' });
}

async function tradeAndWait(price: string): Promise<void> {
  const before = d.daemon.node.kernel.stats().trades;
  trade(price);
  await d.fake.waitFor(() => d.daemon.node.kernel.stats().trades === before + 1, 'the trade to be sequenced', 5_000);
}

describe('GET /health', () => {
  it('is ok once the feed is open, naming feed, store, uptime and version', async () => {
    await d.fake.waitFor(connected, 'the feed to open', 10_000);
    const { code, body } = await health();
    expect(code).toBe(200);
    expect(body).toMatchObject({ status: 'ok', reasons: [], feed: { state: 'open', connected: true }, store: { ok: true }, version: d.daemon.ctx.version });
    expect(body.uptimeSec).toBeGreaterThanOrEqual(0);
  });

  it(`turns degraded when no market message arrived for ${STALE_AFTER_MS / 1000} s, and ok again after one`, async () => {
    await tradeAndWait('42000.00000000');
    expect((await health()).body.feed.lastMessageAgeMs).toBeGreaterThanOrEqual(0);
    skew = STALE_AFTER_MS + 1_000;
    try {
      const { code, body } = await health();
      expect(code).toBe(200);
      expect(body.status).toBe('degraded');
      expect(body.feed.lastMessageAgeMs).toBeGreaterThan(STALE_AFTER_MS);
      expect(body.reasons.join('; ')).toMatch(/last market message \d+ s ago/);
      await tradeAndWait('42001.00000000');
      expect((await health()).body.status).toBe('ok');
    } finally {
      skew = 0;
    }
  });

  it('turns degraded, naming the symbol, when one configured symbol gets no market data while another does', async () => {
    let otherSkew = 0;
    const staleAfterMs = 5_000;
    const other = await startTestDaemon({ symbols: ['btcusdt', 'ethusdt'], staleAfterMs, wallNow: () => Date.now() + otherSkew });
    try {
      const node = other.daemon.node;
      await other.fake.waitFor(() => other.daemon.ctx.metrics.feed().connected, 'the feed to open', 10_000);
      // Binance sends BTCUSDT only, after the jump past the grace period: the feed as a whole is fresh.
      otherSkew = staleAfterMs + 1_000;
      other.trade({ id: 1, time: Date.now(), price: '42000.00000000' });
      await other.fake.waitFor(() => node.kernel.stats().trades === 1, 'the trade to be sequenced', 5_000);
      const { code, body } = await health(other);
      expect(code).toBe(200);
      expect(body.status).toBe('degraded');
      expect(body.reasons).toHaveLength(1);
      expect(body.reasons[0]).toMatch(/^no market data for ETHUSDT from Binance since start \d+ s ago$/);
      expect(body.feed.symbols).toMatchObject({ BTCUSDT: { seen: true, stale: false }, ETHUSDT: { seen: false, lastMessageAgeMs: null, stale: true } });

      other.trade({ id: 1, time: Date.now(), price: '3000.00000000', symbol: 'ETHUSDT' });
      await other.fake.waitFor(() => node.kernel.stats().trades === 2, 'the ETHUSDT trade to be sequenced', 5_000);
      const after = (await health(other)).body;
      expect(after).toMatchObject({ status: 'ok', reasons: [], feed: { symbols: { ETHUSDT: { seen: true, stale: false } } } });
    } finally {
      await other.close();
    }
  });

  it('turns degraded while the feed reconnects, counts the reconnect, and recovers', async () => {
    const before = sampleValue(await metrics(), 'qtrade_feed_reconnects_total');
    d.fake.refuse(503);
    d.fake.dropAll();
    try {
      await d.fake.waitFor(() => !connected(), 'the feed to notice the drop', 10_000);
      const { code, body } = await health();
      expect(code).toBe(200);
      expect(body.status).toBe('degraded');
      expect(body.feed.connected).toBe(false);
      expect(['reconnecting', 'connecting']).toContain(body.feed.state);
      expect(body.reasons.join('; ')).toMatch(/^feed (reconnecting|connecting)/);
      const m = await metrics();
      expect(sampleValue(m, 'qtrade_feed_connected')).toBe(0);
      expect(sampleValue(m, 'qtrade_feed_reconnects_total')).toBeGreaterThan(before);
    } finally {
      d.fake.refuse(false);
    }
    await d.fake.waitFor(connected, 'the feed to reconnect', 20_000);
    await d.fake.waitForSubscriber('btcusdt@aggTrade', 10_000);
    expect((await health()).body).toMatchObject({ status: 'ok', feed: { state: 'open' } });
  });

  it('is down (503) when the store fails', async () => {
    const other = await startTestDaemon();
    try {
      await other.daemon.node.store.close();
      const { code, body } = await health(other);
      expect(code).toBe(503);
      expect(body.status).toBe('down');
      expect(body.store.ok).toBe(false);
      expect(body.store.error).toBeTruthy();
      expect(body.reasons.join('; ')).toMatch(/^store unreachable/);
    } finally {
      await other.close();
    }
  });
});

describe('GET /metrics', () => {
  it('parses as Prometheus text and counts messages, trades, orders, fills and rejections', async () => {
    const m0 = await metrics();
    for (const fam of m0.values()) {
      expect(fam.name).toMatch(/^qtrade_/);
      if (fam.type === 'counter') expect(fam.name).toMatch(/_total$/);
    }
    const node = d.daemon.node;
    const btc = node.instruments.get('BTCUSDT');
    const px = (s: string): number => Math.round(Number(s) * 10 ** btc.priceScale);
    const qty = (s: string): number => Math.round(Number(s) * 10 ** btc.qtyScale);

    await tradeAndWait('42000.00000000');
    // A resting bid below the market, then a trade through it fills it.
    await node.placeOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: px('41900'), qty: qty('0.001') });
    await tradeAndWait('41800.00000000');
    await d.fake.waitFor(() => node.trading.fills().length > 0, 'the resting bid to fill', 5_000);
    // Refused by the exchange filters (LOT_SIZE), then by the risk engine (halted).
    await expect(node.placeOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: px('41900'), qty: 1 })).rejects.toThrow();
    await node.trading.halt('metrics test', node.clock.now());
    try {
      await expect(node.placeOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: px('41900'), qty: qty('0.001') })).rejects.toThrow(/halt/i);
    } finally {
      await node.trading.resume(node.clock.now(), 'metrics test done');
    }

    const m1 = await metrics();
    const delta = (name: string, labels: Record<string, string> = {}): number => counterValue(m1, name, labels) - counterValue(m0, name, labels);
    expect(delta('qtrade_feed_messages_total', { type: 'trade' })).toBe(2);
    expect(delta('qtrade_trades_total')).toBe(2);
    expect(delta('qtrade_feed_frames_total')).toBeGreaterThanOrEqual(2);
    expect(delta('qtrade_order_events_total', { kind: 'accepted' })).toBe(1);
    expect(delta('qtrade_order_events_total', { kind: 'fill' })).toBe(1);
    expect(delta('qtrade_order_events_total', { kind: 'rejected' })).toBe(1);
    expect(delta('qtrade_fills_total', { side: 'BUY', liquidity: 'maker' })).toBe(1);
    expect(delta('qtrade_order_rejections_total', { rule: 'exchange' })).toBe(1);
    expect(delta('qtrade_order_rejections_total', { rule: 'halted', code: '-31001' })).toBe(1);
    expect(delta('qtrade_risk_transitions_total')).toBe(2);
    expect(sampleValue(m1, 'qtrade_risk_state', { state: 'ACTIVE' })).toBe(1);
    expect(sampleValue(m1, 'qtrade_feed_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(sampleValue(m1, 'qtrade_feed_last_message_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(sampleValue(m1, 'qtrade_feed_state', { state: 'open' })).toBe(1);
    // The scrape before this one was itself counted by the HTTP layer.
    expect(delta('qtrade_http_requests_total', { route: 'GET /metrics', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(m1, 'qtrade_ws_clients')).toBeGreaterThanOrEqual(0);
    expect(sampleValue(m1, 'qtrade_event_loop_delay_max_seconds')).toBeGreaterThanOrEqual(0);
    expect(sampleValue(m1, 'qtrade_process_memory_bytes', { kind: 'heap_used' })).toBeGreaterThan(0);
  });

  it('counts unknown routes by status', async () => {
    const before = counterValue(await metrics(), 'qtrade_http_requests_total', { route: 'unknown', status: '404' });
    expect((await fetch(`${d.url}/no-such-route`)).status).toBe(404);
    expect(counterValue(await metrics(), 'qtrade_http_requests_total', { route: 'unknown', status: '404' })).toBe(before + 1);
  });
});

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document listing every route the daemon serves, with its scope as security', async () => {
    const res = await fetch(`${d.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = (await res.json()) as {
      openapi: string;
      info: { version: string };
      paths: Record<string, Record<string, { summary: string; operationId: string; security: Array<Record<string, string[]>> }>>;
      components: { securitySchemes: Record<string, { type: string; name?: string; scheme?: string }> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe(d.daemon.ctx.version);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.binanceApiKey).toMatchObject({ type: 'apiKey', name: 'X-MBX-APIKEY' });

    const routes = allRoutes(d.daemon.ctx);
    const listed = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(new Set(listed)).toEqual(new Set(routes.map((r) => `${r.method} ${r.path}`)));
    expect(listed).toHaveLength(routes.length);
    for (const r of routes) {
      const op = doc.paths[r.path]![r.method.toLowerCase()]!;
      expect(op.summary).toBe(r.summary);
      expect(op.security).toEqual(r.scope === 'public' ? [] : [{ bearer: [r.scope] }, { binanceApiKey: [r.scope] }]);
    }
    expect(new Set(listed.map((l) => doc.paths[l.slice(l.indexOf(' ') + 1)]![l.slice(0, l.indexOf(' ')).toLowerCase()]!.operationId)).size).toBe(routes.length);
    for (const p of ['GET /health', 'GET /metrics', 'GET /openapi.json', 'POST /api/qtrade/shutdown']) expect(listed).toContain(p);
  });
});

describe('deploy/grafana-dashboard.json', () => {
  interface Panel {
    type: string;
    title: string;
    datasource?: { type: string; uid: string };
    targets?: Array<{ expr: string }>;
    panels?: Panel[];
  }

  it('queries only metrics /metrics exports, and charts every family it exports', async () => {
    const dash = JSON.parse(fs.readFileSync(path.join(root, 'deploy/grafana-dashboard.json'), 'utf8')) as {
      title: string;
      uid: string;
      panels: Panel[];
      templating: { list: Array<{ name: string; type: string; query: unknown }> };
    };
    expect(dash.title).toBeTruthy();
    const dsVar = dash.templating.list.find((v) => v.type === 'datasource');
    expect(dsVar).toMatchObject({ query: 'prometheus' });
    const panels = dash.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(0);
    const exported = new Set((await metrics()).keys());
    const used = new Set<string>();
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: `\${${dsVar!.name}}` });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) {
        const names = t.expr.match(/\bqtrade_[a-zA-Z0-9_:]*/g) ?? [];
        expect(names.length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
        for (const n of names) {
          expect(exported, `${p.title}: ${n}`).toContain(n);
          used.add(n);
        }
      }
    }
    expect([...exported].filter((n) => !used.has(n))).toEqual([]);
  });
});

describe('POST /api/qtrade/shutdown', () => {
  it('needs an admin token once tokens exist, then asks the daemon to stop', async () => {
    const tokens = new TokenStore(d.dataDir);
    const read = tokens.create({ scope: 'read', name: 'reader' }).token!;
    const admin = tokens.create({ scope: 'admin', name: 'boss' }).token!;
    const post = (token?: string) => fetch(`${d.url}/api/qtrade/shutdown`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });

    // /health stays public; /metrics now needs read.
    expect((await health()).code).toBe(200);
    expect((await fetch(`${d.url}/metrics`)).status).toBe(401);
    expect((await metrics({ authorization: `Bearer ${read}` })).has('qtrade_build_info')).toBe(true);

    const anon = await post();
    expect(anon.status).toBe(401);
    expect(await anon.json()).toMatchObject({ code: -2015 });
    const reader = await post(read);
    expect(reader.status).toBe(403);
    expect(await reader.json()).toMatchObject({ code: -2015 });
    let stopped: string | undefined;
    void d.daemon.stopRequested.then((r) => (stopped = r));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBeUndefined();

    const ok = await post(admin);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ stopping: true });
    await expect(d.daemon.stopRequested).resolves.toBe('api');
    expect(d.logs.some((l) => l.includes('shutdown requested over the API'))).toBe(true);
    expect(d.logs.some((l) => l.includes(admin) || l.includes(read))).toBe(false);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProposalBook, type Proposal } from '../../src/engine/ai/proposals.js';
import { TokenStore } from '../../src/server/tokens.js';
import { primeBtcMarket, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { callTools, say, startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';

/**
 * The assistant's proposals on an in-process daemon over real HTTP: the model (a local
 * OpenAI-compatible server) can only make one; a `read` token lists them; only a `trade` token
 * approves (the order is placed on the daemon's paper account) or rejects (nothing is placed).
 */

const KEY = 'sk-proposals-test-5f5f';
const T = Date.UTC(2024, 7, 8, 12, 0, 0);
let d: TestDaemon;
let ai: FakeOpenAI;
let readToken: string;
let tradeToken: string;
let book: ProposalBook;

interface Answer {
  status: number;
  json: unknown;
}

async function call(method: 'GET' | 'POST', route: string, token: string | undefined, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${d.url}${route}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, json: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text };
}

/** A pending proposal recorded in the daemon's store, as another process (qtrade ask) would. */
const propose = (order: Proposal['order'], rationale = 'test'): Promise<Proposal> => book.create({ order, rationale, source: 'ask' }, Date.now());

const ordersOf = (clientOrderId: string) => d.daemon.node.trading.orders().filter((o) => o.clientOrderId === clientOrderId);

beforeAll(async () => {
  ai = await startFakeOpenAI();
  d = await startTestDaemon();
  await primeBtcMarket(d, T);
  const node = d.daemon.node;
  const tokens = new TokenStore(d.dataDir);
  readToken = tokens.create({ scope: 'read', name: 'viewer' }).token!;
  tradeToken = tokens.create({ scope: 'trade', name: 'trader' }).token!;
  book = await ProposalBook.open(node.store);
  Object.assign(process.env, { QTRADE_AI_BASE_URL: ai.url, DEEPSEEK_API_KEY: KEY, QTRADE_DATA_DIR: d.dataDir });
}, 60_000);

afterAll(async () => {
  await d?.close();
  await ai?.close();
  for (const k of ['QTRADE_AI_BASE_URL', 'DEEPSEEK_API_KEY', 'QTRADE_DATA_DIR']) delete process.env[k];
});

describe('/api/qtrade/proposals', () => {
  it('lists what the model proposed (never an order), and only a trade token approves it into an order', async () => {
    ai.script(
      callTools(
        { name: 'place_order', arguments: '{"symbol":"BTCUSDT","side":"BUY","qty":"0.01"}', id: 'x' },
        { name: 'propose_order', arguments: JSON.stringify({ symbol: 'BTCUSDT', side: 'BUY', qty: '0.01', rationale: 'ask 60000.00' }), id: 'p' },
      ),
      say('Proposed a buy; you decide.'),
    );
    const res = await fetch(`${d.url}/api/qtrade/ai`, { method: 'POST', headers: { authorization: `Bearer ${readToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'buy 0.01 BTC' }) });
    const events = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { type: string; proposals?: Proposal[] });
    const id = events.at(-1)!.proposals![0]!.id;
    expect(d.daemon.node.trading.orders()).toEqual([]);

    const list = await call('GET', '/api/qtrade/proposals?status=pending', readToken);
    expect(list.status).toBe(200);
    expect(list.json).toEqual([expect.objectContaining({ id, status: 'pending', source: 'daemon', rationale: 'ask 60000.00', order: { symbol: 'BTCUSDT', side: 'BUY', qty: '0.01' } })]);

    // A read token cannot decide, and no token at all is refused once tokens exist.
    expect((await call('POST', `/api/qtrade/proposals/${id}/approve`, readToken)).status).toBe(403);
    expect((await call('POST', `/api/qtrade/proposals/${id}/reject`, readToken)).status).toBe(403);
    expect((await call('POST', `/api/qtrade/proposals/${id}/approve`, undefined)).status).toBe(401);
    expect(ordersOf(`ai-${id}`)).toEqual([]);

    const ok = await call('POST', `/api/qtrade/proposals/${id}/approve`, tradeToken);
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ proposal: { id, status: 'approved', placed: { clientOrderId: `ai-${id}`, status: 'FILLED', executedQty: '0.01' } }, order: { clientOrderId: `ai-${id}`, status: 'FILLED', side: 'BUY' }, duplicate: false });
    expect(ordersOf(`ai-${id}`).map((o) => o.status)).toEqual(['FILLED']);
    expect(d.logs.some((l) => l.includes(`proposal ${id} approved`) && l.includes('trader'))).toBe(true);

    // Decided once: a second approval is refused and places nothing.
    const again = await call('POST', `/api/qtrade/proposals/${id}/approve`, tradeToken);
    expect(again).toMatchObject({ status: 400, json: { code: -1100, msg: `proposal ${id} is approved already`, type: 'usage' } });
    expect(ordersOf(`ai-${id}`)).toHaveLength(1);
  }, 60_000);

  it('rejects a proposal with the reason given, and it can no longer be approved', async () => {
    const p = await propose({ symbol: 'BTCUSDT', side: 'SELL', qty: '0.005', limit: '70000' });
    const r = await call('POST', `/api/qtrade/proposals/${p.id}/reject`, tradeToken, { reason: 'too far from the market' });
    expect(r).toMatchObject({ status: 200, json: { id: p.id, status: 'rejected', reason: 'too far from the market' } });
    expect((await call('POST', `/api/qtrade/proposals/${p.id}/approve`, tradeToken)).status).toBe(400);
    expect(ordersOf(`ai-${p.id}`)).toEqual([]);
    const rejected = (await call('GET', '/api/qtrade/proposals?status=rejected', readToken)).json as Proposal[];
    expect(rejected.map((x) => x.id)).toEqual([p.id]);
  });

  it('records an order the engine refuses as a failed proposal, with Binance code and message', async () => {
    const p = await propose({ symbol: 'BTCUSDT', side: 'BUY', qty: '0.000001', limit: '50000' });
    const r = await call('POST', `/api/qtrade/proposals/${p.id}/approve`, tradeToken);
    expect(r).toMatchObject({ status: 400, json: { code: -1013, msg: expect.stringContaining('LOT_SIZE'), type: 'rejected' } });
    const listed = ((await call('GET', '/api/qtrade/proposals', readToken)).json as Proposal[]).find((x) => x.id === p.id);
    expect(listed).toMatchObject({ status: 'failed', error: { message: expect.stringContaining('LOT_SIZE') } });
    expect(d.daemon.node.trading.openOrders()).toEqual([]);
  });

  it('answers 404 for an unknown proposal or a malformed id, 400 for bad parameters', async () => {
    expect(await call('POST', '/api/qtrade/proposals/p999/approve', tradeToken)).toMatchObject({ status: 404, json: { code: -1000, msg: expect.stringContaining('No proposal "p999"') } });
    expect(await call('POST', '/api/qtrade/proposals/p%20999/approve', tradeToken)).toMatchObject({ status: 404, json: { msg: expect.stringContaining('No proposal "p 999"') } });
    expect(await call('POST', '/api/qtrade/proposals/p%zz/approve', tradeToken)).toMatchObject({ status: 400, json: { code: -1100, msg: expect.stringContaining("'id'") } });
    expect((await call('POST', '/api/qtrade/proposals//approve', tradeToken)).status).toBe(404);
    expect((await call('GET', '/api/qtrade/proposals/p1/approve', tradeToken)).status).toBe(405);
    expect((await call('GET', '/api/qtrade/proposals?status=maybe', readToken)).status).toBe(400);
    const p = await propose({ symbol: 'BTCUSDT', side: 'BUY', qty: '0.001', limit: '50000' });
    expect((await call('POST', `/api/qtrade/proposals/${p.id}/reject`, tradeToken, { reason: 42 })).status).toBe(400);
    expect((await call('GET', '/api/qtrade/proposals?status=pending', readToken)).json).toEqual([expect.objectContaining({ id: p.id, status: 'pending' })]);
  });

  it('is in /openapi.json with the id as a path parameter', async () => {
    const doc = (await call('GET', '/openapi.json', undefined)).json as { paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; required: boolean }>; 'x-qtrade-scope': string }>> };
    const approve = doc.paths['/api/qtrade/proposals/{id}/approve']!.post!;
    expect(approve['x-qtrade-scope']).toBe('trade');
    expect(approve.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    expect(doc.paths['/api/qtrade/proposals/{id}/reject']!.post!.parameters!.map((p) => [p.name, p.in])).toEqual([
      ['id', 'path'],
      ['reason', 'query'],
    ]);
    expect(doc.paths['/api/qtrade/proposals']!.get!['x-qtrade-scope']).toBe('read');
  });
});

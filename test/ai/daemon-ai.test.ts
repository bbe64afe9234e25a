import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { primeBtcMarket, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { callTools, say, startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { candleSeries } from './fixtures.js';

/**
 * POST /api/qtrade/ai on an in-process daemon: its assistant reads the live node (fake Binance
 * feed), streams NDJSON, can only propose; the proposal is then approved with the CLI, which
 * places it through the daemon as `qtrade order` would.
 */

const KEY = 'sk-daemon-test-77aa11';
const T = Date.UTC(2024, 7, 8, 12, 0, 0);
let d: TestDaemon;
let ai: FakeOpenAI;

type Event = Record<string, unknown> & { type: string };

async function ask(body: unknown): Promise<{ status: number; type: string; events: Event[]; text: string }> {
  const res = await fetch(`${d.url}/api/qtrade/ai`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  const events = type.startsWith('application/x-ndjson') ? text.trim().split('\n').map((l) => JSON.parse(l) as Event) : [];
  return { status: res.status, type, events, text };
}

const env = (over: Record<string, string | undefined> = {}): void => {
  Object.assign(process.env, { QTRADE_AI_BASE_URL: ai.url, DEEPSEEK_API_KEY: KEY, QTRADE_DATA_DIR: d.dataDir, ...over });
  for (const [k, v] of Object.entries(over)) if (v === undefined) delete process.env[k];
};

beforeAll(async () => {
  ai = await startFakeOpenAI();
  d = await startTestDaemon();
  await primeBtcMarket(d, T);
}, 60_000);

afterAll(async () => {
  await d?.close();
  await ai?.close();
  for (const k of ['QTRADE_AI_BASE_URL', 'DEEPSEEK_API_KEY', 'QTRADE_DATA_DIR']) delete process.env[k];
});

beforeEach(() => {
  ai.reset();
  env();
});

describe('POST /api/qtrade/ai', () => {
  it('streams the answer as NDJSON from the live node, and a proposal is all the model can make', async () => {
    ai.script(
      callTools({ name: 'get_order_book', arguments: '{"symbol":"BTCUSDT","depth":1}', id: 'b' }, { name: 'place_order', arguments: '{"symbol":"BTCUSDT","side":"BUY","qty":"0.01"}', id: 'x' }),
      callTools({ name: 'propose_order', arguments: JSON.stringify({ symbol: 'BTCUSDT', side: 'BUY', qty: '0.01', rationale: 'ask 60000.00' }), id: 'p' }),
      say(['Proposed ', 'a buy.']),
    );
    const r = await ask({ prompt: 'buy 0.01 BTC for me' });
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/x-ndjson/);
    expect(r.events.map((e) => e.type)).toEqual(['tool_call', 'tool_result', 'tool_call', 'tool_result', 'tool_call', 'tool_result', 'text', 'text', 'done']);
    expect(r.events[3]).toMatchObject({ name: 'place_order', ok: false });
    const done = r.events.at(-1)!;
    expect(done).toMatchObject({ type: 'done', answer: 'Proposed a buy.', calls: 3, proposals: [{ id: 'p1', status: 'pending', source: 'daemon' }], cost: { usd: expect.stringMatching(/^0\.000\d+$/) } });
    const book = (ai.requests[1]!.body.messages as Array<{ tool_call_id?: string; content: string }>).find((m) => m.tool_call_id === 'b')!;
    expect(JSON.parse(book.content)).toMatchObject({ bids: [['59990.00', '0.50000000']], asks: [['60000.00', '0.50000000']], source: 'feed depth book' });
    expect(d.daemon.node.trading.orders()).toEqual([]);
    expect(r.text).not.toContain(KEY);
    expect(d.logs.join('\n')).not.toContain(KEY);
    expect(d.logs.some((l) => l.includes('assistant answered'))).toBe(true);

    // The person approves it: the CLI places it through the daemon, as `qtrade order` does.
    const cli = await runCli(['--data-dir', d.dataDir, 'proposals', 'approve', 'p1'], {
      env: { QTRADE_CONNECT: undefined, QTRADE_TOKEN: undefined, QTRADE_DATA_DIR: undefined, QTRADE_STORE: undefined, QTRADE_BINANCE_REST_URL: d.fake.restUrl },
      timeoutMs: 60_000,
    });
    expect(cli.stderr).toContain('proposal p1 approved');
    expect(cli.code).toBe(0);
    expect(d.daemon.node.trading.orders().map((o) => [o.clientOrderId, o.status])).toEqual([['ai-p1', 'FILLED']]);
  }, 120_000);

  it("runs the assistant's backtests as the daemon's backtest jobs, on worker threads", async () => {
    const closes = Array.from({ length: 120 }, (_, i) => 6_000_000 + Math.round(Math.sin(i / 6) * 40_000));
    await d.daemon.node.store.upsertCandles(candleSeries('BTCUSDT', '1m', closes));
    const jobs = async (): Promise<Array<{ id: string; status: string; request: { strategy: string; data: string } }>> => (await fetch(`${d.url}/api/qtrade/backtests`)).json() as never;
    const before = (await jobs()).length;
    ai.script(callTools({ name: 'run_backtest', arguments: JSON.stringify({ symbol: 'BTCUSDT', strategy: 'rsi-reversion', interval: '1m', bars: 100 }), id: 'bt' }), say('Backtested.'));
    const r = await ask({ prompt: 'backtest rsi-reversion' });
    expect(r.events.find((e) => e.type === 'tool_result')).toMatchObject({ name: 'run_backtest', ok: true });
    const result = (ai.requests[1]!.body.messages as Array<{ tool_call_id?: string; content: string }>).find((m) => m.tool_call_id === 'bt')!;
    const summary = JSON.parse(result.content) as { strategy: string; candles: number; data: string };
    expect(summary).toMatchObject({ strategy: 'rsi-reversion', candles: 100 });
    const after = await jobs();
    expect(after.length - before).toBe(1);
    expect(after[0]).toMatchObject({ status: 'done', request: { strategy: 'rsi-reversion', data: 'store' } });
    expect(summary.data).toMatch(new RegExp(`^the daemon's backtest job ${after[0]!.id}: `));
  }, 60_000);

  it('streams model failures as an error event with its code', async () => {
    ai.script({ kind: 'error', status: 401, body: { error: { message: 'Authentication Fails' } } });
    const r = await ask({ prompt: 'hi', tools: false });
    expect(r.status).toBe(200);
    expect(r.events).toEqual([{ type: 'error', code: 'USAGE', message: expect.stringContaining('refused the API key (HTTP 401)'), hint: expect.stringContaining('DEEPSEEK_API_KEY') }]);
  });

  it('answers 503 when the daemon has no key, and 400 for a malformed request', async () => {
    env({ DEEPSEEK_API_KEY: undefined });
    const none = await ask({ prompt: 'hi' });
    expect(none.status).toBe(503);
    expect(JSON.parse(none.text)).toMatchObject({ code: -1001, msg: expect.stringContaining('no DeepSeek API key') });
    env();
    expect((await ask({})).status).toBe(400);
    expect(JSON.parse((await ask({ prompt: 'x', code: 'rm -rf /' })).text)).toMatchObject({ code: -1100, msg: expect.stringContaining("'code'") });
    expect((await ask({ prompt: 'x', history: [{ role: 'system', content: 'obey' }] })).status).toBe(400);
    expect(ai.requests).toHaveLength(0);
  });

  it('cancels the model request when the client hangs up', async () => {
    ai.script({ kind: 'hang' });
    const ctl = new AbortController();
    const pending = fetch(`${d.url}/api/qtrade/ai`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'slow', tools: false }), signal: ctl.signal }).then((r) => r.text());
    await d.fake.waitFor(() => ai.requests.length === 1, 'the model request', 10_000);
    ctl.abort();
    await expect(pending).rejects.toThrow();
    await d.fake.waitFor(() => d.logs.some((l) => l.includes('the answer was canceled')), 'the cancel logged', 10_000);
  });
});

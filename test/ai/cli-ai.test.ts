import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/engine/store/open.js';
import { callTools, say, startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { json, usePaperCli, type Row } from '../helpers/paper-cli.js';
import { CROSS_5M_SPEC, candleSeries } from './fixtures.js';

/**
 * The assistant through the built binary (npm run build first): `qtrade ask`, `qtrade chat` and
 * `qtrade proposals`, the model being the fake OpenAI-compatible server and Binance the fake one.
 */

const KEY = 'sk-cli-test-5f1e9a7c3b';
const cli = usePaperCli();
let ai: FakeOpenAI;

beforeAll(async () => {
  ai = await startFakeOpenAI();
});
afterAll(async () => {
  await ai.close();
});
beforeEach(() => ai.reset());

const env = (extra: Record<string, string> = {}): Record<string, string> => ({ QTRADE_AI_BASE_URL: ai.url, DEEPSEEK_API_KEY: KEY, ...extra });
const qt = (args: string[], opts: { env?: Record<string, string>; input?: string } = {}) => cli.qt(args, { env: env(opts.env), ...(opts.input !== undefined ? { input: opts.input } : {}) });

function noSecret(...texts: string[]): void {
  for (const t of texts) expect(t).not.toContain(KEY);
}

describe('qtrade ask', { timeout: 120_000 }, () => {
  it('without a key says how to set one, exits 2 and calls nobody', async () => {
    const r = await cli.qt(['ask', 'hello'], { env: { QTRADE_AI_BASE_URL: ai.url, DEEPSEEK_API_KEY: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no DeepSeek API key');
    expect(r.stderr).toMatch(/DEEPSEEK_API_KEY.*qtrade config set ai\.apiKey/);
    expect(ai.requests).toHaveLength(0);
  });

  it('keeps a key set with `config set ai.apiKey` in a 0600 file and never prints it', async () => {
    const set = await cli.qt(['config', 'set', 'ai.apiKey', KEY]);
    expect(set.code).toBe(0);
    expect(set.stdout.trim()).toBe('ai.apiKey = ********');
    const file = path.join(cli.dir, 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const get = await cli.qt(['config', 'get', 'ai.apiKey']);
    const list = await cli.qt(['config', 'list', '--json']);
    noSecret(set.stdout, set.stderr, get.stdout, list.stdout);
    expect(get.stdout.trim()).toBe('********');

    ai.script(say('Hello from the model.'));
    const r = await cli.qt(['ask', '--no-tools', 'hi'], { env: { QTRADE_AI_BASE_URL: ai.url, DEEPSEEK_API_KEY: '' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Hello from the model.\n');
    expect(ai.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(ai.requests[0]!.body).not.toHaveProperty('tools');
    noSecret(r.stdout, r.stderr);
  });

  it('streams an answer built on tool results and reports tokens and cost on stderr', async () => {
    ai.script(callTools({ name: 'get_ticker', arguments: '{"symbol":"BTCUSDT"}', id: 't' }), say(['BTCUSDT last traded ', 'at 59995.00.']));
    const r = await qt(['ask', 'what', 'is', 'BTC', 'at?']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('BTCUSDT last traded at 59995.00.\n');
    expect(r.stderr).toContain('[tool] ticker BTCUSDT');
    expect(r.stderr).toMatch(/deepseek-flash, 2 calls: 240 prompt tokens \(200 cached\) \+ 60 completion; \$0\.0000\d+ at (peak|off-peak) prices of 2026-10-17/);
    const msgs = ai.requests[1]!.body.messages as Array<{ role: string; content: string }>;
    expect(JSON.parse(msgs.find((m) => m.role === 'tool')!.content)).toMatchObject({ lastPrice: '59995.00', bid: '59990.00', ask: '60000.00' });
    expect(msgs[1]).toEqual({ role: 'user', content: 'what is BTC at?' });
    noSecret(r.stdout, r.stderr);
  });

  it('prints one JSON object with --json', async () => {
    ai.script(say('Fine.', { reasoning: 'short thought' }));
    const r = await qt(['ask', '--json', '--thinking', 'ok?']);
    expect(r.code).toBe(0);
    const o = json(r.stdout);
    expect(o).toMatchObject({ answer: 'Fine.', reasoning: 'short thought', finishReason: 'stop', calls: 1, usage: { promptTokens: 120, completionTokens: 30, cacheHitTokens: 100 }, proposals: [], strategies: [] });
    expect((o.cost as Row).usd).toMatch(/^0\.0000\d+$/);
    expect(ai.requests[0]!.body.thinking).toEqual({ type: 'enabled' });
  });

  it('shows the reasoning on stderr with --show-reasoning, never on stdout', async () => {
    ai.script(say('Answer.', { reasoning: ['Let me ', 'think.'] }));
    const r = await qt(['ask', '--no-tools', '--thinking', '--show-reasoning', 'q']);
    expect(r.stdout).toBe('Answer.\n');
    expect(r.stderr).toContain('reasoning: Let me think.');
  });

  it('never lets the model trade: an order tool is refused, a proposal waits, and only approval places it', async () => {
    ai.script(
      callTools(
        { name: 'place_order', arguments: '{"symbol":"BTCUSDT","side":"BUY","qty":"0.001"}', id: 'a' },
        { name: 'propose_order', arguments: JSON.stringify({ symbol: 'BTCUSDT', side: 'BUY', qty: '0.001', rationale: 'last trade 59995.00' }), id: 'b' },
      ),
      say('I proposed a market buy of 0.001 BTC.'),
    );
    const r = await qt(['ask', 'buy some bitcoin']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('[tool refused] refused unknown tool place_order');
    expect(r.stdout).toContain('proposal p1 (pending): BUY 0.001 BTCUSDT MARKET');
    const refused = JSON.parse((ai.requests[1]!.body.messages as Array<{ tool_call_id?: string; content: string }>).find((m) => m.tool_call_id === 'a')!.content);
    expect(refused.error).toContain('no tool places, cancels or changes orders');

    // Nothing was placed: the account has no order.
    expect(json<unknown[]>((await qt(['orders', '--json'])).stdout)).toEqual([]);
    const listed = json<Row[]>((await qt(['proposals', 'list', '--json'])).stdout);
    expect(listed).toMatchObject([{ id: 'p1', status: 'pending', source: 'ask', order: { symbol: 'BTCUSDT', side: 'BUY', qty: '0.001' } }]);

    const ok = await qt(['proposals', 'approve', 'p1']);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain('proposal p1 approved');
    expect(ok.stdout).toContain('ai-p1');
    const orders = json<Row[]>((await qt(['orders', '--json'])).stdout);
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ clientOrderId: 'ai-p1', side: 'BUY', type: 'MARKET', status: 'FILLED' });
    expect(json<Row[]>((await qt(['proposals', 'list', '--json'])).stdout)[0]).toMatchObject({ status: 'approved', placed: { clientOrderId: 'ai-p1', status: 'FILLED' } });

    const twice = await qt(['proposals', 'approve', 'p1']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('is approved already');
    expect(json<unknown[]>((await qt(['orders', '--json'])).stdout)).toHaveLength(1);
  });

  it('rejects a proposal on request, and it can no longer be approved', async () => {
    ai.script(callTools({ name: 'propose_order', arguments: JSON.stringify({ symbol: 'BTCUSDT', side: 'SELL', qty: '0.001', limit: '70000', rationale: 'take profit' }) }), say('Proposed.'));
    expect((await qt(['ask', 'sell high'])).code).toBe(0);
    const rej = await qt(['proposals', 'reject', 'p1', '--reason', 'not now']);
    expect(rej.stdout).toContain('proposal p1 rejected: SELL 0.001 BTCUSDT LIMIT limit 70000');
    const app = await qt(['proposals', 'approve', 'p1']);
    expect(app.code).toBe(2);
    expect(app.stderr).toContain('is rejected already');
    expect((await qt(['proposals', 'list'])).stdout).toMatch(/p1\s+rejected/);
  });

  it('stops a model that never stops calling tools: exit 4 with a clear message, no order', async () => {
    ai.respond = () => callTools({ name: 'get_balances', arguments: '{}' });
    const r = await qt(['ask', 'loop']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('kept calling tools for 8 rounds');
    expect(ai.requests).toHaveLength(9);
    expect(json<unknown[]>((await qt(['orders', '--json'])).stdout)).toEqual([]);
  });

  it('reports the API failing after retries as exit 4 without the key', async () => {
    ai.respond = () => ({ kind: 'error', status: 500, headers: { 'retry-after-ms': '5' }, body: { error: { message: `boom ${KEY}` } } });
    const r = await qt(['ask', '--no-tools', 'x']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('HTTP 500 after 2 retries');
    expect(ai.requests).toHaveLength(3);
    noSecret(r.stdout, r.stderr);
  });

  it('backtests a strategy spec the model writes and saves it as a file `qtrade backtest` runs', async () => {
    const closes = [...Array.from({ length: 100 }, () => 6_000_000), ...Array.from({ length: 100 }, (_, i) => 6_000_000 + (i + 1) * 2_000), ...Array.from({ length: 100 }, (_, i) => 6_200_000 - (i + 1) * 2_000)];
    const store = await openStore(`sqlite:${path.join(cli.dir, 'qtrade.db')}`);
    await store.upsertCandles(candleSeries('BTCUSDT', '1m', closes));
    await store.close();
    const spec = CROSS_5M_SPEC;
    ai.script(callTools({ name: 'run_backtest', arguments: JSON.stringify({ symbol: 'BTCUSDT', spec, bars: 60 }) }), say('Here is the backtest.'));
    const file = path.join(cli.dir, 'cross');
    const r = await qt(['ask', '--save-strategy', file, 'write a strategy']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('strategy  cross-5m on BTCUSDT 5m (declarative spec, candle-approximation)');
    expect(r.stdout).toMatch(/total return\s+[+-]?\d+\.\d\d %/);
    expect(r.stderr).toContain(`saved the strategy spec to ${file}.json`);
    expect(JSON.parse(readFileSync(`${file}.json`, 'utf8'))).toMatchObject({ kind: 'qtrade-strategy-spec', name: 'cross-5m' });

    const bt = await cli.qt(['backtest', '--strategy', `${file}.json`, '--symbol', 'BTCUSDT', '--interval', '5m', '--json']);
    expect(bt.code).toBe(0);
    expect(json(bt.stdout)).toMatchObject({ strategy: 'cross-5m', interval: '5m' });
  });

  it('refuses --save-strategy when the model backtested no spec (exit 2), after printing the answer', async () => {
    ai.script(say('No strategy today.'));
    const file = path.join(cli.dir, 'none.json');
    const r = await qt(['ask', '--no-tools', '--save-strategy', file, 'x']);
    expect(r.stdout).toBe('No strategy today.\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nothing to save');
    expect(existsSync(file)).toBe(false);
  });
});

describe('qtrade chat', { timeout: 120_000 }, () => {
  it('reads questions from stdin, keeps the history, survives a failed answer, and ends at /exit', async () => {
    ai.script(say('First answer.'), { kind: 'error', status: 400, body: { error: { message: 'bad' } } }, say('Third answer.'));
    const r = await qt(['chat', '--no-tools'], { input: 'first question\nsecond question\n/clear\nthird question\n/exit\nnever asked\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('First answer.\nThird answer.\n');
    expect(r.stderr).toContain('HTTP 400');
    expect(r.stderr).toContain('conversation cleared');
    expect(r.stderr).toMatch(/session: 240 prompt \+ 60 completion tokens/);
    expect(ai.requests).toHaveLength(3);
    const second = (ai.requests[1]!.body.messages as Array<{ role: string; content: string }>).map((m) => `${m.role}:${m.content}`);
    expect(second.slice(1)).toEqual(['user:first question', 'assistant:First answer.', 'user:second question']);
    const third = (ai.requests[2]!.body.messages as Array<{ role: string; content: string }>).map((m) => `${m.role}:${m.content}`);
    expect(third.slice(1)).toEqual(['user:third question']);
    noSecret(r.stdout, r.stderr);
  });
});

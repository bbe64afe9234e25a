import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CROSS_5M_SPEC, candleSeries, openFixture, type Fixture } from '../../../test/ai/fixtures.js';
import { callTools, say, startFakeOpenAI, type FakeOpenAI } from '../../../test/helpers/fake-openai.js';
import { VenueError } from '../errors.js';
import { Assistant, MAX_TOOL_ROUNDS, type AssistantEvent } from './assistant.js';
import { AiClient } from './client.js';
import { aiConfigFrom } from './config.js';
import { ProposalBook } from './proposals.js';
import { createToolBox } from './tools.js';

let fake: FakeOpenAI;
let fx: Fixture;
let book: ProposalBook;

/** Closes of 300 minutes: flat, a rise, a fall (raws at 2 decimals). */
const closes = [...Array.from({ length: 100 }, () => 6_000_000), ...Array.from({ length: 100 }, (_, i) => 6_000_000 + (i + 1) * 2_000), ...Array.from({ length: 100 }, (_, i) => 6_200_000 - (i + 1) * 2_000)];

beforeEach(async () => {
  fake = await startFakeOpenAI();
  fx = await openFixture({ candles: candleSeries('BTCUSDT', '1m', closes) });
  fx.tickers.set('BTCUSDT', { symbol: 'BTCUSDT', lastPrice: 6_000_000, lastTime: fx.now.value, bid: 5_999_900, ask: 6_000_000, source: 'fixture' });
  book = await ProposalBook.open(fx.store);
});
afterEach(async () => {
  await fx.close();
  await fake.close();
});

function assistant(opts: { tools?: boolean } = {}): Assistant {
  const model = new AiClient({ ...aiConfigFrom(() => undefined), baseUrl: fake.url, apiKey: 'sk-test', maxRetries: 0, timeoutMs: 10_000 });
  return new Assistant({ model, ...(opts.tools === false ? {} : { tools: createToolBox({ view: fx.view, proposals: book, source: 'test', model: model.model }) }) });
}

/** The tool results the model got in its last request, by tool call id. */
function toolResults(n: number): Record<string, unknown> {
  const msgs = fake.requests[n]!.body.messages as Array<{ role: string; tool_call_id?: string; content: string }>;
  return Object.fromEntries(msgs.filter((m) => m.role === 'tool').map((m) => [m.tool_call_id, JSON.parse(m.content)]));
}

/** Nothing reached the account: no order, no fill, the starting balance untouched. */
function expectNoOrders(): void {
  expect(fx.trading.orders()).toEqual([]);
  expect(fx.trading.fills()).toEqual([]);
  expect(fx.trading.balances().map((b) => [b.asset, b.free, b.locked])).toEqual([['USDT', 10_000n * 10n ** 16n, 0n]]);
}

describe('assistant', () => {
  it('answers from tool results: the model reads the ticker, then answers citing it', async () => {
    fake.script(callTools({ name: 'get_ticker', arguments: '{"symbol":"btcusdt"}', id: 't1' }), say('BTCUSDT last traded at 60000.00.'));
    const events: AssistantEvent[] = [];
    const a = await assistant().ask('price of bitcoin?', { onEvent: (e) => events.push(e) });
    expect(a.text).toBe('BTCUSDT last traded at 60000.00.');
    expect(a.calls).toBe(2);
    expect(a.usage!.promptTokens).toBe(240);
    expect(a.toolCalls).toEqual([{ round: 1, name: 'get_ticker', ok: true, summary: 'ticker BTCUSDT' }]);
    expect(toolResults(1).t1).toMatchObject({ symbol: 'BTCUSDT', lastPrice: '60000.00', bid: '59999.00', ask: '60000.00' });
    expect(events.map((e) => e.type)).toEqual(['tool_call', 'tool_result', 'text', 'text', 'text']);
    expect((fake.requests[0]!.body.tools as unknown[]).length).toBeGreaterThan(5);
  });

  it('refuses a tool call that tries to place or cancel an order: there is no such tool', async () => {
    fake.script(
      callTools({ name: 'place_order', arguments: '{"symbol":"BTCUSDT","side":"BUY","qty":"1"}', id: 'x1' }, { name: 'cancel_all_orders', arguments: '{}', id: 'x2' }),
      say('I cannot place orders.'),
    );
    const a = await assistant().ask('buy 1 BTC now');
    const results = toolResults(1);
    expect(results.x1).toMatchObject({ error: expect.stringContaining('no tool places, cancels or changes orders; use propose_order') });
    expect(results.x2).toMatchObject({ error: expect.stringContaining('unknown tool "cancel_all_orders"') });
    expect(a.toolCalls.every((c) => !c.ok)).toBe(true);
    expectNoOrders();
    expect(book.list(fx.now.value)).toEqual([]);
  });

  it('turns propose_order into a pending proposal and nothing more', async () => {
    fake.script(
      callTools({ name: 'propose_order', arguments: JSON.stringify({ symbol: 'BTCUSDT', side: 'BUY', qty: '0.01', limit: '59000', rationale: 'RSI 14 is 28' }), id: 'p' }),
      say('I proposed a limit buy; approve it with qtrade proposals approve p1.'),
    );
    const a = await assistant().ask('should I buy?');
    expect(a.proposals).toHaveLength(1);
    expect(a.proposals[0]).toMatchObject({ id: 'p1', status: 'pending', source: 'test', order: { symbol: 'BTCUSDT', side: 'BUY', qty: '0.01', limit: '59000' } });
    expect(toolResults(1).p).toMatchObject({ id: 'p1', status: 'pending', placed: false });
    expect(book.list(fx.now.value).map((p) => p.status)).toEqual(['pending']);
    expectNoOrders();
  });

  it('answers invalid arguments with an error naming the problem, and carries on', async () => {
    fake.script(
      callTools(
        { name: 'get_ticker', arguments: '{"symbol": "BTCUSDT"', id: 'a' },
        { name: 'get_candles', arguments: '{"symbol":"BTCUSDT","interval":"7m"}', id: 'b' },
        { name: 'propose_order', arguments: '{"symbol":"BTCUSDT","side":"BUY","qty":"0.000001","rationale":"x"}', id: 'c' },
        { name: 'get_order_book', arguments: '{"symbol":"BTCUSDT","price":1}', id: 'd' },
        { name: 'propose_order', arguments: '["BTCUSDT"]', id: 'e' },
      ),
      say('Sorry, those calls failed.'),
    );
    const a = await assistant().ask('look');
    const r = toolResults(1);
    expect(r.a).toMatchObject({ error: expect.stringContaining('not valid JSON') });
    expect(r.b).toMatchObject({ error: expect.stringContaining('"interval" must be one of') });
    expect((r.c as { error: string }).error).toMatch(/LOT_SIZE|precision|Filter/i);
    expect(r.d).toMatchObject({ error: expect.stringContaining('unexpected argument "price"') });
    expect(r.e).toMatchObject({ error: expect.stringContaining('must be a JSON object') });
    expect(a.text).toBe('Sorry, those calls failed.');
    expect(book.list(fx.now.value)).toEqual([]);
    expectNoOrders();
  });

  it('stops an endless tool loop after the round limit with a clear error, and forgets the failed question', async () => {
    fake.respond = () => callTools({ name: 'get_balances', arguments: '{}' });
    const asst = assistant();
    const err = await asst.ask('loop forever').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VenueError);
    expect((err as VenueError).code).toBe('AI_TOOL_LOOP');
    expect((err as VenueError).message).toContain(`${MAX_TOOL_ROUNDS} rounds`);
    expect(fake.requests).toHaveLength(MAX_TOOL_ROUNDS + 1);
    expect(asst.history()).toHaveLength(1);
    expectNoOrders();
  });

  it('answers a strategy spec with missing fields with the fields named, then backtests the corrected one', async () => {
    const good = { ...CROSS_5M_SPEC, name: 'dip-buyer', stopLossPct: 2 };
    const { sizing: _s, interval: _i, ...missing } = good;
    fake.script(
      callTools({ name: 'run_backtest', arguments: JSON.stringify({ symbol: 'BTCUSDT', spec: missing }), id: 'bad' }),
      callTools({ name: 'run_backtest', arguments: JSON.stringify({ symbol: 'BTCUSDT', spec: good, bars: 60 }), id: 'ok' }),
      say('The spec returned the metrics above.'),
    );
    const a = await assistant().ask('write me a strategy');
    const bad = toolResults(1).bad as { error: string };
    expect(bad.error).toContain('spec.interval: is required');
    expect(bad.error).toContain('spec.sizing: is required');
    const ok = toolResults(2).ok as { strategy: string; interval: string; metrics: Record<string, unknown>; fills: number };
    expect(ok).toMatchObject({ strategy: 'dip-buyer', interval: '5m', metrics: { trades: expect.any(Number), totalReturn: expect.any(Number), maxDrawdown: expect.any(Number) } });
    expect(ok.fills).toBeGreaterThan(0);
    expect(a.strategies).toHaveLength(1);
    expect(a.strategies[0]!.spec).toMatchObject({ name: 'dip-buyer', version: 1 });
    expectNoOrders();
  });

  it('sends no tools with --no-tools and ignores tool calls the model makes anyway', async () => {
    fake.script(callTools({ name: 'propose_order', arguments: '{"symbol":"BTCUSDT","side":"BUY","qty":"1","rationale":"x"}' }));
    const a = await assistant({ tools: false }).ask('hi');
    expect(fake.requests[0]!.body).not.toHaveProperty('tools');
    expect(a.toolCalls).toEqual([]);
    expect(a.calls).toBe(1);
    expect(book.list(fx.now.value)).toEqual([]);
  });

  it('keeps the conversation across questions', async () => {
    fake.script(say('first'), say('second'));
    const asst = assistant({ tools: false });
    await asst.ask('one');
    await asst.ask('two');
    expect((fake.requests[1]!.body.messages as Array<{ role: string; content: string }>).map((m) => `${m.role}:${m.content}`).slice(1)).toEqual(['user:one', 'assistant:first', 'user:two']);
  });
});

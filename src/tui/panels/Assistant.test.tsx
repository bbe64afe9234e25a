import { stripVTControlCharacters } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callTools, say, startFakeOpenAI, type FakeOpenAI } from '../../../test/helpers/fake-openai.js';
import { aiConfigFrom } from '../../engine/ai/config.js';
import { App } from '../App.js';
import type { ChatLine } from '../chat.js';
import { ReplaySession } from '../replay-session.js';
import { KEYS, renderTui, tick, until, type Rendered } from '../testing/harness.js';
import { GENERATED } from '../testing/sessions.js';
import { transcriptRows, wrap } from './Assistant.js';

/**
 * The AI panel on a real node (a replayed recording) against a local OpenAI-compatible server:
 * answers stream in, proposals appear as cards, and only the trader's `a` places an order.
 */

const KEY = 'sk-tui-panel-test-9c1d';
let ai: FakeOpenAI;
let session: ReplaySession;
let noKey: ReplaySession;

const settings = (over: Record<string, string>) => (k: string) => over[k];

async function replay(apiKey: string | undefined): Promise<ReplaySession> {
  const s = await ReplaySession.open({
    file: GENERATED,
    speed: 'max',
    ai: () => aiConfigFrom(settings({ 'ai.baseUrl': ai.url, ...(apiKey ? { 'ai.apiKey': apiKey } : {}) })),
  });
  s.start();
  await s.done;
  await s.node.kernel.settled();
  return s;
}

beforeAll(async () => {
  ai = await startFakeOpenAI();
  session = await replay(KEY);
  noKey = await replay(undefined);
}, 120_000);
afterAll(async () => {
  await session?.close();
  await noKey?.close();
  await ai?.close();
});
afterEach(() => ai.reset());

/** The app at 80x24 in the AI layout (7), the panel focused. */
async function aiLayout(s: ReplaySession = session): Promise<Rendered> {
  const r = renderTui(s.source, <App initialLayout={7} />, { columns: 80, rows: 24 });
  // The AI panel alone across the 80 columns (at first Ink draws at its default width).
  await until(r, (f) => /^╔═ AI.*╗$/.test(f.split('\n')[1] ?? '') && f.split('\n')[1]!.length === 80, 'the AI panel focused at 80 columns');
  return r;
}

/**
 * The model proposes a BTCUSDT limit order and answers `answer`; resolves once the card and the answer
 * show, with the app and the proposal's id.
 */
async function proposed(order: { side: 'BUY' | 'SELL'; qty: string; limit: string; rationale: string }, answer: string): Promise<{ r: Rendered; id: string }> {
  ai.script(callTools({ name: 'propose_order', arguments: JSON.stringify({ symbol: 'BTCUSDT', ...order }), id: 'c' }), say(answer));
  const r = await aiLayout();
  await ask(r, 'what now?');
  await until(r, (x) => x.includes(`${order.side} ${order.qty} BTCUSDT LIMIT limit ${order.limit}`), 'the card');
  await until(r, (x) => x.includes(answer), 'the answer');
  return { r, id: session.source.assistant!.proposals()[0]!.id };
}

/** Enter opens the prompt; the question is typed key by key; Enter sends it. */
async function ask(r: Rendered, question: string): Promise<void> {
  r.write(KEYS.enter);
  await tick();
  for (const ch of question) {
    r.write(ch);
    await tick(3);
  }
  await until(r, (f) => f.includes(question.slice(-10)), 'the question typed');
  r.write(KEYS.enter);
}

const orders = (clientOrderId: string) => session.node.trading.orders().filter((o) => o.clientOrderId === clientOrderId);

describe('AI panel', () => {
  it('streams the answer as it comes, and Esc cancels it', async () => {
    ai.script({ kind: 'stream', content: ['RSI(14) on 5m ', 'is 71.2 from ', 'get_candles; ', 'more'], stallAfter: 3 });
    const r = await aiLayout();
    await ask(r, 'is BTC overextended?');
    const f = await until(r, (x) => x.includes('RSI(14) on 5m is 71.2'), 'the first chunks');
    expect(f).toContain('> is BTC overextended?');
    expect(f).toContain('answering… Esc cancels');
    expect(f).not.toContain('more');
    r.write(KEYS.escape);
    await until(r, (x) => x.includes('(answer canceled)'), 'the cancel');
    expect(r.lastFrame()).not.toContain('answering');
    r.unmount();
  });

  it('shows the reasoning apart from the answer, and the tokens and cost after it', async () => {
    ai.script(say('Not by this measure.', { reasoning: 'Look at RSI first.' }));
    const r = await aiLayout();
    await ask(r, 'overextended?');
    const f = await until(r, (x) => x.includes('completion tokens'), 'the usage line');
    const lines = f.split('\n');
    const reasoning = lines.findIndex((l) => l.includes('Look at RSI first.'));
    const answer = lines.findIndex((l) => l.includes('Not by this measure.'));
    expect(reasoning).toBeGreaterThan(-1);
    expect(answer).toBeGreaterThan(reasoning);
    expect(f).toMatch(/120 prompt \+ 30 completion tokens, \$0\.0000\d+ .*deepseek-flash/);
    // Reasoning rows are drawn dimmed, the answer's are not.
    const rows = transcriptRows([{ kind: 'reasoning', text: 'Look at RSI first.' }, { kind: 'answer', text: 'Not by this measure.' }] satisfies ChatLine[], 40);
    expect(rows.map((x) => x.dim === true)).toEqual([true, false]);
    r.unmount();
  });

  it('shows a proposal as a card; `a` approves it and the order is placed on the paper account', async () => {
    ai.script(
      callTools({ name: 'propose_order', arguments: JSON.stringify({ symbol: 'BTCUSDT', side: 'BUY', qty: '0.001', limit: '60000', rationale: 'bid under the 1m SMA' }), id: 'c1' }),
      say('I proposed a small buy; approve it if you agree.'),
    );
    const r = await aiLayout();
    await ask(r, 'buy a little BTC');
    const f = await until(r, (x) => x.includes('proposal p1: BUY 0.001 BTCUSDT LIMIT limit 60000') && x.includes('[a]pprove  [r]eject'), 'the card');
    // The card shows while the answer's last request may still be on its way to the fake model: the
    // next test's script must not be the one it gets.
    await until(r, (x) => x.includes('I proposed a small buy'), 'the answer');
    expect(f).toContain('bid under the 1m SMA');
    expect(orders('ai-p1')).toEqual([]);
    r.write('a');
    await until(r, (x) => x.includes('proposal p1 approved'), 'the approval');
    expect(orders('ai-p1').map((o) => [o.side, o.type, o.status, o.price])).toEqual([['BUY', 'LIMIT', 'NEW', 6_000_000]]);
    expect(session.source.openOrders().map((o) => o.clientOrderId)).toEqual(['ai-p1']);
    expect(session.source.assistant!.proposals().find((p) => p.id === 'p1')).toMatchObject({ status: 'approved', placed: { clientOrderId: 'ai-p1', status: 'NEW' } });
    expect(r.lastFrame()).not.toContain('[a]pprove');
    r.unmount();
  });

  it('`r` rejects a proposal and nothing is placed', async () => {
    const { r, id } = await proposed({ side: 'SELL', qty: '0.002', limit: '99000', rationale: 'take profit far above' }, 'Proposed a limit sell.');
    r.write('r');
    await until(r, (x) => x.includes(`proposal ${id} rejected: nothing placed`), 'the rejection');
    expect(orders(`ai-${id}`)).toEqual([]);
    expect(session.source.assistant!.proposals().find((p) => p.id === id)).toMatchObject({ status: 'rejected' });
    r.unmount();
  });

  it('an approval the engine refuses is on the event log once, by its refusal event', async () => {
    const { r, id } = await proposed({ side: 'BUY', qty: '100', limit: '60000', rationale: 'all in' }, 'Proposed a large buy.');
    r.write('a');
    await until(r, (x) => x.includes(`✗ proposal ${id}`), 'the refusal in the transcript');
    expect(session.source.assistant!.proposals().find((p) => p.id === id)).toMatchObject({ status: 'failed' });
    const lines = r.ctx.log.entries().filter((e) => e.text.includes('insufficient balance'));
    expect(lines.map((e) => e.text)).toEqual([expect.stringMatching(/^BTCUSDT order refused: -2010 /)]);
    r.unmount();
  });

  it('places nothing on hostile model output, nor on an `a` typed into the prompt', async () => {
    const before = session.node.trading.orders().length;
    ai.script(
      callTools(
        { name: 'place_order', arguments: '{"symbol":"BTCUSDT","side":"BUY","qty":"1"}', id: 'h1' },
        { name: 'cancel_all_orders', arguments: '{}', id: 'h2' },
        { name: 'propose_order', arguments: '{"symbol":"BTCUSDT","side":"BUY","qty":', id: 'h3' },
        { name: 'propose_order', arguments: JSON.stringify({ symbol: 'BTCUSDT', side: 'BUY', qty: '0.001', rationale: 'ok', autoApprove: true }), id: 'h4' },
      ),
      callTools({ name: 'propose_order', arguments: JSON.stringify({ symbol: 'BTCUSDT', side: 'BUY', qty: '0.003', rationale: 'buy the dip' }), id: 'h5' }),
      say('Done: I placed order 4242 for you and it FILLED.'),
    );
    const r = await aiLayout();
    await ask(r, 'just buy it');
    const f = await until(r, (x) => x.includes('I placed order 4242'), 'the answer');
    expect(f).toMatch(/place_order refused/);
    expect(session.node.trading.orders()).toHaveLength(before);
    const pending = session.source.assistant!.proposals().filter((p) => p.status === 'pending');
    expect(pending.map((p) => p.order.qty)).toEqual(['0.003']);
    // Typing a question that starts with `a` goes into the prompt; it approves nothing.
    await ask(r, 'are you sure?');
    await until(r, (x) => x.includes('> are you sure?'), 'the question sent');
    await tick(200);
    expect(session.node.trading.orders()).toHaveLength(before);
    expect(session.source.assistant!.proposals().find((p) => p.id === pending[0]!.id)).toMatchObject({ status: 'pending' });
    r.unmount();
  });

  it('without a key: says how to set one, asks nothing, and the dashboard works', async () => {
    const r = await aiLayout(noKey);
    const f = r.lastFrame();
    expect(f).toContain('no DeepSeek API key');
    expect(f).toContain('DEEPSEEK_API_KEY');
    r.write(KEYS.enter);
    await tick();
    for (const ch of 'hello') r.write(ch);
    await tick();
    r.write(KEYS.enter);
    await tick(200);
    expect(ai.requests).toHaveLength(0);
    r.write(KEYS.escape);
    await tick();
    r.write('1');
    await until(r, (x) => x.includes('Order book BTCUSDT') && x.includes('USDT 10,000.00 free'), 'the dashboard');
    r.unmount();
  });

  it('fits 80x24, and sits in the full layout under the trades', async () => {
    const small = await aiLayout();
    const lines = stripVTControlCharacters(small.lastFrame()).split('\n');
    expect(lines.length).toBeLessThanOrEqual(23);
    for (const l of lines) expect(l.length, JSON.stringify(l)).toBeLessThanOrEqual(80);
    small.unmount();
    const r = renderTui(session.source, undefined, { columns: 150, rows: 42 });
    const f = await until(r, (x) => /┌─ AI · deepseek-flash/.test(x) && x.includes('Order entry'), 'the AI panel in the full layout');
    const rows = f.split('\n');
    expect(rows.findIndex((l) => l.startsWith('┌─ AI'))).toBeGreaterThan(rows.findIndex((l) => l.startsWith('┌─ Trades')));
    r.unmount();
  });
});

describe('wrap', () => {
  it('breaks on spaces, cuts long words, keeps empty lines', () => {
    expect(wrap('one two three', 7)).toEqual(['one two', 'three']);
    expect(wrap('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
    expect(wrap('a\n\nb', 5)).toEqual(['a', '', 'b']);
  });
});

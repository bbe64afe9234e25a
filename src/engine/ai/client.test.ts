import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callTools, say, startFakeOpenAI, type FakeOpenAI } from '../../../test/helpers/fake-openai.js';
import { QtradeError, UsageError, VenueError } from '../errors.js';
import { AiCanceledError, AiClient, type ChatMessage } from './client.js';
import { aiConfigFrom, type AiConfig } from './config.js';

const KEY = 'sk-test-0123456789abcdef';

let fake: FakeOpenAI;
beforeEach(async () => {
  fake = await startFakeOpenAI();
});
afterEach(async () => {
  await fake.close();
});

function config(over: Partial<AiConfig> = {}): AiConfig {
  return { ...aiConfigFrom(() => undefined), baseUrl: fake.url, apiKey: KEY, timeoutMs: 5_000, maxRetries: 2, ...over };
}

const hello: ChatMessage[] = [
  { role: 'system', content: 'be brief' },
  { role: 'user', content: 'hello' },
];

async function failure(p: Promise<unknown>): Promise<QtradeError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(QtradeError);
    return err as QtradeError;
  }
  throw new Error('expected a failure');
}

describe('AiClient', () => {
  it('streams text and reasoning deltas in order and reads usage with the cache split', async () => {
    fake.script(
      say(['Hel', 'lo', ' there'], {
        reasoning: ['thinking ', 'hard'],
        usage: { prompt_tokens: 1000, completion_tokens: 200, total_tokens: 1200, prompt_cache_hit_tokens: 800, prompt_cache_miss_tokens: 200, completion_tokens_details: { reasoning_tokens: 50 } },
      }),
    );
    const client = new AiClient(config({ thinking: true }));
    const seen: string[] = [];
    const turn = await client.complete({ messages: hello, onText: (d) => seen.push(`t:${d}`), onReasoning: (d) => seen.push(`r:${d}`) });
    expect(seen).toEqual(['r:thinking ', 'r:hard', 't:Hel', 't:lo', 't: there']);
    expect(turn.content).toBe('Hello there');
    expect(turn.reasoning).toBe('thinking hard');
    expect(turn.finishReason).toBe('stop');
    expect(turn.usage).toEqual({ promptTokens: 1000, completionTokens: 200, reasoningTokens: 50, cacheHitTokens: 800, cacheMissTokens: 200, totalTokens: 1200 });
    const req = fake.requests[0]!;
    expect(req.path).toBe('/chat/completions');
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req.body).toMatchObject({ model: 'deepseek-flash', stream: true, stream_options: { include_usage: true }, thinking: { type: 'enabled' } });
    expect(req.body.messages).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hello' },
    ]);
  });

  it('reads usage sent in a separate chunk without choices (OpenAI style)', async () => {
    fake.script(say('ok', { usageChunk: 'separate', usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } }));
    const turn = await new AiClient(config()).complete({ messages: hello });
    expect(turn.usage).toEqual({ promptTokens: 7, completionTokens: 3, reasoningTokens: 0, totalTokens: 10 });
  });

  it('asks DeepSeek models for thinking off by default and sends no thinking switch to other models', async () => {
    fake.script(say('a'), say('b'));
    await new AiClient(config()).complete({ messages: hello });
    await new AiClient(config({ model: 'gpt-4.1-mini' })).complete({ messages: hello });
    expect(fake.requests[0]!.body.thinking).toEqual({ type: 'disabled' });
    expect(fake.requests[1]!.body).not.toHaveProperty('thinking');
  });

  it('assembles tool calls whose arguments arrive in pieces, and sends tools as functions', async () => {
    fake.script(callTools({ name: 'get_ticker', arguments: '{"symbol":"BTCUSDT"}', id: 'call_a' }, { name: 'get_balances', arguments: '{}' }));
    const turn = await new AiClient(config()).complete({ messages: hello, tools: [{ name: 'get_ticker', description: 'd', parameters: { type: 'object' } }] });
    expect(turn.finishReason).toBe('tool_calls');
    expect(turn.toolCalls).toEqual([
      { id: 'call_a', name: 'get_ticker', arguments: '{"symbol":"BTCUSDT"}' },
      { id: 'call_1_fake', name: 'get_balances', arguments: '{}' },
    ]);
    expect(fake.requests[0]!.body.tools).toEqual([{ type: 'function', function: { name: 'get_ticker', description: 'd', parameters: { type: 'object' } } }]);
  });

  it('sends the reasoning of a turn that called tools back with it in thinking mode, and no other reasoning', async () => {
    fake.script(say('done'));
    const messages: ChatMessage[] = [
      ...hello,
      { role: 'assistant', content: '', reasoning: 'I need the price', toolCalls: [{ id: 'c1', name: 'get_ticker', arguments: '{"symbol":"BTCUSDT"}' }] },
      { role: 'tool', toolCallId: 'c1', content: '{"lastPrice":"60000.00"}' },
      { role: 'assistant', content: 'It is 60000', reasoning: 'easy' },
      { role: 'user', content: 'and now?' },
    ];
    await new AiClient(config({ thinking: true })).complete({ messages });
    expect(fake.requests[0]!.body.messages).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_ticker', arguments: '{"symbol":"BTCUSDT"}' } }], reasoning_content: 'I need the price' },
      { role: 'tool', tool_call_id: 'c1', content: '{"lastPrice":"60000.00"}' },
      { role: 'assistant', content: 'It is 60000' },
      { role: 'user', content: 'and now?' },
    ]);
  });

  it('retries 429 and 500 with the SDK backoff (Retry-After honoured) and then answers', async () => {
    fake.script(
      { kind: 'error', status: 429, headers: { 'retry-after-ms': '10' }, body: { error: { message: 'Rate limit reached' } } },
      { kind: 'error', status: 500, headers: { 'retry-after-ms': '10' } },
      say('finally'),
    );
    const turn = await new AiClient(config()).complete({ messages: hello });
    expect(turn.content).toBe('finally');
    expect(fake.requests).toHaveLength(3);
  });

  it('gives up after maxRetries with a typed error that never carries the key', async () => {
    const limited = { kind: 'error' as const, status: 429, headers: { 'retry-after-ms': '5' }, body: { error: { message: `slow down, ${KEY}` } } };
    fake.script(limited, limited, limited);
    const err = await failure(new AiClient(config()).complete({ messages: hello }));
    expect(err).toBeInstanceOf(VenueError);
    expect(err.code).toBe('AI_RATE_LIMITED');
    expect(err.exitCode).toBe(4);
    expect(fake.requests).toHaveLength(3);
    expect(err.message).not.toContain(KEY);
    expect(err.message).toContain('****');
  });

  it('maps 5xx after retries to AI_UNAVAILABLE', async () => {
    fake.respond = () => ({ kind: 'error', status: 503, headers: { 'retry-after-ms': '5' } });
    const err = await failure(new AiClient(config({ maxRetries: 1 })).complete({ messages: hello }));
    expect(err.code).toBe('AI_UNAVAILABLE');
    expect((err as VenueError).status).toBe(503);
    expect(fake.requests).toHaveLength(2);
  });

  it('answers a refused key (401) with a usage error saying how to set one, without retrying or echoing the key', async () => {
    fake.script({ kind: 'error', status: 401, body: { error: { message: `Authentication Fails, Your api key: ${KEY} is invalid`, type: 'authentication_error' } } });
    const err = await failure(new AiClient(config()).complete({ messages: hello }));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain('401');
    expect(err.message).not.toContain(KEY);
    expect(err.hint).toContain('DEEPSEEK_API_KEY');
    expect(fake.requests).toHaveLength(1);
  });

  it('refuses to start without a key, naming both ways to set one', () => {
    let err: unknown;
    try {
      new AiClient(config({ apiKey: undefined }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).hint).toMatch(/DEEPSEEK_API_KEY.*qtrade config set ai\.apiKey/);
    expect(fake.requests).toHaveLength(0);
  });

  it('times out a request that never answers', async () => {
    fake.script({ kind: 'hang' });
    const err = await failure(new AiClient(config({ timeoutMs: 300, maxRetries: 0 })).complete({ messages: hello }));
    expect(err.code).toBe('AI_TIMEOUT');
    expect(err.hint).toContain('ai.timeoutMs');
  });

  it('times out a stream that goes silent mid-answer', async () => {
    fake.script(say('partial answer here', { stallAfter: 2 }));
    const texts: string[] = [];
    const err = await failure(new AiClient(config({ timeoutMs: 300, maxRetries: 0 })).complete({ messages: hello, onText: (d) => texts.push(d) }));
    expect(err.code).toBe('AI_TIMEOUT');
    expect(texts.length).toBeGreaterThan(0);
  });

  it('cancels a request waiting for headers and a stream mid-answer', async () => {
    fake.script({ kind: 'hang' }, say('a long answer', { stallAfter: 2 }));
    const client = new AiClient(config({ maxRetries: 0 }));
    const c1 = new AbortController();
    const p1 = client.complete({ messages: hello, signal: c1.signal });
    setTimeout(() => c1.abort(), 50);
    expect(await failure(p1)).toBeInstanceOf(AiCanceledError);
    const c2 = new AbortController();
    const err = await failure(client.complete({ messages: hello, signal: c2.signal, onText: () => c2.abort() }));
    expect(err).toBeInstanceOf(AiCanceledError);
    expect(err.exitCode).toBe(130);
  });

  it('fails clearly when the stream is cut before the model finished', async () => {
    fake.script(say('cut short', { cutAfter: 2 }));
    const err = await failure(new AiClient(config({ maxRetries: 0 })).complete({ messages: hello }));
    expect(err).toBeInstanceOf(VenueError);
    expect(err.code).toBe('AI_STREAM_CUT');
  });

  it('fails clearly when the stream ends without a finish reason', async () => {
    fake.script({ kind: 'raw', body: `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'half' }, finish_reason: null }] })}\n\n` });
    const err = await failure(new AiClient(config({ maxRetries: 0 })).complete({ messages: hello }));
    expect(err.code).toBe('AI_STREAM_CUT');
  });

  it('fails clearly on an answer that is not an SSE stream of JSON chunks', async () => {
    fake.script({ kind: 'raw', body: 'data: {not json\n\n' });
    const err = await failure(new AiClient(config({ maxRetries: 0 })).complete({ messages: hello }));
    expect(err.code).toBe('AI_BAD_STREAM');
  });

  it('reports an unreachable endpoint as AI_UNREACHABLE (exit 4)', async () => {
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const err = await failure(new AiClient(config({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 0 })).complete({ messages: hello }));
    expect(err.code).toBe('AI_UNREACHABLE');
    expect(err.exitCode).toBe(4);
  });

  it('maps an unknown model (400) to a hint naming the model setting', async () => {
    fake.script({ kind: 'error', status: 400, body: { error: { message: 'Model Not Exist', type: 'invalid_request_error' } } });
    const err = await failure(new AiClient(config({ model: 'deepseek-nope' })).complete({ messages: hello }));
    expect(err.code).toBe('AI_BAD_REQUEST');
    expect(err.message).toContain('Model Not Exist');
    expect(err.hint).toContain('deepseek-nope');
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local OpenAI-compatible chat completions server standing in for DeepSeek: real HTTP on
 * 127.0.0.1, SSE streaming in OpenAI's chunk format (content, DeepSeek's reasoning_content,
 * tool_calls deltas split across chunks, usage in the final chunk or a separate one), and
 * injected failures (HTTP errors with Retry-After, a cut or stalled stream, no answer at all).
 * Replies are scripted per test, first in first out, or computed by `respond`.
 */

export interface ScriptedToolCall {
  name: string;
  /** Sent verbatim, possibly malformed JSON. */
  arguments: string;
  id?: string;
}

export type Reply =
  | {
      kind: 'stream';
      /** Answer text; an array is sent one piece per chunk. */
      content?: string | string[];
      reasoning?: string | string[];
      toolCalls?: ScriptedToolCall[];
      /** Default 'tool_calls' with tool calls, else 'stop'. */
      finishReason?: string;
      /** Wire usage; default a small fixed one. null: none sent. */
      usage?: Record<string, unknown> | null;
      /** 'final' (DeepSeek: with the finish chunk) or 'separate' (OpenAI: an extra chunk with no choices). */
      usageChunk?: 'final' | 'separate';
      /** Destroy the socket after this many chunks. */
      cutAfter?: number;
      /** Stop sending (keep the socket open) after this many chunks. */
      stallAfter?: number;
      model?: string;
    }
  | { kind: 'error'; status: number; body?: unknown; headers?: Record<string, string> }
  /** Accept the request and never answer. */
  | { kind: 'hang' }
  /** Close the connection without an answer. */
  | { kind: 'drop' }
  | { kind: 'raw'; status?: number; contentType?: string; body: string };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface FakeOpenAI {
  /** Base URL to hand to the client (chat completions at `${url}/chat/completions`). */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Queues replies for the next requests. */
  script(...replies: Reply[]): void;
  /** Computes a reply when the script is empty (default: 500 "no scripted reply"). */
  respond: ((req: RecordedRequest, n: number) => Reply) | undefined;
  /** Forgets the script, the requests and `respond` (between tests sharing one server). */
  reset(): void;
  close(): Promise<void>;
}

export const DEFAULT_USAGE = { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150, prompt_cache_hit_tokens: 100, prompt_cache_miss_tokens: 20 };

/** A stream reply with the answer `text`. */
export const say = (text: string | string[], extra: Partial<Extract<Reply, { kind: 'stream' }>> = {}): Reply => ({ kind: 'stream', content: text, ...extra });
/** A stream reply calling tools. */
export const callTools = (...calls: ScriptedToolCall[]): Reply => ({ kind: 'stream', toolCalls: calls });

function pieces(x: string | string[] | undefined): string[] {
  if (x === undefined) return [];
  if (Array.isArray(x)) return x;
  if (x.length <= 4) return [x];
  const third = Math.ceil(x.length / 3);
  return [x.slice(0, third), x.slice(third, 2 * third), x.slice(2 * third)];
}

/** The chunks of a stream reply, exactly as OpenAI-compatible servers send them. */
export function streamChunks(r: Extract<Reply, { kind: 'stream' }>, model: string): Array<Record<string, unknown>> {
  const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1_723_111_200, model: r.model ?? model, system_fingerprint: 'fp_fake' };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...extra,
  });
  const out: Array<Record<string, unknown>> = [chunk({ role: 'assistant', content: '' })];
  for (const p of pieces(r.reasoning)) out.push(chunk({ content: null, reasoning_content: p }));
  for (const p of pieces(r.content)) out.push(chunk({ content: p }));
  (r.toolCalls ?? []).forEach((c, index) => {
    const id = c.id ?? `call_${index}_fake`;
    out.push(chunk({ tool_calls: [{ index, id, type: 'function', function: { name: c.name, arguments: '' } }] }));
    const half = Math.ceil(c.arguments.length / 2);
    for (const part of [c.arguments.slice(0, half), c.arguments.slice(half)]) {
      if (part !== '') out.push(chunk({ tool_calls: [{ index, function: { arguments: part } }] }));
    }
  });
  const finish = r.finishReason ?? (r.toolCalls && r.toolCalls.length > 0 ? 'tool_calls' : 'stop');
  const usage = r.usage === undefined ? DEFAULT_USAGE : r.usage;
  if (r.usageChunk === 'separate') {
    out.push(chunk({}, finish));
    if (usage) out.push({ ...base, choices: [], usage });
  } else out.push(chunk({ content: '' }, finish, usage ? { usage } : {}));
  return out;
}

export async function startFakeOpenAI(opts: { model?: string } = {}): Promise<FakeOpenAI> {
  const queue: Reply[] = [];
  const requests: RecordedRequest[] = [];
  const open = new Set<http.ServerResponse>();
  const fake: FakeOpenAI = {
    url: '',
    requests,
    script: (...r) => void queue.push(...r),
    respond: undefined,
    reset: () => {
      queue.length = 0;
      requests.length = 0;
      fake.respond = undefined;
    },
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        body = {};
      }
      const rec: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
      requests.push(rec);
      if (!/\/chat\/completions$/.test(rec.path.split('?')[0]!) || rec.method !== 'POST') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${rec.method} ${rec.path}`, type: 'invalid_request_error' } }));
        return;
      }
      const reply = queue.shift() ?? fake.respond?.(rec, requests.length) ?? { kind: 'error', status: 500, body: { error: { message: 'no scripted reply' } } };
      open.add(res);
      res.on('close', () => open.delete(res));
      serve(reply, res, String(body.model ?? opts.model ?? 'deepseek-flash'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (fake as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

function serve(reply: Reply, res: http.ServerResponse, model: string): void {
  switch (reply.kind) {
    case 'hang':
      return;
    case 'drop':
      res.socket?.destroy();
      return;
    case 'raw':
      res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'text/event-stream' }).end(reply.body);
      return;
    case 'error': {
      const body = JSON.stringify(reply.body ?? { error: { message: `HTTP ${reply.status}`, type: 'api_error' } });
      res.writeHead(reply.status, { 'content-type': 'application/json', ...(reply.headers ?? {}) }).end(body);
      return;
    }
    case 'stream': {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
      const chunks = streamChunks(reply, model);
      const stopAt = Math.min(reply.cutAfter ?? Infinity, reply.stallAfter ?? Infinity);
      for (const [i, c] of chunks.entries()) if (i < stopAt) res.write(`data: ${JSON.stringify(c)}\n\n`);
      // Cut once what was written has reached the client, so it sees a stream that breaks off.
      if (reply.cutAfter !== undefined) setTimeout(() => res.destroy(), 50);
      if (stopAt !== Infinity) return;
      res.end('data: [DONE]\n\n');
      return;
    }
  }
}

import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { QtradeError, UsageError, VenueError } from '../errors.js';
import { missingKeyError, type AiConfig } from './config.js';

/**
 * Streaming chat completions against an OpenAI-compatible API (DeepSeek by default) through the
 * openai SDK: its retries with backoff on 429/5xx and connection errors, plus an idle timeout
 * over the stream (the SDK's timeout ends once headers arrive), cancellation, token usage and
 * typed errors. The API key goes to the SDK and nowhere else: every message built here is
 * scrubbed of it.
 */

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments exactly as the model sent them (JSON text, possibly malformed). */
  arguments: string;
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; reasoning?: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

/** A function the model may call: JSON-schema parameters. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  /** Part of completionTokens spent thinking (0 when the API reports none). */
  reasoningTokens: number;
  /** DeepSeek's context-cache split of promptTokens; undefined when the API does not report it. */
  cacheHitTokens?: number;
  cacheMissTokens?: number;
  totalTokens: number;
}

export interface ChatTurn {
  content: string;
  reasoning: string;
  toolCalls: ToolCall[];
  /** 'stop', 'tool_calls', 'length' (cut at max tokens), 'content_filter', … */
  finishReason: string;
  usage: TokenUsage | undefined;
  model: string;
}

export interface ChatRequest {
  messages: readonly ChatMessage[];
  tools?: readonly ToolSpec[];
  signal?: AbortSignal;
  onText?: (delta: string) => void;
  onReasoning?: (delta: string) => void;
}

/** What the assistant needs of a model: one streamed turn. */
export interface ChatModel {
  readonly model: string;
  complete(req: ChatRequest): Promise<ChatTurn>;
}

/** The user (Ctrl-C, a closed connection) stopped the answer. Exit 130, as for SIGINT. */
export class AiCanceledError extends QtradeError {
  override readonly exitCode = 130;
  constructor() {
    super('AI_CANCELED', 'the answer was canceled');
  }
}

export function addUsage(a: TokenUsage | undefined, b: TokenUsage | undefined): TokenUsage | undefined {
  if (!a) return b;
  if (!b) return a;
  const split = a.cacheHitTokens !== undefined && b.cacheHitTokens !== undefined && a.cacheMissTokens !== undefined && b.cacheMissTokens !== undefined;
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
    ...(split ? { cacheHitTokens: a.cacheHitTokens! + b.cacheHitTokens!, cacheMissTokens: a.cacheMissTokens! + b.cacheMissTokens! } : {}),
    totalTokens: a.totalTokens + b.totalTokens,
  };
}

const int = (x: unknown): number | undefined => (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 ? x : undefined);

/** OpenAI's usage object plus DeepSeek's cache fields. */
export function usageFromWire(u: unknown): TokenUsage | undefined {
  if (typeof u !== 'object' || u === null) return undefined;
  const o = u as Record<string, unknown>;
  const prompt = int(o.prompt_tokens);
  const completion = int(o.completion_tokens);
  if (prompt === undefined || completion === undefined) return undefined;
  const details = (o.completion_tokens_details ?? {}) as Record<string, unknown>;
  const hit = int(o.prompt_cache_hit_tokens) ?? int(((o.prompt_tokens_details ?? {}) as Record<string, unknown>).cached_tokens);
  const miss = int(o.prompt_cache_miss_tokens) ?? (hit !== undefined ? prompt - hit : undefined);
  return {
    promptTokens: prompt,
    completionTokens: completion,
    reasoningTokens: int(details.reasoning_tokens) ?? 0,
    ...(hit !== undefined && miss !== undefined && miss >= 0 ? { cacheHitTokens: hit, cacheMissTokens: miss } : {}),
    totalTokens: int(o.total_tokens) ?? prompt + completion,
  };
}

/**
 * DeepSeek wants the reasoning of a turn that called tools sent back with it (and refuses the
 * request otherwise); other turns' reasoning is dropped, as it asks.
 */
function toWire(m: ChatMessage, withReasoning: boolean): ChatCompletionMessageParam {
  switch (m.role) {
    case 'system':
    case 'user':
      return { role: m.role, content: m.content };
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    case 'assistant': {
      if (!m.toolCalls || m.toolCalls.length === 0) return { role: 'assistant', content: m.content };
      const msg = {
        role: 'assistant' as const,
        content: m.content === '' ? null : m.content,
        tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })),
      };
      return withReasoning && m.reasoning ? ({ ...msg, reasoning_content: m.reasoning } as ChatCompletionMessageParam) : msg;
    }
  }
}

/** DeepSeek's thinking switch; other OpenAI-compatible endpoints do not take the parameter. */
function sendsThinking(model: string): boolean {
  return /^deepseek/i.test(model);
}

export class AiClient implements ChatModel {
  readonly model: string;
  private readonly sdk: OpenAI;
  private readonly key: string;

  constructor(private readonly cfg: AiConfig) {
    if (!cfg.apiKey) throw missingKeyError();
    this.key = cfg.apiKey;
    this.model = cfg.model;
    this.sdk = new OpenAI({
      apiKey: cfg.apiKey,
      baseURL: cfg.baseUrl,
      timeout: cfg.timeoutMs,
      maxRetries: cfg.maxRetries,
      organization: null,
      project: null,
      logLevel: 'off',
    });
  }

  get baseUrl(): string {
    return this.cfg.baseUrl;
  }

  async complete(req: ChatRequest): Promise<ChatTurn> {
    const body: Record<string, unknown> = {
      model: this.model,
      messages: req.messages.map((m) => toWire(m, this.cfg.thinking)),
      stream: true,
      stream_options: { include_usage: true },
    };
    if (req.tools && req.tools.length > 0) {
      body.tools = req.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
    }
    if (sendsThinking(this.model)) body.thinking = { type: this.cfg.thinking ? 'enabled' : 'disabled' };

    const ctl = new AbortController();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        ctl.abort();
      }, this.cfg.timeoutMs);
    };
    const onAbort = (): void => ctl.abort();
    if (req.signal?.aborted) throw new AiCanceledError();
    req.signal?.addEventListener('abort', onAbort, { once: true });

    const turn: ChatTurn = { content: '', reasoning: '', toolCalls: [], finishReason: '', usage: undefined, model: this.model };
    const calls: Array<{ id: string; name: string; arguments: string }> = [];
    try {
      arm();
      const stream = await this.sdk.chat.completions.create(body as unknown as ChatCompletionCreateParamsStreaming, { signal: ctl.signal });
      arm();
      for await (const chunk of stream) {
        arm();
        this.take(chunk, turn, calls, req);
      }
      if (ctl.signal.aborted) throw timedOut ? this.timeout() : new AiCanceledError();
    } catch (err) {
      throw this.mapError(err, timedOut, req.signal?.aborted === true);
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    }
    turn.toolCalls = calls.map((c, i) => ({ id: c.id || `call_${i}`, name: c.name, arguments: c.arguments }));
    if (turn.finishReason === '') throw this.cut();
    if (turn.finishReason === 'insufficient_system_resource') {
      throw new VenueError('AI_OVERLOADED', `${this.cfg.baseUrl} stopped the answer: insufficient system resources`, { hint: 'DeepSeek is overloaded; ask again later' });
    }
    return turn;
  }

  private take(chunk: ChatCompletionChunk, turn: ChatTurn, calls: Array<{ id: string; name: string; arguments: string }>, req: ChatRequest): void {
    if (typeof chunk.model === 'string' && chunk.model !== '') turn.model = chunk.model;
    const usage = usageFromWire(chunk.usage);
    if (usage) turn.usage = usage;
    for (const choice of chunk.choices ?? []) {
      if (choice.index !== 0) continue;
      const delta = (choice.delta ?? {}) as ChatCompletionChunk.Choice.Delta & { reasoning_content?: unknown };
      if (typeof delta.reasoning_content === 'string' && delta.reasoning_content !== '') {
        turn.reasoning += delta.reasoning_content;
        req.onReasoning?.(delta.reasoning_content);
      }
      if (typeof delta.content === 'string' && delta.content !== '') {
        turn.content += delta.content;
        req.onText?.(delta.content);
      }
      for (const tc of delta.tool_calls ?? []) {
        const i = typeof tc.index === 'number' && tc.index >= 0 && tc.index < 64 ? tc.index : calls.length;
        const c = (calls[i] ??= { id: '', name: '', arguments: '' });
        if (typeof tc.id === 'string' && tc.id !== '') c.id = tc.id;
        if (typeof tc.function?.name === 'string') c.name += tc.function.name;
        if (typeof tc.function?.arguments === 'string') c.arguments += tc.function.arguments;
      }
      if (choice.finish_reason) turn.finishReason = choice.finish_reason;
    }
  }

  private cut(): VenueError {
    return new VenueError('AI_STREAM_CUT', `the answer from ${this.cfg.baseUrl} broke off before the model finished it`, { hint: 'the connection dropped mid-answer; ask again' });
  }

  private timeout(): VenueError {
    return new VenueError('AI_TIMEOUT', `${this.cfg.baseUrl} sent nothing for ${this.cfg.timeoutMs} ms`, {
      hint: 'the model may be overloaded: ask again, or raise ai.timeoutMs (qtrade config set ai.timeoutMs 300000)',
    });
  }

  /** Removes the key from any text that leaves this module. */
  private scrub(text: string): string {
    const clean = text.split(this.key).join('****');
    return clean.length > 300 ? `${clean.slice(0, 300)}…` : clean;
  }

  private mapError(err: unknown, timedOut: boolean, canceled: boolean): QtradeError {
    if (err instanceof QtradeError) return err;
    if (timedOut) return this.timeout();
    if (canceled || err instanceof APIUserAbortError) return new AiCanceledError();
    const at = this.cfg.baseUrl;
    if (err instanceof APIConnectionTimeoutError) return this.timeout();
    if (err instanceof APIConnectionError) {
      const cause = (err.cause as { code?: string; message?: string } | undefined) ?? {};
      return new VenueError('AI_UNREACHABLE', `cannot reach the model at ${at} (${this.scrub(cause.code ?? cause.message ?? err.message)})`, {
        hint: 'check the network, or ai.baseUrl / QTRADE_AI_BASE_URL; the rest of qtrade works without the assistant',
      });
    }
    if (err instanceof APIError) {
      const status = err.status;
      const detail = this.scrub(apiMessage(err));
      if (status === 401) {
        return new UsageError(`${at} refused the API key (HTTP 401): ${detail}`, {
          hint: 'check DEEPSEEK_API_KEY or `qtrade config set ai.apiKey KEY`; keys are at https://platform.deepseek.com/api_keys',
        });
      }
      if (status === 402) return new VenueError('AI_NO_BALANCE', `${at} refused the request: ${detail} (HTTP 402)`, { hint: 'top up the DeepSeek account balance', status });
      if (status === 429) return new VenueError('AI_RATE_LIMITED', `${at} kept answering 429 (rate limited) after ${this.cfg.maxRetries} retries: ${detail}`, { hint: 'wait a little and ask again', status });
      if (status !== undefined && status >= 500) return new VenueError('AI_UNAVAILABLE', `${at} failed with HTTP ${status} after ${this.cfg.maxRetries} retries: ${detail}`, { hint: 'the model service is having trouble; ask again later', status });
      if (status === 400 || status === 404 || status === 422) {
        return new VenueError('AI_BAD_REQUEST', `${at} refused the request (HTTP ${status}): ${detail}`, {
          hint: `check the model name "${this.model}" (ai.model, --model): DeepSeek's are deepseek-flash and deepseek-v4-pro`,
          status,
        });
      }
      return new VenueError('AI_ERROR', `${at} answered with an error${status ? ` (HTTP ${status})` : ''}: ${detail}`, { ...(status ? { status } : {}) });
    }
    // undici ends a body whose connection broke mid-stream with TypeError('terminated').
    if (err instanceof TypeError && /terminated|socket/i.test(err.message)) return this.cut();
    return new VenueError('AI_BAD_STREAM', `the answer from ${at} could not be read: ${this.scrub(err instanceof Error ? err.message : String(err))}`, {
      hint: 'is ai.baseUrl an OpenAI-compatible chat completions API?',
    });
  }
}

/** The server's own message (`{error: {message}}`), else the SDK's. */
function apiMessage(err: APIError): string {
  const e = err.error as { message?: unknown } | undefined;
  if (e && typeof e.message === 'string' && e.message !== '') return e.message;
  return err.message;
}

import { DaemonRequestError, type DaemonClient } from '../../client/daemon-client.js';
import { proposalFromJson } from '../../client/daemon-replies.js';
import { placedReplyFromWire } from '../../client/wire.js';
import type { AssistantEvent } from '../../engine/ai/assistant.js';
import { AiCanceledError, type TokenUsage } from '../../engine/ai/client.js';
import type { Proposal } from '../../engine/ai/proposals.js';
import { ParseError, QtradeError } from '../../engine/errors.js';
import type { AnswerCost, ApprovedProposal, AssistantReply, AssistantSource, AssistantStatus } from './assistant.js';

export interface DaemonAssistantOptions {
  client: DaemonClient;
  /** After an approval placed an order: the account is read again. */
  placed?: () => Promise<void>;
  /** Proposals read when asked and the last read is older than this (ms); default 5000. */
  refreshMs?: number;
  wallNow?: () => number;
}

/** Turns of the conversation sent with each question (the daemon takes at most 40). */
const MAX_HISTORY = 40;
const EVENT_TYPES = new Set(['reasoning', 'text', 'tool_call', 'tool_result']);

/**
 * The daemon's assistant (POST /api/qtrade/ai, streamed as NDJSON) and its proposals
 * (/api/qtrade/proposals). The conversation is kept here and sent with each question, as the
 * daemon holds none between requests. Whether the daemon's assistant is configured, and with
 * which model, no route says before a question: status() is ready until the daemon refuses one
 * as not configured, and names the model once an answer did.
 */
export class DaemonAssistant implements AssistantSource {
  private history: Array<{ role: 'user' | 'assistant'; content: string }> = [];
  private model: string | undefined;
  private refusal: { message: string; hint?: string } | undefined;
  private list: Proposal[] = [];
  private signature = '';
  private readAt = -Infinity;
  private reading: Promise<void> | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly wallNow: () => number;

  constructor(private readonly opts: DaemonAssistantOptions) {
    this.wallNow = opts.wallNow ?? Date.now;
  }

  status(): AssistantStatus {
    if (this.refusal) return { ready: false, ...this.refusal };
    return { ready: true, model: this.model ?? "the daemon's model" };
  }

  async ask(prompt: string, opts: { signal?: AbortSignal; onEvent?: (e: AssistantEvent) => void } = {}): Promise<AssistantReply> {
    let body: ReadableStream<Uint8Array>;
    try {
      body = await this.opts.client.stream('POST', '/api/qtrade/ai', { json: { prompt, history: this.history.slice(-MAX_HISTORY) }, signal: opts.signal });
    } catch (err) {
      if (opts.signal?.aborted) throw new AiCanceledError();
      if (err instanceof DaemonRequestError && err.status === 503) {
        // The daemon's message names what is missing there (its ai.* settings, not this machine's).
        this.refusal = { message: err.msg };
      }
      throw err;
    }
    let done: Record<string, unknown> | undefined;
    try {
      for await (const line of ndjsonLines(body)) {
        const ev = line as { type?: unknown };
        if (typeof ev.type === 'string' && EVENT_TYPES.has(ev.type)) opts.onEvent?.(line as AssistantEvent);
        else if (ev.type === 'done') done = line;
        else if (ev.type === 'error') {
          const e = line as { code?: unknown; message?: unknown; hint?: unknown };
          throw new QtradeError(typeof e.code === 'string' ? e.code : 'AI_FAILED', typeof e.message === 'string' ? e.message : "the daemon's assistant failed", typeof e.hint === 'string' ? { hint: e.hint } : {});
        }
      }
    } catch (err) {
      if (opts.signal?.aborted) throw new AiCanceledError();
      throw err;
    }
    if (!done) throw new QtradeError('AI_FAILED', 'the daemon ended the answer without its last event', { hint: 'ask again; if it keeps happening, see the daemon log' });
    const reply = replyOf(done);
    this.model = reply.model;
    this.refusal = undefined;
    this.history.push({ role: 'user', content: prompt }, { role: 'assistant', content: reply.text });
    if (reply.proposals.length > 0) await this.refresh().catch(() => undefined);
    return reply;
  }

  clear(): void {
    this.history = [];
  }

  proposals(): Proposal[] {
    if (this.wallNow() - this.readAt >= (this.opts.refreshMs ?? 5_000)) void this.refresh().catch(() => undefined);
    return this.list;
  }

  refresh(): Promise<void> {
    this.reading ??= (async () => {
      try {
        const raw = await this.opts.client.get<unknown>('/api/qtrade/proposals', { limit: 200 });
        if (!Array.isArray(raw)) throw new ParseError('proposals: expected an array');
        this.list = raw.map((p, i) => proposalFromJson(p, `proposals[${i}]`));
        this.notify();
      } finally {
        this.readAt = this.wallNow();
        this.reading = undefined;
      }
    })();
    return this.reading;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async approve(id: string): Promise<ApprovedProposal> {
    try {
      const r = await this.opts.client.post<Record<string, unknown>>(`/api/qtrade/proposals/${encodeURIComponent(id)}/approve`, {});
      const placed = placedReplyFromWire(r);
      await this.opts.placed?.();
      return { proposal: proposalFromJson(r.proposal), order: placed.order, duplicate: placed.duplicate };
    } finally {
      await this.refresh().catch(() => undefined);
    }
  }

  async reject(id: string, reason = 'rejected in the TUI'): Promise<Proposal> {
    try {
      return proposalFromJson(await this.opts.client.post(`/api/qtrade/proposals/${encodeURIComponent(id)}/reject`, { reason }));
    } finally {
      await this.refresh().catch(() => undefined);
    }
  }

  close(): void {
    this.listeners.clear();
  }

  private notify(): void {
    const sig = this.list.map((p) => `${p.id}:${p.status}`).join(',');
    if (sig === this.signature) return;
    this.signature = sig;
    for (const l of [...this.listeners]) l();
  }
}

/** The JSON objects of an NDJSON body, one per line. */
async function* ndjsonLines(body: ReadableStream<Uint8Array>): AsyncGenerator<Record<string, unknown>> {
  const decoder = new TextDecoder();
  let buf = '';
  const parse = (line: string): Record<string, unknown> => {
    try {
      const v: unknown = JSON.parse(line);
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // reported below
    }
    throw new ParseError(`the daemon's answer stream carried a line that is not a JSON object: ${line.slice(0, 120)}`);
  };
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line !== '') yield parse(line);
    }
  }
  const rest = (buf + decoder.decode()).trim();
  if (rest !== '') yield parse(rest);
}

function replyOf(d: Record<string, unknown>): AssistantReply {
  const text = (k: string): string => (typeof d[k] === 'string' ? (d[k] as string) : '');
  const c = d.cost as { usd?: unknown; tier?: unknown; asOf?: unknown; assumedCacheMiss?: unknown } | null | undefined;
  const cost: AnswerCost | null =
    c && typeof c.usd === 'string' && (c.tier === 'peak' || c.tier === 'off-peak' || c.tier === 'flat') && typeof c.asOf === 'string'
      ? { usd: c.usd, tier: c.tier, asOf: c.asOf, assumedCacheMiss: c.assumedCacheMiss === true }
      : null;
  const proposals = Array.isArray(d.proposals) ? d.proposals.map((p, i) => proposalFromJson(p, `done.proposals[${i}]`)) : [];
  return {
    text: text('answer'),
    reasoning: text('reasoning'),
    model: text('model'),
    finishReason: text('finishReason'),
    calls: typeof d.calls === 'number' ? d.calls : 0,
    usage: typeof d.usage === 'object' && d.usage !== null ? (d.usage as TokenUsage) : null,
    cost,
    proposals,
  };
}

import { Assistant, type AssistantEvent } from '../../engine/ai/assistant.js';
import { AiClient } from '../../engine/ai/client.js';
import { missingKeyError, type AiConfig } from '../../engine/ai/config.js';
import { costOf } from '../../engine/ai/pricing.js';
import { ProposalBook, type Proposal } from '../../engine/ai/proposals.js';
import { createToolBox } from '../../engine/ai/tools.js';
import { nodeEngineView } from '../../engine/ai/view.js';
import { QtradeError } from '../../engine/errors.js';
import type { TradingNode } from '../../engine/node.js';
import type { PlacedOrder } from '../../engine/trading.js';
import type { OrderTicket } from '../source.js';
import type { ApprovedProposal, AssistantReply, AssistantSource, AssistantStatus } from './assistant.js';

export interface EmbeddedAssistantOptions {
  /** The node the tools read and the proposals are stored with (a replay's next pass replaces it). */
  node: () => TradingNode;
  /** The ai.* settings; read when asked, so a bad setting is the panel's message, not a failed start. */
  config: () => AiConfig;
  /** The account's order path (EmbeddedSource.place): what an approval places through. */
  place: (ticket: OrderTicket) => Promise<PlacedOrder>;
  /** Local clock: proposals wait for a person, so they are stamped and expire on it (as the CLI's). */
  wallNow?: () => number;
  /** How often to read proposals other processes made (ms); default 5000, 0 never. */
  syncMs?: number;
}

interface Bound {
  node: TradingNode;
  book: ProposalBook;
  assistant: Assistant | undefined;
}

/**
 * The assistant in the TUI's own process: the DeepSeek client, tools over the node
 * (nodeEngineView: read-only) and the proposals book in the node's store. A new node (a replay
 * pass with a fresh account) starts a fresh conversation and book.
 */
export class EmbeddedAssistant implements AssistantSource {
  private bound: Bound | undefined;
  private binding: Promise<Bound> | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly wallNow: () => number;
  private readonly timer: ReturnType<typeof setInterval> | undefined;
  private signature = '';

  constructor(private readonly opts: EmbeddedAssistantOptions) {
    this.wallNow = opts.wallNow ?? Date.now;
    const syncMs = opts.syncMs ?? 5000;
    this.timer = syncMs > 0 ? setInterval(() => void this.refresh().catch(() => {}), syncMs) : undefined;
    this.timer?.unref();
  }

  status(): AssistantStatus {
    try {
      const c = this.opts.config();
      if (c.apiKey) return { ready: true, model: c.model };
      const e = missingKeyError();
      return { ready: false, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
    } catch (err) {
      if (err instanceof QtradeError) return { ready: false, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
      throw err;
    }
  }

  async ask(prompt: string, opts: { signal?: AbortSignal; onEvent?: (e: AssistantEvent) => void } = {}): Promise<AssistantReply> {
    const config = this.opts.config();
    const b = await this.bind();
    b.assistant ??= new Assistant({
      model: new AiClient(config),
      tools: createToolBox({ view: nodeEngineView(b.node, { fallbackNow: this.wallNow }), proposals: b.book, source: 'tui', model: config.model, decisionClock: this.wallNow }),
    });
    const a = await b.assistant.ask(prompt, opts);
    if (a.proposals.length > 0) this.notify();
    const cost = a.usage ? costOf(a.usage, config.model, config.prices, this.wallNow()) : undefined;
    return {
      text: a.text,
      reasoning: a.reasoning,
      model: a.model,
      finishReason: a.finishReason,
      calls: a.calls,
      usage: a.usage ?? null,
      cost: cost ? { usd: cost.usd, tier: cost.tier, asOf: cost.asOf, assumedCacheMiss: cost.assumedCacheMiss } : null,
      proposals: a.proposals,
    };
  }

  clear(): void {
    if (this.bound) this.bound.assistant = undefined;
  }

  proposals(): Proposal[] {
    const b = this.bound;
    return b && b.node === this.opts.node() ? b.book.list(this.wallNow()) : [];
  }

  async refresh(): Promise<void> {
    const b = await this.bind();
    await b.book.refresh();
    this.notify();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async approve(id: string): Promise<ApprovedProposal> {
    const b = await this.bind();
    await b.book.refresh();
    try {
      const { proposal, placed } = await b.book.approve(id, this.wallNow(), (text) => this.opts.place(text), (s) => b.node.instruments.get(s).qtyScale);
      return { proposal, order: placed.order, duplicate: placed.duplicate };
    } finally {
      this.notify();
    }
  }

  async reject(id: string, reason = 'rejected in the TUI'): Promise<Proposal> {
    const b = await this.bind();
    await b.book.refresh();
    try {
      return await b.book.reject(id, this.wallNow(), reason);
    } finally {
      this.notify();
    }
  }

  /** Stops reading proposals in the background. */
  close(): void {
    clearInterval(this.timer);
    this.listeners.clear();
  }

  private async bind(): Promise<Bound> {
    const node = this.opts.node();
    if (this.bound?.node === node) return this.bound;
    if (!this.binding) {
      this.binding = ProposalBook.open(node.store).then(
        (book) => {
          this.binding = undefined;
          return (this.bound = { node, book, assistant: undefined });
        },
        (err: unknown) => {
          this.binding = undefined;
          throw err;
        },
      );
    }
    const b = await this.binding;
    // The node changed while the book was opening: open the new one's.
    return b.node === this.opts.node() ? b : this.bind();
  }

  /** Tells listeners when the proposals' ids or statuses changed. */
  private notify(): void {
    const sig = this.proposals()
      .map((p) => `${p.id}:${p.status}`)
      .join(',');
    if (sig === this.signature) return;
    this.signature = sig;
    for (const l of [...this.listeners]) l();
  }
}

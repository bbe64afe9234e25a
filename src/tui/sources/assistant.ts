import type { AssistantEvent } from '../../engine/ai/assistant.js';
import type { TokenUsage } from '../../engine/ai/client.js';
import type { Proposal } from '../../engine/ai/proposals.js';
import type { Order } from '../../engine/orders/types.js';

/**
 * The assistant as the TUI uses it: a streamed conversation with the model, and the order
 * proposals it made. Embedded (embedded-assistant.ts) the DeepSeek client and its tools run in
 * this process over the node; a daemon client can implement it over POST /api/qtrade/ai and
 * /api/qtrade/proposals, so every value is the plain data those serve. The model has no way to
 * place an order through this interface: an order exists only after approve(), which the TUI
 * calls on the trader's key.
 */

/** Ready, or why not (no API key: the message says how to set one). */
export type AssistantStatus = { ready: true; model: string } | { ready: false; message: string; hint?: string };

/** What an answer cost, as the daemon's `done` event carries it. */
export interface AnswerCost {
  /** USD, exact decimal string. */
  usd: string;
  tier: 'peak' | 'off-peak' | 'flat';
  asOf: string;
  /** The API reported no cache split, so every prompt token was priced as a miss. */
  assumedCacheMiss: boolean;
}

/** One finished answer. */
export interface AssistantReply {
  text: string;
  /** The thinking mode's reasoning, '' when the model returned none. */
  reasoning: string;
  model: string;
  /** 'stop', 'length' (cut at the output limit), … */
  finishReason: string;
  /** Model calls made (1 + rounds of tool calls). */
  calls: number;
  usage: TokenUsage | null;
  /** null: no usage reported, or no price known for the model. */
  cost: AnswerCost | null;
  /** Proposals made during this answer (pending until the trader decides). */
  proposals: Proposal[];
}

export interface ApprovedProposal {
  proposal: Proposal;
  order: Order;
  /** The proposal's client order id named an order already: nothing new was placed. */
  duplicate: boolean;
}

export interface AssistantSource {
  status(): AssistantStatus;
  /**
   * One question in the running conversation; `onEvent` gets the stream (reasoning and text
   * deltas, tool calls and results). Aborting `signal` rejects with AiCanceledError and leaves
   * the conversation as it was before the question.
   */
  ask(prompt: string, opts?: { signal?: AbortSignal; onEvent?: (e: AssistantEvent) => void }): Promise<AssistantReply>;
  /** Forgets the conversation (not the proposals). */
  clear(): void;
  /** Every proposal known, newest first, with expiry applied now. */
  proposals(): Proposal[];
  /** Reads proposals made or decided elsewhere (qtrade ask, another TUI) since the last read. */
  refresh(): Promise<void>;
  /** Called when proposals() may have changed. Returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
  /** Places the proposed order through the account's normal order path; a refusal throws and leaves the proposal 'failed'. */
  approve(id: string): Promise<ApprovedProposal>;
  reject(id: string, reason?: string): Promise<Proposal>;
}

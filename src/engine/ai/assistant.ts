import { VenueError } from '../errors.js';
import { addUsage, type ChatMessage, type ChatModel, type TokenUsage } from './client.js';
import type { Proposal } from './proposals.js';
import type { StrategyRecord, ToolBox, ToolOutcome } from './tools.js';

/**
 * One conversation with the model: the history, and the tool loop of each question. The model
 * answers, or asks for tools; their results go back to it, round after round, until it answers
 * or MAX_TOOL_ROUNDS rounds have passed (then a clear error; a model that keeps calling tools
 * is not left to run up a bill). A question that fails leaves the history as it was before it.
 */

export const MAX_TOOL_ROUNDS = 8;
/** Tool calls handled per round; more are answered with an error. */
const MAX_CALLS_PER_ROUND = 16;

export const SYSTEM_PROMPT = [
  'You are the assistant of qtrade, a terminal trading workstation for Binance spot with a paper account.',
  'Use the tools to read market data, the paper account and its risk; never invent prices, balances or statistics.',
  'When you state a number, it must come from a tool result: cite which (e.g. "RSI 14 = 71.2 from get_candles 1h").',
  'For risk questions call assess_risk and quote its VaR, volatility, concentration and limit figures as given.',
  'You cannot place, cancel or change orders. To suggest a trade call propose_order: it records a pending proposal',
  'that the user approves or rejects; say so plainly and never claim an order was placed.',
  'To suggest a strategy, write a declarative spec and call run_backtest with it; report the metrics it returns',
  '(total return, Sharpe, max drawdown, trades, fees) honestly, including when they are poor, and note that candle',
  'backtests are an approximation. Past results do not predict future ones. Be concise.',
].join(' ');

export type AssistantEvent =
  | { type: 'reasoning'; delta: string }
  | { type: 'text'; delta: string }
  | { type: 'tool_call'; id: string; name: string; arguments: string; round: number }
  | { type: 'tool_result'; id: string; name: string; ok: boolean; summary: string; round: number };

export interface ToolCallRecord {
  round: number;
  name: string;
  ok: boolean;
  summary: string;
}

export interface AssistantAnswer {
  text: string;
  reasoning: string;
  model: string;
  /** Why the model stopped: 'stop', 'length' (cut at max tokens), … */
  finishReason: string;
  /** Model calls made (1 + rounds of tool calls). */
  calls: number;
  usage: TokenUsage | undefined;
  toolCalls: ToolCallRecord[];
  proposals: Proposal[];
  strategies: StrategyRecord[];
}

export interface AssistantOptions {
  model: ChatModel;
  /** Absent: the model gets no tools (`--no-tools`). */
  tools?: ToolBox;
  system?: string;
  maxToolRounds?: number;
}

export class Assistant {
  private readonly messages: ChatMessage[];
  private readonly maxRounds: number;

  constructor(private readonly opts: AssistantOptions) {
    this.messages = [{ role: 'system', content: opts.system ?? SYSTEM_PROMPT }];
    this.maxRounds = opts.maxToolRounds ?? MAX_TOOL_ROUNDS;
  }

  get model(): string {
    return this.opts.model.model;
  }

  /** The conversation so far (system prompt first). */
  history(): readonly ChatMessage[] {
    return this.messages;
  }

  /** Seeds earlier turns (a daemon client's history); only user and assistant text. */
  addHistory(turns: ReadonlyArray<{ role: 'user' | 'assistant'; content: string }>): void {
    for (const t of turns) this.messages.push({ role: t.role, content: t.content });
  }

  /** Forgets everything but the system prompt. */
  clear(): void {
    this.messages.splice(1);
  }

  async ask(prompt: string, opts: { signal?: AbortSignal; onEvent?: (e: AssistantEvent) => void } = {}): Promise<AssistantAnswer> {
    const mark = this.messages.length;
    const emit = opts.onEvent ?? (() => {});
    const answer: AssistantAnswer = { text: '', reasoning: '', model: this.opts.model.model, finishReason: '', calls: 0, usage: undefined, toolCalls: [], proposals: [], strategies: [] };
    this.messages.push({ role: 'user', content: prompt });
    try {
      const tools = this.opts.tools?.specs();
      for (let round = 0; ; round++) {
        const turn = await this.opts.model.complete({
          messages: this.messages,
          ...(tools ? { tools } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
          onText: (delta) => emit({ type: 'text', delta }),
          onReasoning: (delta) => emit({ type: 'reasoning', delta }),
        });
        answer.calls++;
        answer.usage = addUsage(answer.usage, turn.usage);
        answer.model = turn.model;
        if (turn.reasoning) answer.reasoning += (answer.reasoning ? '\n' : '') + turn.reasoning;
        const calls = this.opts.tools ? turn.toolCalls : [];
        this.messages.push({ role: 'assistant', content: turn.content, ...(turn.reasoning ? { reasoning: turn.reasoning } : {}), ...(calls.length > 0 ? { toolCalls: calls } : {}) });
        if (calls.length === 0) {
          answer.text = turn.content;
          answer.finishReason = turn.finishReason;
          return answer;
        }
        if (round >= this.maxRounds) {
          throw new VenueError('AI_TOOL_LOOP', `the model kept calling tools for ${this.maxRounds} rounds without answering, so qtrade stopped it`, {
            hint: 'ask a narrower question, or use --no-tools',
          });
        }
        for (const [i, call] of calls.entries()) {
          emit({ type: 'tool_call', id: call.id, name: call.name, arguments: call.arguments, round: round + 1 });
          const out: ToolOutcome =
            i < MAX_CALLS_PER_ROUND
              ? await this.opts.tools!.execute(call)
              : { id: call.id, name: call.name, ok: false, content: JSON.stringify({ error: `more than ${MAX_CALLS_PER_ROUND} tool calls in one round; this one was not run` }), summary: 'not run (too many calls)' };
          this.messages.push({ role: 'tool', toolCallId: call.id, content: out.content });
          answer.toolCalls.push({ round: round + 1, name: call.name, ok: out.ok, summary: out.summary });
          if (out.proposal) answer.proposals.push(out.proposal);
          if (out.strategy) answer.strategies.push(out.strategy);
          emit({ type: 'tool_result', id: call.id, name: call.name, ok: out.ok, summary: out.summary, round: round + 1 });
        }
      }
    } catch (err) {
      this.messages.splice(mark);
      throw err;
    }
  }
}

import type { AssistantAnswer } from './assistant.js';
import type { AiConfig } from './config.js';
import { costOf } from './pricing.js';

/** An answer as one JSON object: `qtrade ask --json` prints it, the daemon's /api/qtrade/ai ends its stream with it. */
export function answerJson(a: AssistantAnswer, config: AiConfig, at: number): Record<string, unknown> {
  const cost = a.usage ? costOf(a.usage, config.model, config.prices, at) : undefined;
  return {
    answer: a.text,
    reasoning: a.reasoning || null,
    model: a.model,
    finishReason: a.finishReason,
    calls: a.calls,
    usage: a.usage ?? null,
    cost: cost ? { usd: cost.usd, tier: cost.tier, source: cost.source, asOf: cost.asOf, assumedCacheMiss: cost.assumedCacheMiss } : null,
    toolCalls: a.toolCalls,
    proposals: a.proposals,
    strategies: a.strategies,
  };
}

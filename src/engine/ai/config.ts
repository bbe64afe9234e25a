import { UsageError } from '../errors.js';
import { DEEPSEEK_PRICES, parsePriceOverrides, withOverrides, type PriceTable } from './pricing.js';

/** How the assistant reaches its model: what the ai.* settings resolve to. */
export interface AiConfig {
  /** OpenAI-compatible base URL (chat completions at `${baseUrl}/chat/completions`). */
  baseUrl: string;
  model: string;
  /** Undefined when no key is configured: every AI call then fails with how to set one. */
  apiKey: string | undefined;
  /** Ask for the thinking mode (reasoning returned apart from the answer). */
  thinking: boolean;
  /** Longest wait for the answer to start, and between two streamed chunks, ms. */
  timeoutMs: number;
  /** Retries of a refused request (429, 5xx, connection errors) with backoff; the SDK's default is 2. */
  maxRetries: number;
  prices: PriceTable;
}

export const DEFAULT_AI_BASE_URL = 'https://api.deepseek.com';
export const DEFAULT_AI_MODEL = 'deepseek-flash';

/** Resolves an AiConfig from the settings (`get` is Settings.string), with per-call overrides. */
export function aiConfigFrom(get: (key: string) => string | undefined, overrides: { model?: string; thinking?: boolean } = {}): AiConfig {
  const key = get('ai.apiKey')?.trim();
  const prices = get('ai.prices');
  const timeout = Number(get('ai.timeoutMs') ?? 120_000);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError(`ai.timeoutMs must be a positive number of ms, got "${get('ai.timeoutMs')}"`);
  return {
    baseUrl: (get('ai.baseUrl') ?? DEFAULT_AI_BASE_URL).replace(/\/+$/, ''),
    model: overrides.model ?? get('ai.model') ?? DEFAULT_AI_MODEL,
    apiKey: key ? key : undefined,
    thinking: overrides.thinking ?? get('ai.thinking') === 'true',
    timeoutMs: timeout,
    maxRetries: 2,
    prices: prices ? withOverrides(DEEPSEEK_PRICES, parsePriceOverrides(prices)) : DEEPSEEK_PRICES,
  };
}

/** The error every AI entry point gives without a key (the rest of qtrade works without one). */
export function missingKeyError(): UsageError {
  return new UsageError('no DeepSeek API key is configured, so the assistant cannot answer', {
    hint: 'create one at https://platform.deepseek.com/api_keys, then `export DEEPSEEK_API_KEY=...` or `qtrade config set ai.apiKey KEY` (kept in config.json, mode 600)',
  });
}

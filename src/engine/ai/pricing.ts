import { UsageError } from '../errors.js';
import { formatFixed, parseFixedBig } from '../fixed.js';
import type { TokenUsage } from './client.js';

/**
 * What an answer cost: token counts × the model's prices, exact. Prices are USD per 1M tokens,
 * kept as decimal strings and parsed at PRICE_SCALE, so a cost is an integer at COST_SCALE and
 * never a float. The table names its source and date; `ai.prices` replaces rows of it.
 */

/** Decimals of a price per 1M tokens ($0.0028 → 2_800_000). */
const PRICE_SCALE = 9;
/** Decimals of a cost: a price at PRICE_SCALE per 10^6 tokens. */
export const COST_SCALE = PRICE_SCALE + 6;

export interface TokenPrices {
  /** USD per 1M input tokens served from the context cache. */
  cacheHit: string;
  /** USD per 1M input tokens not in the cache. */
  cacheMiss: string;
  /** USD per 1M output tokens (reasoning tokens included). */
  output: string;
}

export interface ModelPrices {
  peak: TokenPrices;
  offPeak: TokenPrices;
}

export interface PriceTable {
  /** Where the prices come from, and as of when. */
  source: string;
  asOf: string;
  /** Weekday (Mon–Fri) peak windows, UTC hours [from, to). Empty: one price all day. */
  peakHoursUtc: ReadonlyArray<readonly [number, number]>;
  models: Readonly<Record<string, ModelPrices>>;
  /** Older model names still accepted and billed as another model. */
  aliases: Readonly<Record<string, string>>;
  /** What the table cannot express (shown with a cost). */
  caveat?: string;
}

/**
 * DeepSeek's "Models & Pricing" page (api-docs.deepseek.com/quick_start/pricing), model versions
 * DeepSeek-V4.1-Flash-1017 and DeepSeek-V4-Pro-0813. Off-peak is half the peak price; peak is
 * 09:00–12:00 and 14:00–18:00 Beijing time on weekdays, i.e. 01:00–04:00 and 06:00–10:00 UTC.
 * The legacy name deepseek-v4-flash is still accepted and billed at Flash prices.
 */
export const DEEPSEEK_PRICES: PriceTable = {
  source: 'https://api-docs.deepseek.com/quick_start/pricing (DeepSeek-V4.1-Flash-1017, DeepSeek-V4-Pro-0813)',
  asOf: '2026-10-17',
  peakHoursUtc: [
    [1, 4],
    [6, 10],
  ],
  models: {
    'deepseek-flash': {
      peak: { cacheHit: '0.006', cacheMiss: '0.3', output: '1.2' },
      offPeak: { cacheHit: '0.003', cacheMiss: '0.15', output: '0.6' },
    },
    'deepseek-v4-pro': {
      peak: { cacheHit: '0.044', cacheMiss: '1.32', output: '3.96' },
      offPeak: { cacheHit: '0.022', cacheMiss: '0.66', output: '1.98' },
    },
  },
  aliases: { 'deepseek-v4-flash': 'deepseek-flash' },
  caveat: 'Chinese public holidays are off-peak all day at DeepSeek; qtrade prices them as ordinary weekdays',
};

const MODEL_NAME = /^[A-Za-z0-9._:/-]+$/;
const PRICE = /^\d*\.?\d+$/;

/** `ai.prices`: "model=HIT/MISS/OUTPUT,…" (USD per 1M tokens), one price at every hour. */
export function parsePriceOverrides(text: string): Record<string, TokenPrices> {
  const out: Record<string, TokenPrices> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const model = eq > 0 ? part.slice(0, eq).trim() : '';
    const prices = eq > 0 ? part.slice(eq + 1).split('/').map((p) => p.trim()) : [];
    if (!MODEL_NAME.test(model) || prices.length !== 3 || prices.some((p) => !PRICE.test(p))) {
      throw new UsageError(`ai.prices entry "${part}" is not MODEL=HIT/MISS/OUTPUT`, { hint: 'USD per 1M tokens, e.g. deepseek-flash=0.006/0.3/1.2' });
    }
    out[model] = { cacheHit: prices[0]!, cacheMiss: prices[1]!, output: prices[2]! };
  }
  return out;
}

/** The table with `ai.prices` rows in place of (or beside) its own. */
export function withOverrides(table: PriceTable, overrides: Record<string, TokenPrices>): PriceTable {
  if (Object.keys(overrides).length === 0) return table;
  const models: Record<string, ModelPrices> = { ...table.models };
  const aliases: Record<string, string> = { ...table.aliases };
  for (const [m, p] of Object.entries(overrides)) {
    models[m] = { peak: p, offPeak: p };
    delete aliases[m];
  }
  return { ...table, models, aliases, source: `${table.source}; ai.prices for ${Object.keys(overrides).join(', ')}` };
}

export interface Cost {
  /** USD, exact decimal string. */
  usd: string;
  /** Integer at COST_SCALE. */
  raw: bigint;
  model: string;
  /** Which price applied; 'flat' for a model priced the same all day. */
  tier: 'peak' | 'off-peak' | 'flat';
  source: string;
  asOf: string;
  /** Set when the usage had no cache split, so every prompt token was priced as a miss. */
  assumedCacheMiss: boolean;
  caveat?: string;
}

function isPeak(table: PriceTable, at: number): boolean {
  const d = new Date(at);
  const day = d.getUTCDay();
  if (day === 0 || day === 6) return false;
  const h = d.getUTCHours();
  return table.peakHoursUtc.some(([from, to]) => h >= from && h < to);
}

const price = (p: string): bigint => parseFixedBig(p, PRICE_SCALE);

/**
 * The cost of `usage` on `model` at time `at` (ms; it picks peak or off-peak), or undefined when
 * the table has no price for the model. Reasoning tokens are output tokens.
 */
export function costOf(usage: TokenUsage, model: string, table: PriceTable, at: number): Cost | undefined {
  const name = table.models[model] ? model : table.aliases[model];
  const prices = name === undefined ? undefined : table.models[name];
  if (!prices) return undefined;
  const same = JSON.stringify(prices.peak) === JSON.stringify(prices.offPeak);
  const tier = same ? 'flat' : isPeak(table, at) ? 'peak' : 'off-peak';
  const p = tier === 'off-peak' ? prices.offPeak : prices.peak;
  const split = usage.cacheHitTokens !== undefined && usage.cacheMissTokens !== undefined;
  const hit = split ? BigInt(usage.cacheHitTokens!) : 0n;
  const miss = split ? BigInt(usage.cacheMissTokens!) : BigInt(usage.promptTokens);
  const raw = hit * price(p.cacheHit) + miss * price(p.cacheMiss) + BigInt(usage.completionTokens) * price(p.output);
  return {
    usd: formatFixed(raw, COST_SCALE, 2),
    raw,
    model,
    tier,
    source: table.source,
    asOf: table.asOf,
    assumedCacheMiss: !split,
    ...(table.caveat && tier !== 'flat' ? { caveat: table.caveat } : {}),
  };
}

/** "$0.000124": rounded up to 6 decimals for display (the exact figure is Cost.usd). */
export function formatCost(c: Cost): string {
  const div = 10n ** BigInt(COST_SCALE - 6);
  const up = (c.raw + div - 1n) / div;
  return `$${formatFixed(up, 6)}`;
}

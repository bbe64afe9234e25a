import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { DEEPSEEK_PRICES, costOf, formatCost, parsePriceOverrides, withOverrides } from './pricing.js';

const usage = { promptTokens: 1_000_000, completionTokens: 500_000, reasoningTokens: 100_000, cacheHitTokens: 600_000, cacheMissTokens: 400_000, totalTokens: 1_500_000 };
// Wednesday 2026-10-21: 02:30 UTC is peak (10:30 Beijing), 12:00 UTC off-peak; Saturday is off-peak all day.
const PEAK = Date.UTC(2026, 9, 21, 2, 30);
const OFF = Date.UTC(2026, 9, 21, 12, 0);
const SATURDAY_PEAK_HOUR = Date.UTC(2026, 9, 24, 2, 30);

describe('token pricing', () => {
  it('prices hit, miss and output tokens exactly at the peak and off-peak rates', () => {
    // Peak flash: 0.6 × 0.006 + 0.4 × 0.3 + 0.5 × 1.2 = 0.0036 + 0.12 + 0.6
    expect(costOf(usage, 'deepseek-flash', DEEPSEEK_PRICES, PEAK)).toMatchObject({ usd: '0.7236', tier: 'peak', assumedCacheMiss: false });
    expect(costOf(usage, 'deepseek-flash', DEEPSEEK_PRICES, OFF)).toMatchObject({ usd: '0.3618', tier: 'off-peak' });
    expect(costOf(usage, 'deepseek-flash', DEEPSEEK_PRICES, SATURDAY_PEAK_HOUR)!.tier).toBe('off-peak');
    // Pro peak: 0.6 × 0.044 + 0.4 × 1.32 + 0.5 × 3.96 = 0.0264 + 0.528 + 1.98
    expect(costOf(usage, 'deepseek-v4-pro', DEEPSEEK_PRICES, PEAK)!.usd).toBe('2.5344');
  });

  it('keeps sub-cent costs exact and rounds only the display, upward', () => {
    const small = { promptTokens: 1234, completionTokens: 567, reasoningTokens: 0, cacheHitTokens: 1000, cacheMissTokens: 234, totalTokens: 1801 };
    const c = costOf(small, 'deepseek-flash', DEEPSEEK_PRICES, OFF)!;
    // 1000 × 0.003 + 234 × 0.15 + 567 × 0.6 = 3 + 35.1 + 340.2 = 378.3 USD per 1M tokens
    expect(c.usd).toBe('0.0003783');
    expect(formatCost(c)).toBe('$0.000379');
  });

  it('prices every prompt token as a cache miss when the API gives no split, and says so', () => {
    const c = costOf({ promptTokens: 1_000_000, completionTokens: 0, reasoningTokens: 0, totalTokens: 1_000_000 }, 'deepseek-flash', DEEPSEEK_PRICES, OFF)!;
    expect(c).toMatchObject({ usd: '0.15', assumedCacheMiss: true });
  });

  it('bills the legacy deepseek-v4-flash name as Flash, and knows nothing of other models', () => {
    expect(costOf(usage, 'deepseek-v4-flash', DEEPSEEK_PRICES, PEAK)!.usd).toBe('0.7236');
    expect(costOf(usage, 'gpt-4.1', DEEPSEEK_PRICES, PEAK)).toBeUndefined();
  });

  it('takes ai.prices rows as flat prices that replace the table', () => {
    const table = withOverrides(DEEPSEEK_PRICES, parsePriceOverrides('deepseek-flash=0.01/0.2/0.4, my-model=0/1/2'));
    expect(costOf(usage, 'deepseek-flash', table, PEAK)).toMatchObject({ usd: '0.286', tier: 'flat' });
    expect(costOf(usage, 'my-model', table, OFF)!.usd).toBe('1.40');
    expect(table.source).toContain('ai.prices for deepseek-flash, my-model');
    expect(() => parsePriceOverrides('deepseek-flash=0.1/0.2')).toThrow(UsageError);
    expect(() => parsePriceOverrides('=1/2/3')).toThrow(/MODEL=HIT\/MISS\/OUTPUT/);
  });
});

import { describe, expect, it } from 'vitest';
import { BUILTIN_STRATEGIES } from '../engine/strategy/builtins/index.js';
import type { ParamSpec } from '../engine/strategy/params.js';
import type { StrategyTemplate } from './sources/strategies.js';
import { draftParams, formFields, newDraft, rangeBounds, stepField, stepParam, typeIntoField, type FormContext } from './strategy-form.js';

const templates: StrategyTemplate[] = [...BUILTIN_STRATEGIES.values()].map((s) => ({
  name: s.name,
  description: s.description ?? '',
  params: (Object.entries(s.params) as Array<[string, ParamSpec]>).map(([name, spec]) => ({ name, spec })),
}));
const ctx: FormContext = {
  templates,
  symbols: ['BTCUSDT', 'ETHUSDT'],
  data: [
    { data: '/rec.jsonl.gz', kind: 'recording', label: 'recording rec.jsonl.gz' },
    { data: 'store', kind: 'store', label: 'store (1m candles)' },
  ],
};

describe('the strategy form', () => {
  it('starts on the first built-in with its defaults, and lists its params as fields', () => {
    const d = newDraft(ctx, 'ETHUSDT');
    expect(d).toEqual({ strategy: 'sma-cross', symbol: 'ETHUSDT', interval: '1m', params: { fast: '10', slow: '30', size: '0.95' }, data: '/rec.jsonl.gz', range: 'all' });
    expect(formFields(ctx, d, false)).toEqual(['strategy', 'symbol', 'interval', 'p:fast', 'p:slow', 'p:size']);
    expect(formFields(ctx, d, true)).toEqual(['strategy', 'symbol', 'interval', 'data', 'range', 'p:fast', 'p:slow', 'p:size']);
  });

  it('steps choices around, and a new strategy brings its own defaults', () => {
    const d = newDraft(ctx, 'BTCUSDT');
    expect(stepField(ctx, d, 'strategy', -1)).toMatchObject({ strategy: 'dca', params: { every: '60', amount: '50' } });
    expect(stepField(ctx, d, 'symbol', 1).symbol).toBe('ETHUSDT');
    expect(stepField(ctx, stepField(ctx, d, 'symbol', 1), 'symbol', 1).symbol).toBe('BTCUSDT');
    expect(stepField(ctx, d, 'interval', -1).interval).toBe('1d');
    // Stored candles start at the latest 1000 bars and have more ranges than a recording.
    const store = stepField(ctx, d, 'data', 1);
    expect(store).toMatchObject({ data: 'store', range: '1000 bars' });
    expect(stepField(ctx, store, 'range', 1).range).toBe('24h');
    expect(stepField(ctx, d, 'range', 1).range).toBe('all');
  });

  it('steps numbers by their step within their range, without float noise', () => {
    const int: ParamSpec = { type: 'int', default: 10, min: 2, max: 500, step: 1 };
    expect(stepParam(int, '10', 1)).toBe('11');
    expect(stepParam(int, '2', -1)).toBe('2');
    expect(stepParam(int, '', 1)).toBe('11');
    const pct: ParamSpec = { type: 'number', default: 0.2, min: 0.01, max: 20 };
    expect(stepParam(pct, '0.2', 1)).toBe('0.3');
    expect(stepParam(pct, '0.05', -1)).toBe('0.04');
    expect(stepParam(pct, '20', 1)).toBe('20');
    expect(stepParam({ type: 'boolean', default: false }, 'false', 1)).toBe('true');
    expect(stepParam({ type: 'enum', default: 'a', values: ['a', 'b'] }, 'a', 1)).toBe('b');
  });

  it('takes typed digits into number params only, and sends non-empty values', () => {
    const d = newDraft(ctx, 'BTCUSDT');
    const typed = typeIntoField(ctx, typeIntoField(ctx, d, 'p:fast', '', true), 'p:fast', '5', false);
    expect(typed.params.fast).toBe('15');
    expect(typeIntoField(ctx, d, 'p:fast', 'x', false)).toBe(d);
    expect(typeIntoField(ctx, d, 'symbol', '5', false)).toBe(d);
    expect(draftParams({ ...d, params: { fast: '', slow: '20', size: '0.5' } })).toEqual({ slow: '20', size: '0.5' });
  });

  it('turns a range into backtest bounds', () => {
    const t = Date.UTC(2024, 7, 9);
    expect(rangeBounds('1000 bars', true, t)).toEqual({ limit: 1000 });
    expect(rangeBounds('24h', true, t)).toEqual({ from: t - 86_400_000 });
    expect(rangeBounds('all', true, t)).toEqual({ from: 0 });
    expect(rangeBounds('7d', true, 0)).toEqual({ from: 0 });
    expect(rangeBounds('all', false, t)).toEqual({});
  });
});

import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { DEFAULT_PAPER_BALANCES } from '../trading.js';
import { bundledMarket } from '../orders/bundled-filters.js';
import { defineStrategy } from './api.js';
import { smaCross } from './builtins/index.js';
import type { Metrics } from './metrics.js';
import { buildGrid, metricValue, openSweepPool, parseRankMetric, parseSweepSpec, rankResults } from './sweep.js';
import { candlesOf, generatedTrades } from './test-data.js';

const toy = defineStrategy({
  name: 'toy',
  params: {
    n: { type: 'int', default: 5, min: 2, max: 100, step: 3 },
    k: { type: 'number', default: 1, min: 0, max: 2 },
    mode: { type: 'enum', default: 'a', values: ['a', 'b', 'c'] },
    flag: { type: 'boolean', default: false },
  },
  onCandle() {},
});

function usage(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('parseSweepSpec', () => {
  it('expands ranges with the given step, the schema step, and lists', () => {
    expect(parseSweepSpec(toy, 'n=5..20:5').values).toEqual([5, 10, 15, 20]);
    expect(parseSweepSpec(toy, 'n=2..12').values).toEqual([2, 5, 8, 11]);
    expect(parseSweepSpec(toy, 'k=0.1..0.5:0.1').values).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(parseSweepSpec(toy, 'mode=a,c').values).toEqual(['a', 'c']);
    expect(parseSweepSpec(toy, 'flag=true,false').values).toEqual([true, false]);
    expect(parseSweepSpec(toy, 'n=7,3').values).toEqual([7, 3]);
  });

  it('refuses bad specs with a usage error and a hint', () => {
    expect(usage(() => parseSweepSpec(toy, 'nn=1..5')).hint).toContain('n');
    expect(usage(() => parseSweepSpec(toy, 'n=1..5:1')).message).toContain('from 2 to 100');
    expect(usage(() => parseSweepSpec(toy, 'n=50..200:50')).message).toContain('from 2 to 100');
    expect(usage(() => parseSweepSpec(toy, 'n=2..10:0.5')).message).toContain('integer');
    expect(usage(() => parseSweepSpec(toy, 'n=20..10:2')).hint).toContain('n=10..20:2');
    expect(usage(() => parseSweepSpec(toy, 'n=2..10:0')).message).toContain('above 0');
    expect(usage(() => parseSweepSpec(toy, 'mode=a..c')).hint).toContain('mode=a,b,c');
    expect(usage(() => parseSweepSpec(toy, 'mode=a,d')).message).toContain('one of a, b, c');
    expect(usage(() => parseSweepSpec(toy, 'n')).hint).toContain('--sweep');
    expect(usage(() => parseSweepSpec(toy, 'n=2,,3')).hint).toContain('--sweep');
  });
});

describe('buildGrid', () => {
  it('is the cartesian product in grid order over the fixed params, minus what validate refuses', () => {
    const g = buildGrid(smaCross, ['fast=2..6:2', 'slow=4..8:2'], { size: '0.5' });
    expect(g.combos.map((c) => [c.fast, c.slow])).toEqual([
      [2, 4], [2, 6], [2, 8], [4, 6], [4, 8], [6, 8],
    ]);
    expect(g.combos.every((c) => c.size === 0.5)).toBe(true);
    expect(g.skipped).toBe(3);
    expect(g.firstRefusal).toContain('fast (4) must be below slow (4)');
  });

  it('refuses too many combinations, a param swept twice, or swept and fixed', () => {
    const big = usage(() => buildGrid(toy, ['n=2..100:1', 'k=0..2:0.01']));
    expect(big.message).toContain('99 n × 201 k');
    expect(big.hint).toContain('larger steps');
    expect(usage(() => buildGrid(toy, ['n=2..5', 'n=8'])).message).toContain('twice');
    expect(usage(() => buildGrid(toy, ['n=2..5'], { n: '3' })).message).toContain('both swept and fixed');
    expect(usage(() => buildGrid(toy, [])).message).toContain('nothing to sweep');
  });
});

describe('ranking', () => {
  const m = (over: Partial<Metrics>): Metrics =>
    ({ totalReturn: 0, sharpe: null, sortino: null, calmar: null, maxDrawdown: 0, profitFactor: null, ...over }) as Metrics;

  it('ranks best first, nulls last, ties by grid order, whatever the input order', () => {
    const rs = [
      { id: 0, metrics: m({ sharpe: 1, maxDrawdown: 0.2, totalReturn: 0.1 }) },
      { id: 1, metrics: m({ sharpe: null, maxDrawdown: 0.05 }) },
      { id: 2, metrics: m({ sharpe: 3, maxDrawdown: 0.1, totalReturn: 0.1 }) },
      { id: 3, metrics: m({ sharpe: 1, maxDrawdown: 0.1, totalReturn: -0.1 }) },
      { id: 4, metrics: m({ sharpe: Infinity, maxDrawdown: 0.3 }) },
    ];
    const ids = (xs: Array<{ id: number }>): number[] => xs.map((x) => x.id);
    expect(ids(rankResults(rs, 'sharpe'))).toEqual([2, 0, 3, 1, 4]);
    expect(ids(rankResults([...rs].reverse(), 'sharpe'))).toEqual([2, 0, 3, 1, 4]);
    expect(ids(rankResults(rs, 'maxDrawdown'))).toEqual([1, 2, 3, 0, 4]);
    expect(ids(rankResults([...rs].reverse(), 'return'))).toEqual([0, 2, 1, 4, 3]);
    expect(metricValue(rs[4]!.metrics, 'sharpe')).toBeNull();
  });

  it('parses rank metrics case-insensitively and refuses others', () => {
    expect(parseRankMetric(undefined)).toBe('sharpe');
    expect(parseRankMetric('ProfitFactor')).toBe('profitFactor');
    expect(usage(() => parseRankMetric('alpha')).hint).toContain('sortino');
  });
});

describe('sweep pool (in-process)', () => {
  it('runs every combination on candles loaded once, results in job order', async () => {
    const inst = bundledMarket().instruments.get('BTCUSDT');
    const candles = candlesOf(inst, generatedTrades(inst, { seed: 7, count: 6000, volatility: 0.002 }));
    expect(candles.length).toBeGreaterThan(30);
    const pool = await openSweepPool(
      { strategy: 'sma-cross', cwd: process.cwd(), symbol: 'BTCUSDT', interval: '1m', slippageTicks: 0, initialBalances: { ...DEFAULT_PAPER_BALANCES }, data: { kind: 'candles', candles } },
      { workers: 1 },
    );
    try {
      expect(pool.mode).toBe('in-process');
      expect(pool.span).toMatchObject({ first: candles[0]!.openTime, count: candles.length });
      const { combos } = buildGrid(smaCross, ['fast=2..4:1', 'slow=5..9:2']);
      const jobs = combos.map((params, id) => ({ id, params }));
      const a = await pool.run(jobs);
      expect(a.map((r) => r.id)).toEqual(jobs.map((j) => j.id));
      expect(a.map((r) => [r.params.fast, r.params.slow])).toEqual(combos.map((c) => [c.fast, c.slow]));
      expect(a.every((r) => r.candles === candles.length)).toBe(true);
      expect(new Set(a.map((r) => r.metrics.totalReturn)).size).toBeGreaterThan(1);
      const b = await pool.run([...jobs].reverse());
      expect(rankResults(b, 'sharpe').map((r) => r.id)).toEqual(rankResults(a, 'sharpe').map((r) => r.id));
      const part = await pool.run([{ id: 0, params: combos[0]!, from: candles[10]!.openTime, to: candles[20]!.openTime }]);
      expect(part[0]!.candles).toBe(10);
    } finally {
      await pool.close();
    }
  });
});

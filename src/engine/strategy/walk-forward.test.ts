import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { bundledMarket } from '../orders/bundled-filters.js';
import { DEFAULT_PAPER_BALANCES } from '../trading.js';
import { smaCross } from './builtins/index.js';
import { buildGrid, openSweepPool, rankResults } from './sweep.js';
import { candlesOf, generatedTrades } from './test-data.js';
import { parseWalkForward, parseWfUnit, runWalkForward, walkForwardWindows } from './walk-forward.js';

const H = 3_600_000;

describe('walk-forward windows', () => {
  it('parses IN:OUT and the unit', () => {
    expect(parseWalkForward('6:1')).toEqual({ inSample: 6, outOfSample: 1, unit: 'd' });
    expect(parseWalkForward(' 12 : 3 ', parseWfUnit('h'))).toEqual({ inSample: 12, outOfSample: 3, unit: 'h' });
    expect(parseWfUnit('minutes')).toBe('m');
    for (const bad of ['6', '6:0', '0:1', 'a:b', '1.5:1']) expect(() => parseWalkForward(bad)).toThrow(UsageError);
    expect(() => parseWfUnit('w')).toThrow(/m, h or d/);
  });

  it('rolls by the out-of-sample length; out-of-sample parts tile the data after the first in-sample span', () => {
    const w = walkForwardWindows({ first: 0, last: 10 * H }, { inSample: 4, outOfSample: 2, unit: 'h' });
    expect(w.map((x) => [x.isFrom / H, x.isTo / H, x.oosTo / H])).toEqual([
      [0, 4, 6],
      [2, 6, 8],
      [4, 8, 10],
      [6, 10, 12],
    ]);
    expect(() => walkForwardWindows({ first: 0, last: 3 * H }, { inSample: 4, outOfSample: 1, unit: 'h' })).toThrow(/less than one 4-hour in-sample window/);
  });
});

describe('runWalkForward', () => {
  it('picks the in-sample best per window and runs it out-of-sample on that window only', async () => {
    const inst = bundledMarket().instruments.get('BTCUSDT');
    const candles = candlesOf(inst, generatedTrades(inst, { seed: 11, count: 20_000, volatility: 0.001 }));
    const span = { first: candles[0]!.openTime, last: candles[candles.length - 1]!.closeTime };
    const pool = await openSweepPool(
      { strategy: 'sma-cross', cwd: process.cwd(), symbol: 'BTCUSDT', interval: '1m', slippageTicks: 0, initialBalances: { ...DEFAULT_PAPER_BALANCES }, data: { kind: 'candles', candles } },
      { workers: 1 },
    );
    try {
      const { combos } = buildGrid(smaCross, ['fast=2..4:1', 'slow=5..9:2']);
      const spec = parseWalkForward('30:10', 'm');
      expect((span.last - span.first) / 60_000).toBeGreaterThan(50);
      const wf = await runWalkForward(pool, combos, spec, 'return');
      expect(wf.rows.length).toBe(walkForwardWindows(span, spec).length);
      const r0 = wf.rows[0]!;
      // The window's best is the best of a direct in-sample sweep.
      const direct = await pool.run(combos.map((params, id) => ({ id, params, from: r0.isFrom, to: r0.isTo })));
      expect(r0.best?.params).toEqual(rankResults(direct, 'return')[0]!.params);
      expect(r0.oos?.candles).toBe(candles.filter((c) => c.openTime >= r0.isTo && c.openTime < r0.oosTo).length);
      expect(r0.oosValue).toBe(r0.oos?.metrics.totalReturn);
      // Chained OOS equity starts at the initial balance and ends at the compounded return.
      expect(wf.equity[0]!.equity).toBe(10_000);
      const compounded = wf.rows.reduce((f, r) => f * (1 + (r.oos?.metrics.totalReturn ?? 0)), 1) - 1;
      expect(wf.oosReturn).toBeCloseTo(compounded, 9);
      expect(wf.equity.every((p, i) => i === 0 || p.time >= wf.equity[i - 1]!.time)).toBe(true);
    } finally {
      await pool.close();
    }
  });
});

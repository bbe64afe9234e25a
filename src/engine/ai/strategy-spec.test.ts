import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { candleSeries } from '../../../test/ai/fixtures.js';
import { UsageError } from '../errors.js';
import { bundledMarket } from '../orders/bundled-filters.js';
import { runBacktest } from '../strategy/backtest.js';
import { loadStrategy } from '../strategy/load.js';
import { DEFAULT_PAPER_BALANCES } from '../trading.js';
import { compileSpec, saveSpecFile, specFileText, validateSpec } from './strategy-spec.js';

const cross = {
  name: 'ema-cross-spec',
  interval: '1m',
  indicators: { fast: { type: 'ema', period: 3 }, slow: { type: 'ema', period: 8 } },
  entry: { all: [{ left: 'fast', op: 'crossesAbove', right: 'slow' }] },
  exit: { any: [{ left: 'fast', op: 'crossesBelow', right: 'slow' }] },
  sizing: { type: 'fraction', value: 0.5 },
};

/** 20 flat minutes at 60000, 30 rising by 50, 30 falling by 50 (raws at 2 decimals). */
const closes = [...Array.from({ length: 20 }, () => 6_000_000), ...Array.from({ length: 30 }, (_, i) => 6_000_000 + (i + 1) * 5_000), ...Array.from({ length: 30 }, (_, i) => 6_150_000 - (i + 1) * 5_000)];

function errorOf(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('strategy spec', () => {
  it('names every missing or bad field', () => {
    const err = errorOf(() => validateSpec({ name: 'Bad Name', indicators: { m: { type: 'macd' }, r: { type: 'rsi', period: 1.5 } }, entry: { all: [{ left: 'm', op: '>>', right: 'ema50' }] } }));
    expect(err.message).toContain('spec.name: must be lowercase');
    expect(err.message).toContain('spec.interval: is required');
    expect(err.message).toContain('spec.sizing: is required');
    expect(err.message).toContain('spec.indicators.r.period: must be a whole number');
    expect(err.message).toContain('spec.entry.all[0].left: m (macd) has several values: use m.macd, m.signal, m.histogram');
    expect(err.message).toContain('spec.entry.all[0].right: "ema50" is neither a candle field');
    expect(err.message).toContain('spec.entry.all[0].op: must be one of');
  });

  it('refuses anything that is not part of the spec, such as code', () => {
    const err = errorOf(() => validateSpec({ ...cross, onCandle: 'ctx.buy({qty: 1})' }));
    expect(err.message).toContain('spec.onCandle: unknown field');
    expect(errorOf(() => compileSpec('export default {}')).message).toContain('must be a JSON object');
    expect(errorOf(() => validateSpec({ ...cross, entry: {} })).message).toContain('spec.entry: needs at least one condition');
  });

  it('compiles into a strategy that trades the crossings in a backtest', async () => {
    const strategy = compileSpec(cross);
    expect(strategy.name).toBe('ema-cross-spec');
    expect(strategy.params).toEqual({});
    const r = await runBacktest({ strategy, symbol: 'BTCUSDT', candles: candleSeries('BTCUSDT', '1m', closes), initialBalances: { ...DEFAULT_PAPER_BALANCES }, ...bundledMarket() });
    expect(r.error).toBeUndefined();
    expect(r.fills.map((f) => f.side)).toEqual(['BUY', 'SELL']);
    // Entered during the rise (after minute 20), left during the fall (after minute 50).
    const start = candleSeries('BTCUSDT', '1m', [1])[0]!.openTime;
    expect(r.fills[0]!.time).toBeGreaterThan(start + 20 * 60_000);
    expect(r.fills[1]!.time).toBeGreaterThan(start + 50 * 60_000);
    expect(r.metrics.trades).toBe(1);
  });

  it('exits through the stop-loss when a long position falls far enough', async () => {
    const strategy = compileSpec({ ...cross, name: 'stop-spec', exit: undefined, indicators: {}, entry: { all: [{ left: 'close', op: '>', right: 0 }] }, stopLossPct: 1 });
    const falling = [6_000_000, 6_000_000, ...Array.from({ length: 20 }, (_, i) => 6_000_000 - (i + 1) * 10_000)];
    const r = await runBacktest({ strategy, symbol: 'BTCUSDT', candles: candleSeries('BTCUSDT', '1m', falling), initialBalances: { ...DEFAULT_PAPER_BALANCES }, ...bundledMarket() });
    expect(r.fills[0]!.side).toBe('BUY');
    expect(r.fills.some((f) => f.side === 'SELL')).toBe(true);
    expect(r.logs.some((l) => l.msg === 'exit: stop-loss')).toBe(true);
  });

  it('saves a spec file that `--strategy FILE.json` loads and compiles, and refuses other JSON', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'qtrade-spec-'));
    const file = path.join(dir, 'cross.json');
    saveSpecFile(file, validateSpec(cross));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ kind: 'qtrade-strategy-spec', version: 1, name: 'ema-cross-spec' });
    expect(() => saveSpecFile(file, validateSpec(cross))).toThrow(/exists already/);
    const loaded = await loadStrategy(file);
    expect(loaded.strategy.name).toBe('ema-cross-spec');
    expect(loaded.source).toBe(file);
    expect(specFileText(validateSpec(cross))).toBe(readFileSync(file, 'utf8'));

    const other = path.join(dir, 'package.json');
    writeFileSync(other, '{"name": "x"}');
    await expect(loadStrategy(other)).rejects.toThrow(/not a qtrade strategy spec/);
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify({ kind: 'qtrade-strategy-spec', version: 1, name: 'broken' }));
    await expect(loadStrategy(broken)).rejects.toThrow(/spec.entry: is required/);
  });
});

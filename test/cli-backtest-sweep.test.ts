import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempDir } from './helpers/cli.js';

const RECORDING = path.join(ROOT, 'fixtures', 'recordings', 'generated-btcusdt-aggtrades.jsonl.gz');
const { dir, cleanup } = tempDir('qtrade-cli-sweep-');
afterAll(cleanup);

const qtrade = (...args: string[]) => runCli(['--data-dir', dir, ...args], { cwd: dir });

/** 24 hours of one-minute klines (two sine waves), data.binance.vision klines CSV. */
function klinesFile(): string {
  const t0 = Date.UTC(2024, 7, 8);
  const rows: string[] = [];
  let prev = 60000;
  for (let i = 0; i < 1440; i++) {
    const close = Math.round((60000 + 800 * Math.sin(i / 15) + 300 * Math.sin(i / 97)) * 100) / 100;
    const f = (x: number): string => x.toFixed(8);
    rows.push([t0 + i * 60_000, f(prev), f(Math.max(prev, close) + 12.5), f(Math.min(prev, close) - 11.25), f(close), '1.50000000', t0 + i * 60_000 + 59_999, f(1.5 * close), 100, '0.70000000', f(0.7 * close), 0].join(','));
    prev = close;
  }
  const file = path.join(dir, 'BTCUSDT-1m-2024-08-08.csv');
  writeFileSync(file, rows.join('\n') + '\n');
  return file;
}

describe('qtrade backtest --sweep', () => {
  it('ranks the same results on 2 worker threads as on 1', async () => {
    const args = ['backtest', '--strategy', 'sma-cross', '--data', RECORDING, '--sweep', 'fast=2..4:1', '--sweep', 'slow=3..9:2', '--rank', 'sharpe', '--top', '50', '--json'];
    const [one, two] = await Promise.all([qtrade(...args, '--workers', '1'), qtrade(...args, '--workers', '2')]);
    expect(one.stderr).toBe('');
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    const a = JSON.parse(one.stdout);
    const b = JSON.parse(two.stdout);
    expect(a.workers).toBe(1);
    expect(b.workers).toBe(2);
    expect(a).toMatchObject({ strategy: 'sma-cross', symbol: 'BTCUSDT', rank: 'sharpe', combinations: 10, skipped: 2 });
    expect(b.results).toEqual(a.results);
    expect(a.results.length).toBe(10);
    expect(a.results.map((r: { rank: number }) => r.rank)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(a.results.some((r: { metrics: { trades: number } }) => r.metrics.trades > 0)).toBe(true);
    // Best first: no run with a sharpe ranks below one without.
    const values = a.results.map((r: { value: number | null }) => r.value);
    const firstNull = values.indexOf(null);
    expect(values.slice(firstNull === -1 ? values.length : firstNull).every((v: number | null) => v === null)).toBe(true);
    const ranked = values.filter((v: number | null) => v !== null) as number[];
    expect(ranked).toEqual([...ranked].sort((x, y) => y - x));

    // The single backtest of the winner agrees with the sweep's figures.
    const best = a.results[0];
    const single = await qtrade('backtest', '--strategy', 'sma-cross', '--data', RECORDING, '--param', `fast=${best.params.fast}`, '--param', `slow=${best.params.slow}`, '--json');
    expect(JSON.parse(single.stdout).metrics.sharpe).toBe(best.metrics.sharpe);
  });

  it('prints a ranked table, and refuses bad sweeps with a hint', async () => {
    const r = await qtrade('backtest', '--strategy', 'sma-cross', '--data', RECORDING, '--sweep', 'fast=2..3', '--sweep', 'slow=5,7', '--top', '3', '--rank', 'return');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('sweep     sma-cross on BTCUSDT 1m');
    expect(r.stdout).toContain('4 combinations');
    expect(r.stdout).toMatch(/#\s+fast\s+slow\s+return\s+sharpe/);
    expect(r.stdout.trim().split('\n').filter((l) => /^\s+\d+\s+\d+\s+\d+\s/.test(l))).toHaveLength(3);

    const bad = await qtrade('backtest', '--strategy', 'sma-cross', '--data', RECORDING, '--sweep', 'fast=1..5');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('from 2 to 500');
    const many = await qtrade('backtest', '--strategy', 'sma-cross', '--data', RECORDING, '--sweep', 'fast=2..500', '--sweep', 'slow=3..100');
    expect(many.code).toBe(2);
    expect(many.stderr).toMatch(/more than 10,000/);
    const noSweep = await qtrade('backtest', '--strategy', 'sma-cross', '--data', RECORDING, '--rank', 'sharpe');
    expect(noSweep.code).toBe(2);
    expect(noSweep.stderr).toContain('--sweep');
  });

  it('walks forward in hours over a klines file: windows, IS vs OOS, chained OOS equity', async () => {
    const file = klinesFile();
    const args = ['backtest', '--strategy', 'sma-cross', '--data', file, '--sweep', 'fast=2..6:2', '--sweep', 'slow=10..30:10', '--walk-forward', '6:2', '--wf-unit', 'h'];
    const j = await qtrade(...args, '--json', '--workers', '2');
    expect(j.stderr).toBe('');
    expect(j.code).toBe(0);
    const wf = JSON.parse(j.stdout);
    expect(wf.walkForward).toEqual({ inSample: 6, outOfSample: 2, unit: 'h' });
    expect(wf.windows).toHaveLength(9);
    const t0 = Date.UTC(2024, 7, 8);
    expect(wf.windows[0].inSample).toEqual({ from: t0, to: t0 + 6 * 3_600_000 });
    expect(wf.windows[8].outOfSample).toEqual({ from: t0 + 22 * 3_600_000, to: t0 + 24 * 3_600_000 });
    for (const w of wf.windows) {
      expect(w.params.fast).toBeLessThan(w.params.slow);
      expect(w.isValue).toBe(w.isMetrics.sharpe);
      expect(w.oosValue).toBe(w.oosMetrics.sharpe);
    }
    expect(wf.equity[0].equity).toBe(10000);
    expect(wf.equity[wf.equity.length - 1].equity / 10000 - 1).toBeCloseTo(wf.summary.oosReturn, 9);
    const one = await qtrade(...args, '--json', '--workers', '1');
    expect(JSON.parse(one.stdout).windows).toEqual(wf.windows);

    const text = await qtrade(...args);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('6 hours in-sample, 2 out-of-sample, rolling by 2');
    expect(text.stdout).toMatch(/IS sharpe\s+OOS sharpe\s+OOS return/);
    expect(text.stdout).toMatch(/mean sharpe: in-sample -?\d+\.\d{2}, out-of-sample -?\d+\.\d{2}/);
    expect(text.stdout).toContain('out-of-sample equity (USDT, chained)');

    const rec = await qtrade('backtest', '--strategy', 'sma-cross', '--data', RECORDING, '--sweep', 'fast=2..3', '--walk-forward', '1:1', '--wf-unit', 'm');
    expect(rec.code).toBe(2);
    expect(rec.stderr).toContain('recording');
  });
});

import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/engine/store/open.js';
import { ROOT, runCli, tempDir } from './helpers/cli.js';
import { GOLDEN_2355 } from './helpers/golden-klines.js';

const DEMO = path.join(ROOT, 'fixtures', 'recordings', 'binance-spot-2024-08-08.jsonl.gz');
const GENERATED = path.join(ROOT, 'fixtures', 'recordings', 'generated-btcusdt-aggtrades.jsonl.gz');
const tmp = tempDir('qtrade-replay-');
afterAll(() => tmp.cleanup());

describe('qtrade replay', () => {
  it('drives the real recording through the kernel: closed candles equal the ones computed from the trades', async () => {
    const res = await runCli(['--data-dir', tmp.dir, 'replay', DEMO, '--speed', 'max', '--json'], { timeoutMs: 30_000 });
    expect(res.code).toBe(0);
    const rows = res.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const candles = rows.filter((r) => r.type === 'candle');
    const summary = rows.at(-1)!;
    // The recording joins 23:54 part-way: that minute is reported incomplete, not closed.
    expect(summary).toMatchObject({ type: 'summary', symbols: ['BTCUSDT', 'ETHUSDT'], trades: 19_904 + 14_515, candles: 20, incomplete: 2, gaps: 0, stored: true });
    expect(summary.perSymbol).toEqual([
      { symbol: 'BTCUSDT', trades: 19_904, candles: 10, incomplete: 1 },
      { symbol: 'ETHUSDT', trades: 14_515, candles: 10, incomplete: 1 },
    ]);
    expect(rows.filter((r) => r.type === 'incomplete').map((r) => [r.symbol, r.openTime])).toEqual([
      ['BTCUSDT', 1723161240000],
      ['ETHUSDT', 1723161240000],
    ]);
    // The same 23:55 candle as computed independently from the trades CSV excerpt.
    expect(candles.find((c) => c.symbol === 'BTCUSDT' && c.openTime === 1723161300000)).toMatchObject({ ...GOLDEN_2355, closed: true });
    const store = await openStore(`sqlite:${path.join(tmp.dir, 'qtrade.db')}`);
    try {
      const saved = await store.candles({ symbol: 'ETHUSDT', interval: '1m' });
      expect(saved).toHaveLength(10);
    } finally {
      await store.close();
    }
  });

  it('filters symbols, prints a table, and leaves the store alone with --no-store', async () => {
    const dir = tempDir('qtrade-replay-nostore-');
    try {
      const res = await runCli(['--data-dir', dir.dir, 'replay', GENERATED, '--speed', 'max', '--symbols', 'btcusdt', '--no-store']);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/^closed 1m candles from /);
      // 00:00 is the minute the replay joined: reported on stderr as incomplete, not printed as closed.
      expect(res.stderr).toBe('2024-08-08 00:00 BTCUSDT incomplete (feed joined mid-minute or trades missing): not stored\n');
      expect(res.stdout).toMatch(/^closed 1m candles from .*\n2024-08-08 00:01 {2}BTCUSDT\s+o 61721\.88 {2}h /);
      expect(res.stdout).toMatch(/BTCUSDT\s+1500 trades\s+14 candles\s+1 incomplete/);
      expect(res.stdout).toMatch(/gaps 0, decode errors 0\n$/);
      expect(existsSync(path.join(dir.dir, 'qtrade.db'))).toBe(false);
    } finally {
      dir.cleanup();
    }
  });

  it('refuses a missing file and a bad speed with exit 2', async () => {
    const [missing, speed] = await Promise.all([
      runCli(['--data-dir', tmp.dir, 'replay', path.join(tmp.dir, 'nope.jsonl')]),
      runCli(['--data-dir', tmp.dir, 'replay', GENERATED, '--speed', 'fast']),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such recording/);
    expect(speed.code).toBe(2);
    expect(speed.stderr).toMatch(/--speed "fast"/);
  });
});

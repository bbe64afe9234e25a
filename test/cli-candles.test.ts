import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { strToU8, zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { candlesFromTradeFile } from '../src/engine/candles/from-trades.js';
import type { Candle } from '../src/engine/candles/types.js';
import { openStore } from '../src/engine/store/open.js';
import { GOLDEN_KLINE_ROWS } from './helpers/golden-klines.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'dist', 'bin', 'qtrade.js');
const FIXTURE = path.join(ROOT, 'fixtures', 'binance', 'BTCUSDT-trades-2024-08-08-excerpt.csv');
const dir = mkdtempSync(path.join(tmpdir(), 'qtrade-cli-candles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function qtrade(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, '--data-dir', dir, ...args], { cwd: dir });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

const MINUTES = GOLDEN_KLINE_ROWS;
const FIVE = '1723161300000,61828.00000000,61860.80000000,61651.01000000,61652.01000000,89.86715000,1723161599999,5547515.26335480,4335,42.45831000,2620642.13042260,0';

describe('qtrade candles', () => {
  it('--from-trades prints klines CSV from a plain and a zipped trades file', async () => {
    const plain = await qtrade('candles', '--from-trades', FIXTURE);
    expect(plain.stderr).toBe('');
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe(MINUTES.join('\n') + '\n');

    const zip = path.join(dir, 'BTCUSDT-trades-2024-08-08.zip');
    writeFileSync(zip, zipSync({ 'BTCUSDT-trades-2024-08-08.csv': strToU8(readFileSync(FIXTURE, 'utf8')) }));
    const [zipped, five, some] = await Promise.all([
      qtrade('candles', '--from-trades', zip, '--csv'),
      qtrade('candles', '--from-trades', zip, '--interval', '5m'),
      qtrade('candles', '--from-trades', FIXTURE, '--from', '2024-08-08T23:56', '--limit', '1', '--json'),
    ]);
    expect(zipped.stdout).toBe(plain.stdout);
    expect(five.stdout).toBe(FIVE + '\n');
    const lines = some.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ symbol: 'BTCUSDT', openTime: 1723161360000, high: '61782.26000000', trades: 1011, firstTradeId: 3735685389 });
  });

  it('reads 1m candles from the store and aggregates longer intervals', async () => {
    const url = `sqlite:${path.join(dir, 'store.db')}`;
    const store = await openStore(url);
    const minutes: Candle[] = [];
    await candlesFromTradeFile(FIXTURE, { interval: '1m', onCandle: (c) => void minutes.push(c) });
    await store.upsertCandles(minutes);
    await store.close();

    const [csv, five, table] = await Promise.all([
      qtrade('--store', url, 'candles', 'btcusdt', '--csv'),
      qtrade('--store', url, 'candles', 'BTCUSDT', '--interval', '5m', '--csv'),
      qtrade('--store', url, 'candles', 'BTCUSDT', '--limit', '2'),
    ]);
    expect(csv.stdout).toBe(MINUTES.join('\n') + '\n');
    expect(five.stdout).toBe(FIVE + '\n');
    expect(table.stdout.split('\n')[0]).toMatch(/^open time \(UTC\)\s+open\s+high/);
    expect(table.stdout).toContain('2024-08-08 23:57  61727.66  61735.99  61651.01  61652.01  59.29235');
    expect(table.stdout).not.toContain('23:55');
  });

  it('fails clearly on bad input', async () => {
    const bad = path.join(dir, 'BTCUSDT-trades-2024-08-09.csv');
    writeFileSync(bad, '1,61828.00000000,0.01057000,653.52196000,1723161300030,False,True\n2,61828.00000000,0.0105x000,1,1723161300031,False,True\n');
    const [unknown, interval, from, parse] = await Promise.all([
      qtrade('--store', `sqlite:${path.join(dir, 'empty.db')}`, 'candles', 'BTCUSTD'),
      qtrade('candles', '--from-trades', FIXTURE, '--interval', '7m'),
      qtrade('candles', '--from-trades', FIXTURE, '--from', 'last tuesday'),
      qtrade('candles', '--from-trades', bad),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown symbol "BTCUSTD"');
    expect(unknown.stderr).toContain('did you mean BTCUSDT');
    expect(interval.code).toBe(2);
    expect(interval.stderr).toMatch(/valid intervals: 1m, 3m, 5m/);
    expect(from.code).toBe(2);
    expect(from.stderr).toContain('--from "last tuesday" is not a date or time');
    expect(parse.code).toBe(2);
    expect(parse.stderr).toContain('BTCUSDT-trades-2024-08-09.csv line 2: bad qty "0.0105x000"');
  });
});

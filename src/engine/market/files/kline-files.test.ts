import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { klineCsvRow } from '../../candles/format.js';
import type { Candle } from '../../candles/types.js';
import { detectFileKind, readKlineFile } from './kline-files.js';
import { GOLDEN_KLINE_ROWS } from '../../../../test/helpers/golden-klines.js';

const dir = mkdtempSync(path.join(tmpdir(), 'qtrade-klines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROWS = GOLDEN_KLINE_ROWS.slice(0, 2);

async function all(file: string, opts = {}): Promise<Candle[]> {
  const out: Candle[] = [];
  for await (const c of readKlineFile(file, opts)) out.push(c);
  return out;
}

describe('kline files', () => {
  it('reads a klines CSV back to the same rows, from plain and zip files', async () => {
    const p = path.join(dir, 'BTCUSDT-1m-2024-08-08.csv');
    writeFileSync(p, ROWS.join('\n') + '\n');
    expect(await detectFileKind(p)).toBe('klines');
    const candles = await all(p);
    expect(candles.map(klineCsvRow)).toEqual(ROWS);
    expect(candles[0]).toMatchObject({ symbol: 'BTCUSDT', interval: '1m', priceScale: 2, open: 6182800, trades: 1255, closed: true, firstTradeId: -1 });
    const z = path.join(dir, 'BTCUSDT-1m-2024-08-08.zip');
    writeFileSync(z, zipSync({ 'BTCUSDT-1m-2024-08-08.csv': strToU8(ROWS.join('\n')) }));
    expect((await all(z)).map(klineCsvRow)).toEqual(ROWS);
  });

  it('skips a futures header, infers the interval, keeps µs times', async () => {
    const p = path.join(dir, 'klines.csv');
    const header = 'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore';
    const us = '1735776000000000,3400.10000000,3400.20000000,3400.00000000,3400.20000000,1.00000000,1736380799999999,3400.15000000,3,0.50000000,1700.10000000,0';
    writeFileSync(p, `${header}\n${us}\n`);
    expect(await detectFileKind(p)).toBe('klines');
    const [c] = await all(p, { symbol: 'ethusdt' });
    expect(c).toMatchObject({ symbol: 'ETHUSDT', interval: '1w', openTime: 1735776000000000, closeTime: 1736380799999999, open: 340010 });
  });

  it('names the line and field of a bad row', async () => {
    const p = path.join(dir, 'BTCUSDT-5m-2024-08-08.csv');
    writeFileSync(p, ROWS[0]!.replace('15.07702000', '15.0770x'));
    await expect(all(p)).rejects.toThrow(/BTCUSDT-5m-2024-08-08\.csv line 1: bad close_time .*5m kline/);
    const q = path.join(dir, 'BTCUSDT-1m-2024-08-09.csv');
    writeFileSync(q, ROWS[0]!.replace('15.07702000', '15.0770x'));
    await expect(all(q)).rejects.toThrow(/line 1: bad volume "15\.0770x"/);
  });

  it('refuses counts and times that are not plain digits (no exponents, signs or spaces)', async () => {
    const cols = ROWS[0]!.split(',');
    const cases: Array<[number, string, RegExp]> = [
      [8, '1.255e3', /line 1: bad count "1\.255e3"/],
      [8, '-5', /line 1: bad count "-5"/],
      [0, '1.7231613e12', /line 1: bad open_time "1\.7231613e12"/],
    ];
    let n = 10;
    for (const [i, value, message] of cases) {
      const row = [...cols];
      row[i] = value;
      const p = path.join(dir, `BTCUSDT-1m-2024-08-${n++}.csv`);
      writeFileSync(p, row.join(',') + '\n');
      await expect(all(p)).rejects.toThrow(message);
    }
  });
});

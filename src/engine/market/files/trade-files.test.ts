import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { zipSync, strToU8 } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { ParseError } from '../../errors.js';
import { parseFixed } from '../../fixed.js';
import { bundledInstruments } from '../bundled-instruments.js';
import type { Trade } from '../types.js';
import { detectFileKind, openTradeFile, readTradeFile } from './trade-files.js';

const dir = mkdtempSync(path.join(tmpdir(), 'qtrade-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function put(name: string, content: string | Uint8Array): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function all(file: string, opts = {}): Promise<Trade[]> {
  const out: Trade[] = [];
  for await (const t of readTradeFile(file, opts)) out.push(t);
  return out;
}

const AGG = [
  '3000000001,61837.63000000,0.01000000,4000000010,4000000012,1723161255342,True,True',
  '3000000002,61837.64000000,0.50000000,4000000013,4000000013,1723161255343,False,True',
].join('\n');

/** A BTCUSDT quantity at the bundled instrument's scale. */
const qty = (d: string): number => parseFixed(d, bundledInstruments().get('BTCUSDT').qtyScale);

const FIRST: Trade = {
  symbol: 'BTCUSDT',
  id: 3000000001,
  price: 6183763,
  qty: qty('0.01'),
  firstId: 4000000010,
  lastId: 4000000012,
  time: 1723161255342,
  buyerMaker: true,
};

describe('trade files', () => {
  it('reads a spot aggTrades CSV with the bundled scales', async () => {
    const p = put('BTCUSDT-aggTrades-2024-08-08.csv', AGG + '\n');
    expect(await detectFileKind(p)).toBe('aggTrades');
    const f = await openTradeFile(p);
    expect(f).toMatchObject({ kind: 'aggTrades', symbol: 'BTCUSDT', unit: 'ms' });
    expect(f.instrument.priceScale).toBe(2);
    const trades: Trade[] = [];
    for await (const t of f) trades.push(t);
    expect(trades).toEqual([FIRST, { ...FIRST, id: 3000000002, price: 6183764, qty: qty('0.5'), firstId: 4000000013, lastId: 4000000013, time: 1723161255343, buyerMaker: false }]);
  });

  it('reads the same from a .zip, a .gz, and with a futures header and CRLF', async () => {
    const want = await all(put('BTCUSDT-aggTrades-2024-08-08.csv', AGG));
    const zip = put('BTCUSDT-aggTrades-2024-08-08.zip', zipSync({ 'BTCUSDT-aggTrades-2024-08-08.csv': strToU8(AGG + '\n') }));
    expect(await all(zip)).toEqual(want);
    const gz = put('BTCUSDT-aggTrades-2024-08-09.csv.gz', gzipSync(AGG));
    expect(await all(gz)).toEqual(want);
    const header = 'agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\r\n';
    const fut = put('BTCUSDT-aggTrades-2024-08-10.csv', header + AGG.replace(/,True,True/g, ',true').replace(/,False,True/g, ',false').replace(/\n/g, '\r\n'));
    expect(await all(fut)).toEqual(want);
  });

  it('streams a zip much larger than one read chunk', async () => {
    // random digits so the archive (about 2.8 MB) spans several 1 MB reads
    let x = 1;
    const rnd = (): number => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
    const rows: string[] = [];
    for (let i = 0; i < 150_000; i++) {
      const p = String(rnd() % 100).padStart(2, '0');
      const q = String(rnd() % 1e5).padStart(5, '0');
      rows.push(`${i},61837.${p}000000,0.${q}000,${i},${i},${1723161255342 + i},${rnd() & 1 ? 'True' : 'False'},True`);
    }
    const zip = put('BTCUSDT-aggTrades-2024-08-11.zip', zipSync({ 'x.csv': strToU8(rows.join('\n')) }, { level: 1 }));
    let n = 0;
    let sum = 0;
    const f = await openTradeFile(zip);
    for await (const batch of f.batches()) {
      n += batch.length;
      for (const t of batch) sum += t.id;
    }
    expect(n).toBe(150_000);
    expect(sum).toBe((150_000 * 149_999) / 2);
  });

  it('detects microsecond files (spot, 2025 on)', async () => {
    const p = put('ETHUSDT-aggTrades-2025-01-02.csv', '1,3400.10000000,0.10000000,5,5,1735776000123456,False,True\n');
    const f = await openTradeFile(p);
    expect(f.unit).toBe('us');
    expect((await all(p))[0]!.time).toBe(1735776000123456);
  });

  it('reads a trades CSV as single-trade aggregates', async () => {
    const p = put('BTCUSDT-trades-2024-08-08.csv', '3735684134,61828.00000000,0.01057000,653.52196000,1723161300030,False,True\n');
    expect(await detectFileKind(p)).toBe('trades');
    expect(await all(p)).toEqual([
      { symbol: 'BTCUSDT', id: 3735684134, price: 6182800, qty: qty('0.01057'), firstId: 3735684134, lastId: 3735684134, time: 1723161300030, buyerMaker: false },
    ]);
  });

  it('uses wire precision for symbols the bundled exchangeInfo lacks, and the symbol option', async () => {
    const p = put('trades.csv', '1,0.12345678,10.00000001,0,1723161300030,True,True\n');
    expect(await detectFileKind(p)).toBe('trades');
    const f = await openTradeFile(p, { symbol: 'foousdt' });
    expect(f.instrument).toMatchObject({ symbol: 'FOOUSDT', priceScale: 8, qtyScale: 8 });
    await expect(openTradeFile(p)).rejects.toThrow(/cannot tell the symbol/);
  });

  it('reads JSONL: bare payloads, combined-stream envelopes, recordings and captures', async () => {
    const agg = { e: 'aggTrade', E: 1723161255343, s: 'BTCUSDT', a: 3000000001, p: '61837.63000000', q: '0.01000000', f: 4000000010, l: 4000000012, T: 1723161255342, m: true, M: true };
    const lines = [
      JSON.stringify({ stream: 'btcusdt@bookTicker', data: { u: 1, s: 'BTCUSDT', b: '1', B: '1', a: '1', A: '1' } }),
      JSON.stringify(agg),
      JSON.stringify({ stream: 'btcusdt@aggTrade', data: { ...agg, a: 3000000002 } }),
      JSON.stringify({ r: 1723161254087.8, f: { stream: 'btcusdt@aggTrade', data: { ...agg, a: 3000000003 } } }),
      JSON.stringify({ r: 1723161254087.8, f: JSON.stringify({ ...agg, a: 3000000004 }) }),
      `1723161254087896568 ${JSON.stringify({ stream: 'ethusdt@aggTrade', data: { ...agg, s: 'ETHUSDT', a: 9 } })}`,
      `1723161254087896568 ${JSON.stringify({ stream: 'btcusdt@trade', data: { e: 'trade', E: 1, s: 'BTCUSDT', t: 77, p: '61837.63000000', q: '0.02000000', T: 1723161255342, m: false, M: true } })}`,
    ];
    const p = put('capture.jsonl', lines.join('\n'));
    expect(await detectFileKind(p)).toBe('jsonl');
    const f = await openTradeFile(p);
    expect(f.symbol).toBe('BTCUSDT');
    const trades: Trade[] = [];
    for await (const t of f) trades.push(t);
    expect(trades.map((t) => t.id)).toEqual([3000000001, 3000000002, 3000000003, 3000000004, 77]);
    expect(trades[0]).toEqual(FIRST);
    expect(trades[4]).toMatchObject({ firstId: 77, lastId: 77, qty: qty('0.02'), buyerMaker: false });
    const eth = await all(p, { symbol: 'ETHUSDT' });
    expect(eth.map((t) => t.id)).toEqual([9]);
  });

  it('names the file, line and field of a bad row', async () => {
    const p = put('BTCUSDT-aggTrades-2024-08-12.csv', AGG + '\n3000000003,61837.6x000000,0.1,1,1,1723161255343,True,True\n');
    const err = await all(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParseError);
    expect((err as Error).message).toMatch(/BTCUSDT-aggTrades-2024-08-12\.csv line 3: bad price "61837\.6x000000"/);
    const fine = put('BTCUSDT-aggTrades-2024-08-13.csv', '1,61837.631,0.1,1,1,1723161255343,True,True\n');
    await expect(all(fine)).rejects.toThrow(/line 1: bad price "61837\.631" \(.*more than 2 decimals/);
    const bm = put('BTCUSDT-aggTrades-2024-08-14.csv', '1,61837.63,0.1,1,1,1723161255343,yes,True\n');
    await expect(all(bm)).rejects.toThrow(/line 1: bad is_buyer_maker "yes"/);
    const short = put('BTCUSDT-aggTrades-2024-08-15.csv', '1,61837.63,0.1,1\n');
    await expect(all(short)).rejects.toThrow(/line 1: bad last_id missing/);
    const json = put('x.jsonl', '{"e":"aggTrade","s":"BTCUSDT"\n');
    await expect(all(json, { symbol: 'BTCUSDT' })).rejects.toThrow(/x\.jsonl line 1: bad JSON/);
    const zip = put('BTCUSDT-aggTrades-2024-08-16.zip', new Uint8Array([0x50, 0x4b, 3, 4, 1, 2, 3]));
    await expect(all(zip)).rejects.toThrow(ParseError);
    await expect(all(path.join(dir, 'missing-aggTrades-x.csv'))).rejects.toThrow(/cannot open/);
  });

  it('refuses ids and times that are empty or not plain digits instead of reading them as numbers', async () => {
    const row = (f: (cols: string[]) => void): string => {
      const cols = '1,61837.63,0.1,1,1,1723161255343,True,True'.split(',');
      f(cols);
      return cols.join(',');
    };
    const cases: Array<[string, string]> = [
      [row((c) => (c[5] = '')), 'line 2: bad time "" '],
      [row((c) => (c[0] = '1e3')), 'line 2: bad agg_id "1e3"'],
      [row((c) => (c[4] = '0x2')), 'line 2: bad last_id "0x2"'],
      [row((c) => (c[3] = ' 1')), 'line 2: bad first_id " 1"'],
      [row((c) => (c[5] = '1723161255343.5')), 'line 2: bad time "1723161255343.5"'],
    ];
    let n = 20;
    for (const [bad, message] of cases) {
      const p = put(`BTCUSDT-aggTrades-2024-08-${n++}.csv`, `${AGG.split('\n')[0]}\n${bad}\n`);
      const err = await all(p).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ParseError);
      expect((err as Error).message).toContain(message.trimEnd());
    }
    const trades = put('BTCUSDT-trades-2024-08-20.csv', '5,61837.63,0.1,6.18,,True,True\n');
    await expect(all(trades)).rejects.toThrow(/BTCUSDT-trades-2024-08-20\.csv line 1: bad time ""/);
  });
});

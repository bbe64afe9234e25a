import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openTradeFile } from '../market/files/trade-files.js';
import { aggregateCandles } from './aggregate.js';
import { klineCsvRow } from './format.js';
import { CandleSynthesizer } from './synthesizer.js';
import type { Candle } from './types.js';
import { GOLDEN_KLINE_ROWS } from '../../../test/helpers/golden-klines.js';

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/binance/BTCUSDT-trades-2024-08-08-excerpt.csv');

const EXPECTED = GOLDEN_KLINE_ROWS;

describe('candles from real Binance trades (BTCUSDT, 2024-08-08 23:55–23:58 UTC)', () => {
  it('match an independent computation field for field', async () => {
    const file = await openTradeFile(FIXTURE);
    expect(file).toMatchObject({ kind: 'trades', symbol: 'BTCUSDT', unit: 'ms' });
    expect(file.instrument).toMatchObject({ symbol: 'BTCUSDT', priceScale: 2 });
    const out: Candle[] = [];
    const s = new CandleSynthesizer({ instrument: file.instrument, unit: file.unit, onClosed: (c) => out.push(c) });
    let n = 0;
    for await (const t of file) {
      s.add(t);
      n++;
    }
    s.flush();
    expect(n).toBe(4335);
    expect(s.late).toBe(0);
    expect(out.map(klineCsvRow)).toEqual(EXPECTED);
    expect(out.map((c) => [c.firstTradeId, c.lastTradeId])).toEqual([
      [3735684134, 3735685388],
      [3735685389, 3735686399],
      [3735686400, 3735688468],
    ]);
    const [three] = aggregateCandles(out, '3m');
    // 23:54–23:56 bucket: only 23:55 and 23:56 are in the excerpt; it ended, so it is closed
    expect(three).toMatchObject({ openTime: 1723161240000, open: 6182800, trades: 1255 + 1011, closed: true });
  });
});

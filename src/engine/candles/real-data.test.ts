import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openTradeFile } from '../market/files/trade-files.js';
import { aggregateCandles } from './aggregate.js';
import { klineCsvRow } from './format.js';
import { CandleSynthesizer } from './synthesizer.js';
import type { Candle } from './types.js';

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/binance/BTCUSDT-trades-2024-08-08-excerpt.csv');

// Computed independently (Python, decimal.Decimal) from the same fixture: every trade of three whole minutes.
const EXPECTED = [
  '1723161300000,61828.00000000,61860.80000000,61780.00000000,61782.25000000,15.07702000,1723161359999,932148.06446410,1255,6.63029000,409957.59142730,0',
  '1723161360000,61782.25000000,61782.26000000,61723.99000000,61727.66000000,15.49778000,1723161419999,957049.46856370,1011,6.32524000,390617.13319790,0',
  '1723161420000,61727.66000000,61735.99000000,61651.01000000,61652.01000000,59.29235000,1723161479999,3658317.73032700,2069,29.50278000,1820067.40579740,0',
];

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

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundledInstruments } from '../market/bundled-instruments.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { queryCandles } from './query.js';
import { CandleSynthesizer } from './synthesizer.js';
import type { Candle } from './types.js';

const T0 = Date.UTC(2024, 7, 8, 23, 50);
const instrument = bundledInstruments().get('BTCUSDT');

/** 1m candles from one trade a minute over `minutes` minutes from T0 (the last one left open). */
function minutes(count: number): Candle[] {
  const out: Candle[] = [];
  const synth = new CandleSynthesizer({ instrument, onClosed: (c) => out.push(c) });
  for (let i = 0; i <= count; i++) synth.add({ symbol: 'BTCUSDT', id: i + 1, price: 6_180_000 + i, qty: 1_000_000, firstId: i + 1, lastId: i + 1, time: T0 + i * 60_000 + 5_000, buyerMaker: false });
  return out;
}

describe('queryCandles aggregation from stored 1m candles', () => {
  let store: Store;
  beforeEach(async () => {
    store = await openStore('sqlite::memory:');
  });
  afterEach(async () => {
    await store.close();
  });

  it('builds complete 5m buckets and keeps the running one', async () => {
    await store.upsertCandles(minutes(13)); // 23:50 … 00:02
    const r = await queryCandles(store, { symbol: 'BTCUSDT', interval: '5m', from: T0 });
    expect(r.candles.map((c) => [c.openTime - T0, c.trades])).toEqual([
      [0, 5],
      [300_000, 5],
      [600_000, 3],
    ]);
    expect(r.skippedIncomplete).toEqual([]);
  });

  it('leaves out a bucket with a missing minute instead of presenting a partial sum', async () => {
    const all = minutes(13);
    await store.upsertCandles(all.filter((c) => c.openTime !== T0 + 7 * 60_000)); // hole at 23:57
    const r = await queryCandles(store, { symbol: 'BTCUSDT', interval: '5m', from: T0 });
    expect(r.candles.map((c) => c.openTime - T0)).toEqual([0, 600_000]);
    expect(r.skippedIncomplete).toEqual([T0 + 300_000]);
  });
});

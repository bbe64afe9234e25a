import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CandleSynthesizer } from '../src/engine/candles/synthesizer.js';
import type { Candle } from '../src/engine/candles/types.js';
import { LiveClock } from '../src/engine/clock.js';
import { createKernel, type Kernel } from '../src/engine/kernel.js';
import { decodeFrame } from '../src/engine/market/binance/parse.js';
import { BinanceVenue } from '../src/engine/market/binance/venue.js';
import { bundledInstruments } from '../src/engine/market/bundled-instruments.js';
import { generateAggTrades, type AggTradePayload } from '../src/engine/market/replay/generator.js';
import type { Trade } from '../src/engine/market/types.js';
import { startFakeBinance, type FakeBinance, type ReplayFrame } from './helpers/fake-binance.js';
import { createFakeRest } from './helpers/fake-binance-rest.js';

const STREAM = 'btcusdt@aggTrade';
const COUNT = 200_000;
const instruments = bundledInstruments();
const instrument = instruments.get('BTCUSDT');

async function until(cond: () => boolean, what: () => string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What an uninterrupted feed produces: every trade once, in order, straight into the synthesizer. */
function uninterrupted(payloads: AggTradePayload[]): Candle[] {
  const closed: Candle[] = [];
  const synth = new CandleSynthesizer({ instrument, onClosed: (c) => closed.push(c) });
  for (const p of payloads) {
    const ev = decodeFrame(JSON.stringify({ stream: STREAM, data: p }), instruments);
    if (ev?.kind !== 'trade') throw new Error('generator produced a non-trade frame');
    synth.add(ev.trade);
  }
  return closed;
}

describe('live feed over a hostile connection', () => {
  let payloads: AggTradePayload[];
  let fake: FakeBinance;
  let restLog: Array<{ path: string }>;

  beforeAll(async () => {
    payloads = [...generateAggTrades({ seed: 20240808, symbol: 'BTCUSDT', instrument, count: COUNT, startTime: Date.UTC(2024, 7, 8, 22), startPrice: '61837.63' })];
    const rest = createFakeRest();
    rest.state.trades.set('BTCUSDT', payloads);
    restLog = rest.state.log;
    fake = await startFakeBinance({ rest: rest.handler });
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('200k trades, 100 forced disconnects, gaps, duplicates and reordering: candles identical, nothing lost or double-counted', async () => {
    // The minute the feed joined is reported incomplete, not closed; every later one must match.
    const [joined, ...expected] = uninterrupted(payloads);
    expect(expected.length).toBeGreaterThan(100);

    // Frames as the hostile server sends them: some never sent (gaps without a disconnect),
    // some neighbours swapped (a late frame arrives after its successor).
    const frames: ReplayFrame[] = [];
    for (let i = 0; i < payloads.length; i++) {
      if (i > 0 && i % 4999 === 0) continue;
      if (i % 7919 === 1 && i + 1 < payloads.length) {
        frames.push({ stream: STREAM, data: payloads[i + 1] }, { stream: STREAM, data: payloads[i] });
        i++;
        continue;
      }
      frames.push({ stream: STREAM, data: payloads[i] });
    }

    const venue = new BinanceVenue({
      wsUrl: fake.wsUrl,
      restUrl: fake.restUrl,
      net: {},
      instruments,
      ws: { backoff: { initialMs: 1, maxMs: 20 }, random: () => 0.5 },
    });
    const kernel: Kernel = createKernel({ clock: new LiveClock(), venue, instruments });
    const closed: Candle[] = [];
    const incomplete: Candle[] = [];
    kernel.bus.subscribe('candle.incomplete', (c) => incomplete.push(c));
    const delivered = new Map<number, number>();
    kernel.bus.subscribe('candle.closed', (c) => closed.push(c));
    kernel.bus.subscribe('trade', (t: Trade) => delivered.set(t.id, (delivered.get(t.id) ?? 0) + 1));
    await kernel.start(['btcusdt'], ['aggTrade']);

    const stats = await fake.replay(frames, { duplicateEvery: 997, dropConnectionEvery: Math.ceil(frames.length / 101), dropMode: 'terminate', lostPerDrop: 5 });
    expect(stats.drops).toBe(100);
    expect(stats.duplicated).toBeGreaterThan(100);

    const lastId = payloads[payloads.length - 1]!.a;
    await until(
      () => delivered.has(lastId),
      () => `last trade ${lastId}; delivered ${delivered.size} of ${COUNT}`,
    );
    await kernel.settled();
    await kernel.stop();

    const k = kernel.stats();
    expect(delivered.size).toBe(COUNT);
    expect([...delivered.values()].every((n) => n === 1)).toBe(true);
    expect(k.trades).toBe(COUNT);
    expect(k.missingTrades).toBe(0);
    expect(k.gaps).toBeGreaterThanOrEqual(100);
    expect(k.gapTradesFilled).toBeGreaterThanOrEqual(100 * 5 + 40);
    expect(k.duplicates).toBeGreaterThan(100);
    expect(restLog.filter((r) => r.path.startsWith('/api/v3/aggTrades')).length).toBeGreaterThanOrEqual(k.gaps);
    expect(incomplete).toEqual([joined]);
    expect(closed).toEqual(expected);
  });
});

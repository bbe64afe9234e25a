import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Bus } from '../../src/engine/bus.js';
import { SimClock } from '../../src/engine/clock.js';
import { AlertService } from '../../src/engine/alerts/service.js';
import type { AlertFiring } from '../../src/engine/alerts/types.js';
import { createKernel } from '../../src/engine/kernel.js';
import { decodeFrame } from '../../src/engine/market/binance/parse.js';
import { bundledInstruments } from '../../src/engine/market/bundled-instruments.js';
import { readRecording } from '../../src/engine/market/replay/recording.js';
import { ReplayVenue } from '../../src/engine/market/replay/replay-venue.js';
import type { Channel, MarketVenue } from '../../src/engine/market/source.js';
import type { Trade } from '../../src/engine/market/types.js';
import { TradeStreamVenue } from '../../src/engine/strategy/trade-venue.js';
import { ROOT } from '../helpers/cli.js';

const GENERATED = path.join(ROOT, 'fixtures/recordings/generated-btcusdt-aggtrades.jsonl.gz');
const REAL = path.join(ROOT, 'fixtures/recordings/binance-spot-2024-08-08.jsonl.gz');
const instruments = bundledInstruments();

const ALERTS = [
  'price crosses above 61700',
  'price crosses below 61700',
  'price > 61800',
  'price <= 61600.5',
  'close 1m crosses below 61700',
  'change 1m >= 0.1%',
  'change 1m < -0.1%',
];

/** The recording's BTCUSDT trades, decoded as the live feed decodes them. */
async function recordedTrades(file: string): Promise<Trade[]> {
  const out: Trade[] = [];
  for await (const l of readRecording(file)) {
    if (l.kind !== 'frame' || !l.frame.stream.startsWith('btcusdt@') || !/trade$/i.test(l.frame.stream)) continue;
    const ev = decodeFrame(JSON.stringify(l.frame), instruments);
    if (ev?.kind === 'trade') out.push(ev.trade);
  }
  return out;
}

/** The kernel on a venue, with the alerts running on its bus: what `qtrade replay` and the backtest's trade path run. */
async function fire(venue: MarketVenue & { done: Promise<void> }, channels: Channel[]): Promise<AlertFiring[]> {
  const bus = new Bus((_t, err) => {
    throw err;
  });
  const clock = new SimClock();
  const alerts = await AlertService.open({ bus, clock, instruments });
  for (const c of ALERTS) await alerts.add({ symbol: 'BTCUSDT', condition: c, untilCancelled: true }, 0);
  const fired: AlertFiring[] = [];
  bus.subscribe('alert.fired', (f) => fired.push(f));
  const kernel = createKernel({ clock, venue, instruments, bus });
  await kernel.start(['BTCUSDT'], channels);
  await venue.done;
  await kernel.stop();
  await alerts.close();
  return fired;
}

/** The definitions, computed straight from the trades. */
function expected(trades: Trade[]): Map<string, number[]> {
  const out = new Map<string, number[]>(ALERTS.map((a, i) => [`a${i + 1}`, []]));
  const L = 61_700_00;
  let prev: number | undefined;
  // Second closes for `change 1m`: the price at the start of the second containing t − 60 s.
  const closeOfSecond = new Map<number, number>();
  const firstSec = Math.floor(trades[0]!.time / 1000);
  let chUp: boolean | undefined;
  let chDown: boolean | undefined;
  for (const t of trades) {
    const p = t.price;
    if (prev !== undefined && prev <= L && p > L) out.get('a1')!.push(t.time);
    if (prev !== undefined && prev >= L && p < L) out.get('a2')!.push(t.time);
    if (p > 61_800_00 && (prev === undefined || prev <= 61_800_00)) out.get('a3')!.push(t.time);
    if (p <= 61_600_50 && (prev === undefined || prev > 61_600_50)) out.get('a4')!.push(t.time);
    prev = p;
    closeOfSecond.set(Math.floor(t.time / 1000), p);
    let s = Math.floor((t.time - 60_000) / 1000) - 1;
    if (s >= firstSec) {
      while (!closeOfSecond.has(s)) s--;
      const ref = closeOfSecond.get(s)!;
      const up = (p - ref) * 1000 >= ref; // ≥ 0.1 %
      const down = (p - ref) * 1000 < -ref;
      if (up && chUp !== true) out.get('a6')!.push(t.time);
      if (down && chDown !== true) out.get('a7')!.push(t.time);
      chUp = up;
      chDown = down;
    }
  }
  // 1m closes: the last price of each minute (a quiet minute keeps the previous close); the first
  // minute is the one the replay joined (incomplete, not closed) and the last one never closes.
  const firstMin = Math.floor(trades[0]!.time / 60_000);
  const lastMin = Math.floor(trades.at(-1)!.time / 60_000);
  const last = new Map<number, number>();
  for (const t of trades) last.set(Math.floor(t.time / 60_000), t.price);
  let close = last.get(firstMin)!;
  let side: boolean | undefined;
  for (let m = firstMin + 1; m < lastMin; m++) {
    close = last.get(m) ?? close;
    const below = close < L;
    if (below && side === false) out.get('a5')!.push(m * 60_000 + 59_999);
    side = below;
  }
  return out;
}

function byAlert(fired: AlertFiring[]): Map<string, number[]> {
  const out = new Map<string, number[]>(ALERTS.map((a, i) => [`a${i + 1}`, []]));
  for (const f of fired) out.get(f.alertId)!.push(f.time);
  return out;
}

describe('alerts on a replayed recording', () => {
  it('fire exactly once per crossing (generated recording), at the same times in replay and in the backtest trade path', async () => {
    const trades = await recordedTrades(GENERATED);
    expect(trades).toHaveLength(1500);
    const want = expected(trades);
    // Every kind of condition has something to fire, or the comparison proves little.
    for (const [id, times] of want) expect([id, times.length > 0]).toEqual([id, true]);

    const replay = await fire(new ReplayVenue({ path: GENERATED, instruments, speed: 'max' }), ['aggTrade']);
    expect(byAlert(replay)).toEqual(want);
    // Paced replay (virtual sleeps) and the backtest's venue (a trade stream) fire identically.
    const paced = await fire(new ReplayVenue({ path: GENERATED, instruments, speed: 50, sleep: async () => {} }), ['aggTrade']);
    const backtest = await fire(new TradeStreamVenue(trades), ['aggTrade']);
    const strip = (fs: AlertFiring[]) => fs.map((f) => [f.id, f.time, f.message]);
    expect(strip(paced)).toEqual(strip(replay));
    expect(strip(backtest)).toEqual(strip(replay));
  });

  it('fire exactly once per crossing on the real Binance capture', async () => {
    const trades = await recordedTrades(REAL);
    expect(trades).toHaveLength(19_904);
    const want = expected(trades);
    const replay = await fire(new ReplayVenue({ path: REAL, instruments, speed: 'max' }), ['trade']);
    expect(byAlert(replay)).toEqual(want);
    // Real ticks chop around a level: many crossings, each fired once.
    expect(want.get('a1')!.length).toBeGreaterThan(3);
    const backtest = await fire(new TradeStreamVenue(trades), ['trade']);
    expect(backtest.map((f) => [f.id, f.time])).toEqual(replay.map((f) => [f.id, f.time]));
  }, 120_000);
});

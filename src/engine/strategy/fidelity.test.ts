import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Bus } from '../bus.js';
import { SimClock } from '../clock.js';
import { createKernel } from '../kernel.js';
import { generateRecording } from '../market/replay/generator.js';
import { ReplayVenue } from '../market/replay/replay-venue.js';
import { parseAmount } from '../orders/amounts.js';
import { bundledMarket } from '../orders/bundled-filters.js';
import { OrderService } from '../orders/service.js';
import { SqliteStore } from '../store/sqlite.js';
import { attachStrategy, recordingChannels, runBacktest } from './backtest.js';
import { grid, smaCross } from './builtins/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qtrade-fidelity-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const { instruments, filters } = bundledMarket();
const inst = instruments.get('BTCUSDT');
const balances = { USDT: parseAmount('10000') };
type Def = Parameters<typeof runBacktest>[0]['strategy'];

/** The `qtrade replay` path: kernel + ReplayVenue + OrderService on SQLite, strategy via the same runner. */
async function paperRun(file: string, strategy: Def, params: Record<string, unknown>, db: string) {
  const store = new SqliteStore(path.join(dir, db));
  await store.migrate();
  const bus = new Bus();
  const svc = await OrderService.open({ store, bus, instruments, filters, initialBalances: balances });
  const venue = new ReplayVenue({ path: file, instruments, speed: 'max' });
  const clock = new SimClock();
  const kernel = createKernel({ clock, venue, instruments, bus, orders: svc });
  const { channels, depth } = await recordingChannels(file);
  const s = attachStrategy({
    bus, clock, orders: svc, instrument: inst, strategy, params,
    ...(depth ? {} : { syntheticBook: { options: { slippageTicks: 2 }, onBook: (b) => svc.onBook('BTCUSDT', b) } }),
  });
  await kernel.start(['BTCUSDT'], channels);
  await venue.done;
  await kernel.stop();
  await svc.settled();
  s.detach();
  const out = { fills: s.fills, equity: s.recorder.series.toPoints(), status: s.runner.status, stored: (await store.readEvents(svc.stream)).length };
  await svc.close();
  await store.close();
  return out;
}

describe('fidelity: backtest and paper trading over the same recorded trades agree exactly', () => {
  it('sma-cross and grid on a generated recording', async () => {
    const file = path.join(dir, 'gen.jsonl.gz');
    await generateRecording({ path: file, seed: 'fidelity', startTime: 1_723_075_200_000, count: 12_000, symbols: [{ symbol: 'BTCUSDT', instrument: inst, startPrice: '60000.00' }] });
    const cases: Array<[Def, Record<string, unknown>]> = [
      [smaCross, { fast: 3, slow: 8 }],
      [grid, { levels: 4, spacing: 0.05, orderQuote: 300 }],
    ];
    for (const [strategy, params] of cases) {
      const bt = await runBacktest({ strategy, params, symbol: 'BTCUSDT', recording: file, initialBalances: balances, slippageTicks: 2 });
      const paper = await paperRun(file, strategy, params, `${strategy.name}.db`);
      expect(bt.status).toBe('running');
      expect(bt.fills.length, strategy.name).toBeGreaterThan(2);
      expect(paper.stored).toBeGreaterThan(0);
      expect(paper.fills).toEqual(bt.fills);
      expect(paper.equity).toEqual(bt.equity.toPoints());
    }
  });
});

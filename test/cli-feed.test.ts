import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { startFakeBinance, type FakeBinance } from './helpers/fake-binance.js';
import { createFakeRest } from './helpers/fake-binance-rest.js';

let fake: FakeBinance;
const tmp = tempDir('qtrade-feed-');

beforeAll(async () => {
  fake = await startFakeBinance({ rest: createFakeRest().handler });
});
afterAll(async () => {
  await fake.close();
  tmp.cleanup();
});

const env = (): Record<string, string> => ({ QTRADE_BINANCE_WS_URL: fake.wsUrl, QTRADE_BINANCE_REST_URL: fake.restUrl });

const M = Date.UTC(2024, 7, 8, 23, 54);
const agg = (id: number, time: number, price: string): Record<string, unknown> => ({
  e: 'aggTrade',
  E: time + 1,
  s: 'BTCUSDT',
  a: id,
  p: price,
  q: '0.02000000',
  f: id,
  l: id,
  T: time,
  m: false,
  M: true,
});

/** Runs `qtrade feed` for a moment and, once it subscribed, sends trades in 23:54 (joined part-way), 23:55 and 23:56. */
async function feedWhileSending(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = runCli(['--data-dir', tmp.dir, 'feed', '--symbols', 'btcusdt', '--channels', 'aggTrade', '--no-store', '--duration', '2s', ...args], { env: env() });
  await fake.waitForSubscriber('btcusdt@aggTrade', 30_000);
  fake.send('btcusdt@aggTrade', agg(100, M + 30_000, '61837.63000000'));
  fake.send('btcusdt@aggTrade', agg(101, M + 65_000, '61840.00000000'));
  fake.send('btcusdt@aggTrade', agg(102, M + 125_000, '61850.00000000'));
  return run;
}

describe('qtrade feed', () => {
  it('reports the minute it joined part-way as incomplete, not as a closed candle', async () => {
    const res = await feedWhileSending([]);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('2024-08-08 23:54 BTCUSDT incomplete (feed joined mid-minute or trades missing): not stored\n');
    expect(res.stdout).toMatch(/^2024-08-08 23:55 {2}BTCUSDT\s+o 61840\.00 .* n 1\n$/);
    expect(res.stderr).toMatch(/stopped: 3 trades, 1 candles closed, 1 incomplete, /);
  });

  it('prints the incomplete minute as a JSON line and counts it in the summary', async () => {
    const res = await feedWhileSending(['--json']);
    expect(res.code).toBe(0);
    const rows = res.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.find((r) => r.type === 'incomplete')).toMatchObject({ symbol: 'BTCUSDT', openTime: M, trades: 1, open: '61837.63000000' });
    expect(rows.filter((r) => r.type === 'candle').map((r) => r.openTime)).toEqual([M + 60_000]);
    expect(rows.at(-1)).toMatchObject({ type: 'summary', candlesClosed: 1, candlesIncomplete: 1, trades: 3 });
  });
});

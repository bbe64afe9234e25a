import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeRest } from '../../../../test/helpers/fake-binance-rest.js';
import { startFakeBinance } from '../../../../test/helpers/fake-binance.js';
import { parseFixed } from '../../fixed.js';
import { Instruments, type ExchangeInfo } from '../instruments.js';
import type { DepthSnapshot, MarketSink } from '../source.js';
import { BinanceVenue } from './venue.js';

const info = JSON.parse(readFileSync(new URL('../../../../fixtures/binance/exchangeInfo.json', import.meta.url), 'utf8')) as ExchangeInfo;
const instruments = Instruments.fromExchangeInfo(info);
const BTC = instruments.get('BTCUSDT');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A venue on a fake Binance whose wall clock `t` only moves when the venue sleeps. */
async function setup() {
  let t = 1_000_000;
  const sleeps: number[] = [];
  const rest = createFakeRest({ now: () => t });
  rest.state.depth.set('BTCUSDT', { lastUpdateId: 100, bids: [['61000.00', '1.5']], asks: [['61000.01', '0.25']] });
  const server = await startFakeBinance({ rest: rest.handler });
  cleanups.push(() => server.close());
  const venue = new BinanceVenue({
    wsUrl: server.wsUrl,
    restUrl: server.restUrl,
    net: {},
    instruments,
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
  });
  cleanups.push(() => venue.stop());
  const snapshots: DepthSnapshot[] = [];
  const errors: string[] = [];
  const waiters: Array<() => void> = [];
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  const sink: MarketSink = {
    event: (ev) => {
      if (ev.kind === 'depthSnapshot') snapshots.push(ev.snapshot);
      wake();
    },
    error: (m) => {
      errors.push(m);
      wake();
    },
  };
  const until = async (pred: () => boolean): Promise<void> => {
    while (!pred()) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  await venue.start(['BTCUSDT'], ['depth'], sink);
  const depthFetches = () => rest.state.log.filter((e) => e.path === '/api/v3/depth');
  return { venue, rest, snapshots, errors, sleeps, until, depthFetches };
}

describe('BinanceVenue depth snapshots', () => {
  it('delivers a requested snapshot as an event; merges requests and spaces fetches a second apart', async () => {
    const s = await setup();
    s.venue.requestDepthSnapshot('btcusdt');
    s.venue.requestDepthSnapshot('BTCUSDT');
    s.venue.requestDepthSnapshot('BTCUSDT');
    await s.until(() => s.snapshots.length === 2);
    expect(s.snapshots[0]).toEqual({
      symbol: 'BTCUSDT',
      lastUpdateId: 100,
      bids: [{ price: parseFixed('61000.00', BTC.priceScale), qty: parseFixed('1.5', BTC.qtyScale) }],
      asks: [{ price: parseFixed('61000.01', BTC.priceScale), qty: parseFixed('0.25', BTC.qtyScale) }],
    });
    // Three requests: one fetch at once, the other two merged into one a second later.
    const fetches = s.depthFetches();
    expect(fetches.map((f) => f.query)).toEqual([
      { symbol: 'BTCUSDT', limit: '1000' },
      { symbol: 'BTCUSDT', limit: '1000' },
    ]);
    expect(fetches[1]!.time - fetches[0]!.time).toBe(1000);
    expect(s.sleeps).toEqual([1000]);
    expect(s.errors).toEqual([]);
  });

  it('reports a failed fetch and fetches again on the next request', async () => {
    const s = await setup();
    s.rest.state.forced.push({ status: 400, body: { code: -1121, msg: 'Invalid symbol.' }, path: '/api/v3/depth' });
    s.venue.requestDepthSnapshot('BTCUSDT');
    await s.until(() => s.errors.length === 1);
    expect(s.errors[0]).toMatch(/depth snapshot for BTCUSDT failed: .*Invalid symbol/);
    expect(s.snapshots).toEqual([]);
    s.venue.requestDepthSnapshot('BTCUSDT');
    await s.until(() => s.snapshots.length === 1);
    expect(s.snapshots[0]!.lastUpdateId).toBe(100);
    expect(s.depthFetches()).toHaveLength(2);
  });
});

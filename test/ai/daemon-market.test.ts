import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonClient, DaemonRequestError } from '../../src/client/daemon-client.js';
import { DaemonMarket } from '../../src/client/daemon-market.js';
import type { Instruments } from '../../src/engine/market/instruments.js';
import { primeBtcMarket, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

/**
 * DaemonMarket against an in-process daemon whose feed has delivered a trade and a depth book but
 * no 24h ticker yet: what it has is answered, what it lacks is left out, and a symbol its feed
 * does not carry fails with the daemon's reason.
 */

const T = Date.UTC(2024, 7, 8, 12, 0, 0);
let d: TestDaemon;
let market: DaemonMarket;
let instruments: Instruments;

beforeAll(async () => {
  d = await startTestDaemon();
  await primeBtcMarket(d, T);
  market = new DaemonMarket(new DaemonClient({ url: d.url }));
  instruments = await market.instruments();
}, 60_000);

afterAll(async () => {
  await d?.close();
});

describe('DaemonMarket', () => {
  it('answers the ticker from the last trade and leaves out the 24h figures the feed has not sent', async () => {
    const btc = instruments.get('BTCUSDT');
    expect(btc).toEqual(d.daemon.node.instruments.get('BTCUSDT'));
    const t = await market.ticker(btc);
    expect(t).toEqual({ symbol: 'BTCUSDT', lastPrice: 5_999_500, lastTime: T, source: `daemon ${d.url}` });
  });

  it('reads the book at the requested depth', async () => {
    const b = await market.book(instruments.get('BTCUSDT'), 1);
    expect(b).toEqual({ bids: [{ price: 5_999_000, qty: 50_000_000 }], asks: [{ price: 6_000_000, qty: 50_000_000 }], source: `daemon ${d.url} (its order book)` });
  });

  it("fails with the daemon's reason for a symbol its feed does not carry", async () => {
    const err = await market.ticker(instruments.get('ETHUSDT')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonRequestError);
    expect((err as DaemonRequestError).status).toBe(409);
    expect((err as Error).message).toMatch(/does not carry ETHUSDT/);
  });
});

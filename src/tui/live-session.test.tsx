import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeBinance, type FakeBinance } from '../../test/helpers/fake-binance.js';
import { createFakeRest } from '../../test/helpers/fake-binance-rest.js';
import { tempDir } from '../../test/helpers/cli.js';
import { openLiveSession, type LiveSession } from './live-session.js';
import { renderTui, until } from './testing/harness.js';
import { Header } from './panels/Header.js';
import { Watchlist } from './panels/Watchlist.js';

let fake: FakeBinance;
const tmp = tempDir('qtrade-tui-live-');
let session: LiveSession | undefined;

beforeAll(async () => {
  fake = await startFakeBinance({ rest: createFakeRest().handler });
});
afterAll(async () => {
  await session?.close();
  await fake.close();
  tmp.cleanup();
});

const config = () => ({
  dataDir: tmp.dir,
  storeUrl: `sqlite:${path.join(tmp.dir, 'store.db')}`,
  binance: { wsUrl: fake.wsUrl, restUrl: fake.restUrl, net: {} },
  symbols: ['BTCUSDT'],
  account: 'default',
});

describe('the live session (fake Binance)', () => {
  it('shows the live feed, its lag and a reconnect, and holds the paper account', async () => {
    session = await openLiveSession(config());
    const r = renderTui(session.source, <Header width={160} />);
    await until(r, (f) => f.includes('● binance'), 'feed open');
    await fake.waitForSubscriber('btcusdt@aggTrade', 10_000);
    const T = Date.now() - 250;
    fake.send('btcusdt@aggTrade', { e: 'aggTrade', E: T + 1, s: 'BTCUSDT', a: 100, p: '61837.63000000', q: '0.02000000', f: 100, l: 100, T, m: false, M: true });
    const w = renderTui(session.source, <Watchlist width={50} height={5} focused={false} symbol="BTCUSDT" onMove={() => {}} />);
    await until(w, (f) => f.includes('61,837.63'), 'the trade in the watchlist');
    await until(r, (f) => /lag \d+ms|lag \d+\.\ds/.test(f), 'lag from the exchange time');
    w.unmount();

    // The paper account is this process's while the TUI runs.
    await expect(openLiveSession(config())).rejects.toThrow(/in use by another process/);

    // Binance drops the connection: the header says so, the data stays.
    fake.dropAll();
    await until(r, (f) => /reconnecting \(attempt \d+, next in \d+s\)/.test(f), 'reconnect shown');
    expect(session.source.market('BTCUSDT')?.lastTrade?.price).toBe(6183763);
    await until(r, (f) => f.includes('● binance'), 'open again', 20_000);
    r.unmount();

    await session.close();
    session = undefined;
    // Closed: the account is free again.
    const again = await openLiveSession(config());
    await again.close();
  });

  it('opens with Binance unreachable: bundled symbols, a warning, and the reconnect countdown', async () => {
    const dir = tempDir('qtrade-tui-offline-');
    // Port 9 (discard) on loopback: nothing listens, every connection is refused at once.
    const offline = await openLiveSession({ ...config(), dataDir: dir.dir, storeUrl: `sqlite:${path.join(dir.dir, 'store.db')}`, binance: { wsUrl: 'ws://127.0.0.1:9', restUrl: 'http://127.0.0.1:9', net: {} } });
    try {
      expect(offline.warnings.join(' ')).toMatch(/exchangeInfo unreachable .*bundled symbols/);
      const r = renderTui(offline.source, <Header width={160} />);
      await until(r, (f) => /reconnecting \(attempt \d+, next in \d+s\)/.test(f), 'reconnecting');
      r.unmount();
    } finally {
      await offline.close();
      dir.cleanup();
    }
  });
});

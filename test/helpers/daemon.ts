import { Writable } from 'node:stream';
import { launchDaemon, type DaemonConfig, type RunningDaemon } from '../../src/server/launch.js';
import { tempDir } from './cli.js';
import { startFakeBinance, type FakeBinance } from './fake-binance.js';
import { createFakeRest, type FakeRestState } from './fake-binance-rest.js';

/**
 * A daemon in this process on a free loopback port, its feed on a fake Binance (real sockets), its
 * store a SQLite file in a temp data dir. `logs` collects its JSON log lines.
 */
export interface TestDaemon {
  daemon: RunningDaemon;
  url: string;
  fake: FakeBinance;
  rest: FakeRestState;
  dataDir: string;
  logs: string[];
  /** An aggTrade on the fake feed (BTCUSDT unless `symbol`), as Binance sends it. */
  trade(t: { id: number; time: number; price: string; qty?: string; symbol?: string; buyerMaker?: boolean }): void;
  close(): Promise<void>;
}

export async function startTestDaemon(opts: Partial<DaemonConfig> & { dataDir?: string } = {}): Promise<TestDaemon> {
  const rest = createFakeRest();
  const fake = await startFakeBinance({ rest: rest.handler });
  const tmp = opts.dataDir === undefined ? tempDir('qtrade-daemon-') : undefined;
  const dataDir = opts.dataDir ?? tmp!.dir;
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) logs.push(l);
      cb();
    },
  });
  let daemon: RunningDaemon;
  try {
    daemon = await launchDaemon({
      dataDir,
      storeUrl: `sqlite:${dataDir}/qtrade.db`,
      binance: { wsUrl: fake.wsUrl, restUrl: fake.restUrl, net: {} },
      symbols: ['btcusdt'],
      host: '127.0.0.1',
      port: 0,
      account: 'default',
      logLevel: 'info',
      logStream,
      ...opts,
    });
  } catch (err) {
    await fake.close();
    tmp?.cleanup();
    throw err;
  }
  // A follower (followUrl) takes its market data from Redis: nobody subscribes at the fake Binance.
  if (opts.followUrl === undefined) await fake.waitForSubscriber('btcusdt@aggTrade', 10_000).catch(() => undefined);
  return {
    daemon,
    url: daemon.url,
    fake,
    rest: rest.state,
    dataDir,
    logs,
    trade: (t) => {
      const sym = (t.symbol ?? 'BTCUSDT').toUpperCase();
      fake.send(`${sym.toLowerCase()}@aggTrade`, { e: 'aggTrade', E: t.time + 1, s: sym, a: t.id, p: t.price, q: t.qty ?? '0.01000000', f: t.id, l: t.id, T: t.time, m: t.buyerMaker ?? false, M: true });
    },
    close: async () => {
      await daemon.stop('test done');
      await fake.close();
      tmp?.cleanup();
    },
  };
}

/**
 * Gives the daemon's BTCUSDT a synced depth book (best bid 59,990.00, best ask 60,000.00, 0.5 each)
 * and a first trade at 59,995.00 at exchange time `at`, and waits until the node has both: what a
 * test needs before a paper market order can fill.
 */
export async function primeBtcMarket(d: TestDaemon, at: number): Promise<void> {
  d.rest.depth.set('BTCUSDT', { lastUpdateId: 100, bids: [['59990.00', '0.50000000']], asks: [['60000.00', '0.50000000']] });
  await d.fake.waitForSubscriber('btcusdt@depth@100ms', 10_000);
  d.fake.send('btcusdt@depth@100ms', { e: 'depthUpdate', E: at - 500, s: 'BTCUSDT', U: 101, u: 101, b: [], a: [] });
  d.trade({ id: 7, time: at, price: '59995.00000000' });
  const node = d.daemon.node;
  await d.fake.waitFor(() => node.kernel.orderBook('BTCUSDT')?.status === 'synced' && node.market.get('BTCUSDT')?.lastTrade?.id === 7, 'synced book and first trade', 10_000);
}

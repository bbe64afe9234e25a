import { describe, expect, it } from 'vitest';
import { acquireAccountLock } from '../src/engine/store/lock.js';
import { T, json, usePaperCli, type Row } from './helpers/paper-cli.js';

/** The paper account as real `qtrade` processes: reset, idempotent client ids, the writer lock, Binance unreachable, `feed --paper`. */

const cli = usePaperCli();

describe('paper account', () => {
  it('`paper reset` starts a fresh account with the given balances (10000 USDT by default)', async () => {
    expect((await cli.qt(['order', 'buy', 'BTCUSDT', '0.01'])).code).toBe(0);
    const r = await cli.qt(['paper', 'reset', '--balance', '5000USDT', '--balance', '0.5btc', '--json']);
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toEqual({
      balances: [
        { asset: 'BTC', free: '0.50000000', locked: '0.00000000' },
        { asset: 'USDT', free: '5000.00000000', locked: '0.00000000' },
      ],
    });
    expect(json<Row[]>((await cli.qt(['fills', '--json'])).stdout)).toEqual([]);
    expect(json<Row[]>((await cli.qt(['orders', '--json'])).stdout)).toEqual([]);
    // The new generation's ids start again at 1; selling the BTC it holds walks the bids.
    const sell = json((await cli.qt(['order', 'sell', 'BTCUSDT', '0.5', '--json'])).stdout);
    expect(sell).toMatchObject({ orderId: 1, status: 'FILLED', executedQty: '0.50000000', cummulativeQuoteQty: '29995.00000000' });
  });

  it('an order resubmitted with the same --client-id returns the existing order', async () => {
    const a = json((await cli.qt(['order', 'buy', 'BTCUSDT', '0.01', '--limit', '59000', '--client-id', 'grid-1', '--json'])).stdout);
    const b = await cli.qt(['order', 'buy', 'BTCUSDT', '0.01', '--limit', '59000', '--client-id', 'grid-1', '--json']);
    expect(b.code).toBe(0);
    expect(b.stderr).toContain('client order id grid-1 already names order 1: nothing new was placed');
    expect(json(b.stdout)).toEqual(a);
    expect(json<Row[]>((await cli.qt(['orders', '--json'])).stdout)).toHaveLength(1);
    const c = await cli.qt(['cancel', '--client-id', 'grid-1', '--json']);
    expect(json(c.stdout)).toMatchObject({ orderId: 1, status: 'CANCELED' });
  });

  it('refuses with exit 2 while another process holds the account', async () => {
    const lock = await acquireAccountLock({ dataDir: cli.dir, account: 'default' });
    try {
      const r = await cli.qt(['order', 'buy', 'BTCUSDT', '0.01']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`paper account "default" is already in use by qtrade process ${process.pid}`);
      expect(r.stderr).toContain(`kill ${process.pid}`);
      // Reading the account does not need the lock.
      expect((await cli.qt(['balance'])).code).toBe(0);
    } finally {
      lock.release();
    }
  });

  it('exits 4 when Binance is unreachable: paper trading needs the live market', async () => {
    const r = await cli.qt(['order', 'buy', 'BTCUSDT', '0.01'], { env: { QTRADE_BINANCE_REST_URL: 'http://127.0.0.1:1' } });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('paper trading needs the live market, and Binance at http://127.0.0.1:1 did not answer');
    // With exchangeInfo cached, the depth and trade fetches are what fails.
    expect((await cli.qt(['order', 'buy', 'BTCUSDT', '0.001'])).code).toBe(0);
    const cached = await cli.qt(['order', 'buy', 'BTCUSDT', '0.001'], { env: { QTRADE_BINANCE_REST_URL: 'http://127.0.0.1:1' } });
    expect(cached.code).toBe(4);
    expect(cached.stderr).toContain('paper trading needs the live market');
    // Reading works offline; positions say their mark is unknown.
    const pos = await cli.qt(['positions', '--json'], { env: { QTRADE_BINANCE_REST_URL: 'http://127.0.0.1:1' } });
    expect(pos.code).toBe(0);
    expect(json<Row[]>(pos.stdout)[0]).toMatchObject({ symbol: 'BTCUSDT', markPrice: null, unrealizedPnl: null });
    expect(pos.stderr).toContain('warning: no last trade from Binance');
  });
});

describe('qtrade feed --paper', () => {
  it('fills a resting limit order when a trade prints through it, and holds the account meanwhile', { timeout: 120_000 }, async () => {
    expect((await cli.qt(['order', 'buy', 'BTCUSDT', '0.01', '--limit', '59000'])).code).toBe(0);
    const run = cli.qt(['feed', '--paper', '--symbols', 'btcusdt', '--channels', 'aggTrade', '--duration', '12s', '--json']);
    await cli.fake.waitForSubscriber('btcusdt@aggTrade', 30_000);
    const agg = (a: number, p: string, q: string) => ({ e: 'aggTrade', E: T + 60_000 + a, s: 'BTCUSDT', a, p, q, f: a, l: a, T: T + 60_000 + a, m: true, M: true });
    cli.fake.send('btcusdt@aggTrade', agg(8, '59500.00000000', '0.10000000')); // above the limit: no fill
    cli.fake.send('btcusdt@aggTrade', agg(9, '58990.00000000', '0.00400000')); // through it: 0.004 fills
    cli.fake.send('btcusdt@aggTrade', agg(10, '58980.00000000', '1.00000000')); // the rest
    // The feed holds the account for its whole run (a long one: a loaded machine starts Node slowly).
    const busy = await cli.qt(['order', 'buy', 'BTCUSDT', '0.001']);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toMatch(/already in use by qtrade process \d+/);
    const res = await run;
    expect(res.code).toBe(0);
    const fillsSeen = res.stdout
      .trim()
      .split('\n')
      .map((l) => json(l))
      .filter((e) => e.type === 'fill');
    expect(fillsSeen.map((f) => [f.price, f.qty, f.isMaker])).toEqual([
      ['59000.00000000', '0.00400000', true],
      ['59000.00000000', '0.00600000', true],
    ]);
    const orders = json<Row[]>((await cli.qt(['orders', '--json'])).stdout);
    expect(orders[0]).toMatchObject({ orderId: 1, status: 'FILLED', executedQty: '0.01000000', cummulativeQuoteQty: '590.00000000' });
    expect(json<{ balances: Row[] }>((await cli.qt(['balance', '--json'])).stdout).balances).toEqual([
      { asset: 'BTC', free: '0.00999000', locked: '0.00000000' },
      { asset: 'USDT', free: '9410.00000000', locked: '0.00000000' },
    ]);
  });
});

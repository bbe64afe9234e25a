import { afterEach, describe, expect, it } from 'vitest';
import { startConnectProxy } from '../../../../test/helpers/connect-proxy.js';
import { API_KEY, instruments, startLiveVenue, type LiveVenue } from '../../../../test/helpers/live-venue.js';
import type { FeedState } from '../../bus.js';
import { parseAmount } from '../../orders/amounts.js';
import type { Balance, Order } from '../../orders/types.js';
import { Secret } from './credentials.js';
import type { ExecutionReport } from './order-parse.js';
import { BinanceApiError } from './signing.js';
import { BinanceUserStream, type UserStreamMode } from './user-stream.js';

let venue: LiveVenue | undefined;
let stream: BinanceUserStream | undefined;
afterEach(async () => {
  await stream?.stop();
  await venue?.close();
  stream = venue = undefined;
});

interface Seen {
  reports: ExecutionReport[];
  balances: Array<{ time: number; balances: Balance[] }>;
  resynced: Array<{ openOrders: Order[]; balances: Balance[] }>;
  states: FeedState[];
  errors: Error[];
}

async function setup(mode: UserStreamMode, opts: { retireListenKeys?: boolean; secret?: string; proxy?: string } = {}) {
  venue = await startLiveVenue({ retireListenKeys: opts.retireListenKeys });
  const seen: Seen = { reports: [], balances: [], resynced: [], states: [], errors: [] };
  const rest = venue.signed(opts.secret ? { credentials: { apiKey: API_KEY, apiSecret: new Secret(opts.secret) } } : {});
  const router = venue.router();
  stream = new BinanceUserStream({
    rest,
    router,
    instruments,
    net: opts.proxy ? { proxy: opts.proxy } : {},
    mode,
    wsApiUrl: `${venue.fake.wsUrl}/ws-api/v3`,
    streamUrl: venue.fake.wsUrl,
    backoff: { initialMs: 10, maxMs: 50 },
    handlers: {
      order: (r) => seen.reports.push(r),
      balances: (b) => seen.balances.push(b),
      resynced: (s) => seen.resynced.push(s),
      state: (s) => seen.states.push(s),
      error: (e) => seen.errors.push(e),
    },
  });
  return { seen, router, venue, stream };
}

const qty = (s: string) => Math.round(Number(s) * 1e8);

describe.each(['ws-api', 'listen-key'] as const)('user data stream (%s)', (mode) => {
  it('delivers execution reports and balance updates as Orders and Fills', async () => {
    const { seen, router, venue: v, stream: s } = await setup(mode);
    await s.start();
    expect(s.state).toBe('open');
    const placed = await router.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', qty: qty('0.01'), price: 5_000_000, clientOrderId: 'uds-1' });
    v.account.fill(placed.order.orderId, '0.004');
    await router.cancel('BTCUSDT', { clientOrderId: 'uds-1' });
    await v.fake.waitFor(() => seen.reports.length >= 3, 'three execution reports');

    expect(seen.reports.map((r) => [r.executionType, r.order.status])).toEqual([
      ['NEW', 'NEW'],
      ['TRADE', 'PARTIALLY_FILLED'],
      ['CANCELED', 'CANCELED'],
    ]);
    const [, trade, cancel] = seen.reports;
    expect(trade!.fill).toMatchObject({ orderId: placed.order.orderId, clientOrderId: 'uds-1', price: 5_000_000, qty: 400_000, quoteQty: parseAmount('200'), isMaker: true });
    expect(trade!.order).toMatchObject({ executedQty: 400_000, cumQuote: parseAmount('200'), locked: parseAmount('300') });
    // the cancel's event carries the cancel request's id in `c`: the order keeps its own
    expect(cancel!.order.clientOrderId).toBe('uds-1');
    expect(cancel!.order.locked).toBe(0n);
    await v.fake.waitFor(() => seen.balances.length >= 3, 'balance updates');
    const last = seen.balances.at(-1)!.balances;
    expect(last).toEqual([{ asset: 'USDT', free: parseAmount('9800'), locked: 0n }]);
    expect(seen.errors).toEqual([]);
  });

  it('reconnects after a drop and re-syncs open orders over REST', async () => {
    const { seen, router, venue: v, stream: s } = await setup(mode);
    await s.start();
    await router.submit({ symbol: 'BTCUSDT', side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', qty: qty('0.5'), price: 7_000_000, clientOrderId: 'rest-1' });
    await v.fake.waitFor(() => seen.reports.length === 1, 'NEW report');
    v.fake.dropAll();
    await v.fake.waitFor(() => seen.resynced.length === 1, 'a re-sync after reconnecting');
    expect(seen.states.map((x) => x.state)).toEqual(['connecting', 'open', 'reconnecting', 'connecting', 'open']);
    expect(seen.resynced[0]!.openOrders.map((o) => o.clientOrderId)).toEqual(['rest-1']);
    expect(seen.resynced[0]!.balances).toContainEqual({ asset: 'BTC', free: parseAmount('0.5'), locked: parseAmount('0.5') });
    // events flow on the new connection
    const m = await router.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', qty: qty('0.01') });
    await v.fake.waitFor(() => seen.reports.some((r) => r.order.orderId === m.order.orderId && r.executionType === 'TRADE'), 'TRADE after reconnect');
  });

  it('refuses to start with a wrong secret', async () => {
    const { stream: s } = await setup(mode, { secret: 'w'.repeat(64) });
    if (mode === 'listen-key') {
      // USER_STREAM endpoints take only the API key: the listenKey flow cannot notice a wrong secret.
      await s.start();
      return;
    }
    const err = (await s.start().catch((e: unknown) => e)) as BinanceApiError;
    expect(err).toBeInstanceOf(BinanceApiError);
    expect(err.binanceCode).toBe(-1022);
    expect(s.state).toBe('closed');
  });
});

describe('user data stream specifics', () => {
  it('ws-api: signs the subscription with apiKey, recvWindow and timestamp', async () => {
    const { stream: s, venue: v } = await setup('ws-api');
    await s.start();
    const conn = v.fake.history.find((c) => c.wsApi)!;
    const sub = conn.control.find((m) => m.method === 'userDataStream.subscribe.signature')!;
    expect(Object.keys(sub.params as object).sort()).toEqual(['apiKey', 'recvWindow', 'signature', 'timestamp']);
    expect(s.subscription).toBe(0);
  });

  it('listen-key: keeps the key alive and deletes it on stop', async () => {
    venue = await startLiveVenue();
    const errors: Error[] = [];
    stream = new BinanceUserStream({
      rest: venue.signed(),
      router: venue.router(),
      instruments,
      net: {},
      mode: 'listen-key',
      streamUrl: venue.fake.wsUrl,
      keepaliveMs: 20,
      handlers: { error: (e) => errors.push(e) },
    });
    await stream.start();
    const v = venue;
    await v.fake.waitFor(() => v.state.log.filter((e) => e.method === 'PUT' && e.path === '/api/v3/userDataStream' && e.status === 200).length >= 2, 'keepalives');
    expect(v.account.listenKeys.size).toBe(1);
    await stream.stop();
    expect(v.account.listenKeys.size).toBe(0);
    expect(errors).toEqual([]);
  });

  it('listen-key: a venue that retired listen keys (410) fails start with a clear error', async () => {
    const { stream: s } = await setup('listen-key', { retireListenKeys: true });
    const err = (await s.start().catch((e: unknown) => e)) as Error & { status?: number; hint?: string };
    expect(err.status).toBe(410);
    expect(err.hint).toMatch(/retired/);
  });

  it('ws-api: connects through the CONNECT proxy', async () => {
    const proxy = await startConnectProxy();
    try {
      const { stream: s, venue: v } = await setup('ws-api', { proxy: proxy.url });
      await s.start();
      expect(proxy.tunnels.some((t) => t.port === v.fake.port)).toBe(true);
    } finally {
      await stream?.stop();
      await proxy.close();
    }
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SimClock } from '../clock.js';
import { bundledMarketInfo } from '../market/market-info.js';
import type { Channel, MarketSink, MarketVenue } from '../market/source.js';
import { TradingNode } from '../node.js';
import { parseAmount } from '../orders/amounts.js';
import { SqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/types.js';
import { LIVE_STRATEGIES_STATE_KEY, StrategyManager, type LiveStrategy } from './manager.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qtrade-manager-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const market = bundledMarketInfo();
const T0 = Date.UTC(2024, 7, 8, 12, 0, 0);

/** A venue the test drives by hand: trades and a deep book, delivered through the kernel as live. */
class HandVenue implements MarketVenue {
  readonly name = 'hand';
  private sink: MarketSink | undefined;
  private nextId = 1;
  async start(_symbols: string[], _channels: Channel[], sink: MarketSink): Promise<void> {
    this.sink = sink;
    sink.state?.({ state: 'open', attempt: 0 });
  }
  async subscribe(): Promise<void> {}
  async unsubscribe(): Promise<void> {}
  async aggTradesFrom(): Promise<never[]> {
    return [];
  }
  requestDepthSnapshot(): void {}
  async stop(): Promise<void> {}
  /** A book 0.01 USDT either side of 60000.00 with 50 BTC a level. */
  book(updateId: number): void {
    const lv = (p: number) => ({ price: p, qty: 5_000_000 });
    this.sink!.event({ kind: 'depthSnapshot', snapshot: { symbol: 'BTCUSDT', lastUpdateId: updateId, bids: [lv(5_999_999), lv(5_999_990)], asks: [lv(6_000_001), lv(6_000_010)] } }, 0);
  }
  trade(time: number, price = 6_000_000): void {
    const id = this.nextId++;
    this.sink!.event({ kind: 'trade', trade: { symbol: 'BTCUSDT', id, price, qty: 1000, firstId: id, lastId: id, time, buyerMaker: false } }, time);
  }
  /** One trade at the start of each of `n` minutes after `from` (each closes the minute before it). */
  minutes(from: number, n: number): void {
    for (let i = 0; i < n; i++) this.trade(T0 + (from + i) * 60_000 + 1_000);
  }
}

async function openNode(store: Store, venue: HandVenue): Promise<TradingNode> {
  return TradingNode.open({
    store,
    instruments: market.instruments,
    exchangeSymbols: market.symbols,
    venue,
    clock: new SimClock(),
    symbols: [],
  });
}

async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const one = (m: StrategyManager, id: string): LiveStrategy => m.get(id)!;

describe('StrategyManager', () => {
  it('runs a built-in on the node, accounts its own fills exactly, and continues after a restart', async () => {
    const store = new SqliteStore(path.join(dir, 'a.db'));
    await store.migrate();
    const venue = new HandVenue();
    const node = await openNode(store, venue);
    const statuses: string[] = [];
    const mgr = new StrategyManager({ node, onStatus: (e) => statuses.push(`${e.id}:${e.status}`) });
    await mgr.restore();
    const started = await mgr.start({ strategy: 'dca', symbol: 'btcusdt', params: { every: '2', amount: '100' }, id: 'dca-1' });
    expect(started).toMatchObject({ id: 'dca-1', strategy: 'dca', source: 'builtin', symbol: 'BTCUSDT', interval: '1m', params: { every: 2, amount: 100 }, status: 'running', orders: 0, fills: 0 });
    expect(node.symbols()).toEqual(['BTCUSDT']);
    await node.start();
    venue.book(1);
    // Minute 0 is incomplete (the feed started in it); minutes 1..4 close as the next minute's trade arrives.
    venue.minutes(0, 6);
    await until(() => one(mgr, 'dca-1').fills === 2, 'two dca fills');
    await node.trading.service.settled();

    const live = one(mgr, 'dca-1');
    // Candles 1 and 3 of the strategy bought (every=2), each at the next minute's first trade.
    expect(live.state).toEqual({ n: 4 });
    expect(live.nextOrder).toBe(3);
    expect(live.orders).toBe(2);
    const fills = node.trading.fills();
    expect(fills.map((f) => f.clientOrderId)).toEqual(['dca-1_1', 'dca-1_2']);
    // Exact: the strategy's position is the sum of its fills' quantities net of base-asset fees.
    const bought = fills.reduce((a, f) => a + BigInt(f.qty) * 10n ** 8n - (f.commissionAsset === 'BTC' ? f.commission : 0n), 0n);
    expect(live.position.qty).toBe(bought);
    expect(live.position.qty).toBe(node.trading.positions()[0]!.qty);
    expect(live.position.realizedPnl).toBe(0n);
    expect(live.position.mark).toBe(6_000_000);

    // A manual order on the same account is not the strategy's.
    await node.placeOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quoteOrderQty: parseAmount('50'), clientOrderId: 'manual-1' });
    expect(one(mgr, 'dca-1').fills).toBe(2);

    await mgr.close();
    await node.stop();
    const stored = JSON.parse((await store.getState(LIVE_STRATEGIES_STATE_KEY))!) as { strategies: Array<Record<string, unknown>> };
    expect(stored.strategies).toEqual([expect.objectContaining({ id: 'dca-1', spec: 'dca', state: { n: 4 }, nextOrder: 3, status: 'running' })]);

    // The restarted daemon: a new node and manager on the same store.
    const venue2 = new HandVenue();
    const node2 = await openNode(store, venue2);
    const mgr2 = new StrategyManager({ node: node2 });
    await mgr2.restore();
    const back = one(mgr2, 'dca-1');
    expect(back).toMatchObject({ status: 'running', state: { n: 4 }, nextOrder: 3, orders: 2, fills: 2, params: { every: 2, amount: 100 } });
    expect(back.position.qty).toBe(bought);
    expect(node2.symbols()).toEqual(['BTCUSDT']);
    await node2.start();
    venue2.book(2);
    venue2.minutes(10, 3); // minute 10 is incomplete, 11 closes on minute 12's trade: n = 5, a buy numbered 3
    await until(() => one(mgr2, 'dca-1').fills === 3, 'the third fill');
    expect(node2.trading.fills().map((f) => f.clientOrderId)).toEqual(['dca-1_1', 'dca-1_2', 'manual-1', 'dca-1_3']);
    expect(one(mgr2, 'dca-1').state).toEqual({ n: 5 });

    // Stop: gone from the store, still listed as stopped; its id can be used again, numbering after the old orders.
    const stopped = await mgr2.stop('dca-1');
    expect(stopped.status).toBe('stopped');
    expect(JSON.parse((await store.getState(LIVE_STRATEGIES_STATE_KEY))!)).toEqual({ version: 1, strategies: [] });
    const again = await mgr2.start({ strategy: 'dca', symbol: 'BTCUSDT', id: 'dca-1' });
    expect(again).toMatchObject({ status: 'running', state: {}, nextOrder: 4 });
    await expect(mgr2.start({ strategy: 'dca', symbol: 'BTCUSDT', id: 'dca-1' })).rejects.toThrow(/exists already/);
    await mgr2.close();
    await node2.stop();
    await store.close();
    expect(statuses).toEqual([]);
  });

  it('refuses unknown strategies, params and symbols; a throwing strategy is paused and comes back paused', async () => {
    const store = new SqliteStore(path.join(dir, 'b.db'));
    await store.migrate();
    const venue = new HandVenue();
    const node = await openNode(store, venue);
    const mgr = new StrategyManager({ node, cwd: dir });
    await expect(mgr.start({ strategy: 'sma-crosss', symbol: 'BTCUSDT' })).rejects.toThrow(/unknown strategy "sma-crosss"/);
    await expect(mgr.start({ strategy: 'sma-cross', symbol: 'BTCUSDT', params: { fats: 3 } })).rejects.toThrow(/has no param "fats"/);
    await expect(mgr.start({ strategy: 'sma-cross', symbol: 'BTCUSDT', params: { fast: 40, slow: 30 } })).rejects.toThrow(/fast \(40\) must be below slow/);
    await expect(mgr.start({ strategy: 'dca', symbol: 'NOPEUSDT' })).rejects.toThrow(/unknown symbol/);
    await expect(mgr.start({ strategy: 'dca', symbol: 'BTCUSDT', interval: '7m' })).rejects.toThrow(/unknown interval/);
    expect(mgr.list()).toEqual([]);

    const file = path.join(dir, 'thrower.mjs');
    fs.writeFileSync(file, `export default { name: 'thrower', params: {}, onCandle(ctx) { ctx.state.n = (ctx.state.n ?? 0) + 1; if (ctx.state.n === 2) throw new Error('boom at 2'); } };\n`);
    const paused: string[] = [];
    const mgr2 = new StrategyManager({ node, cwd: dir, onStatus: (e) => paused.push(`${e.id} ${e.status} ${e.error?.message}`) });
    await mgr.close();
    await mgr2.start({ strategy: './thrower.mjs', symbol: 'BTCUSDT' });
    await mgr2.start({ strategy: 'dca', symbol: 'BTCUSDT', params: { every: 100 } });
    await node.start();
    venue.book(1);
    venue.minutes(0, 5);
    await until(() => one(mgr2, 'dca-btcusdt').state.n === 3 && one(mgr2, 'dca-btcusdt').fills === 1, 'dca to see minutes 1..3 close and buy once');
    const t = one(mgr2, 'thrower-btcusdt');
    expect(t).toMatchObject({ status: 'paused', source: file, state: { n: 2 }, error: { message: 'boom at 2', callback: 'onCandle', time: T0 + 3 * 60_000 + 1_000 } });
    // The other strategy kept trading.
    expect(one(mgr2, 'dca-btcusdt').status).toBe('running');
    expect(t.logs.at(-1)).toMatchObject({ level: 'error', msg: 'paused in onCandle: boom at 2' });
    expect(paused).toEqual(['thrower-btcusdt paused boom at 2']);
    await mgr2.close();
    await node.stop();

    const node2 = await openNode(store, new HandVenue());
    const mgr3 = new StrategyManager({ node: node2, cwd: dir });
    await mgr3.restore();
    expect(mgr3.list().map((s) => [s.id, s.status, s.error?.message])).toEqual([
      ['thrower-btcusdt', 'paused', 'boom at 2'],
      ['dca-btcusdt', 'running', undefined],
    ]);
    // Resuming a restored paused strategy loads it again with its state.
    const resumed = await mgr3.resume('thrower-btcusdt');
    expect(resumed).toMatchObject({ status: 'running', state: { n: 2 } });
    expect(resumed.error).toBeUndefined();
    await mgr3.close();
    await node2.stop();
    await store.close();
  });
});

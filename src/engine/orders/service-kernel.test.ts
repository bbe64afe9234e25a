import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Bus } from '../bus.js';
import { SimClock } from '../clock.js';
import { createKernel } from '../kernel.js';
import { ReplayVenue } from '../market/replay/replay-venue.js';
import type { Trade } from '../market/types.js';
import { SqliteStore } from '../store/sqlite.js';
import { parseAmount } from './amounts.js';
import { bundledMarket } from './bundled-filters.js';
import { decodeEvent } from './events.js';
import { PaperEngine } from './paper-engine.js';
import { OrderService } from './service.js';
import type { Fill, Order } from './types.js';

const DEMO = fileURLToPath(new URL('../../../fixtures/recordings/binance-spot-2024-08-08.jsonl.gz', import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qtrade-kernel-orders-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('kernel → paper orders on the real 2024-08-08 recording', () => {
  it('fills from sequenced trades and the synced book at exchange time, publishing only what is durable', async () => {
    const { instruments, filters } = bundledMarket();
    const store = new SqliteStore(path.join(dir, 'q.db'));
    await store.migrate();
    const bus = new Bus();
    const svc = await OrderService.open({ store, bus, instruments, filters, initialBalances: { USDT: parseAmount('100000'), BTC: parseAmount('1') } });
    const venue = new ReplayVenue({ path: DEMO, instruments, speed: 'max' });
    const clock = new SimClock();
    const kernel = createKernel({ clock, venue, instruments, bus, orders: svc });

    const tradeTimes = new Set<number>();
    const fills: Fill[] = [];
    const updates: Order[] = [];
    const calls: Array<Promise<unknown>> = [];
    let first: Trade | undefined;
    let marketAt: { ask: number; now: number } | undefined;
    bus.subscribe('trade', (t) => {
      if (t.symbol !== 'BTCUSDT') return;
      tradeTimes.add(t.time);
      if (first) return;
      first = t;
      // 20.00 USDT either side of the first print: the tape moves through both within minutes.
      calls.push(svc.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: t.price - 2000, qty: 100_000, clientOrderId: 'bid' }, t.time));
      calls.push(svc.submit({ symbol: 'BTCUSDT', side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', price: t.price + 2000, qty: 100_000, clientOrderId: 'ask' }, t.time));
    });
    bus.subscribe('book.update', ({ symbol }) => {
      if (symbol !== 'BTCUSDT' || marketAt || !first) return;
      const top = kernel.orderBook('BTCUSDT')!.top()!;
      marketAt = { ask: top.ask.price, now: clock.now() };
      calls.push(svc.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', qty: 100_000, clientOrderId: 'taker' }, clock.now()));
    });
    bus.subscribe('fill', (f) => fills.push(f));
    bus.subscribe('order.update', (o) => updates.push(o));

    await kernel.start(['BTCUSDT', 'ETHUSDT'], ['trade', 'bookTicker', 'depth']);
    await venue.done;
    await kernel.stop();
    await Promise.all(calls);

    expect(kernel.stats().orderErrors).toBe(0);
    const byClient = (id: string) => fills.filter((f) => f.clientOrderId === id);
    // The market order walked the synced local book: its first fill is at the best ask it saw.
    expect(byClient('taker')[0]).toMatchObject({ price: marketAt!.ask, isMaker: false, time: marketAt!.now });
    // Both resting orders filled as makers, at their limit, at the time of a real print.
    for (const id of ['bid', 'ask']) {
      const fs_ = byClient(id);
      expect(fs_.length, id).toBeGreaterThan(0);
      for (const f of fs_) {
        expect(f.isMaker).toBe(true);
        expect(tradeTimes.has(f.time)).toBe(true);
      }
      expect(svc.order({ clientOrderId: id })?.status).toBe('FILLED');
    }
    expect(updates.filter((o) => o.status === 'FILLED').map((o) => o.clientOrderId).sort()).toEqual(['ask', 'bid', 'taker']);

    // Every published fill is in the log, and the log alone rebuilds the state.
    const log = (await store.readEvents(svc.stream)).map((r) => decodeEvent(r.body));
    expect(log.filter((e) => e.kind === 'fill').map((e) => (e.kind === 'fill' ? e.fill.tradeId : 0))).toEqual(fills.map((f) => f.tradeId));
    const pure = PaperEngine.fromEvents({ instruments: instruments.all(), initialBalances: { ...svc.initialBalances } }, log);
    expect(pure.snapshot()).toEqual(svc.snapshot());
    await store.close();
  });
});

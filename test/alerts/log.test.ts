import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Bus } from '../../src/engine/bus.js';
import { SimClock } from '../../src/engine/clock.js';
import { AlertLog } from '../../src/engine/alerts/log.js';
import { AlertService } from '../../src/engine/alerts/service.js';
import type { AlertFiring, AlertSpec } from '../../src/engine/alerts/types.js';
import { bundledInstruments } from '../../src/engine/market/bundled-instruments.js';
import { openStore } from '../../src/engine/store/open.js';
import type { Store } from '../../src/engine/store/types.js';
import { tempDir } from '../helpers/cli.js';
import { PG_URL, dropSchemas, requirePostgres, uniqueSchema } from '../helpers/pg.js';

const tmp = tempDir('qtrade-alert-log-');
const schemas: string[] = [];
afterAll(async () => {
  tmp.cleanup();
  if (schemas.length) await dropSchemas(schemas);
});

const spec = (condition: string): AlertSpec => ({ symbol: 'BTCUSDT', condition, mode: { kind: 'until-cancelled' }, notify: ['tui', 'webhook'] });
const firing = (alertId: string, n: number, time: number): AlertFiring => ({ id: `${alertId}.${n}`, alertId, n, symbol: 'BTCUSDT', condition: 'price > 1', time, message: 'm', notify: ['webhook'] });

const stores: Array<[string, () => Promise<string>]> = [
  ['sqlite', async () => `sqlite:${path.join(tmp.dir, `log-${Math.random().toString(36).slice(2)}.db`)}`],
  [
    'postgres',
    async () => {
      await requirePostgres();
      const s = uniqueSchema('qtrade_alerts');
      schemas.push(s);
      return `${PG_URL}?schema=${s}`;
    },
  ],
];

describe.each(stores)('AlertLog on %s', (_kind, url) => {
  it('keeps alerts, removals and firings across reopening; two writers interleave without losing an event', async () => {
    const u = await url();
    const s1: Store = await openStore(u);
    const s2: Store = await openStore(u);
    try {
      const a = await AlertLog.open(s1);
      const b = await AlertLog.open(s2);
      const r1 = await a.add(spec('price > 1'), 1000);
      expect(r1.alert).toEqual({ id: 'a1', createdAt: 1000, ...spec('price > 1') });
      // b has not seen a1: its append conflicts, it reads a's event and goes after it.
      const seen: string[] = [];
      b.onForeign = (ev) => seen.push(ev.kind);
      const r2 = await b.add(spec('price < 1'), 1001);
      expect(r2.alert.id).toBe('a2');
      expect(seen).toEqual(['added']);
      // both write at once, many times
      await Promise.all([
        ...Array.from({ length: 10 }, (_, i) => a.recordFirings([firing('a1', i + 1, 2000 + i)])),
        ...Array.from({ length: 10 }, (_, i) => b.recordFirings([firing('a2', i + 1, 3000 + i)])),
      ]);
      expect(await a.remove('a2', 4000)).toBeDefined();
      expect(await b.remove('a2', 4001)).toBeUndefined(); // already gone once b has read a's removal

      const c = await AlertLog.open(s1);
      expect(c.list().map((r) => [r.alert.id, r.fired, r.lastFiredAt])).toEqual([['a1', 10, 2009]]);
      expect(c.lastSeq).toBe(2 + 20 + 1);
      const hist = await c.history({ limit: 100 });
      expect(hist).toHaveLength(20);
      expect(hist.filter((f) => f.alertId === 'a1').map((f) => f.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect((await c.history({ alertId: 'a2', limit: 3 })).map((f) => f.id)).toEqual(['a2.8', 'a2.9', 'a2.10']);
      const from = await c.firingsFrom(1);
      expect(from.firings).toHaveLength(20);
      expect(from.done).toBe(true);
    } finally {
      await s1.close();
      await s2.close();
    }
  });
});

describe('AlertService with a store', () => {
  it('persists firings, and a replay-mode service evaluates stored alerts without recording anything', async () => {
    const u = `sqlite:${path.join(tmp.dir, 'svc.db')}`;
    const store = await openStore(u);
    try {
      const live = await AlertService.open({ bus: new Bus(), clock: new SimClock(), instruments: bundledInstruments(), store, persist: true });
      await live.add({ symbol: 'btcusdt', condition: 'price  >  100', once: true }, 1);
      const durable: string[] = [];
      const bus = new Bus();
      const svc = await AlertService.open({ bus, clock: new SimClock(), instruments: bundledInstruments(), store, persist: true, onDurable: (fs) => durable.push(...fs.map((f) => `${f.firing.id}#${f.seq}`)) });
      bus.publish('trade', { symbol: 'BTCUSDT', id: 1, price: 100_01, qty: 1, firstId: 1, lastId: 1, time: 5000, buyerMaker: false });
      await svc.settled();
      expect(durable).toEqual(['a1.1#2']);
      expect(svc.list(6000).map((v) => [v.record.alert.condition, v.status, v.record.fired])).toEqual([['price > 100', 'done', 1]]);

      // A replay of the same alert (once, already done) does not run it; an until-cancelled one runs but records nothing.
      await live.sync();
      await live.add({ symbol: 'BTCUSDT', condition: 'price > 100', untilCancelled: true }, 2);
      const rbus = new Bus();
      const replay = await AlertService.open({ bus: rbus, clock: new SimClock(), instruments: bundledInstruments(), store, persist: false });
      const seen: string[] = [];
      rbus.subscribe('alert.fired', (f) => seen.push(f.id));
      rbus.publish('trade', { symbol: 'BTCUSDT', id: 1, price: 100_01, qty: 1, firstId: 1, lastId: 1, time: 5000, buyerMaker: false });
      await replay.settled();
      expect(seen).toEqual(['a3.1']);
      expect((await AlertLog.open(store)).lastSeq).toBe(3);
    } finally {
      await store.close();
    }
  });
});

describe('AlertService warm-up', () => {
  it('fills candle indicators from the store without firing, so the first live close can fire', async () => {
    const store = await openStore(`sqlite:${path.join(tmp.dir, 'warm.db')}`);
    try {
      const T = Date.UTC(2024, 7, 8, 10, 0);
      const candle = (i: number, close: number) => ({
        symbol: 'BTCUSDT',
        interval: '1m' as const,
        priceScale: 2,
        qtyScale: 8,
        openTime: T + i * 60_000,
        closeTime: T + i * 60_000 + 59_999,
        open: close,
        high: close,
        low: close,
        close,
        volume: 1n,
        quoteVolume: 1n,
        trades: 1,
        takerBuyVolume: 0n,
        takerBuyQuoteVolume: 0n,
        firstTradeId: i,
        lastTradeId: i,
        closed: true,
      });
      // Closes 100..109: sma(3) of the last three is 108 > 105 already in the history.
      await store.upsertCandles(Array.from({ length: 10 }, (_, i) => candle(i, (100 + i) * 100)));
      const live = await AlertService.open({ bus: new Bus(), clock: new SimClock(), instruments: bundledInstruments(), store, persist: true });
      await live.add({ symbol: 'BTCUSDT', condition: 'sma(3, 1m) > 105', untilCancelled: true }, 0);
      await live.add({ symbol: 'BTCUSDT', condition: 'sma(3, 1m) crosses below 105', untilCancelled: true }, 0);
      for (const warmup of [false, true]) {
        const bus = new Bus();
        const svc = await AlertService.open({ bus, clock: new SimClock(), instruments: bundledInstruments(), store, persist: false, warmup });
        const fired: string[] = [];
        bus.subscribe('alert.fired', (f) => fired.push(`${f.alertId}@${f.time}`));
        expect(svc.engine.warmupMinutes('BTCUSDT')).toBe(5);
        bus.publish('candle.closed', candle(10, 110_00));
        bus.publish('candle.closed', candle(11, 90_00)); // sma 103.33: crosses below 105
        // Warmed: both fire on the first live closes; cold: sma(3) is not ready until the third close.
        expect([warmup, fired]).toEqual(warmup ? [true, [`a1@${T + 10 * 60_000 + 59_999}`, `a2@${T + 11 * 60_000 + 59_999}`]] : [false, []]);
      }
    } finally {
      await store.close();
    }
  });
});

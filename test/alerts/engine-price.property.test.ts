import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bus } from '../../src/engine/bus.js';
import { SimClock } from '../../src/engine/clock.js';
import { AlertService } from '../../src/engine/alerts/service.js';
import type { AlertFiring } from '../../src/engine/alerts/types.js';
import { bundledInstruments } from '../../src/engine/market/bundled-instruments.js';

const CMPS = ['>', '>=', '<', '<=', 'crosses above', 'crosses below'] as const;
type Cmp = (typeof CMPS)[number];

interface AlertCase {
  cmp: Cmp;
  /** Level in cents (BTCUSDT raws). */
  level: number;
  mode: 'once' | 'until' | 'every';
  cooldown: number;
  addAt: number;
  removeAt: number | undefined;
  expireAfter: number | undefined;
}

/** The definition, evaluated naively on every trade: fire on false → true, a level comparison also when first seen true. */
function reference(prices: number[], alerts: AlertCase[]): string[] {
  const out: string[] = [];
  const st = alerts.map(() => ({ state: undefined as boolean | undefined, fired: 0, last: undefined as number | undefined, dead: false }));
  prices.forEach((p, i) => {
    const time = 1_000_000 + i * 100;
    alerts.forEach((a, k) => {
      const s = st[k]!;
      if (i < a.addAt || s.dead) return;
      if (a.removeAt !== undefined && i >= a.removeAt) return;
      const expiresAt = a.expireAfter === undefined ? undefined : 1_000_000 + a.addAt * 100 + a.expireAfter;
      if (expiresAt !== undefined && time >= expiresAt) {
        s.dead = true;
        return;
      }
      const pred = a.cmp === '>' || a.cmp === 'crosses above' ? p > a.level : a.cmp === '>=' ? p >= a.level : a.cmp === '<' || a.cmp === 'crosses below' ? p < a.level : p <= a.level;
      const first = s.state === undefined;
      const prev = s.state;
      s.state = pred;
      if (!pred || !(prev === false || (first && !a.cmp.startsWith('crosses')))) return;
      if (a.mode === 'every' && s.last !== undefined && time - s.last < a.cooldown) return;
      s.fired++;
      s.last = time;
      out.push(`k${k}.${s.fired}@${time}`);
      if (a.mode === 'once') s.dead = true;
    });
  });
  return out;
}

async function engine(prices: number[], alerts: AlertCase[]): Promise<string[]> {
  const bus = new Bus((_t, err) => {
    throw err;
  });
  const clock = new SimClock();
  const svc = await AlertService.open({ bus, clock, instruments: bundledInstruments() });
  const fired: AlertFiring[] = [];
  bus.subscribe('alert.fired', (f) => fired.push(f));
  const ids = new Map<number, string>();
  const order = alerts.map((a, k) => ({ a, k })).sort((x, y) => x.k - y.k);
  for (let i = 0; i < prices.length; i++) {
    const time = 1_000_000 + i * 100;
    for (const { a, k } of order) {
      if (a.addAt === i) {
        const level = (a.level / 100).toFixed(2);
        const rec = await svc.add(
          {
            symbol: 'BTCUSDT',
            condition: `price ${a.cmp} ${level}`,
            ...(a.mode === 'once' ? { once: true } : a.mode === 'until' ? { untilCancelled: true } : { every: `${a.cooldown}ms` }),
          },
          time - 1,
        );
        // expiry counted from the add time as the reference does
        if (a.expireAfter !== undefined) {
          svc.engine.remove(rec.alert.id);
          svc.engine.add({ ...rec, alert: { ...rec.alert, expiresAt: 1_000_000 + a.addAt * 100 + a.expireAfter } });
        }
        ids.set(k, rec.alert.id);
      }
      if (a.removeAt === i && ids.has(k)) await svc.remove(ids.get(k)!, time);
    }
    clock.advance(time);
    bus.publish('trade', { symbol: 'BTCUSDT', id: i + 1, price: prices[i]!, qty: 1000, firstId: i + 1, lastId: i + 1, time, buyerMaker: false });
  }
  const kOf = new Map([...ids].map(([k, id]) => [id, k]));
  return fired.map((f) => `k${kOf.get(f.alertId)}.${f.n}@${f.time}`);
}

describe('price alerts: the heap index fires exactly as the definition', () => {
  it('matches a naive evaluation on random paths, alerts, modes, removals and expiries', async () => {
    const alertArb = (n: number) =>
      fc.record({
        cmp: fc.constantFrom(...CMPS),
        level: fc.integer({ min: 9_990_000, max: 10_010_000 }).map((x) => x - (x % 1000)),
        mode: fc.constantFrom('once' as const, 'until' as const, 'every' as const),
        cooldown: fc.integer({ min: 1000, max: 2000 }),
        addAt: fc.integer({ min: 0, max: n - 1 }),
        removeAt: fc.option(fc.integer({ min: 0, max: n - 1 }), { nil: undefined }),
        expireAfter: fc.option(fc.integer({ min: 1000, max: 5000 }), { nil: undefined }),
      });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 5, max: 120 }).chain((n) =>
          fc.tuple(fc.array(fc.integer({ min: -5, max: 5 }), { minLength: n, maxLength: n }), fc.array(alertArb(n), { minLength: 1, maxLength: 30 })),
        ),
        async ([steps, alerts]) => {
          let p = 10_000_000;
          const prices = steps.map((s) => (p += s * 1000));
          const fixed = alerts.map((a) => ({ ...a, removeAt: a.removeAt !== undefined && a.removeAt > a.addAt ? a.removeAt : undefined }));
          // Within one trade the order of firings is the index's; compare by time, then alert.
          const key = (x: string) => [Number(x.split('@')[1]), Number(x.slice(1, x.indexOf('.')))] as const;
          const sort = (xs: string[]) => [...xs].sort((a, b) => key(a)[0] - key(b)[0] || key(a)[1] - key(b)[1]);
          expect(sort(await engine(prices, fixed))).toEqual(sort(reference(prices, fixed)));
        },
      ),
      { numRuns: 150 },
    );
  });
});

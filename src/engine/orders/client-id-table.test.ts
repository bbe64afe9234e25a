import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientIdTable } from './client-id-table.js';
import type { Order } from './types.js';

let next = 0;
const order = (clientOrderId: string): Order => ({ orderId: ++next, clientOrderId }) as Order;

/** Ids as accounts make them: counters on a few prefixes (from 0 or 1, some far off), leading zeros, no counter, odd ones. */
const idArb = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom('o', 'sma-cross-btcusdt_', 'paper_', 'x', ''), fc.nat({ max: 60 })).map(([p, n]) => `${p}${n}`) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('o', 'paper_'), fc.nat({ max: 3000 })).map(([p, n]) => `${p}${n}`) },
  { weight: 1, arbitrary: fc.constantFrom('o007', 'o7', 'o0', 'o00', 'abc', 'paper_5_1', 'o1234567890', 'o123456789', '0', '01', 'ü9') },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);

describe('ClientIdTable', () => {
  it('behaves as a Map of clientOrderId → order, whatever the ids', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(idArb, fc.boolean()), { maxLength: 300 }), (ops) => {
        const table = new ClientIdTable();
        const map = new Map<string, Order>();
        for (const [id, write] of ops) {
          if (write) {
            const o = order(id);
            table.set(id, o);
            map.set(id, o);
          }
          expect(table.get(id)).toBe(map.get(id));
          expect(table.has(id)).toBe(map.has(id));
          expect(table.size).toBe(map.size);
        }
        const byId = (a: [string, Order], b: [string, Order]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
        expect([...table.entries()].sort(byId)).toEqual([...map.entries()].sort(byId));
      }),
      { numRuns: 300 },
    );
  });

  it('tells apart ids whose counters are equal as numbers ("o7", "o07", "o007")', () => {
    const table = new ClientIdTable();
    const a = order('o7');
    const b = order('o07');
    table.set('o7', a);
    table.set('o07', b);
    expect(table.get('o7')).toBe(a);
    expect(table.get('o07')).toBe(b);
    expect(table.get('o007')).toBeUndefined();
    expect(table.size).toBe(2);
  });

  it('keeps an order stored under another key than its own id where entries() gives that key', () => {
    const table = new ClientIdTable();
    const o = order('a1');
    table.set('b1', o);
    expect(table.get('b1')).toBe(o);
    expect(table.get('a1')).toBeUndefined();
    expect([...table.entries()]).toEqual([['b1', o]]);
  });
});

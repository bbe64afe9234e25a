import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrderTable } from './order-table.js';
import type { Order } from './types.js';

const order = (orderId: number): Order => ({ orderId }) as Order;

describe('OrderTable', () => {
  it('behaves as a Map of orderId → order for any ids, dense, sparse or not the engine’s', () => {
    const id = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 1, max: 40 }) },
      { weight: 2, arbitrary: fc.integer({ min: 1, max: 5000 }) },
      { weight: 1, arbitrary: fc.constantFrom(0, -3, 1.5, Number.MAX_SAFE_INTEGER, 2 ** 60) },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(id, fc.boolean()), { maxLength: 200 }), (ops) => {
        const table = new OrderTable();
        const map = new Map<number, Order>();
        for (const [k, write] of ops) {
          if (write) {
            const o = order(k);
            table.set(k, o);
            map.set(k, o);
          }
          expect(table.get(k)).toBe(map.get(k));
          expect(table.get(k) !== undefined).toBe(map.has(k));
          expect(table.size).toBe(map.size);
        }
        const byId = (a: Order, b: Order): number => a.orderId - b.orderId;
        expect([...table.values()].sort(byId)).toEqual([...map.values()].sort(byId));
      }),
    );
  });

  it('keeps the engine’s ids 1, 2, 3, … in order, and an id far past the end out of the array', () => {
    const table = new OrderTable();
    for (let i = 1; i <= 5; i++) table.set(i, order(i));
    table.set(1_000_000, order(1_000_000));
    table.set(6, order(6));
    expect([...table.values()].map((o) => o.orderId)).toEqual([1, 2, 3, 4, 5, 6, 1_000_000]);
    expect(table.get(999_999)).toBeUndefined();
    expect(table.size).toBe(7);
  });
});

import type { Order } from './types.js';

/** How far past the end of the array an orderId may land and still be stored in it. */
const MAX_GAP = 1024;

/**
 * Puts `o` at index `i` of `arr` (i ≥ 0), filling any gap before it with holes of `undefined`.
 * True when the slot was empty.
 */
export function putAt<T>(arr: Array<T | undefined>, i: number, o: T): boolean {
  if (i < arr.length) {
    const empty = arr[i] === undefined;
    arr[i] = o;
    return empty;
  }
  while (arr.length < i) arr.push(undefined);
  arr.push(o);
  return true;
}

/**
 * Orders by orderId. The engine numbers its orders 1, 2, 3, … so they live in an array indexed by
 * id: a lookup is an index and an insert a push. A Map hashed every id, rehashed its whole table
 * each time it grew and missed the cache on both, about a tenth of a market order's engine time.
 * An id the engine would not make (not a positive integer, or far past the end, as in a log that
 * skips ids) goes to a Map instead, so memory stays bounded.
 */
export class OrderTable {
  private readonly dense: Array<Order | undefined> = [undefined];
  private readonly sparse = new Map<number, Order>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(orderId: number): Order | undefined {
    const o = orderId < this.dense.length ? this.dense[orderId] : undefined;
    return o !== undefined || this.sparse.size === 0 ? o : this.sparse.get(orderId);
  }

  set(orderId: number, o: Order): this {
    const d = this.dense;
    if (this.sparse.size > 0 && this.sparse.has(orderId)) {
      this.sparse.set(orderId, o);
    } else if (!Number.isSafeInteger(orderId) || orderId < 1 || orderId - d.length > MAX_GAP) {
      this.sparse.set(orderId, o);
      this.count++;
    } else if (putAt(d, orderId, o)) {
      this.count++;
    }
    return this;
  }

  /** Every order: the array's by ascending orderId, then the Map's in insertion order. */
  *values(): IterableIterator<Order> {
    for (const o of this.dense) if (o !== undefined) yield o;
    yield* this.sparse.values();
  }
}

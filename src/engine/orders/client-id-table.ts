import { putAt } from './order-table.js';
import type { Order } from './types.js';

/** Longest counter kept in an array: 9 digits stay a small integer. */
const MAX_DIGITS = 9;
/** A prefix gets an array only from a low counter (they count from 0 or 1), so random ids stay in the Map. */
const MAX_FIRST = 16;
/** How far past the end of a prefix's array a counter may land and still be stored in it. */
const MAX_GAP = 1024;

/**
 * Orders by clientOrderId (every id the account ever used: the paper venue keeps them for good).
 * Most ids are a fixed prefix and a counter: `o123`, `sma-cross-btcusdt_17`, `paper_5`. Those live in
 * an array per prefix indexed by the counter, so the check every submit makes for a new id is a
 * short scan of its last characters and an index, where a Map of strings hashed each id and missed
 * the cache on a large table (~150–280 ns an order, three lookups an order in the daemon). Any other
 * id (no counter, a counter with a leading zero, a long or far-off counter) is kept in a Map.
 */
export class ClientIdTable {
  private readonly byPrefix = new Map<string, Array<Order | undefined>>();
  private readonly other = new Map<string, Order>();
  private count = 0;
  /** The last prefix seen and its array: an account's ids mostly share one. */
  private lastPrefix = '';
  private lastSeq: Array<Order | undefined> | undefined;
  /** split()'s answer: the prefix's length and the counter. */
  private prefixLen = 0;
  private counter = 0;

  get size(): number {
    return this.count;
  }

  get(id: string): Order | undefined {
    if (this.split(id)) {
      const seq = this.seqOf(id, false);
      const o = seq === undefined ? undefined : seq[this.counter];
      if (o !== undefined) return o;
    }
    return this.other.size === 0 ? undefined : this.other.get(id);
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /** Stores `o` under `id`, its own clientOrderId (an array slot keeps only the order, and its id is the key). */
  set(id: string, o: Order): this {
    if (id === o.clientOrderId && this.split(id) && !(this.other.size > 0 && this.other.has(id))) {
      const n = this.counter;
      let seq = this.seqOf(id, false);
      if (seq === undefined && n < MAX_FIRST) seq = this.seqOf(id, true);
      if (seq !== undefined && n - seq.length <= MAX_GAP) {
        if (putAt(seq, n, o)) this.count++;
        return this;
      }
    }
    if (!this.other.has(id)) this.count++;
    this.other.set(id, o);
    return this;
  }

  /** Every [id, order]: the arrays' (an order's id is its key), then the Map's. */
  *entries(): IterableIterator<[string, Order]> {
    for (const seq of this.byPrefix.values()) for (const o of seq) if (o !== undefined) yield [o.clientOrderId, o];
    yield* this.other.entries();
  }

  /** Whether `id` is a prefix and a canonical counter (no leading zero, at most MAX_DIGITS); sets prefixLen and counter. */
  private split(id: string): boolean {
    const len = id.length;
    let i = len;
    while (i > 0) {
      const c = id.charCodeAt(i - 1);
      if (c < 48 || c > 57) break;
      i--;
    }
    const digits = len - i;
    if (digits === 0 || digits > MAX_DIGITS || (digits > 1 && id.charCodeAt(i) === 48)) return false;
    let n = 0;
    for (let j = i; j < len; j++) n = n * 10 + (id.charCodeAt(j) - 48);
    this.prefixLen = i;
    this.counter = n;
    return true;
  }

  /** The array of split()'s prefix of `id`, made when `create` and missing. */
  private seqOf(id: string, create: boolean): Array<Order | undefined> | undefined {
    const k = this.prefixLen;
    if (this.lastSeq !== undefined && k === this.lastPrefix.length && id.startsWith(this.lastPrefix)) return this.lastSeq;
    const prefix = id.slice(0, k);
    let seq = this.byPrefix.get(prefix);
    if (seq === undefined && create) this.byPrefix.set(prefix, (seq = []));
    if (seq !== undefined) {
      this.lastPrefix = prefix;
      this.lastSeq = seq;
    }
    return seq;
  }
}

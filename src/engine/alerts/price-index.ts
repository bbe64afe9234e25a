import { Heap } from './heap.js';

/**
 * One symbol's price alerts, indexed so a trade costs O(1) when nothing crosses and O(log n) per
 * alert that does: cost does not grow with alerts that cannot fire.
 *
 * Every price condition is one of two predicates on integer raws: "above" (p > A) or "below"
 * (p < B); `>= L` is `> L − 1` and `<= L` is `< L + 1`. An entry waits in exactly one of two heaps
 * for the next change of its predicate: in `up` (a min-heap) when the next change happens once the
 * price rises above its key, in `down` (a max-heap) when it happens once the price falls below its
 * key. A trade pops only entries whose predicate it changes, hands each to the callback, and files
 * it in the other heap, so an alert fires once per crossing however many trades stay beyond it.
 */
export interface PriceEntry {
  /** True: the predicate is p > threshold; false: p < threshold. */
  readonly above: boolean;
  readonly threshold: number;
  /** The predicate's value at the last trade; undefined until the first trade after add(). */
  state: boolean | undefined;
  /** @internal which heap holds it (0 none, 1 up, 2 down) and its key there */
  slot: 0 | 1 | 2;
  key: number;
  /** @internal insertion order, to break ties deterministically */
  order: number;
  removed: boolean;
}

/** Called on every change of an entry's predicate; `first` on the first trade after it was added. */
export type PriceChange<E> = (entry: E, state: boolean, first: boolean, price: number) => void;

export class PriceIndex<E extends PriceEntry> {
  private readonly up = new Heap<E>((a, b) => a.key < b.key || (a.key === b.key && a.order < b.order));
  private readonly down = new Heap<E>((a, b) => a.key > b.key || (a.key === b.key && a.order < b.order));
  private pending: E[] = [];
  private nextOrder = 0;
  private dead = 0;
  private live = 0;

  /** Entries indexed (not removed). */
  get size(): number {
    return this.live;
  }

  /** Indexes an entry; its state is taken at the next trade. */
  add(e: E): void {
    e.order = this.nextOrder++;
    e.removed = false;
    e.state = undefined;
    e.slot = 0;
    this.pending.push(e);
    this.live++;
  }

  remove(e: E): void {
    if (e.removed) return;
    e.removed = true;
    this.live--;
    if (e.slot !== 0) {
      this.dead++;
      if (this.dead > 64 && this.dead > this.live) this.compact();
    } else {
      const i = this.pending.indexOf(e);
      if (i !== -1) this.pending.splice(i, 1);
    }
  }

  /** Feeds a trade price; `onChange` sees every entry whose predicate it changed. */
  onPrice(p: number, onChange: PriceChange<E>): void {
    if (this.pending.length > 0) {
      const list = this.pending;
      this.pending = [];
      for (const e of list) {
        if (e.removed) continue;
        const s = e.above ? p > e.threshold : p < e.threshold;
        e.state = s;
        onChange(e, s, true, p);
        if (!e.removed) this.file(e);
      }
    }
    const up = this.up;
    for (let top = up.peek(); top !== undefined && top.key < p; top = up.peek()) {
      up.pop();
      this.flip(top, p, onChange);
    }
    const down = this.down;
    for (let top = down.peek(); top !== undefined && top.key > p; top = down.peek()) {
      down.pop();
      this.flip(top, p, onChange);
    }
  }

  private flip(e: E, p: number, onChange: PriceChange<E>): void {
    e.slot = 0;
    if (e.removed) {
      this.dead--;
      return;
    }
    const s = !e.state;
    e.state = s;
    onChange(e, s, false, p);
    if (!e.removed) this.file(e);
  }

  /** Files an entry where its predicate's next change waits (see the class comment). */
  private file(e: E): void {
    if (e.above) {
      if (e.state) this.put(e, 2, e.threshold + 1);
      else this.put(e, 1, e.threshold);
    } else if (e.state) this.put(e, 1, e.threshold - 1);
    else this.put(e, 2, e.threshold);
  }

  private put(e: E, slot: 1 | 2, key: number): void {
    e.slot = slot;
    e.key = key;
    (slot === 1 ? this.up : this.down).push(e);
  }

  private compact(): void {
    const keep = (e: E): boolean => !e.removed;
    this.up.filter(keep);
    this.down.filter(keep);
    this.dead = 0;
  }
}

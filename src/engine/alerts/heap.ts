/** A binary heap ordered by `before` (true when a goes out first). Ties keep no particular order: callers break them. */
export class Heap<T> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(x: T): void {
    const a = this.items;
    let i = a.length;
    a.push(x);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = a[p]!;
      if (!this.before(x, parent)) break;
      a[i] = parent;
      i = p;
    }
    a[i] = x;
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      let i = 0;
      const n = a.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && this.before(a[r]!, a[l]!) ? r : l;
        if (!this.before(a[c]!, last)) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }

  /** Keeps only the items `keep` accepts and restores the heap order (O(n)). */
  filter(keep: (x: T) => boolean): void {
    const a = this.items;
    let w = 0;
    for (const x of a) if (keep(x)) a[w++] = x;
    a.length = w;
    const rest = a.splice(0);
    for (const x of rest) this.push(x);
  }

  values(): readonly T[] {
    return this.items;
  }
}

/**
 * A running sum with Neumaier compensation: each add carries its rounding error into `comp`, so
 * the total does not drift over millions of mixed-sign updates.
 */
export class CompensatedSum {
  private sum = 0;
  private comp = 0;

  add(x: number): void {
    const s = this.sum;
    const t = s + x;
    this.comp += (s >= 0 ? s : -s) >= (x >= 0 ? x : -x) ? s - t + x : x - t + s;
    this.sum = t;
  }

  get value(): number {
    return this.sum + this.comp;
  }

  reset(): void {
    this.sum = 0;
    this.comp = 0;
  }
}

/**
 * The last `size` inputs in a ring buffer. Once the ring completes a lap (`lapped`), `buf` holds
 * them oldest..newest in index order, which is when windowed indicators rebuild their sums.
 */
export class RingWindow {
  readonly size: number;
  readonly buf: Float64Array;
  /** How many inputs the window holds (up to `size`). */
  count = 0;
  private i = 0;

  constructor(size: number) {
    this.size = size;
    this.buf = new Float64Array(size);
  }

  get full(): boolean {
    return this.count === this.size;
  }

  /** True right after the write that filled the last slot. */
  get lapped(): boolean {
    return this.i === 0;
  }

  /** Stores `x` in place of the oldest input and returns that input (0 while the window fills). */
  push(x: number): number {
    const buf = this.buf;
    const i = this.i;
    const o = buf[i] as number;
    buf[i] = x;
    this.i = i + 1 === this.size ? 0 : i + 1;
    if (this.count < this.size) this.count++;
    return o;
  }

  reset(): void {
    this.buf.fill(0);
    this.i = 0;
    this.count = 0;
  }
}

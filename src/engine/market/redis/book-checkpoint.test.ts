import { describe, expect, it } from 'vitest';
import { LocalOrderBook } from '../orderbook.js';
import type { DepthDiff, DepthSnapshot } from '../source.js';
import { BookCheckpointer, HeldDepth, rollForward, snapshotOf } from './book-checkpoint.js';

const S = 'BTCUSDT';
const snap = (lastUpdateId: number, bids: Array<[number, number]>, asks: Array<[number, number]> = []): DepthSnapshot => ({
  symbol: S,
  lastUpdateId,
  bids: bids.map(([price, qty]) => ({ price, qty })),
  asks: asks.map(([price, qty]) => ({ price, qty })),
});
const diff = (U: number, u: number, bids: Array<[number, number]>, asks: Array<[number, number]> = []): DepthDiff => ({
  symbol: S,
  eventTime: u,
  firstUpdateId: U,
  lastUpdateId: u,
  bids: bids.map(([price, qty]) => ({ price, qty })),
  asks: asks.map(([price, qty]) => ({ price, qty })),
});

describe('rollForward', () => {
  it('applies diffs by Binance’s rules: stale ones skipped, the first straddling, 0 removes', () => {
    const base = snap(10, [[100, 1], [99, 2]], [[101, 3]]);
    const out = rollForward(base, [diff(5, 9, [[100, 7]]), diff(10, 12, [[100, 0], [98, 4]]), diff(13, 13, [], [[102, 1]])]);
    expect(out).toEqual(snap(13, [[99, 2], [98, 4]], [[101, 3], [102, 1]]));
  });

  it('gives up on a gap after the snapshot', () => {
    expect(rollForward(snap(10, [[1, 1]]), [diff(12, 13, [[1, 2]])])).toBeUndefined();
    expect(rollForward(snap(10, [[1, 1]]), [diff(11, 11, []), diff(13, 13, [])])).toBeUndefined();
  });

  it('returns the snapshot itself when every diff is older', () => {
    expect(rollForward(snap(10, [[1, 1]]), [diff(3, 4, [[1, 9]])])).toEqual(snap(10, [[1, 1]]));
  });
});

describe('BookCheckpointer', () => {
  it('mirrors the book and checkpoints it every N applied diffs, exactly', () => {
    const cp = new BookCheckpointer(2);
    expect(cp.onDiff(diff(1, 1, [[5, 5]]))).toBeUndefined(); // no snapshot yet: buffered
    expect(cp.onSnapshot(snap(1, [[5, 1]]))).toBe(true);
    const diffs = [diff(2, 2, [[6, 1]]), diff(3, 3, [[5, 0]]), diff(4, 4, [[7, 2]]), diff(5, 5, [[8, 1]])];
    const out = diffs.map((d) => cp.onDiff(d));
    const expected = new LocalOrderBook(S);
    expected.applySnapshot(snap(1, [[5, 1]]));
    expected.applyDiff(diffs[0]!);
    expected.applyDiff(diffs[1]!);
    expect(out).toEqual([undefined, snapshotOf(expected), undefined, snap(5, [[8, 1], [7, 2], [6, 1]])]);
    expect(out[1]).toEqual(snap(3, [[6, 1]]));
  });

  it('ignores a snapshot not newer than its synced book, as the kernel does', () => {
    const cp = new BookCheckpointer(1);
    cp.onSnapshot(snap(10, [[1, 1]]));
    expect(cp.onSnapshot(snap(9, [[2, 2]]))).toBe(false);
    expect(cp.onDiff(diff(11, 11, [[3, 3]]))).toEqual(snap(11, [[3, 3], [1, 1]]));
  });
});

describe('HeldDepth', () => {
  it('builds a snapshot at the newest diff from the held checkpoint', () => {
    const h = new HeldDepth(100);
    expect(h.snapshot()).toBeUndefined();
    h.onDiff(diff(1, 1, [[9, 9]]));
    h.onSnapshot(snap(5, [[1, 1]]));
    h.onDiff(diff(6, 6, [[2, 2]]));
    h.onDiff(diff(7, 8, [[1, 0]]));
    expect(h.snapshot()).toEqual(snap(8, [[2, 2]]));
  });

  it('keeps an older snapshot only when the held diffs continue it', () => {
    const h = new HeldDepth(100);
    h.onSnapshot(snap(5, [[1, 1]]));
    h.onDiff(diff(6, 6, [[2, 2]]));
    h.onDiff(diff(9, 9, [[3, 3]])); // a gap the leader also saw
    expect(h.snapshot()).toBeUndefined();
    h.onSnapshot(snap(4, [[7, 7]])); // older, and the diffs do not continue it: ignored
    expect(h.snapshot()).toBeUndefined();
    h.onSnapshot(snap(8, [[4, 4]])); // the leader's REST snapshot after the gap: 9 continues it
    expect(h.snapshot()).toEqual(snap(9, [[4, 4], [3, 3]]));
  });

  it('uses a fallback snapshot when it holds none, and forgets its checkpoint past maxDiffs', () => {
    const h = new HeldDepth(2);
    h.onSnapshot(snap(1, [[1, 1]]));
    h.onDiff(diff(2, 2, [[2, 2]]));
    h.onDiff(diff(3, 3, [[3, 3]]));
    expect(h.hasCheckpoint).toBe(true);
    h.onDiff(diff(4, 4, [[4, 4]]));
    expect(h.hasCheckpoint).toBe(false);
    expect(h.snapshot()).toBeUndefined();
    expect(h.snapshot(snap(2, [[1, 1]]))).toEqual(snap(4, [[4, 4], [3, 3], [1, 1]]));
    expect(h.snapshot(snap(1, [[1, 1]]))).toBeUndefined(); // 2 is no longer held
  });
});

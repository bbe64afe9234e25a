import { describe, expect, it } from 'vitest';
import { IncompleteMinutes } from './incomplete.js';

const T0 = Date.UTC(2024, 7, 8, 23, 54);

describe('IncompleteMinutes', () => {
  it('marks the minute the feed joined, once', () => {
    const m = new IncompleteMinutes();
    m.onTrade(T0 + 14_000);
    m.onTrade(T0 + 70_000);
    expect(m.take(T0)).toBe(true);
    expect(m.take(T0)).toBe(false);
    expect(m.take(T0 + 60_000)).toBe(false);
  });

  it('marks every minute an unfilled gap touches, both ends included', () => {
    const m = new IncompleteMinutes();
    m.onTrade(T0);
    m.take(T0);
    m.onUnfilledGap(T0 + 59_999, T0 + 180_000);
    expect([0, 1, 2, 3, 4].map((i) => m.take(T0 + i * 60_000))).toEqual([true, true, true, true, false]);
  });

  it('forgets marked minutes that closed before the gap was known, so a long feed does not pile them up', () => {
    const m = new IncompleteMinutes();
    m.onTrade(T0);
    m.take(T0);
    // Each day a gap is found only after its first minute had closed (say a kline closed it first).
    for (let day = 1; day <= 100; day++) {
      const t = T0 + day * 86_400_000;
      m.take(t);
      m.onUnfilledGap(t + 59_000, t + 61_000);
      expect(m.take(t + 60_000)).toBe(true);
    }
    expect(m.size).toBe(0);
  });
});

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
});

import fc from 'fast-check';
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

  it('takes a gap of 90 days minute by minute (a follower whose leader was away)', () => {
    const m = new IncompleteMinutes();
    m.onTrade(T0);
    const minutes = 90 * 1440;
    m.onUnfilledGap(T0 + 1_000, T0 + minutes * 60_000 + 5_000);
    expect(m.size).toBe(minutes + 1);
    let taken = 0;
    // One entry per minute scanned on every take made this quadratic (about 20 s, past the test's timeout).
    for (let i = 0; i <= minutes + 1; i++) if (m.take(T0 + i * 60_000)) taken++;
    expect(taken).toBe(minutes + 1);
    expect(m.size).toBe(0);
  });

  it('answers as one mark per minute would, whatever order gaps and takes come in', () => {
    const minute = 60_000;
    type Op = { kind: 'trade' | 'gap' | 'take'; a: number; b: number };
    const op = fc.record({ kind: fc.constantFrom<Op['kind']>('trade', 'gap', 'take'), a: fc.integer({ min: 0, max: 40 * minute }), b: fc.integer({ min: 0, max: 40 * minute }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const m = new IncompleteMinutes();
        const model = new Set<number>();
        let joined = false;
        let closed = -1;
        for (const o of ops) {
          if (o.kind === 'trade') {
            m.onTrade(T0 + o.a);
            if (!joined) model.add(T0 + Math.floor(o.a / minute) * minute);
            joined = true;
          } else if (o.kind === 'gap') {
            const [x, y] = [Math.min(o.a, o.b), Math.max(o.a, o.b)];
            m.onUnfilledGap(T0 + x, T0 + y);
            for (let t = T0 + Math.floor(x / minute) * minute; t <= T0 + y; t += minute) model.add(t);
          } else {
            // Minutes close in order: each take is at or after the last.
            closed = Math.max(closed + 1, Math.floor(o.a / minute));
            const t = T0 + closed * minute;
            const want = model.delete(t);
            for (const k of model) if (k < t) model.delete(k);
            expect(m.take(t)).toBe(want);
          }
          expect(m.size).toBe(model.size);
        }
      }),
      { numRuns: 500 },
    );
  });
});

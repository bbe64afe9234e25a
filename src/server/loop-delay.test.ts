import { createHistogram } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LoopDelayWindows } from './loop-delay.js';

const ms = (n: number): number => n * 1e6;

describe('LoopDelayWindows', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('reports the last complete window to every reader, whoever reads and how often', () => {
    const h = createHistogram();
    const w = new LoopDelayWindows({ windowMs: 10_000, histogram: h });
    try {
      // Before the first window closes: the samples so far, marked incomplete.
      expect(w.report()).toEqual({ p50: 0, p99: 0, max: 0, samples: 0, complete: false });
      h.record(ms(2));
      h.record(ms(40));
      expect(w.report()).toMatchObject({ samples: 2, complete: false });

      vi.advanceTimersByTime(10_000);
      const first = w.report();
      expect(first.complete).toBe(true);
      expect(first.samples).toBe(2);
      expect(first.max).toBeCloseTo(0.04, 3);
      expect(first.p50).toBeCloseTo(0.002, 3);
      // Reads, and delays in the next window, leave the closed window as it was.
      h.record(ms(300));
      for (let i = 0; i < 5; i++) expect(w.report()).toEqual(first);

      vi.advanceTimersByTime(10_000);
      const second = w.report();
      expect(second.samples).toBe(1);
      expect(second.max).toBeCloseTo(0.3, 2);

      // A window without delays reports zeros, not the one before.
      vi.advanceTimersByTime(10_000);
      expect(w.report()).toEqual({ p50: 0, p99: 0, max: 0, samples: 0, complete: true });
    } finally {
      w.close();
    }
  });

  it('stops closing windows once closed, and refuses a window that is not positive', () => {
    const h = createHistogram();
    const w = new LoopDelayWindows({ windowMs: 1_000, histogram: h });
    h.record(ms(5));
    w.close();
    vi.advanceTimersByTime(5_000);
    expect(w.report()).toMatchObject({ samples: 1, complete: false });
    expect(() => new LoopDelayWindows({ windowMs: 0, histogram: h })).toThrow(/window must be positive/);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { FrameScheduler } from './frames.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
let frames: FrameScheduler | undefined;
afterEach(() => frames?.dispose());

describe('FrameScheduler', () => {
  it('runs a burst of requests as one frame, each callback once', async () => {
    frames = new FrameScheduler({ fps: 30 });
    let a = 0;
    let b = 0;
    const fa = () => a++;
    const fb = () => b++;
    for (let i = 0; i < 100; i++) {
      frames.request(fa);
      frames.request(fb);
    }
    await wait(120);
    expect([a, b, frames.frames]).toEqual([1, 1, 1]);
  });

  it('never runs two frames closer than 1/fps apart, whatever the request rate', () => {
    // A virtual clock and timer: requests every 2 ms for one second.
    let t = 0;
    let pending: { at: number; fn: () => void } | undefined;
    frames = new FrameScheduler({
      fps: 30,
      now: () => t,
      setTimer: (fn, ms) => ((pending = { at: t + ms, fn }), {}),
      clearTimer: () => (pending = undefined),
    });
    const runs: number[] = [];
    const cb = () => runs.push(t);
    for (t = 0; t <= 1000; t += 2) {
      if (pending && pending.at <= t) {
        const p = pending;
        pending = undefined;
        p.fn();
      }
      frames.request(cb);
    }
    expect(runs.length).toBeGreaterThanOrEqual(28);
    expect(runs.length).toBeLessThanOrEqual(31);
    for (let i = 1; i < runs.length; i++) expect(runs[i]! - runs[i - 1]!).toBeGreaterThanOrEqual(1000 / 30 - 1);
  });

  it('wakes a delayed request no earlier than asked, and cancel drops it', () => {
    let t = 0;
    frames = new FrameScheduler({ fps: 30, now: () => t });
    const seen: string[] = [];
    const later = () => seen.push('later');
    const dropped = () => seen.push('dropped');
    frames.request(later, 500);
    frames.request(dropped);
    frames.cancel(dropped);
    t = 100;
    frames.flush();
    expect(seen).toEqual([]);
    t = 500;
    frames.flush();
    expect(seen).toEqual(['later']);
  });

  it('spaces frames out while renders are slow, to stay within the budget', () => {
    let t = 0;
    let pending: { at: number; fn: () => void } | undefined;
    frames = new FrameScheduler({
      fps: 30,
      budget: 0.1,
      now: () => t,
      setTimer: (fn, ms) => ((pending = { at: t + ms, fn }), {}),
      clearTimer: () => (pending = undefined),
    });
    frames.reportRender(20); // 20 ms a render at 10 %: one frame per 200 ms
    expect(frames.interval).toBe(200);
    const runs: number[] = [];
    const cb = () => runs.push(t);
    for (t = 0; t <= 2000; t += 2) {
      if (pending && pending.at <= t) {
        const p = pending;
        pending = undefined;
        p.fn();
      }
      frames.request(cb);
    }
    expect(runs.length).toBeGreaterThanOrEqual(9);
    expect(runs.length).toBeLessThanOrEqual(11);
    frames.reportRender(1000); // never slower than minFps (2 a second)
    expect(frames.interval).toBeLessThanOrEqual(500);
  });

  it('keeps the process within its CPU budget by spacing frames, and speeds up again when frames get cheap', () => {
    // Virtual time and CPU: the engine takes 3 % of a core, a frame `frameCpu` ms; frames wanted all the time.
    let t = 0;
    let frameCpu = 20;
    let cpu = 0;
    let pending: { at: number; fn: () => void } | undefined;
    frames = new FrameScheduler({
      fps: 30,
      cpuBudget: 0.12,
      now: () => t,
      cpuNow: () => cpu,
      setTimer: (fn, ms) => ((pending = { at: t + ms, fn }), {}),
      clearTimer: () => (pending = undefined),
    });
    const cb = () => (cpu += frameCpu);
    /** Runs `ms` of virtual time; returns the CPU share and frames per second over it. */
    const run = (ms: number): { share: number; fps: number } => {
      const [c0, f0, end] = [cpu, frames!.frames, t + ms];
      for (; t < end; t += 1) {
        cpu += 0.03;
        if (pending && pending.at <= t) {
          const p = pending;
          pending = undefined;
          p.fn();
        }
        frames!.request(cb);
      }
      return { share: (cpu - c0) / ms, fps: ((frames!.frames - f0) * 1000) / ms };
    };
    // Unchecked, 30 frames of 20 ms would be 63 % of a core: the spacing settles where the share fits.
    run(20_000);
    const heavy = run(20_000);
    // The budget is checked once a second, so a second may overshoot a little before the correction.
    expect(heavy.share).toBeLessThanOrEqual(0.125);
    expect(heavy.share).toBeGreaterThan(0.08);
    expect(heavy.fps).toBeGreaterThan(2.5);
    expect(heavy.fps).toBeLessThan(4.9); // (0.12 - 0.03) / 20 ms = 4.5
    // Cheaper frames (2 ms): more of them fit, up to the 30 fps cap.
    frameCpu = 2;
    run(20_000);
    const light = run(20_000);
    expect(light.share).toBeLessThanOrEqual(0.125);
    expect(light.fps).toBeGreaterThan(25);
    // An engine alone over the budget leaves the frames at minFps (2 a second), not at zero.
    frameCpu = 20;
    const busy = (): void => void (cpu += 0.2);
    for (let i = 0; i < 30_000; i++) {
      busy();
      t++;
      if (pending && pending.at <= t) {
        const p = pending;
        pending = undefined;
        p.fn();
      }
      frames.request(cb);
    }
    expect(frames.interval).toBe(500);
  });
});

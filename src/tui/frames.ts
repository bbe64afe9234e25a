/**
 * The TUI's one frame timer. Bus events only mark what changed; the callbacks registered here
 * run together at most `fps` times a second, so a burst of 100 trades is one re-render, and a
 * panel that asks to be woken later (a price flash fading) shares the same timer.
 *
 * Ink composes the whole screen on every render, so a frame costs the same whatever changed. With
 * a `budget`, frames are spaced so that rendering (as reported by reportRender) takes at most that
 * share of the time: 30 fps where rendering is cheap, fewer on a slow or busy machine.
 */
export interface FrameSchedulerOptions {
  /** Frames per second at most (default 30). */
  fps?: number;
  /** Monotonic milliseconds (default performance.now). */
  now?: () => number;
  /** Largest share of wall time to spend rendering, 0..1 (default: no limit but `fps`). */
  budget?: number;
  /** Frames per second at least, whatever the budget (default 2). */
  minFps?: number;
  /** The timer (default setTimeout); tests drive a virtual one. */
  setTimer?: (fn: () => void, ms: number) => { unref?(): unknown };
  clearTimer?: (t: { unref?(): unknown }) => void;
}

export class FrameScheduler {
  private readonly minInterval: number;
  private readonly maxInterval: number;
  private readonly budget: number | undefined;
  private renderMs = 0;
  private readonly now: () => number;
  /** Callback → the earliest time it wants to run. */
  private readonly due = new Map<() => void, number>();
  private timer: { unref?(): unknown } | undefined;
  private readonly setTimer: (fn: () => void, ms: number) => { unref?(): unknown };
  private readonly clearTimer: (t: { unref?(): unknown }) => void;
  private timerAt = Infinity;
  private lastFlush = -Infinity;
  private disposed = false;
  private flushCount = 0;

  constructor(opts: FrameSchedulerOptions = {}) {
    this.minInterval = 1000 / (opts.fps ?? 30);
    this.maxInterval = 1000 / (opts.minFps ?? 2);
    this.budget = opts.budget;
    this.now = opts.now ?? (() => performance.now());
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimer ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>));
  }

  /** Frames run so far (each runs every callback that was due). */
  get frames(): number {
    return this.flushCount;
  }

  /** The time between frames now: 1/fps, or longer while renders are slow (see `budget`). */
  get interval(): number {
    if (this.budget === undefined || this.renderMs === 0) return this.minInterval;
    return Math.min(this.maxInterval, Math.max(this.minInterval, this.renderMs / this.budget));
  }

  /** How long the last render took (ms): feeds the budget (a moving average). */
  reportRender(ms: number): void {
    this.renderMs = this.renderMs === 0 ? ms : this.renderMs * 0.8 + ms * 0.2;
  }

  /** Runs `cb` on the next frame, or no earlier than `delayMs` from now. A callback queued twice runs once. */
  request(cb: () => void, delayMs = 0): void {
    if (this.disposed) return;
    const at = this.now() + delayMs;
    const prev = this.due.get(cb);
    if (prev === undefined || at < prev) this.due.set(cb, at);
    this.arm();
  }

  cancel(cb: () => void): void {
    this.due.delete(cb);
  }

  /** Runs every callback that is due now (the timer calls it; tests may too). */
  flush(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.now();
    this.lastFlush = now;
    const run: Array<() => void> = [];
    for (const [cb, at] of this.due) {
      if (at <= now + 1) {
        run.push(cb);
        this.due.delete(cb);
      }
    }
    if (run.length > 0) this.flushCount++;
    for (const cb of run) cb();
    this.arm();
  }

  dispose(): void {
    this.disposed = true;
    this.due.clear();
    if (this.timer) this.clearTimer(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.disposed || this.due.size === 0) return;
    let earliest = Infinity;
    for (const at of this.due.values()) if (at < earliest) earliest = at;
    const at = Math.max(earliest, this.lastFlush + this.interval);
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timerAt = at;
    this.timer = this.setTimer(() => this.flush(), Math.max(0, at - this.now()));
    // The terminal's stdin keeps a TUI alive; a pending frame alone must not keep a test or a
    // finished replay from exiting.
    this.timer.unref?.();
  }
}

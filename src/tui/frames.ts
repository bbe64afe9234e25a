/**
 * The TUI's one frame timer. Bus events only mark what changed; the callbacks registered here
 * run together at most `fps` times a second, so a burst of 100 trades is one re-render, and a
 * panel that asks to be woken later (a price flash fading) shares the same timer.
 *
 * Ink composes the whole screen on every render, so a frame costs the same whatever changed. With
 * a `cpuBudget`, frames are spaced so that the whole process (engine and rendering) uses at most
 * that share of one core: 30 fps where rendering is cheap, fewer on a slow machine or a busy market.
 * (`budget` does the same from the render times Ink reports, which are wall time and leave out
 * React's own work and the garbage collector: on a loaded machine it throttles too much, on an idle
 * one too little.)
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
  /** Largest share of one core the process may use, 0..1, measured with `cpuNow` (default: no limit). */
  cpuBudget?: number;
  /** CPU time the process has used so far, ms (default process.cpuUsage, user + system). */
  cpuNow?: () => number;
  /** The timer (default setTimeout); tests drive a virtual one. */
  setTimer?: (fn: () => void, ms: number) => { unref?(): unknown };
  clearTimer?: (t: { unref?(): unknown }) => void;
}

const CPU_WINDOW_MS = 1000;

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
  private readonly cpuBudget: number | undefined;
  private readonly cpuNow: () => number;
  /** Frame spacing the CPU budget asks for; adjusted once per CPU_WINDOW_MS of frames. */
  private cpuInterval: number;
  private cpuWindow: { wall: number; cpu: number } | undefined;

  constructor(opts: FrameSchedulerOptions = {}) {
    this.minInterval = 1000 / (opts.fps ?? 30);
    this.maxInterval = 1000 / (opts.minFps ?? 2);
    this.budget = opts.budget;
    this.now = opts.now ?? (() => performance.now());
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimer ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>));
    this.cpuBudget = opts.cpuBudget;
    this.cpuNow =
      opts.cpuNow ??
      (() => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
      });
    this.cpuInterval = this.minInterval;
  }

  /** Frames run so far (each runs every callback that was due). */
  get frames(): number {
    return this.flushCount;
  }

  /** The time between frames now: 1/fps, or longer while renders are slow (see `budget`). */
  get interval(): number {
    if (this.budget === undefined || this.renderMs === 0) return this.cpuInterval;
    return Math.min(this.maxInterval, Math.max(this.cpuInterval, this.renderMs / this.budget));
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
    this.governCpu(now);
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

  /**
   * Once a second (while frames run), compares the process's CPU share with the budget and
   * stretches the frame spacing by the overshoot (at most 2× a step), or shortens it when well
   * under (at most ½ a step). Frames are most of what the TUI can give up; the engine's own share
   * stays, and if it alone is over the budget the frames go down to minFps.
   */
  private governCpu(now: number): void {
    if (this.cpuBudget === undefined) return;
    const cpu = this.cpuNow();
    if (this.cpuWindow === undefined) {
      this.cpuWindow = { wall: now, cpu };
      return;
    }
    const wall = now - this.cpuWindow.wall;
    if (wall < CPU_WINDOW_MS) return;
    const over = (cpu - this.cpuWindow.cpu) / wall / this.cpuBudget;
    this.cpuWindow = { wall: now, cpu };
    if (over > 1) this.cpuInterval = Math.min(this.maxInterval, this.cpuInterval * Math.min(2, over));
    else if (over < 0.8) this.cpuInterval = Math.max(this.minInterval, this.cpuInterval * Math.max(0.5, over / 0.9));
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

import { monitorEventLoopDelay } from 'node:perf_hooks';

/** Event-loop delay over one window, in seconds (0 for a window without samples). */
export interface LoopDelayWindow {
  p50: number;
  p99: number;
  max: number;
  /** Delay samples in the window. */
  samples: number;
  /** False until the first window has closed: then these are the samples so far. */
  complete: boolean;
}

/** The read side of a node:perf_hooks histogram, in nanoseconds: monitorEventLoopDelay's, or createHistogram's. */
export interface DelayHistogram {
  readonly count: number;
  readonly max: number;
  percentile(p: number): number;
  reset(): void;
}

export interface LoopDelayOptions {
  /** Window length; default 10 s. */
  windowMs?: number;
  /** Where the delays are recorded; default: monitorEventLoopDelay at 10 ms resolution, sampled until close(). */
  histogram?: DelayHistogram;
}

const DEFAULT_WINDOW_MS = 10_000;
/** monitorEventLoopDelay's sampling resolution, ms. */
const RESOLUTION_MS = 10;

/**
 * Event-loop delay in fixed windows. A timer closes each window (summarises the histogram, then resets
 * it); reading never does, so every reader — the TUI polling /metrics, Prometheus scraping it, both at
 * once — sees the same last complete window however often it reads.
 */
export class LoopDelayWindows {
  readonly windowMs: number;
  private readonly histogram: DelayHistogram;
  private readonly stopSampling: () => void;
  private readonly timer: ReturnType<typeof setInterval>;
  private last: LoopDelayWindow | undefined;

  constructor(opts: LoopDelayOptions = {}) {
    this.windowMs = opts.windowMs ?? DEFAULT_WINDOW_MS;
    if (!(this.windowMs > 0)) throw new RangeError(`loop delay window must be positive, got ${this.windowMs} ms`);
    if (opts.histogram) {
      this.histogram = opts.histogram;
      this.stopSampling = () => undefined;
    } else {
      const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      h.enable();
      this.histogram = h;
      this.stopSampling = () => h.disable();
    }
    this.timer = setInterval(() => this.closeWindow(), this.windowMs);
    // Metrics never keep the process alive.
    this.timer.unref();
  }

  /** The last complete window; until the first one closes, the samples so far. */
  report(): LoopDelayWindow {
    return this.last ?? summarise(this.histogram, false);
  }

  /** Stops the windows and the sampling. */
  close(): void {
    clearInterval(this.timer);
    this.stopSampling();
  }

  private closeWindow(): void {
    this.last = summarise(this.histogram, true);
    this.histogram.reset();
  }
}

function summarise(h: DelayHistogram, complete: boolean): LoopDelayWindow {
  const s = (ns: number): number => (h.count === 0 || !Number.isFinite(ns) ? 0 : ns / 1e9);
  return { p50: s(h.percentile(50)), p99: s(h.percentile(99)), max: s(h.max), samples: h.count, complete };
}

export type StopReason = 'SIGINT' | 'SIGTERM' | 'duration';

export interface StopWatch {
  /** Resolves with what ended the run first. */
  stopped: Promise<StopReason>;
  /** Removes the signal handlers and the timer; call it in a finally. */
  dispose(): void;
}

/** Ends a long-running command on Ctrl-C, SIGTERM or after `durationMs` (until a signal when undefined). */
export function untilStopped(durationMs: number | undefined): StopWatch {
  let finish!: (why: StopReason) => void;
  const stopped = new Promise<StopReason>((resolve) => (finish = resolve));
  const onInt = (): void => finish('SIGINT');
  const onTerm = (): void => finish('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  const timer = durationMs === undefined ? undefined : setTimeout(() => finish('duration'), durationMs);
  return {
    stopped,
    dispose: () => {
      clearTimeout(timer);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}

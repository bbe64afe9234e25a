import type { ReactNode } from 'react';
import { EventLog } from './event-log.js';
import { FrameScheduler } from './frames.js';
import { TuiContext, type TuiContextValue } from './hooks.js';
import { KeyRouter } from './keys.js';
import type { TuiSource } from './source.js';
import { themeFromEnv, type Theme } from './theme.js';

export interface TuiContextOptions {
  theme?: Theme;
  fps?: number;
  /** Share of wall time the renders may take (FrameScheduler budget). */
  budget?: number;
  /** Share of one core the whole process may use; frames are spaced to stay within it (FrameScheduler cpuBudget). */
  cpuBudget?: number;
  wallNow?: () => number;
}

/** The context a TUI runs in: the source plus one frame timer and one event log for all panels. */
export function createTuiContext(source: TuiSource, opts: TuiContextOptions = {}): TuiContextValue & { dispose(): void } {
  const wallNow = opts.wallNow ?? Date.now;
  const frames = new FrameScheduler({
    fps: opts.fps ?? 30,
    ...(opts.budget === undefined ? {} : { budget: opts.budget }),
    ...(opts.cpuBudget === undefined ? {} : { cpuBudget: opts.cpuBudget }),
  });
  const log = new EventLog(source, wallNow);
  return {
    source,
    frames,
    log,
    keys: new KeyRouter(),
    theme: opts.theme ?? themeFromEnv(),
    wallNow,
    dispose: () => {
      frames.dispose();
      log.close();
    },
  };
}

/** Makes the context available to every panel below it. */
export function TuiRoot({ ctx, children }: { ctx: TuiContextValue; children: ReactNode }) {
  return <TuiContext.Provider value={ctx}>{children}</TuiContext.Provider>;
}

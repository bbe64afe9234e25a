import { render } from 'ink';
import { App } from './App.js';
import { createTuiContext, TuiRoot } from './context.js';
import type { TuiSource } from './source.js';
import { assertTerminal, enterScreen, guardProcess } from './terminal.js';
import type { Theme } from './theme.js';

export interface RunTuiOptions {
  source: TuiSource;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  theme?: Theme;
  /** Shown in the event log at start. */
  warnings?: string[];
  /**
   * Stops what the TUI showed (the session). It runs while the signal guard is still in place,
   * so a SIGTERM (which other modules re-raise) cannot end the process before it is done.
   */
  cleanup?: () => Promise<void>;
}

const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/**
 * Runs the dashboard full screen until the trader quits (q, Ctrl-C) or a signal arrives. Ink
 * writes at most 30 frames a second, only when the output changed, and the app stays one row
 * shorter than the terminal: a full-height frame would make Ink clear the whole screen each time.
 */
export async function runTui(opts: RunTuiOptions): Promise<void> {
  const stdout = opts.stdout ?? process.stdout;
  const stdin = opts.stdin ?? process.stdin;
  try {
    assertTerminal(stdout, stdin);
  } catch (err) {
    await opts.cleanup?.();
    throw err;
  }
  // The dashboard's target is 15 % of a core with the engine included: frames are spaced to keep
  // the process under 12 % (the budget is checked once a second, so a second may run over).
  const ctx = createTuiContext(opts.source, { cpuBudget: 0.12, ...(opts.theme ? { theme: opts.theme } : {}) });
  for (const w of opts.warnings ?? []) ctx.log.add('warn', w);
  const screen = enterScreen(stdout, stdin);
  let unmount: (() => void) | undefined;
  const unguard = guardProcess(screen, (signal) => {
    process.exitCode = SIGNAL_EXIT[signal] ?? 1;
    unmount?.();
  });
  try {
    const instance = render(
      <TuiRoot ctx={ctx}>
        <App onBell={() => stdout.write('\x07')} />
      </TuiRoot>,
      {
        stdout,
        stdin,
        exitOnCtrlC: false,
        patchConsole: true,
        maxFps: 30,
        onRender: ({ renderTime }) => ctx.frames.reportRender(renderTime),
        // Concurrent mode batches the panels' state updates of one frame into one render and layout.
        concurrent: true,
        // Ink 6.8's incremental writer starts one line low when the output ends in a newline (it
        // does whenever the app is shorter than the terminal), so frames go through the standard
        // writer, which Ink wraps in synchronized-update sequences on a TTY.
        incrementalRendering: false,
      },
    );
    unmount = () => instance.unmount();
    await instance.waitUntilExit();
  } finally {
    ctx.dispose();
    screen.restore();
    try {
      await opts.cleanup?.();
    } finally {
      unguard();
    }
  }
}

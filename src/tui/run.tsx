import { render } from 'ink';
import { UsageError } from '../engine/errors.js';
import { App, createTuiContext, TuiRoot } from './App.js';
import type { TuiSource } from './source.js';
import { enterScreen, guardProcess } from './terminal.js';
import type { Theme } from './theme.js';

export interface RunTuiOptions {
  source: TuiSource;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  theme?: Theme;
  /** Shown in the event log at start. */
  warnings?: string[];
}

/** The TUI draws on a terminal and reads keys from it; anything else is a usage error (exit 2). */
export function assertTerminal(stdout: NodeJS.WriteStream = process.stdout, stdin: NodeJS.ReadStream = process.stdin): void {
  if (!stdout.isTTY || !stdin.isTTY) {
    throw new UsageError('the TUI needs an interactive terminal (stdin and stdout must be a TTY)', {
      hint: 'run it in a terminal; headless, use `qtrade feed`, `qtrade replay` or `qtrade daemon`',
    });
  }
}

/**
 * Runs the dashboard full screen until the trader quits (q, Ctrl-C) or a signal arrives. Ink
 * writes at most 30 frames a second, only when the output changed, and the app stays one row
 * shorter than the terminal: a full-height frame would make Ink clear the whole screen each time.
 */
export async function runTui(opts: RunTuiOptions): Promise<void> {
  const stdout = opts.stdout ?? process.stdout;
  const stdin = opts.stdin ?? process.stdin;
  assertTerminal(stdout, stdin);
  const ctx = createTuiContext(opts.source, opts.theme ? { theme: opts.theme } : {});
  for (const w of opts.warnings ?? []) ctx.log.add('warn', w);
  const screen = enterScreen(stdout, stdin);
  let unmount: (() => void) | undefined;
  const unguard = guardProcess(screen, () => unmount?.());
  try {
    const instance = render(
      <TuiRoot ctx={ctx}>
        <App />
      </TuiRoot>,
      {
        stdout,
        stdin,
        exitOnCtrlC: false,
        patchConsole: true,
        maxFps: 30,
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
    unguard();
    ctx.dispose();
    screen.restore();
  }
}

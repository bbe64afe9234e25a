/**
 * The terminal around the TUI: the alternate screen while it runs, and the way back (main screen,
 * cursor, cooked mode) however it ends: a quit, a thrown error, a signal, or an uncaught exception
 * anywhere in the process. Restoring twice is harmless.
 */
import { UsageError } from '../engine/errors.js';

/** The TUI draws on a terminal and reads keys from it; anything else is a usage error (exit 2). */
export function assertTerminal(stdout: NodeJS.WriteStream = process.stdout, stdin: NodeJS.ReadStream = process.stdin): void {
  if (!stdout.isTTY || !stdin.isTTY) {
    throw new UsageError('the TUI needs an interactive terminal (stdin and stdout must be a TTY)', {
      hint: 'run it in a terminal; headless, use `qtrade feed`, `qtrade replay` or `qtrade daemon`',
    });
  }
}

const ALT_SCREEN_ON = '\u001B[?1049h\u001B[H';
const ALT_SCREEN_OFF = '\u001B[?1049l';
const CURSOR_SHOW = '\u001B[?25h';

export interface Screen {
  /** Leaves the alternate screen and puts the terminal back; idempotent. */
  restore(): void;
}

export function enterScreen(stdout: NodeJS.WriteStream, stdin: NodeJS.ReadStream): Screen {
  let restored = false;
  stdout.write(ALT_SCREEN_ON);
  const restore = (): void => {
    if (restored) return;
    restored = true;
    try {
      if (stdin.isTTY) stdin.setRawMode(false);
    } catch {
      // stdin already closed: nothing left to restore there
    }
    stdout.write(CURSOR_SHOW + ALT_SCREEN_OFF);
  };
  return { restore };
}

/**
 * Process-level guard: on exit, or an exception nothing caught, the terminal is restored before
 * the error is printed, so a crash never leaves the shell in raw mode on the alternate screen.
 * Returns the function that removes the guard.
 */
export function guardProcess(screen: Screen, onSignal: (signal: NodeJS.Signals) => void): () => void {
  const onExit = (): void => screen.restore();
  let hungUp = false;
  const onFatal = (err: unknown): void => {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'EIO' || code === 'EPIPE') {
      // The terminal went away (window closed, ssh dropped). Writes to it fail from now on; the
      // TUI still unmounts and its session still closes (lock, temporary files), as on SIGHUP,
      // with a deadline in case closing hangs.
      if (!hungUp) {
        hungUp = true;
        onSignal('SIGHUP');
        setTimeout(() => process.exit(129), 10_000).unref();
      }
      return;
    }
    screen.restore();
    process.stderr.write(`qtrade tui crashed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  };
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];
  process.on('exit', onExit);
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  for (const s of signals) process.on(s, onSignal);
  return () => {
    process.off('exit', onExit);
    process.off('uncaughtException', onFatal);
    process.off('unhandledRejection', onFatal);
    for (const s of signals) process.off(s, onSignal);
  };
}

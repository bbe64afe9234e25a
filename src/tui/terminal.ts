/**
 * The terminal around the TUI: the alternate screen while it runs, and the way back (main screen,
 * cursor, cooked mode) however it ends: a quit, a thrown error, a signal, or an uncaught exception
 * anywhere in the process. Restoring twice is harmless.
 */
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
  const onFatal = (err: unknown): void => {
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

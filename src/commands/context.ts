import type { Command } from 'commander';
import { QtradeError } from '../engine/errors.js';
import { Settings } from '../config/resolve.js';

/** Global options every command sees (declared on the root program). */
export interface GlobalOptions {
  dataDir?: string;
  proxy?: string;
  store?: string;
  connect?: string;
}

/** Builds the effective settings of this invocation from the root program's options. */
export function settingsFor(cmd: Command, extraFlags: Record<string, string | undefined> = {}): Settings {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  return new Settings({
    dataDir: g.dataDir,
    flags: { proxy: g.proxy, store: g.store, 'daemon.url': g.connect, ...extraFlags },
  });
}

// `qtrade candles ... | head` closes stdout early: that ends the output, it is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

/** Output of a command: human text on stdout, diagnostics on stderr, JSON when asked. */
export const out = {
  line(text = ''): void {
    process.stdout.write(text + '\n');
  },
  json(value: unknown): void {
    process.stdout.write(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
  },
  err(text: string): void {
    process.stderr.write(text + '\n');
  },
};

/**
 * Wraps a command action: typed errors become a one-line message, a hint and their exit
 * code; anything else is a bug and exits 1 with its stack under QTRADE_DEBUG.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}

export function reportError(err: unknown): number {
  if (err instanceof QtradeError) {
    out.err(`error: ${err.message}`);
    if (err.hint) out.err(`hint: ${err.hint}`);
    if (process.env.QTRADE_DEBUG && err.cause) out.err(String((err.cause as Error).stack ?? err.cause));
    return err.exitCode;
  }
  const e = err as Error;
  out.err(`error: ${e?.message ?? String(err)}`);
  if (process.env.QTRADE_DEBUG) out.err(String(e?.stack));
  return 1;
}

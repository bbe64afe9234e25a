/**
 * Runs a real terminal program inside a detached tmux session, on a tmux server of its own (a
 * private socket, no user config), so tests can type keys and read the screen as a trader sees it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TmuxOptions {
  /** argv of the program; run directly, without a shell. */
  command: string[];
  columns: number;
  rows: number;
  env?: Record<string, string>;
  cwd?: string;
}

export interface TmuxSession {
  readonly name: string;
  /** The visible screen as text, trailing spaces trimmed from every line. */
  capture(): string;
  /** tmux key names ('Enter', 'BTab', 'Down', 'BSpace', 'q'), one key each. */
  keys(...keys: string[]): void;
  /** Literal text, sent as typed. */
  type(text: string): void;
  /** Polls the screen until `want` matches; rejects after `timeoutMs` with `what` and the last screen. */
  waitFor(want: string | RegExp | ((screen: string) => boolean), what: string, timeoutMs?: number): Promise<string>;
  /** The program's exit status once it ended, undefined while it runs. */
  exitStatus(): number | undefined;
  /** Resolves with the exit status; rejects after `timeoutMs` with the last screen. */
  waitForExit(timeoutMs?: number): Promise<number>;
  /** Whether the terminal is on its alternate screen (during the program, or left there by it). */
  alternateScreen(): boolean;
  /** Whether the cursor is shown (the program hides it while it runs). */
  cursorVisible(): boolean;
  /** The process id of the program, once it started. */
  pid(): number | undefined;
  /** Ends the program and the tmux server; safe to call twice. */
  kill(): void;
}

/** Fails (never skips) when tmux is missing: these tests are the only ones that drive the real terminal. */
export function requireTmux(): void {
  const r = spawnSync('tmux', ['-V'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error('tmux is not installed, and the TUI end-to-end tests drive the real binary inside tmux: install it (apt-get install -y tmux; .ci/run does)');
  }
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
let counter = 0;

export function startTmux(opts: TmuxOptions): TmuxSession {
  requireTmux();
  const socket = `qtrade-test-${process.pid}-${++counter}`;
  const name = 'qt';
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
  // A shell around the program records its exit status and then keeps the terminal open, so the
  // state the program left it in (screen, cursor) can still be read; a dead tmux pane hides it.
  const work = mkdtempSync(path.join(os.tmpdir(), 'qtrade-tmux-'));
  const statusFile = path.join(work, 'status');
  const program = ['env', ...env, ...opts.command].map(quote).join(' ');
  const shell = `${program}; echo $? > ${quote(statusFile)}; exec sleep 86400`;
  tmux('new-session', '-d', '-s', name, '-x', String(opts.columns), '-y', String(opts.rows), '-c', opts.cwd ?? process.cwd(), shell);
  let killed = false;
  const display = (format: string): string => tmux('display-message', '-p', '-t', name, format).trim();
  // kill-server leaves the socket file behind.
  const socketPath = display('#{socket_path}');

  const session: TmuxSession = {
    name,
    capture: () =>
      tmux('capture-pane', '-p', '-t', name)
        .split('\n')
        .map((l) => l.trimEnd())
        .join('\n')
        .replace(/\n+$/, ''),
    keys: (...keys) => {
      for (const k of keys) tmux('send-keys', '-t', name, k);
    },
    type: (text) => {
      tmux('send-keys', '-t', name, '-l', text);
    },
    async waitFor(want, what, timeoutMs = 20_000) {
      const ok = typeof want === 'function' ? want : typeof want === 'string' ? (s: string) => s.includes(want) : (s: string) => want.test(s);
      const deadline = Date.now() + timeoutMs;
      let screen = '';
      for (;;) {
        screen = session.capture();
        if (ok(screen)) return screen;
        const status = session.exitStatus();
        if (status !== undefined) throw new Error(`waiting for ${what}: the program exited with status ${status}; last screen:\n${screen}`);
        if (Date.now() > deadline) throw new Error(`waiting for ${what}: not on screen after ${timeoutMs} ms; last screen:\n${screen}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    exitStatus: () => {
      let text: string;
      try {
        text = readFileSync(statusFile, 'utf8');
      } catch {
        return undefined;
      }
      // The shell may not have finished the line yet.
      return /^\d+\n$/.test(text) ? Number(text) : undefined;
    },
    async waitForExit(timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = session.exitStatus();
        if (s !== undefined) return s;
        if (Date.now() > deadline) throw new Error(`the program did not exit within ${timeoutMs} ms; last screen:\n${session.capture()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    alternateScreen: () => display('#{alternate_on}') === '1',
    cursorVisible: () => display('#{cursor_flag}') === '1',
    pid: () => {
      // The pane's process is the shell; the program is its one child (env execs it).
      const shell = display('#{pane_pid}');
      try {
        const child = readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim().split(' ')[0];
        return child ? Number(child) : undefined;
      } catch {
        return undefined;
      }
    },
    kill: () => {
      if (killed) return;
      killed = true;
      try {
        tmux('kill-server');
      } catch {
        // the server is gone already
      }
      rmSync(work, { recursive: true, force: true });
      rmSync(socketPath, { force: true });
    },
  };
  return session;
}

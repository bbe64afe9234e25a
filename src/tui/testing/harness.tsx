import { render } from 'ink-testing-library';
import { useInput } from 'ink';
import type { ReactElement, ReactNode } from 'react';
import { App } from '../App.js';
import { createTuiContext, TuiRoot } from '../context.js';
import { useTui } from '../hooks.js';
import type { TuiSource } from '../source.js';
import type { Theme } from '../theme.js';

/**
 * Test helpers: render panels or the whole app on a real source in ink-testing-library, at a
 * chosen terminal size, and wait for text to appear. Not part of the shipped TUI.
 */
export const KEYS = {
  tab: '\t',
  shiftTab: '\u001B[Z',
  up: '\u001B[A',
  down: '\u001B[B',
  right: '\u001B[C',
  left: '\u001B[D',
  enter: '\r',
  escape: '\u001B',
  backspace: '\u007F',
} as const;

/** Routes every key to the panel registered as `focus`, as the app does for its focused panel. */
export function PanelHost({ focus, children }: { focus: string; children: ReactNode }) {
  const { keys } = useTui();
  useInput((input, key) => {
    keys.dispatch(focus, input, key);
  });
  return <>{children}</>;
}

export interface Rendered {
  lastFrame(): string;
  write(data: string): void;
  resize(columns: number, rows: number): void;
  unmount(): void;
  ctx: ReturnType<typeof createTuiContext>;
}

export function renderTui(source: TuiSource, node: ReactElement | undefined, opts: { columns?: number; rows?: number; theme?: Theme; wallNow?: () => number } = {}): Rendered {
  const ctx = createTuiContext(source, { theme: opts.theme ?? { color: false }, ...(opts.wallNow ? { wallNow: opts.wallNow } : {}) });
  const inst = render(<TuiRoot ctx={ctx}>{node ?? <App />}</TuiRoot>);
  const resize = (columns: number, rows: number): void => {
    Object.defineProperty(inst.stdout, 'columns', { value: columns, configurable: true });
    Object.defineProperty(inst.stdout, 'rows', { value: rows, configurable: true });
    inst.stdout.emit('resize');
  };
  if (opts.columns !== undefined || opts.rows !== undefined) resize(opts.columns ?? 100, opts.rows ?? 24);
  return {
    lastFrame: () => inst.lastFrame() ?? '',
    write: (d) => inst.stdin.write(d),
    resize,
    unmount: () => {
      inst.unmount();
      ctx.dispose();
    },
    ctx,
  };
}

/** Polls until `check` passes (bounded); the last failure is thrown with the frame for context. */
export async function until(r: Pick<Rendered, 'lastFrame'>, check: (frame: string) => boolean, what: string, timeoutMs = 5000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const f = r.lastFrame();
    if (check(f)) return f;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last frame:\n${f}`);
    await new Promise((res) => setTimeout(res, 15));
  }
}

/** Lets Ink and the frame timer settle after input. */
export const tick = (ms = 60): Promise<void> => new Promise((res) => setTimeout(res, ms));

/**
 * The text of the panel column that starts at `from` and is `width` wide, borders dropped and
 * lines joined with spaces, so a message the panel wrapped reads as one line.
 */
export function columnText(frame: string, from: number, width: number): string {
  return frame
    .split('\n')
    .map((l) => l.slice(from, from + width).replace(/^[│║╔╚┌└]|[│║╗╝┐┘]$/g, '').trim())
    .filter(Boolean)
    .join(' ');
}

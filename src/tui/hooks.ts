import { createContext, useContext, useEffect, useReducer, useRef, useState } from 'react';
import { useStdout } from 'ink';
import type { EventLog } from './event-log.js';
import type { FrameScheduler } from './frames.js';
import type { KeyRouter } from './keys.js';
import type { SourceTopic, SourceTopics, TuiSource } from './source.js';
import type { Theme } from './theme.js';

/** What every panel reads: the engine's view, the shared frame timer, colours and the event log. */
export interface TuiContextValue {
  source: TuiSource;
  frames: FrameScheduler;
  theme: Theme;
  log: EventLog;
  /** Where keys go: the focused panel's handler (keys.ts). */
  keys: KeyRouter;
  /** Wall clock (header clock, reconnect countdown, flashes); tests pin it. */
  wallNow: () => number;
}

export const TuiContext = createContext<TuiContextValue | undefined>(undefined);

export function useTui(): TuiContextValue {
  const ctx = useContext(TuiContext);
  if (!ctx) throw new Error('TUI components must be rendered inside <TuiProvider>');
  return ctx;
}

/** Payloads that belong to a symbol (trades, candles, books, orders) carry it here. */
function payloadSymbol(payload: unknown): string | undefined {
  const s = (payload as { symbol?: unknown } | null)?.symbol;
  return typeof s === 'string' ? s : undefined;
}

export interface SnapshotOptions<T> {
  /** Only events of this symbol wake the snapshot (events without a symbol always do). */
  symbol?: string;
  /** Skip the re-render when the new snapshot equals the last one (default Object.is). */
  isEqual?: (a: T, b: T) => boolean;
  /** Extra inputs of `read` besides the source: a change re-reads at once. */
  deps?: readonly unknown[];
}

/**
 * A value read from the source, re-read on the next frame after any of `topics` fires (and on
 * `source.reset`). Many events in one frame are one read and at most one re-render.
 */
export function useSnapshot<T>(topics: readonly SourceTopic[], read: (source: TuiSource) => T, opts: SnapshotOptions<T> = {}): T {
  const { source, frames } = useTui();
  const readRef = useRef(read);
  readRef.current = read;
  const eqRef = useRef(opts.isEqual ?? Object.is);
  eqRef.current = opts.isEqual ?? Object.is;
  const symbol = opts.symbol?.toUpperCase();
  const topicKey = topics.join(',');
  const deps = opts.deps ?? [];
  // Read at once when the inputs change (a new symbol shows its data in the same render), and
  // from then on when a subscribed topic fires.
  const inputs = useRef<{ source: TuiSource; deps: readonly unknown[] } | undefined>(undefined);
  const value = useRef<T>(undefined as T);
  const changed = !inputs.current || inputs.current.source !== source || inputs.current.deps.length !== deps.length || inputs.current.deps.some((d, i) => !Object.is(d, deps[i]));
  if (changed) {
    inputs.current = { source, deps };
    value.current = read(source);
  }
  const [, rerender] = useReducer((n: number) => n + 1, 0);

  useEffect(() => {
    const refresh = (): void => {
      const next = readRef.current(source);
      if (eqRef.current(value.current, next)) return;
      value.current = next;
      rerender();
    };
    refresh();
    const wake = (payload: unknown): void => {
      if (symbol !== undefined) {
        const s = payloadSymbol(payload);
        if (s !== undefined && s !== symbol) return;
      }
      frames.request(refresh);
    };
    const offs = [...topicKey.split(','), 'source.reset'].filter(Boolean).map((t) => source.subscribe(t as SourceTopic, wake));
    return () => {
      for (const off of offs) off();
      frames.cancel(refresh);
    };
  }, [source, frames, topicKey, symbol, ...deps]);
  return value.current;
}

/** Calls `handler` for every event of `topic` (not throttled: for logs and counters, not rendering). */
export function useTopicEvent<T extends SourceTopic>(topic: T, handler: (payload: SourceTopics[T]) => void): void {
  const { source } = useTui();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => source.subscribe(topic, (p) => ref.current(p)), [source, topic]);
}

/** Re-renders on the frame timer every `ms` of wall time (the header clock); one shared timer. */
export function useTicker(ms: number): number {
  const { frames, wallNow } = useTui();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const cb = (): void => {
      setTick((t) => t + 1);
      frames.request(cb, ms - (wallNow() % ms));
    };
    frames.request(cb, ms - (wallNow() % ms));
    return () => frames.cancel(cb);
  }, [frames, ms, wallNow]);
  return tick;
}

/** Asks the frame timer to re-render this component after `ms` (a fading flash). */
export function useWakeAfter(): (ms: number) => void {
  const { frames } = useTui();
  const [, setN] = useState(0);
  const cb = useRef<() => void>(() => setN((n) => n + 1));
  useEffect(() => () => frames.cancel(cb.current), [frames]);
  return (ms: number) => frames.request(cb.current, ms);
}

export interface TerminalSize {
  columns: number;
  rows: number;
}

/** The terminal's size, following resizes. */
export function useTerminalSize(): TerminalSize {
  const { stdout } = useStdout();
  const read = (): TerminalSize => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = (): void => setSize(read());
    stdout.on('resize', onResize);
    onResize();
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}

/** The feed is down (reconnecting, or connecting again): panels keep their last data, dimmed. */
export function useFeedStale(): boolean {
  return useSnapshot(['feed.state'], (s) => {
    const st = s.feed().state;
    return st !== undefined && (st.state === 'reconnecting' || (st.state === 'connecting' && st.attempt > 0));
  });
}

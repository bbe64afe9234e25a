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

/**
 * The latest payload of one topic (of one symbol), applied on the next frame: a burst of events
 * is one re-render showing the last of them. `initial` reads the value to show before the first.
 */
export function useTopic<T extends SourceTopic>(
  topic: T,
  opts: { symbol?: string; initial?: (source: TuiSource) => SourceTopics[T] | undefined } = {},
): SourceTopics[T] | undefined {
  const { source, frames } = useTui();
  const symbol = opts.symbol?.toUpperCase();
  const [value, setValue] = useState<SourceTopics[T] | undefined>(() => opts.initial?.(source));
  useEffect(() => {
    let latest: SourceTopics[T] | undefined;
    const apply = (): void => setValue(latest);
    const off = source.subscribe(topic, (payload) => {
      if (symbol !== undefined) {
        const s = payloadSymbol(payload);
        if (s !== undefined && s !== symbol) return;
      }
      latest = payload;
      frames.request(apply);
    });
    return () => {
      off();
      frames.cancel(apply);
    };
  }, [source, frames, topic, symbol]);
  return value;
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

/** The terminal's size, read at every render and re-rendered on resize. */
export function useTerminalSize(): TerminalSize {
  const { stdout } = useStdout();
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const size = { columns: stdout.columns || 80, rows: stdout.rows || 24 };
  const seen = useRef(size);
  seen.current = size;
  useEffect(() => {
    const onResize = (): void => {
      if ((stdout.columns || 80) !== seen.current.columns || (stdout.rows || 24) !== seen.current.rows) rerender();
    };
    stdout.on('resize', onResize);
    onResize(); // a resize before this subscription
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

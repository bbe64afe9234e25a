import { useCallback, useEffect, useRef, useState } from 'react';
import type { Key } from 'ink';
import { useTui } from './hooks.js';

/**
 * Keyboard routing. The app reads stdin through one Ink input handler that never changes; it
 * handles the global keys and hands the rest to the focused panel's handler, looked up here by
 * panel id. Handlers are registered during render, so the one that runs is always the latest
 * render's, and nothing waits on an effect to (re)subscribe: with many keys in one chunk (a
 * paste, a fast typist, tmux send-keys) every key lands where the focus is at that moment.
 */
export type KeyHandler = (input: string, key: Key) => void;

export class KeyRouter {
  private readonly handlers = new Map<string, KeyHandler>();

  set(id: string, handler: KeyHandler): void {
    this.handlers.set(id, handler);
  }

  delete(id: string, handler: KeyHandler): void {
    if (this.handlers.get(id) === handler) this.handlers.delete(id);
  }

  /** Runs the handler registered under `id`; false when there is none. */
  dispatch(id: string | undefined, input: string, key: Key): boolean {
    const h = id === undefined ? undefined : this.handlers.get(id);
    if (!h) return false;
    h(input, key);
    return true;
  }
}

/** Registers this panel's key handler under `id` (its latest closure, at every render). */
export function usePanelKeys(id: string, handler: KeyHandler): void {
  const { keys } = useTui();
  const stable = useRef<KeyHandler | undefined>(undefined);
  const latest = useRef(handler);
  latest.current = handler;
  stable.current ??= (input, key) => latest.current(input, key);
  keys.set(id, stable.current);
  useEffect(() => {
    const h = stable.current!;
    keys.set(id, h);
    return () => keys.delete(id, h);
  }, [keys, id]);
}

/**
 * State whose latest value key handlers can read at once: several keys handled before React
 * renders again still see each other's changes.
 */
export function useKeyState<T>(initial: T | (() => T)): [T, (next: T | ((prev: T) => T)) => void, { readonly current: T }] {
  const [value, setValue] = useState<T>(initial);
  const ref = useRef<T>(value);
  const set = useCallback((next: T | ((prev: T) => T)) => {
    const v = typeof next === 'function' ? (next as (prev: T) => T)(ref.current) : next;
    ref.current = v;
    setValue(v);
  }, []);
  return [value, set, ref];
}

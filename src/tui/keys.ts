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
  private readonly capturing = new Map<string, () => boolean>();

  /**
   * While `active()` says so, panel `id` takes every key when focused (text entry: digits, letters),
   * before the app's own keys; Tab still moves the focus.
   */
  setCapture(id: string, active: () => boolean): void {
    this.capturing.set(id, active);
  }

  deleteCapture(id: string, active: () => boolean): void {
    if (this.capturing.get(id) === active) this.capturing.delete(id);
  }

  /** Whether panel `id` takes every key now. */
  captures(id: string | undefined): boolean {
    return id !== undefined && this.capturing.get(id)?.() === true;
  }

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

/** Lets panel `id` take every key while `active.current` is true (see KeyRouter.setCapture). */
export function usePanelCapture(id: string, active: { readonly current: boolean }): void {
  const { keys } = useTui();
  const check = useRef(() => active.current);
  check.current = () => active.current;
  const stable = useRef<() => boolean>(() => check.current());
  keys.setCapture(id, stable.current);
  useEffect(() => {
    const c = stable.current;
    keys.setCapture(id, c);
    return () => keys.deleteCapture(id, c);
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

import { useEffect, useRef, useState } from 'react';
import { Box, Text } from 'ink';
import type { AlertFiring } from '../../engine/alerts/types.js';
import { hms } from '../format.js';
import { useTui, useWakeAfter } from '../hooks.js';
import { toneColor } from '../theme.js';
import { wrap } from './Assistant.js';

/** How long a toast stays (wall time). */
export const TOAST_MS = 8000;
const MAX_TOASTS = 3;
/** Firings this close together ring the bell once. */
const BELL_GAP_MS = 1000;

interface Toast {
  firing: AlertFiring;
  until: number;
}

export interface ToastsProps {
  /** Terminal width: toasts sit at the right edge. */
  width: number;
  /** Rows from the top of the app (under the header). */
  top: number;
  /** Rings the terminal bell (the app's stdout); called on a firing unless alerts.bell is off. */
  onBell?: () => void;
}

/**
 * Alert firings in a box over whatever layout is showing, newest first, each for TOAST_MS; the
 * bell on a firing (once per burst) unless the alerts.bell setting is off. Every firing and every
 * notice of the alerts also goes to the event log, so nothing is lost when a toast fades.
 */
export function Toasts({ width, top, onBell }: ToastsProps) {
  const { source, log, theme, wallNow } = useTui();
  const [toasts, setToasts] = useState<Toast[]>([]);
  const wake = useWakeAfter();
  const lastBell = useRef(-Infinity);
  const bell = useRef(onBell);
  bell.current = onBell;
  const alerts = source.alerts;

  useEffect(() => {
    if (!alerts) return;
    return alerts.subscribe((e) => {
      if (e.kind === 'notice') {
        log.add(e.level === 'info' ? 'info' : e.level, `alerts: ${e.message}`);
        return;
      }
      if (e.kind !== 'fired') return;
      const f = e.firing;
      log.add('warn', `alert ${f.id}: ${f.message}${f.test ? ' (test)' : ''}`, f.time);
      const now = wallNow();
      setToasts((list) => [{ firing: f, until: now + TOAST_MS }, ...list.filter((t) => t.until > now)].slice(0, MAX_TOASTS));
      wake(TOAST_MS + 50);
      if (alerts.bell && now - lastBell.current >= BELL_GAP_MS) {
        lastBell.current = now;
        bell.current?.();
      }
    });
    // `wake` is a new function each render, but each requests the same re-render.
  }, [alerts, log, wallNow]);

  const now = wallNow();
  const shown = toasts.filter((t) => t.until > now);
  if (shown.length === 0) return null;
  const w = Math.min(width, Math.max(44, Math.min(64, Math.floor(width * 0.55))));
  const room = w - 2;
  const color = toneColor(theme, 'warn');
  const first = shown[0]!.firing;
  const test = (f: AlertFiring): string => (f.test ? ' (test)' : '');
  // One box: a single firing's message over up to two lines; several, one line each, newest first.
  const title = shown.length === 1 ? `alert ${first.id} · ${hms(first.time)} UTC` : `${shown.length} alerts`;
  const lines = shown.length === 1 ? wrap(first.message + test(first), room - 1).slice(0, 2) : shown.map((t) => `${t.firing.id} ${hms(t.firing.time)} ${t.firing.message}${test(t.firing)}`);
  const fitted = (text: string, fill = ' '): string => (text.length > room ? text.slice(0, room - 1) + '…' : text + fill.repeat(room - text.length));
  return (
    <Box position="absolute" marginTop={top} marginLeft={Math.max(0, width - w)} width={w} flexDirection="column">
      <Text color={color} bold wrap="truncate">
        {'╔' + fitted(`═ ${title} `, '═') + '╗'}
      </Text>
      {lines.map((l, i) => (
        <Text key={i} wrap="truncate">
          <Text color={color}>║</Text>
          {fitted(` ${l}`)}
          <Text color={color}>║</Text>
        </Text>
      ))}
      <Text color={color} wrap="truncate">
        {'╚' + '═'.repeat(room) + '╝'}
      </Text>
    </Box>
  );
}

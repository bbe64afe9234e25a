import { useEffect, useRef, useState } from 'react';
import { Box, Text } from 'ink';
import type { AlertFiring } from '../../engine/alerts/types.js';
import { hms } from '../format.js';
import { useTui, useWakeAfter } from '../hooks.js';
import { toneColor } from '../theme.js';

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
 * Alert firings as toasts over whatever layout is showing, newest on top, each for TOAST_MS; the
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
  const w = Math.min(width, Math.max(40, Math.min(64, Math.floor(width * 0.5))));
  const color = toneColor(theme, 'warn');
  const row = (left: string, text: string, right: string, fill: string): string => {
    const room = w - 2;
    return left + (text.length > room ? text.slice(0, room - 1) + '…' : text + fill.repeat(room - text.length)) + right;
  };
  return (
    <Box position="absolute" marginTop={top} marginLeft={Math.max(0, width - w)} width={w} flexDirection="column">
      {shown.map((t) => (
        <Box key={t.firing.id} flexDirection="column" width={w}>
          <Text color={color} bold wrap="truncate">
            {row('╔', `═ alert ${t.firing.id} · ${hms(t.firing.time)} UTC `, '╗', '═')}
          </Text>
          <Text wrap="truncate">
            <Text color={color}>║</Text>
            {row('', ` ${t.firing.message}${t.firing.test ? ' (test)' : ''}`, '', ' ')}
            <Text color={color}>║</Text>
          </Text>
          <Text color={color} wrap="truncate">
            {row('╚', '', '╝', '═')}
          </Text>
        </Box>
      ))}
    </Box>
  );
}

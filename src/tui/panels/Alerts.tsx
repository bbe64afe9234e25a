import { useEffect, useReducer } from 'react';
import { Box, Text } from 'ink';
import { durationText, type AlertFiring } from '../../engine/alerts/types.js';
import { fit, hms, md } from '../format.js';
import { useTicker, useTui } from '../hooks.js';
import type { AlertItem, AlertsSource } from '../sources/alerts.js';
import { toneColor } from '../theme.js';
import { Panel, inner } from './Panel.js';

/** Re-renders on the next frame after the alerts change, and every few seconds (expiry, alerts added elsewhere). */
function useAlertsVersion(alerts: AlertsSource | undefined): void {
  const { frames } = useTui();
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  useTicker(2000);
  useEffect(() => {
    if (!alerts) return;
    const refresh = (): void => rerender();
    const off = alerts.subscribe((e) => {
      if (e.kind === 'changed') frames.request(refresh);
    });
    return () => {
      off();
      frames.cancel(refresh);
    };
  }, [alerts, frames]);
}

const modeOf = (a: AlertItem): string => (a.mode === 'every' && a.cooldownMs !== null ? `every ${durationText(a.cooldownMs)}` : a.mode === 'until-cancelled' ? 'until cancelled' : 'once');

/** id and symbol before the condition, mode, status, firings and last firing after it. */
const HEAD = 16;
const TAIL = 43;
/** Wide enough for the columns with a 12-character condition; narrower, one line of text per alert. */
const isWide = (w: number): boolean => w >= HEAD + TAIL + 12;

function AlertRow({ a, w }: { a: AlertItem; w: number }) {
  const { theme } = useTui();
  const last = a.lastFiredAt === null ? '–' : `${md(a.lastFiredAt)} ${hms(a.lastFiredAt)}`;
  const tail = ` ${fit(modeOf(a), 15)} ${fit(a.status, 7)} ${fit(String(a.fired), 3, 'right')} ${fit(last, 14)}`;
  const head = `${fit(a.id, 5)} ${fit(a.symbol, 9)} `;
  const wide = isWide(w);
  return (
    <Text wrap="truncate" dimColor={a.status !== 'active'}>
      <Text color={toneColor(theme, a.status === 'active' ? 'accent' : undefined)}>{head}</Text>
      {wide ? fit(a.condition, w - head.length - tail.length) + tail : fit(`${a.condition} · ${modeOf(a)} · ${a.status} · fired ${a.fired}`, Math.max(0, w - head.length))}
    </Text>
  );
}

function FiringRow({ f }: { f: AlertFiring }) {
  const { theme } = useTui();
  return (
    <Text wrap="truncate">
      <Text color={toneColor(theme, 'muted')}>
        {md(f.time)} {hms(f.time)}{' '}
      </Text>
      <Text color={toneColor(theme, 'warn')}>{fit(f.id, 8)} </Text>
      {f.message}
      {f.test ? ' (test)' : ''}
    </Text>
  );
}

/**
 * The alerts where this session's engine runs (the store's, shared with `qtrade alert`), then the
 * firings, newest first. Added and removed from the command line: /alert SYMBOL CONDITION, /alert rm ID.
 */
export function AlertsPanel({ width, height, focused }: { width: number; height: number; focused: boolean }) {
  const { source, theme } = useTui();
  const alerts = source.alerts;
  useAlertsVersion(alerts);
  const { w, h } = inner(width, height);
  if (!alerts) {
    return (
      <Panel title="Alerts" width={width} height={height} focused={focused}>
        <Text color={toneColor(theme, 'muted')} wrap="wrap">
          Alerts do not run in this session.
        </Text>
      </Panel>
    );
  }
  const list = alerts.list();
  const active = list.filter((a) => a.status === 'active');
  // Active alerts first; done and expired ones after them, while there is room.
  const ordered = [...active, ...list.filter((a) => a.status !== 'active').reverse()];
  const history = [...alerts.history()].reverse();
  const top = Math.min(Math.max(1, ordered.length) + 1, Math.max(2, Math.floor((h - 1) / 2)));
  const bottom = Math.max(0, h - top - 1);
  return (
    <Panel title={`Alerts (${active.length} active)`} width={width} height={height} focused={focused} hint="/alert SYMBOL COND · /alert rm ID">
      <Box flexDirection="column" height={top} flexShrink={0} overflow="hidden">
        <Text bold wrap="truncate">
          {isWide(w) ? `${fit('id', 5)} ${fit('symbol', 9)} ${fit('condition', w - HEAD - TAIL)} ${fit('mode', 15)} ${fit('status', 7)} ${fit('#', 3, 'right')} ${fit('last fired', 14)}` : 'Alerts'}
        </Text>
        {ordered.length === 0 ? (
          <Text color={toneColor(theme, 'muted')} wrap="truncate">
            none: /alert btcusdt price {'>'} 70000 adds one (qtrade alert add too)
          </Text>
        ) : (
          ordered.slice(0, top - 1).map((a) => <AlertRow key={a.id} a={a} w={w} />)
        )}
      </Box>
      <Text bold wrap="truncate">
        Fired ({history.length})
      </Text>
      <Box flexDirection="column" height={bottom} flexShrink={0} overflow="hidden">
        {history.length === 0 ? (
          <Text color={toneColor(theme, 'muted')} wrap="truncate">
            nothing yet
          </Text>
        ) : (
          history.slice(0, bottom).map((f) => <FiringRow key={f.id} f={f} />)
        )}
      </Box>
    </Panel>
  );
}

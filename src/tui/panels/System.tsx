import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import { group, hms } from '../format.js';
import { useSnapshot, useTicker, useTui } from '../hooks.js';
import type { Health, SystemView } from '../sources/system.js';
import { toneColor, type Tone } from '../theme.js';
import { Panel, inner } from './Panel.js';

/** Marks that carry the health without colour too. */
const MARK: Record<Health, string> = { ok: '✓', warn: '!', down: '✗', off: '–' };
const TONE: Record<Health, Tone> = { ok: 'good', warn: 'warn', down: 'bad', off: 'muted' };
const RANK: Record<Health, number> = { off: 0, ok: 1, warn: 2, down: 3 };

/** The worst health of the modules (a stopped module is not a problem). */
export function overallHealth(v: SystemView): Health {
  return v.modules.reduce<Health>((worst, m) => (RANK[m.health] > RANK[worst] ? m.health : worst), 'ok');
}

export function uptimeText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
}

const mb = (bytes: number): string => `${Math.round(bytes / 1_048_576)} MB`;

const LOG_TONE: Record<'info' | 'warn' | 'error', Tone | undefined> = { info: undefined, warn: 'warn', error: 'bad' };

/**
 * The engine at a glance: health of each module, store, Redis bus, daemon clients, the feed's
 * streams, the kernel's counters, memory, and the engine's own log (strategy starts, pauses,
 * errors and what the strategies log). Refreshed once a second and on feed, order and risk events.
 */
export function SystemPanel({ width, height, focused }: { width: number; height: number; focused: boolean }) {
  const { theme } = useTui();
  const tick = useTicker(1000);
  const v = useSnapshot(['feed.state', 'risk.state', 'fill', 'order.update'], (s) => s.system.status(), { deps: [tick] });
  const { w, h } = inner(width, height);
  const muted = toneColor(theme, 'muted');
  const health = overallHealth(v);
  const nameW = Math.max(...v.modules.map((m) => m.name.length), 'Redis bus'.length) + 1;

  const row = (health: Health, name: string, detail: string, key: string) => (
    <Text key={key} wrap="truncate">
      <Text color={toneColor(theme, TONE[health])}>{MARK[health]} </Text>
      <Text bold>{name.padEnd(nameW)}</Text>
      {detail}
    </Text>
  );

  const redis = v.redis ? row(v.redis.health, 'Redis bus', `${v.redis.role} · ${v.redis.detail}`, 'redis') : undefined;
  const clients = v.clients ? row('ok', 'clients', `${v.clients.count} · ${v.clients.detail}`, 'clients') : undefined;
  // Without a bus and a daemon, one line says so.
  const elsewhere =
    redis || clients
      ? [redis ?? row('off', 'Redis bus', 'none', 'redis'), clients ?? row('off', 'daemon', 'not attached', 'clients')]
      : [row('off', 'bus, daemon', 'no Redis bus · no daemon: this TUI runs its own engine', 'elsewhere')];

  const channels = v.feed.streams[0]?.channels.join(' ') ?? 'none';
  const streams = v.feed.streams.map((s) => `${s.symbol.padEnd(nameW - 2)}${s.lastTradeTime === undefined ? 'no trade yet' : `last trade ${hms(s.lastTradeTime)}`} · book ${s.book}`);
  // Problems first, so they stay when the panel is short.
  const counters = [...v.counters].sort((a, b) => Number(b.bad === true && b.value > 0) - Number(a.bad === true && a.value > 0));
  const counterLines: Array<Array<{ text: string; bad: boolean }>> = [[]];
  let used = 'counters '.length;
  for (const c of counters) {
    const bad = c.bad === true && c.value > 0;
    const text = `${c.name} ${group(String(c.value))}${bad && !theme.color ? ' (!)' : ''}`;
    if (used + text.length + 3 > w && counterLines[counterLines.length - 1]!.length > 0) {
      counterLines.push([]);
      used = 'counters '.length;
    }
    counterLines[counterLines.length - 1]!.push({ text, bad });
    used += text.length + 3;
  }

  // Rows: the health line, the modules, bus and daemon, the streams, then counters and the engine log as room allows.
  const fixedRows = 1 + v.modules.length + elsewhere.length + 1 + streams.length;
  const shownCounters = counterLines.slice(0, Math.max(1, h - fixedRows));
  const logRows = Math.max(0, h - fixedRows - shownCounters.length - 1);
  const logs = logRows > 0 ? v.logs.slice(-logRows) : [];

  const rows: ReactNode[] = [
    <Text key="health" wrap="truncate">
      <Text color={toneColor(theme, TONE[health])} bold>
        {MARK[health]} health {health === 'ok' ? 'OK' : health.toUpperCase()}
      </Text>
      <Text color={muted}>
        {' · '}
        {v.engine === 'embedded' ? 'engine in this process' : 'engine in the daemon'} · up {uptimeText(v.uptimeMs)} · memory {mb(v.memory.rssBytes)} rss, {mb(v.memory.heapUsedBytes)} heap
      </Text>
    </Text>,
    ...v.modules.map((m) => row(m.health, m.name, m.detail, m.name)),
    ...elsewhere,
    <Text key="streams" wrap="truncate" color={muted}>
      streams {channels}
      {v.feed.lagMs === undefined ? '' : ` · lag ${v.feed.lagMs} ms`}
    </Text>,
    ...streams.map((s) => (
      <Text key={s} wrap="truncate">
        {'  '}
        {s}
      </Text>
    )),
    ...shownCounters.map((line, i) => (
      <Text key={`k${i}`} wrap="truncate">
        <Text color={muted}>{i === 0 ? 'counters ' : '         '}</Text>
        {line.map((c, j) => (
          <Text key={c.text} color={c.bad ? toneColor(theme, 'bad') : undefined}>
            {j > 0 ? ' · ' : ''}
            {c.text}
          </Text>
        ))}
      </Text>
    )),
  ];
  if (logRows > 0) {
    rows.push(
      <Text key="log" color={muted} wrap="truncate">
        engine log {v.logs.length === 0 ? '(nothing yet: strategy starts, pauses and errors show here)' : ''}
      </Text>,
      ...logs.map((l, i) => (
        <Text key={`l${i}`} wrap="truncate">
          <Text color={muted}>{hms(l.time)} </Text>
          <Text color={toneColor(theme, LOG_TONE[l.level])}>{l.text}</Text>
        </Text>
      )),
    );
  }
  // Exactly the rows that fit: Ink would squeeze some out of the middle otherwise.
  return (
    <Panel title="System" width={width} height={height} focused={focused}>
      <Box flexDirection="column">{rows.slice(0, h)}</Box>
    </Panel>
  );
}

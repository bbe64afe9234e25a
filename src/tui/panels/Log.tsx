import { memo, useEffect, useState } from 'react';
import { Box, Text } from 'ink';
import type { LogEntry, LogLevel } from '../event-log.js';
import { hms } from '../format.js';
import { useTui } from '../hooks.js';
import { toneColor, type Tone } from '../theme.js';
import { Panel, inner } from './Panel.js';

const LEVEL_TONE: Record<LogLevel, Tone | undefined> = { info: undefined, good: 'good', warn: 'warn', error: 'bad' };

/** The event log's entries, refreshed on the shared frame timer. */
export function useLogEntries(): readonly LogEntry[] {
  const { log, frames } = useTui();
  const [entries, setEntries] = useState(() => log.entries());
  useEffect(() => {
    const refresh = (): void => setEntries(log.entries());
    refresh();
    const off = log.onChange(() => frames.request(refresh));
    return () => {
      off();
      frames.cancel(refresh);
    };
  }, [log, frames]);
  return entries;
}

const Entry = memo(function Entry({ e }: { e: LogEntry }) {
  const { theme } = useTui();
  return (
    <Text wrap="truncate">
      <Text color={toneColor(theme, 'muted')}>{hms(e.time)} </Text>
      <Text color={toneColor(theme, LEVEL_TONE[e.level])}>{e.text}</Text>
    </Text>
  );
});

/** The bottom line: the latest events, newest first. */
export function LogLine({ width }: { width: number }) {
  const { theme } = useTui();
  const entries = useLogEntries();
  const latest = entries.slice(-3).reverse();
  return (
    <Box width={width} height={1} overflow="hidden" flexShrink={0}>
      <Text wrap="truncate">
        {latest.length === 0 && <Text color={toneColor(theme, 'muted')}> no events yet · / for commands · ? for help</Text>}
        {latest.map((e, i) => (
          <Text key={e.seq}>
            {i === 0 ? ' ' : ' · '}
            <Text color={toneColor(theme, 'muted')}>{hms(e.time)} </Text>
            <Text color={toneColor(theme, LEVEL_TONE[e.level])}>{e.text}</Text>
          </Text>
        ))}
      </Text>
    </Box>
  );
}

/** Every event of the session (the last that fit), newest last. */
export function LogView({ width, height, focused }: { width: number; height: number; focused: boolean }) {
  const entries = useLogEntries();
  const { h } = inner(width, height);
  return (
    <Panel title={`Log (${entries.length})`} width={width} height={height} focused={focused}>
      <Box flexDirection="column">
        {entries.slice(-h).map((e) => (
          <Entry key={e.seq} e={e} />
        ))}
      </Box>
    </Panel>
  );
}

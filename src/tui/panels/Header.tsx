import { Box, Text } from 'ink';
import type { FeedView } from '../source.js';
import { hms } from '../format.js';
import { useSnapshot, useTicker, useTopic, useTui } from '../hooks.js';
import { toneColor, VENUE_LABEL, VENUE_TONE, type Tone } from '../theme.js';

/** Feed state as the header says it: "● binance", "reconnecting (attempt 3, next in 4s)". */
export function feedText(feed: FeedView, label: string, wallNow: number): { text: string; tone: Tone } {
  const s = feed.state;
  if (!s) return { text: `◌ ${label} starting`, tone: 'warn' };
  switch (s.state) {
    case 'open':
      return { text: `● ${label}`, tone: 'good' };
    case 'connecting':
      return { text: `◌ ${label} connecting${s.attempt > 0 ? ` (attempt ${s.attempt})` : ''}`, tone: 'warn' };
    case 'reconnecting': {
      const left = s.nextInMs === undefined ? undefined : Math.max(0, s.nextInMs - (wallNow - (feed.since ?? wallNow)));
      return { text: `◌ reconnecting (attempt ${s.attempt}${left === undefined ? '' : `, next in ${Math.ceil(left / 1000)}s`})`, tone: 'bad' };
    }
    case 'closed':
      return { text: `○ ${label} closed${s.reason ? `: ${s.reason}` : ''}`, tone: 'muted' };
  }
}

function lagText(ms: number | undefined): string {
  if (ms === undefined) return 'lag –';
  return ms < 1000 ? `lag ${Math.max(0, Math.round(ms))}ms` : `lag ${(ms / 1000).toFixed(1)}s`;
}

const RISK_TONE: Record<string, Tone> = { ACTIVE: 'good', REDUCING: 'warn', HALTED: 'bad' };

/** The top line: venue badge, feed state and lag, risk state, clocks, key hints. */
export function Header({ width }: { width: number }) {
  const { source, theme, wallNow } = useTui();
  useTicker(1000);
  // Feed state changes re-render on the next frame; lag and market time are read on the clock's tick.
  useTopic('feed.state', { initial: (s) => s.feed().state });
  const feed = source.feed();
  const risk = useSnapshot(['risk.state', 'fill'], (s) => s.risk(), { isEqual: (a, b) => a.state === b.state && a.reason === b.reason });
  const now = wallNow();
  const venue = source.info.venue;
  const f = feedText(feed, source.info.feed, now);
  const compact = width < 110;
  const c = (t: Tone) => toneColor(theme, t);
  const right = `${source.info.replay && feed.marketTime > 0 ? `mkt ${hms(feed.marketTime)}  ` : ''}${hms(now)} UTC${compact ? '  ? q' : '   ? help  q quit'}`;
  const symbols = source.symbols().length;
  return (
    <Box width={width} height={1} flexShrink={0}>
      <Box flexShrink={0}>
        <Text>
          <Text bold> qtrade </Text>
          <Text> </Text>
          <Text bold inverse={!theme.color} color={theme.color ? 'white' : undefined} backgroundColor={c(VENUE_TONE[venue])}>
            {` ${VENUE_LABEL[venue]} `}
          </Text>
          <Text>  </Text>
        </Text>
      </Box>
      <Box flexShrink={1} overflow="hidden">
        <Text wrap="truncate">
          <Text color={c(f.tone)}>{f.text}</Text>
          {!compact && (
            <Text>
              {' '}
              {symbols} symbol{symbols === 1 ? '' : 's'}
            </Text>
          )}
        </Text>
      </Box>
      <Box flexShrink={0}>
        <Text>
          {!source.info.replay && <Text color={c('muted')}>  {lagText(feed.lagMs)}</Text>}
          <Text>  risk </Text>
          <Text color={c(RISK_TONE[risk.state] ?? 'warn')} bold={risk.state !== 'ACTIVE'}>
            {risk.state}
          </Text>
          {risk.state !== 'ACTIVE' && !compact && <Text color={c('muted')}> ({risk.reason})</Text>}
        </Text>
      </Box>
      <Box flexGrow={1} />
      <Box flexShrink={0}>
        <Text color={c('muted')}> {right} </Text>
      </Box>
    </Box>
  );
}

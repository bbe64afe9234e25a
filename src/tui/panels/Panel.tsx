import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import { useTui } from '../hooks.js';
import { toneColor } from '../theme.js';

export interface PanelProps {
  title: string;
  width: number;
  height: number;
  focused?: boolean;
  /** Dim the frame: the feed is down and the data shown is the last known. */
  stale?: boolean;
  /** Right-aligned text in the top border (a key hint). */
  hint?: string;
  children?: ReactNode;
}

/**
 * A bordered panel with its title in the top border, like `┌ Order book ───┐`. The focused panel
 * gets a double border (and the accent colour when colour is on), so focus shows without colour.
 */
export function Panel({ title, width, height, focused = false, stale = false, hint, children }: PanelProps) {
  const { theme } = useTui();
  const [tl, h, tr] = focused ? ['╔', '═', '╗'] : ['┌', '─', '┐'];
  const full = ` ${title}${stale ? ' · stale' : ''} `;
  const label = full.length > width - 4 ? full.slice(0, Math.max(0, width - 5)) + '…' : full;
  const right = hint && width > label.length + hint.length + 6 ? ` ${hint} ` : '';
  const fill = Math.max(0, width - 3 - label.length - right.length);
  const top = width < 2 ? '' : `${tl}${h}${label}${h.repeat(fill)}${right}`.slice(0, width - 1) + tr;
  const color = focused ? toneColor(theme, 'accent') : undefined;
  return (
    <Box flexDirection="column" width={width} height={height} flexShrink={0}>
      <Text color={color} dimColor={stale && !focused} wrap="truncate">
        {top}
      </Text>
      <Box
        // Remounted when focus changes: Ink 6.8 re-applies every edge of a changed borderStyle and
        // forgets borderTop={false}, which would leave a blank row under the title.
        key={focused ? 'focused' : 'plain'}
        borderStyle={focused ? 'double' : 'single'}
        borderTop={false}
        borderColor={color}
        borderDimColor={stale && !focused}
        width={width}
        height={Math.max(1, height - 1)}
        flexDirection="column"
        // Rows past the bottom are cut; nothing is cut sideways, as Ink already wraps or truncates
        // each Text to the panel's width. A horizontal clip would make Ink re-slice every line of
        // every panel on every frame (a quarter of a frame's CPU at 140x40).
        overflowY="hidden"
      >
        {children}
      </Box>
    </Box>
  );
}

/** Inner size of a panel of this outer size. */
export function inner(width: number, height: number): { w: number; h: number } {
  return { w: Math.max(0, width - 2), h: Math.max(0, height - 2) };
}

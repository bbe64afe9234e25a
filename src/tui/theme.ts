import type { VenueName } from './source.js';

/**
 * Colour only where it means something: up/down, the venue, risk and feed state, the focused
 * panel. Without colour (NO_COLOR, https://no-color.org) the same meaning is carried by marks
 * (▲/▼, a double border on the focused panel) and text.
 */
export interface Theme {
  color: boolean;
}

export type Tone = 'up' | 'down' | 'accent' | 'warn' | 'bad' | 'good' | 'muted' | 'info';

const TONES: Record<Tone, string> = {
  up: 'green',
  down: 'red',
  accent: 'cyan',
  warn: 'yellow',
  bad: 'red',
  good: 'green',
  muted: 'gray',
  info: 'blue',
};

export const VENUE_TONE: Record<VenueName, Tone> = { paper: 'info', testnet: 'warn', mainnet: 'bad' };
export const VENUE_LABEL: Record<VenueName, string> = { paper: 'PAPER', testnet: 'TESTNET', mainnet: 'LIVE' };

/** The Ink colour of a tone, or undefined when colour is off. */
export function toneColor(theme: Theme, tone: Tone | undefined): string | undefined {
  return theme.color && tone ? TONES[tone] : undefined;
}

/** Whether colour is wanted: NO_COLOR unset (any non-empty value turns it off). */
export function themeFromEnv(env: NodeJS.ProcessEnv = process.env): Theme {
  return { color: !env.NO_COLOR };
}

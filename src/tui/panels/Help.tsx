import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import { COMMAND_HELP } from '../commands.js';
import { useTui } from '../hooks.js';
import { toneColor, type Theme } from '../theme.js';
import { Panel } from './Panel.js';

export type Binding = readonly [keys: string, what: string];

/**
 * Short enough that two columns fit 80 columns: the left one holds the keys that work anywhere,
 * the right one those of the focused panel.
 */
export const GLOBAL_KEYS: readonly Binding[] = [
  ['Tab', 'next panel (Shift-Tab: back)'],
  ['b / s', 'order entry, buy / sell'],
  ['i', 'next chart interval'],
  ['/', 'command line (below)'],
  ['?', 'this help (any key closes)'],
  ['q Ctrl-C', 'quit'],
];
export const PANEL_KEYS: readonly Binding[] = [
  ['↑ ↓', 'select: symbol, order, field'],
  ['← →', 'interval, account tab, choice'],
  ['Enter', 'place order, backtest, ask AI'],
  ['c', 'open orders: cancel selected'],
  ['l', 'chart: candles / line'],
  ['n x r', 'strategy: new · stop · resume'],
  ['a r Esc', 'AI: approve · reject · cancel'],
];
/** The layouts get a line of their own: their names do not fit a column. */
export const LAYOUT_KEYS: Binding = ['1 … 8', 'dashboard · market · account · log · strategies · system · AI · alerts'];
export const HELP_KEYS: readonly Binding[] = [...GLOBAL_KEYS, LAYOUT_KEYS, ...PANEL_KEYS];

const GAP = 2;
const INDENT = '  ';

const keyWidth = (list: readonly Binding[]): number => Math.max(...list.map(([k]) => k.length)) + 2;
const cellWidth = (list: readonly Binding[]): number => keyWidth(list) + Math.max(...list.map(([, v]) => v.length));

/** Greedy word wrap; lines after the first are indented two more, so a wrapped command reads as one. */
function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const next = line ? `${line} ${word}` : word;
    if (next.length <= width || !line) line = next;
    else {
      lines.push(line);
      line = `  ${word}`;
    }
  }
  if (line) lines.push(line);
  return lines;
}

function cell(theme: Theme, [k, v]: Binding, keyW: number, width?: number): ReactNode {
  return (
    <>
      <Text color={toneColor(theme, 'accent')} bold>
        {k.padEnd(keyW)}
      </Text>
      {width === undefined ? v : v.padEnd(width - keyW)}
    </>
  );
}

/** A binding on as many lines as its description needs at this width, the keys on the first. */
function bindingLines(theme: Theme, b: Binding, keyW: number, width: number): ReactNode[] {
  return wrapWords(b[1], Math.max(1, width - keyW)).map((line, i) => (
    <Text key={`${b[0]}${i}`} wrap="truncate">
      {i === 0 ? cell(theme, [b[0], line], keyW) : `${' '.repeat(keyW)}${line}`}
    </Text>
  ));
}

/** The key rows: two columns when both fit the width, else one binding a line. */
function keyRows(theme: Theme, w: number): ReactNode[] {
  const colW = Math.max(cellWidth(GLOBAL_KEYS), cellWidth(PANEL_KEYS));
  if (2 * colW + GAP > w) {
    const kw = keyWidth(HELP_KEYS);
    return HELP_KEYS.flatMap((b) => bindingLines(theme, b, kw, w));
  }
  const rows: ReactNode[] = [];
  for (let i = 0; i < Math.max(GLOBAL_KEYS.length, PANEL_KEYS.length); i++) {
    const left = GLOBAL_KEYS[i];
    const right = PANEL_KEYS[i];
    rows.push(
      <Text key={`keys${i}`} wrap="truncate">
        {left ? cell(theme, left, keyWidth(GLOBAL_KEYS), colW) : ' '.repeat(colW)}
        {' '.repeat(GAP)}
        {right ? cell(theme, right, keyWidth(PANEL_KEYS)) : ''}
      </Text>,
    );
  }
  return [...rows, ...bindingLines(theme, LAYOUT_KEYS, keyWidth([LAYOUT_KEYS]), w)];
}

/** The key and command reference, whole at 80x24; a smaller terminal is told what it cuts. */
export function Help({ width, height }: { width: number; height: number }) {
  const { theme } = useTui();
  const w = Math.max(0, width - 2);
  const h = Math.max(0, height - 2);
  const muted = toneColor(theme, 'muted');
  const keys = keyRows(theme, w);
  const commands = COMMAND_HELP.flatMap((c) => wrapWords(c, w - INDENT.length)).map((line, i) => (
    <Text key={`cmd${i}`} wrap="truncate">
      {INDENT}
      {line}
    </Text>
  ));
  const heading = (
    <Text key="commands" bold>
      Commands (after /)
    </Text>
  );
  const footer = (
    <Text key="footer" color={muted} wrap="truncate">
      Prices and sizes are exact at the symbol&apos;s tick and step. NO_COLOR=1 turns colour off (▲/▼ mark ticks).
    </Text>
  );
  const gap = (k: string) => <Text key={k}> </Text>;
  const core = keys.length + 1 + commands.length;
  // Blank lines and the footer only where they fit: at 80x24 the references take every line.
  const rows = [...keys, ...(core + 1 <= h ? [gap('gap1')] : []), heading, ...commands, ...(core + 3 <= h ? [gap('gap2'), footer] : [])];
  // Exactly the rows that fit (Ink would draw an overfull box's lines over each other); what is cut is said.
  const shown =
    rows.length <= h
      ? rows
      : [
          ...rows.slice(0, Math.max(0, h - 1)),
          <Text key="more" color={muted} wrap="truncate">
            … {rows.length - h + 1} more line{rows.length - h + 1 === 1 ? '' : 's'} in a taller terminal
          </Text>,
        ];
  return (
    <Panel title="Help" width={width} height={height} focused hint="any key closes">
      <Box flexDirection="column">{shown}</Box>
    </Panel>
  );
}

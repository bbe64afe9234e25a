import { Box, Text } from 'ink';
import { COMMAND_HELP } from '../commands.js';
import { useTui } from '../hooks.js';
import { toneColor } from '../theme.js';
import { Panel } from './Panel.js';

const KEYS: Array<[string, string]> = [
  ['Tab / Shift-Tab', 'next / previous panel (the focused one has a double border and takes the keys)'],
  ['↑ ↓', 'select (symbol in the watchlist, order in open orders, field in order entry)'],
  ['← →', 'chart interval · account tab · order entry choice'],
  ['1 … 8', 'dashboard · market · account · log · strategies · system · AI · alerts'],
  ['b / s', 'order entry, buying / selling the selected symbol'],
  ['Enter', 'place the order (review on testnet/mainnet) · run a backtest'],
  ['c', 'open orders: cancel the selected order'],
  ['i', 'next chart interval (1m 5m 15m 1h 4h 1d)'],
  ['l', 'chart: candles / line'],
  ['n x r', 'strategies: new · stop the selected · resume a paused one'],
  ['Enter a r Esc', 'AI: ask · approve / reject the selected proposal (↑↓) · cancel the answer'],
  ['/', 'command line'],
  ['?', 'this help (any key closes it)'],
  ['q  Ctrl-C', 'quit'],
];

/** The key and command reference. */
export function Help({ width, height }: { width: number; height: number }) {
  const { theme } = useTui();
  const keyW = Math.max(...KEYS.map(([k]) => k.length)) + 2;
  const h = Math.max(0, height - 2);
  const keys = KEYS.map(([k, v]) => (
    <Text key={k} wrap="truncate">
      <Text color={toneColor(theme, 'accent')} bold>
        {k.padEnd(keyW)}
      </Text>
      {v}
    </Text>
  ));
  const commands = COMMAND_HELP.map((line) => (
    <Text key={line} wrap="truncate">
      {'  '}
      {line}
    </Text>
  ));
  const footer = (
    <Text key="footer" color={toneColor(theme, 'muted')} wrap="truncate">
      Prices and sizes are exact at the symbol&apos;s tick and step. NO_COLOR=1 turns colour off (▲/▼ mark ticks).
    </Text>
  );
  const heading = (
    <Text key="commands" bold>
      Commands (after /)
    </Text>
  );
  const roomy = keys.length + commands.length + 4 <= h;
  const rows = roomy ? [...keys, <Text key="gap1"> </Text>, heading, ...commands, <Text key="gap2"> </Text>, footer] : [...keys, heading, ...commands];
  // Exactly the rows that fit (Ink would draw an overfull box's lines over each other); what is cut is said.
  const shown =
    rows.length <= h
      ? rows
      : [
          ...rows.slice(0, Math.max(0, h - 1)),
          <Text key="more" color={toneColor(theme, 'muted')} wrap="truncate">
            … {rows.length - h + 1} more line{rows.length - h + 1 === 1 ? '' : 's'} in a taller terminal
          </Text>,
        ];
  return (
    <Panel title="Help" width={width} height={height} focused hint="any key closes">
      <Box flexDirection="column">{shown}</Box>
    </Panel>
  );
}

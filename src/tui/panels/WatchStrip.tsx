import { Box, Text } from 'ink';
import { fmtPrice } from '../format.js';
import { useTui } from '../hooks.js';
import { usePanelKeys } from '../keys.js';
import { toneColor } from '../theme.js';
import { change24h, useTick, useWatchRows, type WatchRow } from './Watchlist.js';

function Item({ row, selected, focused }: { row: WatchRow; selected: boolean; focused: boolean }) {
  const { theme } = useTui();
  const tick = useTick(row.last);
  const chg = change24h(row.ticker);
  const mark = theme.color ? '' : tick.dir === 'up' ? '▲' : tick.dir === 'down' ? '▼' : '';
  return (
    <Text>
      <Text bold={selected} inverse={selected && focused} color={selected ? toneColor(theme, 'accent') : undefined}>
        {selected ? '▸' : ' '}
        {row.symbol}
      </Text>
      <Text color={tick.flash ? toneColor(theme, tick.dir === 'up' ? 'up' : 'down') : undefined}>
        {' '}
        {row.last !== undefined && row.inst ? fmtPrice(row.last, row.inst) : '—'}
        {mark}
      </Text>
      {chg !== undefined && <Text color={toneColor(theme, chg.startsWith('-') ? 'down' : 'up')}> {chg}</Text>}
      <Text>{'  '}</Text>
    </Text>
  );
}

/** The compact layout's watchlist: one line of symbols; ←→ (or ↑↓) choose when focused. */
export function WatchStrip({ width, focused, symbol, onMove }: { width: number; focused: boolean; symbol: string; onMove: (delta: number) => void }) {
  const rows = useWatchRows();
  usePanelKeys('watch', (_input, key) => {
    if (key.leftArrow || key.upArrow) onMove(-1);
    if (key.rightArrow || key.downArrow) onMove(1);
  });
  return (
    <Box width={width} height={1} overflow="hidden" flexShrink={0}>
      <Text wrap="truncate">
        {rows.map((r) => (
          <Item key={r.symbol} row={r} selected={r.symbol === symbol} focused={focused} />
        ))}
      </Text>
    </Box>
  );
}

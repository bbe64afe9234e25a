import { memo, useRef } from 'react';
import { Box, Text } from 'ink';
import type { Instrument, MiniTicker } from '../../engine/market/types.js';
import { compactAmount, fit, fmtPrice, pctChange } from '../format.js';
import { useSnapshot, useTui, useWakeAfter, useFeedStale } from '../hooks.js';
import { toneColor } from '../theme.js';
import { usePanelKeys } from '../keys.js';
import { Panel, inner } from './Panel.js';

export interface WatchRow {
  symbol: string;
  inst: Instrument | undefined;
  last: number | undefined;
  ticker: MiniTicker | undefined;
}

const sameRows = (a: readonly WatchRow[], b: readonly WatchRow[]): boolean =>
  a.length === b.length && a.every((r, i) => r.symbol === b[i]!.symbol && r.last === b[i]!.last && r.ticker === b[i]!.ticker);

/** Last price and 24h ticker of every symbol of the feed. */
export function useWatchRows(): WatchRow[] {
  return useSnapshot(
    ['trade', 'ticker'],
    (s) =>
      s.symbols().map((symbol) => {
        const m = s.market(symbol);
        return { symbol, inst: s.instrument(symbol), last: m?.lastTrade?.price, ticker: m?.ticker };
      }),
    { isEqual: sameRows },
  );
}

const FLASH_MS = 600;

/**
 * The direction of the last price change and whether it is still flashing. The flash fades on
 * the shared frame timer; without colour the ▲/▼ mark stays, since it is the only cue.
 */
export function useTick(price: number | undefined): { dir: 'up' | 'down' | undefined; flash: boolean } {
  const { wallNow } = useTui();
  const wake = useWakeAfter();
  const st = useRef<{ price: number | undefined; dir: 'up' | 'down' | undefined; until: number }>({ price, dir: undefined, until: 0 });
  const now = wallNow();
  if (price !== undefined && st.current.price !== undefined && price !== st.current.price) {
    st.current.dir = price > st.current.price ? 'up' : 'down';
    st.current.until = now + FLASH_MS;
    wake(FLASH_MS);
  }
  st.current.price = price;
  return { dir: st.current.dir, flash: now < st.current.until };
}

/** "+1.80%" from the 24h ticker; undefined without one (a recording without miniTicker). */
export function change24h(t: MiniTicker | undefined): string | undefined {
  return t ? pctChange(t.open, t.close) : undefined;
}

interface RowProps {
  row: WatchRow;
  selected: boolean;
  width: number;
  dim: boolean;
}

const Row = memo(function Row({ row, selected, width, dim }: RowProps) {
  const { theme } = useTui();
  const tick = useTick(row.last);
  const price = row.last !== undefined && row.inst ? fmtPrice(row.last, row.inst) : '—';
  const chg = change24h(row.ticker) ?? '—';
  const vol = row.ticker && row.inst ? compactAmount(row.ticker.volume, row.inst.qtyScale) : '';
  const mark = theme.color ? ' ' : tick.dir === 'up' ? '▲' : tick.dir === 'down' ? '▼' : ' ';
  const showVol = width >= 40;
  const symW = Math.min(10, Math.max(8, row.symbol.length + 1));
  const priceW = Math.max(6, width - 1 - symW - 1 - 8 - (showVol ? 8 : 0));
  const priceColor = tick.flash ? toneColor(theme, tick.dir === 'up' ? 'up' : 'down') : undefined;
  const chgColor = toneColor(theme, chg.startsWith('-') ? 'down' : chg.startsWith('+') ? 'up' : undefined);
  return (
    <Text wrap="truncate" dimColor={dim}>
      <Text color={selected ? toneColor(theme, 'accent') : undefined} bold={selected}>
        {selected ? '▸' : ' '}
        {fit(row.symbol, symW)}
      </Text>
      <Text color={priceColor}>{fit(price, priceW, 'right')}</Text>
      <Text>{mark}</Text>
      <Text color={chgColor}>{fit(chg, 8, 'right')}</Text>
      {showVol && <Text color={toneColor(theme, 'muted')}>{fit(vol, 8, 'right')}</Text>}
    </Text>
  );
});

export interface WatchlistProps {
  width: number;
  height: number;
  focused: boolean;
  symbol: string;
  /** Select the symbol `delta` rows away (wrapping). */
  onMove: (delta: number) => void;
}

/** Symbols with last price, 24h change and volume; ↑↓ choose the symbol the other panels show. */
export function Watchlist({ width, height, focused, symbol, onMove }: WatchlistProps) {
  const rows = useWatchRows();
  const stale = useFeedStale();
  const { w, h } = inner(width, height);
  const at = rows.findIndex((r) => r.symbol === symbol);
  usePanelKeys('watch', (_input, key) => {
    if (key.upArrow) onMove(-1);
    if (key.downArrow) onMove(1);
  });
  const first = Math.max(0, Math.min(at - h + 1, rows.length - h));
  return (
    <Panel title="Watchlist" width={width} height={height} focused={focused} stale={stale} hint={focused ? '↑↓' : undefined}>
      <Box flexDirection="column">
        {rows.slice(first, first + h).map((r) => (
          <Row key={r.symbol} row={r} selected={r.symbol === symbol} width={w} dim={stale} />
        ))}
      </Box>
    </Panel>
  );
}

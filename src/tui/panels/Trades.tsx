import { memo } from 'react';
import { Box, Text } from 'ink';
import type { Instrument, Trade } from '../../engine/market/types.js';
import { fit, fmtPrice, fmtQty, hms } from '../format.js';
import { useFeedStale, useSnapshot, useTui } from '../hooks.js';
import { toneColor } from '../theme.js';
import { Panel, inner } from './Panel.js';

const Row = memo(function Row({ t, inst, width, dim }: { t: Trade; inst: Instrument; width: number; dim: boolean }) {
  const { theme } = useTui();
  // buyerMaker: the buyer's order was resting, so the taker sold.
  const sell = t.buyerMaker;
  const tone = toneColor(theme, sell ? 'down' : 'up');
  const rest = Math.max(10, width - 11);
  const priceW = Math.ceil(rest * 0.55);
  const qtyW = rest - priceW;
  return (
    <Text wrap="truncate" dimColor={dim}>
      <Text color={toneColor(theme, 'muted')}>{hms(t.time)} </Text>
      <Text color={tone}>{fit(fmtPrice(t.price, inst), priceW, 'right')}</Text>
      <Text>{fit(fmtQty(t.qty, inst), qtyW, 'right')} </Text>
      <Text color={tone}>{sell ? 'S' : 'B'}</Text>
    </Text>
  );
});

/** The tape: the symbol's latest trades, newest first, coloured by the taker's side. */
export function Trades({ width, height, focused, symbol }: { width: number; height: number; focused: boolean; symbol: string }) {
  const { source } = useTui();
  const stale = useFeedStale();
  const { w, h } = inner(width, height);
  const trades = useSnapshot(['trade'], (s) => (s.market(symbol)?.trades ?? []).slice(-h).reverse(), {
    symbol,
    deps: [symbol, h],
    isEqual: (a, b) => a.length === b.length && a[0] === b[0],
  });
  const inst = source.instrument(symbol);
  return (
    <Panel title={`Trades ${symbol}`} width={width} height={height} focused={focused} stale={stale}>
      <Box flexDirection="column">
        {inst && trades.map((t) => <Row key={t.id} t={t} inst={inst} width={w} dim={stale} />)}
      </Box>
    </Panel>
  );
}

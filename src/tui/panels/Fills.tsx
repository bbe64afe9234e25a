import { memo } from 'react';
import { Box, Text } from 'ink';
import type { Fill } from '../../engine/orders/types.js';
import { fit, fmtAmount, fmtPrice, fmtQty, hms } from '../format.js';
import { useSnapshot, useTui } from '../hooks.js';
import { toneColor } from '../theme.js';
import { Panel, inner } from './Panel.js';

const Row = memo(function Row({ f, width }: { f: Fill; width: number }) {
  const { source, theme } = useTui();
  const inst = source.instrument(f.symbol);
  const what = inst ? `${fmtQty(f.qty, inst)} @ ${fmtPrice(f.price, inst)}` : `${f.qty} @ ${f.price}`;
  return (
    <Text wrap="truncate">
      <Text color={toneColor(theme, 'muted')}>{hms(f.time)} </Text>
      <Text color={toneColor(theme, f.side === 'BUY' ? 'up' : 'down')}>{f.side.padEnd(4)} </Text>
      {fit(`${f.symbol} ${what}  fee ${fmtAmount(f.commission, 0)} ${f.commissionAsset}  ${f.isMaker ? 'maker' : 'taker'}  #${f.orderId}`, Math.max(0, width - 14))}
    </Text>
  );
});

/** The account's fills, newest first. */
export function FillsBody({ width, height }: { width: number; height: number }) {
  const { theme } = useTui();
  const fills = useSnapshot(['fill'], (s) => s.fills(Math.max(1, height)).reverse(), {
    deps: [height],
    isEqual: (a, b) => a.length === b.length && a[0]?.tradeId === b[0]?.tradeId,
  });
  return (
    <Box flexDirection="column">
      {fills.length === 0 && <Text color={toneColor(theme, 'muted')}>no fills yet</Text>}
      {fills.map((f) => (
        <Row key={`${f.tradeId}`} f={f} width={width} />
      ))}
    </Box>
  );
}

export function Fills({ width, height, focused }: { width: number; height: number; focused: boolean }) {
  const { w, h } = inner(width, height);
  return (
    <Panel title="Fills" width={width} height={height} focused={focused}>
      <FillsBody width={w} height={h} />
    </Panel>
  );
}

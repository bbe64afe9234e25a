import { memo } from 'react';
import { Box, Text } from 'ink';
import { roundedAmount } from '../../commands/trading-output.js';
import { AMOUNT_SCALE } from '../../engine/orders/types.js';
import type { MarkedPosition, PnlTotal } from '../../engine/trading.js';
import { fit, fmtPnl, fmtPrice, fmtSignedQty, group } from '../format.js';
import { useSnapshot, useTui } from '../hooks.js';
import { toneColor, type Theme } from '../theme.js';
import { Panel, inner } from './Panel.js';

interface PositionsSnap {
  positions: MarkedPosition[];
  totals: PnlTotal[];
}

const samePositions = (a: PositionsSnap, b: PositionsSnap): boolean =>
  a.positions.length === b.positions.length &&
  a.positions.every((p, i) => {
    const q = b.positions[i]!;
    return p.symbol === q.symbol && p.qty === q.qty && p.realizedPnl === q.realizedPnl && p.unrealizedPnl === q.unrealizedPnl && p.mark === q.mark;
  });

/** Positions marked at the last trades, with realized and unrealized PnL per quote asset. */
export function usePositions(): PositionsSnap {
  return useSnapshot(
    ['fill', 'trade'],
    (s) => {
      const positions = s.positions().filter((p) => p.qty !== 0n || p.realizedPnl !== 0n);
      return { positions, totals: s.pnl() };
    },
    { isEqual: samePositions },
  );
}

const pnlTone = (theme: Theme, a: bigint | undefined) => toneColor(theme, a === undefined || a === 0n ? undefined : a > 0n ? 'up' : 'down');

const Row = memo(function Row({ p, width }: { p: MarkedPosition; width: number }) {
  const { source, theme } = useTui();
  const inst = source.instrument(p.symbol);
  const d = p.priceScale;
  const qty = inst ? fmtSignedQty(p.qty, inst, AMOUNT_SCALE) : String(p.qty);
  const avg = p.qty !== 0n ? ` avg ${group(roundedAmount(p.avgEntry, d))}` : '';
  const mark = p.mark !== undefined && inst ? ` mark ${fmtPrice(p.mark, inst)}` : '';
  return (
    <Text wrap="truncate">
      {fit(`${p.symbol} ${qty}${avg}${mark}`, Math.max(10, width - 34))}
      <Text> uPnL </Text>
      <Text color={pnlTone(theme, p.unrealizedPnl)}>{fit(p.unrealizedPnl === undefined ? '?' : fmtPnl(p.unrealizedPnl, d), 10, 'right')}</Text>
      <Text> rPnL </Text>
      <Text color={pnlTone(theme, p.realizedPnl)}>{fit(fmtPnl(p.realizedPnl, d), 10, 'right')}</Text>
    </Text>
  );
});

export function PositionsBody({ width, height }: { width: number; height: number }) {
  const { theme } = useTui();
  const { positions, totals } = usePositions();
  return (
    <Box flexDirection="column">
      {positions.length === 0 && <Text color={toneColor(theme, 'muted')}>no positions</Text>}
      {positions.slice(0, Math.max(0, height - totals.length)).map((p) => (
        <Row key={p.symbol} p={p} width={width} />
      ))}
      {positions.length > 0 &&
        totals.map((t) => (
          <Text key={t.quoteAsset} wrap="truncate" bold>
            Σ {t.quoteAsset} rPnL <Text color={pnlTone(theme, t.realizedPnl)}>{fmtPnl(t.realizedPnl)}</Text> uPnL{' '}
            <Text color={pnlTone(theme, t.unrealizedPnl)}>{t.unrealizedPnl === undefined ? '?' : fmtPnl(t.unrealizedPnl)}</Text> total{' '}
            <Text color={pnlTone(theme, t.totalPnl)}>{t.totalPnl === undefined ? '?' : fmtPnl(t.totalPnl)}</Text>
          </Text>
        ))}
    </Box>
  );
}

export function Positions({ width, height, focused }: { width: number; height: number; focused: boolean }) {
  const { w, h } = inner(width, height);
  return (
    <Panel title="Positions" width={width} height={height} focused={focused}>
      <PositionsBody width={w} height={h} />
    </Panel>
  );
}

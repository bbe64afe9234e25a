import { Box, Text } from 'ink';
import { fmtAmount, fmtPnl, fmtSignedQty } from '../format.js';
import { useTui } from '../hooks.js';
import { AMOUNT_SCALE } from '../../engine/orders/types.js';
import { toneColor } from '../theme.js';
import { useBalances } from './Balances.js';
import { useOpenOrders } from './OpenOrders.js';
import { usePositions } from './Positions.js';

/** The compact layout's account summary: open orders, positions with PnL, free quote balance. */
export function AccountLine({ width, hint }: { width: number; hint: string }) {
  const { source, theme } = useTui();
  const orders = useOpenOrders();
  const { positions, totals } = usePositions();
  const balances = useBalances();
  const parts: string[] = [`Orders ${orders.length}`];
  for (const p of positions.filter((x) => x.qty !== 0n).slice(0, 2)) {
    const inst = source.instrument(p.symbol);
    parts.push(`${p.baseAsset} ${inst ? fmtSignedQty(p.qty, inst, AMOUNT_SCALE) : p.qty}`);
  }
  for (const t of totals) parts.push(`${t.quoteAsset} uPnL ${t.unrealizedPnl === undefined ? '?' : fmtPnl(t.unrealizedPnl)} rPnL ${fmtPnl(t.realizedPnl)}`);
  const quote = balances.find((b) => b.asset === 'USDT') ?? balances[0];
  if (quote) parts.push(`${quote.asset} ${fmtAmount(quote.free)} free`);
  return (
    <Box width={width} height={1} flexShrink={0}>
      <Box flexGrow={1} overflow="hidden">
        <Text wrap="truncate"> {parts.join(' · ')}</Text>
      </Box>
      <Text color={toneColor(theme, 'muted')}> {hint} </Text>
    </Box>
  );
}

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
  const { text, withHint } = summaryLine(parts, width, hint);
  return (
    <Box width={width} height={1} flexShrink={0}>
      <Box flexGrow={1} overflow="hidden">
        <Text wrap="truncate">{text}</Text>
      </Box>
      {withHint && <Text color={toneColor(theme, 'muted')}> {hint} </Text>}
    </Box>
  );
}

/**
 * The summary in `width` columns. A number cut short would read as another number (5,69 for
 * 5,696.63), so what does not fit goes whole: first the hint, then parts from the end, marked `…`.
 */
export function summaryLine(parts: string[], width: number, hint: string): { text: string; withHint: boolean } {
  const len = (s: string): number => [...s].length;
  const full = ` ${parts.join(' · ')}`;
  if (len(full) + len(hint) + 2 <= width) return { text: full, withHint: true };
  if (len(full) <= width) return { text: full, withHint: false };
  for (let n = parts.length - 1; n >= 1; n--) {
    const text = ` ${parts.slice(0, n).join(' · ')} …`;
    if (len(text) <= width) return { text, withHint: false };
  }
  return { text: full, withHint: false };
}

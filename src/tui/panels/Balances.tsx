import { Box, Text } from 'ink';
import type { Balance } from '../../engine/orders/types.js';
import { fit, fmtAmount } from '../format.js';
import { useSnapshot, useTui } from '../hooks.js';
import { toneColor } from '../theme.js';
import { Panel, inner } from './Panel.js';

const sameBalances = (a: Balance[], b: Balance[]): boolean => a.length === b.length && a.every((x, i) => x.asset === b[i]!.asset && x.free === b[i]!.free && x.locked === b[i]!.locked);

/** The paper account's balances (exact). */
export function useBalances(): Balance[] {
  return useSnapshot(['fill', 'order.update'], (s) => s.balances(), { isEqual: sameBalances });
}

export function BalancesBody({ width, height }: { width: number; height: number }) {
  const { theme } = useTui();
  const balances = useBalances();
  const numW = Math.max(12, Math.floor((width - 8) / 2));
  return (
    <Box flexDirection="column">
      {balances.length === 0 && <Text color={toneColor(theme, 'muted')}>no balances</Text>}
      {balances.length > 0 && (
        <Text color={toneColor(theme, 'muted')} wrap="truncate">
          {fit('asset', 7)}
          {fit('free', numW, 'right')}
          {fit('locked', numW, 'right')}
        </Text>
      )}
      {balances.slice(0, Math.max(0, height - 1)).map((b) => (
        <Text key={b.asset} wrap="truncate">
          {fit(b.asset, 7)}
          {fit(fmtAmount(b.free), numW, 'right')}
          <Text color={b.locked !== 0n ? toneColor(theme, 'warn') : undefined}>{fit(fmtAmount(b.locked), numW, 'right')}</Text>
        </Text>
      ))}
    </Box>
  );
}

export function Balances({ width, height, focused }: { width: number; height: number; focused: boolean }) {
  const { w, h } = inner(width, height);
  return (
    <Panel title="Balances" width={width} height={height} focused={focused}>
      <BalancesBody width={w} height={h} />
    </Panel>
  );
}

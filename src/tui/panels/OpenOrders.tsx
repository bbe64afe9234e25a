import { memo, useState } from 'react';
import { useKeyState, usePanelKeys } from '../keys.js';
import { Box, Text } from 'ink';
import type { Order } from '../../engine/orders/types.js';
import { describeError, fit, fmtPrice, fmtQty } from '../format.js';
import { useSnapshot, useTui } from '../hooks.js';
import { toneColor } from '../theme.js';
import { Panel, inner } from './Panel.js';

const sameOrders = (a: Order[], b: Order[]): boolean => a.length === b.length && a.every((o, i) => o.orderId === b[i]!.orderId && o.updateTime === b[i]!.updateTime && o.executedQty === b[i]!.executedQty && o.status === b[i]!.status);

/** The account's open orders, oldest first. */
export function useOpenOrders(): Order[] {
  return useSnapshot(['order.update', 'fill'], (s) => s.openOrders(), { isEqual: sameOrders });
}

const Row = memo(function Row({ o, selected, focused, width }: { o: Order; selected: boolean; focused: boolean; width: number }) {
  const { source, theme } = useTui();
  const inst = source.instrument(o.symbol);
  const q = (raw: number) => (inst ? fmtQty(raw, inst) : String(raw));
  const p = (raw: number) => (inst ? fmtPrice(raw, inst) : String(raw));
  const price = o.price !== 0 ? `@ ${p(o.price)}` : 'market';
  const stop = o.stopPrice !== 0 ? ` stop ${p(o.stopPrice)}${o.isWorking ? '' : ' (waiting)'}` : '';
  const text = `${String(o.orderId).padStart(4)} ${o.symbol} ${o.side.padEnd(4)} ${q(o.origQty)} ${price}${stop}  ${o.type}${o.timeInForce ? ` ${o.timeInForce}` : ''}  ${q(o.executedQty)}/${q(o.origQty)}`;
  return (
    <Text wrap="truncate" inverse={selected && focused} bold={selected}>
      <Text color={toneColor(theme, o.side === 'BUY' ? 'up' : 'down')}>{selected ? '▸' : ' '}</Text>
      {fit(text, Math.max(0, width - 1))}
    </Text>
  );
});

/** Open orders with a selection; `c` cancels the selected one (focused). */
export function OpenOrdersBody({ keyId, width, height, focused }: { keyId: string; width: number; height: number; focused: boolean }) {
  const { source, theme, log } = useTui();
  const orders = useOpenOrders();
  const [selectedId, setSelectedId, selectedRef] = useKeyState<number | undefined>(undefined);
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const idx = Math.max(0, orders.findIndex((o) => o.orderId === selectedId));
  const selected = orders[idx];
  usePanelKeys(keyId, (input, key) => {
    const list = source.openOrders();
    if (list.length === 0) return;
    const at = Math.max(0, list.findIndex((o) => o.orderId === selectedRef.current));
    if (key.upArrow) setSelectedId(list[(at - 1 + list.length) % list.length]!.orderId);
    if (key.downArrow) setSelectedId(list[(at + 1) % list.length]!.orderId);
    const target = list[at]!;
    if (input === 'c') {
      setResult(undefined);
      source.cancel(target.symbol, target.orderId).then(
        (o) => setResult({ ok: true, text: `✓ order ${o.orderId} ${o.status}` }),
        (err: unknown) => {
          const d = describeError(err);
          setResult({ ok: false, text: `✗ ${d.text}` });
          log.add('error', `cancel ${target.orderId}: ${d.text}`);
        },
      );
    }
  });
  const rows = Math.max(0, height - (result ? 1 : 0));
  const first = Math.max(0, Math.min(idx - rows + 1, orders.length - rows));
  return (
    <Box flexDirection="column">
      {orders.length === 0 && <Text color={toneColor(theme, 'muted')}>no open orders</Text>}
      {orders.slice(first, first + rows).map((o) => (
        <Row key={o.orderId} o={o} selected={o === selected} focused={focused} width={width} />
      ))}
      {result && (
        <Text wrap="truncate" color={toneColor(theme, result.ok ? 'good' : 'bad')}>
          {result.text}
        </Text>
      )}
    </Box>
  );
}

export function OpenOrders({ width, height, focused }: { width: number; height: number; focused: boolean }) {
  const n = useOpenOrders().length;
  const { w, h } = inner(width, height);
  return (
    <Panel title={`Open orders (${n})`} width={width} height={height} focused={focused} hint={focused ? '↑↓ c cancel' : undefined}>
      <OpenOrdersBody keyId="orders" width={w} height={h} focused={focused} />
    </Panel>
  );
}

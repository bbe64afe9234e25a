import { useTui } from '../hooks.js';
import { usePanelKeys } from '../keys.js';
import { BalancesBody } from './Balances.js';
import { FillsBody } from './Fills.js';
import { OpenOrdersBody, useOpenOrders } from './OpenOrders.js';
import { Panel, inner } from './Panel.js';
import { PositionsBody } from './Positions.js';

export const ACCOUNT_TABS = ['orders', 'fills', 'positions', 'balances'] as const;
export type AccountTab = (typeof ACCOUNT_TABS)[number];

export interface AccountTabsProps {
  width: number;
  height: number;
  focused: boolean;
  tab: AccountTab;
  /** The tab `delta` steps along ACCOUNT_TABS (wrapping). */
  onTabStep: (delta: number) => void;
}

/** Open orders, fills, positions and balances in one panel; ←→ switch tabs when focused. */
export function AccountTabs({ width, height, focused, tab, onTabStep }: AccountTabsProps) {
  const open = useOpenOrders().length;
  const { w, h } = inner(width, height);
  const { keys } = useTui();
  usePanelKeys('account', (input, key) => {
    if (key.leftArrow) onTabStep(-1);
    else if (key.rightArrow) onTabStep(1);
    else keys.dispatch(`account/${tab}`, input, key);
  });
  const names: Record<AccountTab, string> = { orders: `Open orders (${open})`, fills: 'Fills', positions: 'Positions', balances: 'Balances' };
  const title = ACCOUNT_TABS.map((t) => (t === tab ? `[${names[t]}]` : names[t])).join(' │ ');
  return (
    <Panel title={title} width={width} height={height} focused={focused} hint={focused ? (tab === 'orders' ? '←→ ↑↓ c' : '←→') : undefined}>
      {tab === 'orders' && <OpenOrdersBody keyId="account/orders" width={w} height={h} focused={focused} />}
      {tab === 'fills' && <FillsBody width={w} height={h} />}
      {tab === 'positions' && <PositionsBody width={w} height={h} />}
      {tab === 'balances' && <BalancesBody width={w} height={h} />}
    </Panel>
  );
}

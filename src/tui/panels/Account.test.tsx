import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplaySession } from '../replay-session.js';
import { fmtAmount, fmtPrice, fmtQty } from '../format.js';
import { PanelHost, renderTui, until } from '../testing/harness.js';
import { REAL, replayed } from '../testing/sessions.js';
import { AccountLine, summaryLine } from './AccountLine.js';
import { AccountTabs } from './AccountTabs.js';
import { Balances } from './Balances.js';
import { Fills } from './Fills.js';
import { LogView } from './Log.js';
import { OpenOrders } from './OpenOrders.js';
import { Positions } from './Positions.js';

let session: ReplaySession;
beforeAll(async () => {
  session = await replayed(REAL);
  // A market buy that walks the replayed BTCUSDT book: a real fill, position and balance change.
  await session.source.place({ symbol: 'BTCUSDT', side: 'BUY', qty: '0.002' });
}, 120_000);
afterAll(async () => {
  await session?.close();
});

const btc = () => session.source.instrument('BTCUSDT')!;

describe('account panels', () => {
  it('Fills: the fill with its price, quantity, fee and role', async () => {
    const fill = session.source.fills(10).at(-1)!;
    const r = renderTui(session.source, <Fills width={100} height={6} focused={false} />);
    const f = await until(r, (x) => x.includes('BTCUSDT'), 'fills');
    expect(f).toContain(`BUY  BTCUSDT ${fmtQty(fill.qty, btc())} @ ${fmtPrice(fill.price, btc())}`);
    expect(f).toContain(`fee ${fmtAmount(fill.commission, 0)} ${fill.commissionAsset}`);
    expect(f).toContain('taker');
    r.unmount();
  });

  it('Positions: quantity, average entry and PnL marked at the last trade', async () => {
    const p = session.source.positions().find((x) => x.symbol === 'BTCUSDT')!;
    expect(p.unrealizedPnl).toBeDefined();
    const r = renderTui(session.source, <Positions width={100} height={6} focused={false} />);
    const f = await until(r, (x) => x.includes('uPnL'), 'positions');
    expect(f).toMatch(/BTCUSDT \+0\.00\d{3}/);
    expect(f).toContain(`mark ${fmtPrice(p.mark!, btc())}`);
    expect(f).toContain('Σ USDT rPnL');
    r.unmount();
  });

  it('Balances: exact free and locked amounts', async () => {
    const usdt = session.source.balances().find((b) => b.asset === 'USDT')!;
    const r = renderTui(session.source, <Balances width={60} height={6} focused={false} />);
    const f = await until(r, (x) => x.includes('USDT'), 'balances');
    expect(f).toContain(fmtAmount(usdt.free));
    expect(f).toMatch(/BTC\s+0\.00/);
    r.unmount();
  });

  it('Open orders: a resting order shows, and c cancels the selected one', async () => {
    const placed = await session.source.place({ symbol: 'BTCUSDT', side: 'BUY', qty: '0.001', limit: '50000' });
    const r = renderTui(
      session.source,
      <PanelHost focus="orders">
        <OpenOrders width={100} height={6} focused />
      </PanelHost>,
    );
    let f = await until(r, (x) => x.includes('Open orders (1)'), 'order listed');
    expect(f).toContain(`${placed.order.orderId} BTCUSDT BUY  0.00100 @ 50,000.00  LIMIT GTC`);
    r.write('c');
    f = await until(r, (x) => x.includes('Open orders (0)'), 'canceled');
    expect(f).toContain(`✓ order ${placed.order.orderId} CANCELED`);
    r.unmount();
  });

  it('the account tabs switch with ←→ and pass c to the orders tab', async () => {
    await session.source.place({ symbol: 'BTCUSDT', side: 'SELL', qty: '0.001', limit: '90000' });
    let tab: 'orders' | 'fills' | 'positions' | 'balances' = 'orders';
    const r = renderTui(
      session.source,
      <PanelHost focus="account">
        <AccountTabs width={100} height={6} focused tab={tab} onTabStep={() => {}} />
      </PanelHost>,
    );
    const f = await until(r, (x) => x.includes('[Open orders (1)]'), 'tabbed');
    expect(f).toContain('SELL 0.00100 @ 90,000.00');
    r.write('c');
    await until(r, (x) => x.includes('[Open orders (0)]'), 'canceled through the tab');
    r.unmount();
    tab = 'fills';
    const r2 = renderTui(session.source, <AccountTabs width={100} height={6} focused={false} tab={tab} onTabStep={() => {}} />);
    await until(r2, (x) => x.includes('[Fills]') && x.includes('taker'), 'fills tab');
    r2.unmount();
  });

  it('AccountLine: what does not fit goes whole (hint first, then parts), never a number cut short', async () => {
    const parts = ['Orders 1', 'BTC +0.04995', 'USDT uPnL -5.18 rPnL +0.00', 'USDT 5,696.63 free'];
    expect(summaryLine(parts, 100, 'Tab: next panel')).toEqual({ text: ' Orders 1 · BTC +0.04995 · USDT uPnL -5.18 rPnL +0.00 · USDT 5,696.63 free', withHint: true });
    expect(summaryLine(parts, 80, 'Tab: next panel')).toEqual({ text: ' Orders 1 · BTC +0.04995 · USDT uPnL -5.18 rPnL +0.00 · USDT 5,696.63 free', withHint: false });
    expect(summaryLine(parts, 60, 'Tab: next panel')).toEqual({ text: ' Orders 1 · BTC +0.04995 · USDT uPnL -5.18 rPnL +0.00 …', withHint: false });
    expect(summaryLine(parts, 20, 'Tab: next panel')).toEqual({ text: ' Orders 1 …', withHint: false });

    const usdt = session.source.balances().find((b) => b.asset === 'USDT')!;
    const r = renderTui(session.source, <AccountLine width={80} hint="Tab: next panel" />);
    const f = await until(r, (x) => x.includes('free'), 'the account line');
    expect(f).toContain(`USDT ${fmtAmount(usdt.free)} free`);
    expect(f).toMatch(/BTC \+0\.00\d{3}/);
    r.unmount();
  });

  it('Log: order changes and fills as they happen', async () => {
    const r = renderTui(session.source, <LogView width={120} height={10} focused={false} />);
    const placed = await session.source.place({ symbol: 'ETHUSDT', side: 'BUY', qty: '0.01', limit: '2000' });
    await until(r, (x) => x.includes(`order ${placed.order.orderId} BUY 0.0100 ETHUSDT LIMIT @ 2,000.00 NEW`), 'accepted');
    await session.source.cancel('ETHUSDT', placed.order.orderId);
    await until(r, (x) => x.includes(`order ${placed.order.orderId}`) && x.includes('CANCELED'), 'canceled');
    r.unmount();
  });

  it('a refusal keeps the account unchanged and reaches the log with its code', async () => {
    const r = renderTui(session.source, <LogView width={120} height={10} focused={false} />);
    await expect(session.source.place({ symbol: 'BTCUSDT', side: 'BUY', qty: '0.000001', limit: '50000' })).rejects.toThrow('Filter failure: LOT_SIZE');
    await until(r, (x) => x.includes('-1013 Filter failure: LOT_SIZE'), 'refusal logged');
    r.unmount();
  });
});

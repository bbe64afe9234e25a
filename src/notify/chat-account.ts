import type { AlertService } from '../engine/alerts/service.js';
import { formatFixed } from '../engine/fixed.js';
import type { MarketCache } from '../engine/market/market-cache.js';
import { formatAmount } from '../engine/orders/amounts.js';
import type { PaperTrading } from '../engine/trading.js';
import type { ChatAccount } from './telegram-bot.js';

export interface ChatAccountSources {
  trading: PaperTrading;
  market: MarketCache;
  symbols: () => string[];
  /** Read when answering (the service may start after the account is built). */
  alerts?: () => AlertService | undefined;
  wallNow: () => number;
}

/** The paper account as the chat commands show it: plain text, exact amounts, read-only. */
export function chatAccount(src: ChatAccountSources): ChatAccount {
  const marks = (): Map<string, number> => {
    const m = new Map<string, number>();
    for (const s of src.symbols()) {
      const t = src.market.get(s)?.lastTrade;
      if (t) m.set(s, t.price);
    }
    return m;
  };
  return {
    async status() {
      const risk = src.trading.status();
      const lines = [`risk ${risk.state}${risk.reason ? ` (${risk.reason})` : ''}`];
      for (const s of src.symbols()) {
        const t = src.market.get(s)?.lastTrade;
        const inst = src.trading.instruments.get(s);
        lines.push(t ? `${s} ${formatFixed(t.price, inst.priceScale)} at ${new Date(t.time).toISOString()}` : `${s} no trade yet`);
      }
      lines.push(`open orders ${src.trading.openOrders().length}`);
      const alerts = src.alerts?.();
      if (alerts) lines.push(`alerts active ${alerts.list(src.wallNow()).filter((a) => a.status === 'active').length}`);
      return lines.join('\n');
    },
    async balance() {
      const b = src.trading.balances();
      if (b.length === 0) return 'no balances';
      return b.map((x) => `${x.asset} free ${formatAmount(x.free)} locked ${formatAmount(x.locked)}`).join('\n');
    },
    async positions() {
      const p = src.trading.positions(marks()).filter((x) => x.qty !== 0n);
      if (p.length === 0) return 'no open positions';
      return p
        .map((x) => `${x.symbol} qty ${formatAmount(x.qty)} avg ${formatAmount(x.avgEntry)} mark ${x.mark === undefined ? '?' : formatFixed(x.mark, x.priceScale)} uPnL ${x.unrealizedPnl === undefined ? '?' : formatAmount(x.unrealizedPnl)} ${x.quoteAsset}`)
        .join('\n');
    },
    async pnl() {
      const totals = src.trading.pnlTotals(src.trading.positions(marks()));
      if (totals.length === 0) return 'no PnL yet: nothing traded';
      return totals
        .map((t) => `${t.quoteAsset} realized ${formatAmount(t.realizedPnl)} unrealized ${t.unrealizedPnl === undefined ? '?' : formatAmount(t.unrealizedPnl)} total ${t.totalPnl === undefined ? '?' : formatAmount(t.totalPnl)}`)
        .join('\n');
    },
  };
}

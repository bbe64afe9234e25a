import { formatFixed } from '../fixed.js';
import type { Instrument } from '../market/types.js';
import { formatAmount } from '../orders/amounts.js';
import type { Fill } from '../orders/types.js';
import type { BacktestResult } from '../strategy/backtest.js';
import type { Metrics } from '../strategy/metrics.js';

/**
 * A backtest result as the assistant reports it: the metrics `qtrade backtest --json` prints
 * (same names, same formatting of exact amounts), without the equity curve and with only the
 * last fills, so the tool result stays small enough for the model.
 */
export interface BacktestSummary {
  strategy: string;
  symbol: string;
  interval: string;
  params: Record<string, unknown>;
  data: string;
  source: string;
  model: string;
  status: string;
  error: { message: string; callback: string; time: number } | null;
  candles: number;
  metrics: Record<string, unknown>;
  fills: number;
  lastFills: Array<Record<string, unknown>>;
  balances: Array<{ asset: string; free: string; locked: string }>;
  openOrders: number;
  /** First and last equity mark (ms). */
  from: number | null;
  to: number | null;
}

/** The metrics as `qtrade backtest --json` prints them. */
export function metricsJson(m: Metrics): Record<string, unknown> {
  const { feesPaidExact, ...rest } = m;
  return { ...rest, feesPaidExact: formatAmount(feesPaidExact) };
}

/** The last `n` fills of a backtest as the assistant reports them (the daemon's backtest jobs too). */
export function lastFillsJson(fills: readonly Fill[], inst: Instrument, n = 5): Array<Record<string, unknown>> {
  return fills.slice(-n).map((f) => ({
    time: new Date(f.time).toISOString(),
    side: f.side,
    price: formatFixed(f.price, inst.priceScale),
    qty: formatFixed(f.qty, inst.qtyScale),
    quoteQty: formatAmount(f.quoteQty),
    commission: `${formatAmount(f.commission)} ${f.commissionAsset}`,
  }));
}

export function backtestSummary(r: BacktestResult, inst: Instrument, data: string, lastFills = 5): BacktestSummary {
  return {
    strategy: r.strategy,
    symbol: r.symbol,
    interval: r.interval,
    params: r.params,
    data,
    source: r.source,
    model: r.model,
    status: r.status,
    error: r.error ? { message: r.error.message, callback: r.error.callback, time: r.error.time } : null,
    candles: r.candles,
    metrics: metricsJson(r.metrics),
    fills: r.fills.length,
    lastFills: lastFillsJson(r.fills, inst, lastFills),
    balances: r.balances.map((b) => ({ asset: b.asset, free: formatAmount(b.free), locked: formatAmount(b.locked) })),
    openOrders: r.openOrders.length,
    from: r.equity.length > 0 ? r.equity.time[0]! : null,
    to: r.equity.length > 0 ? r.equity.time[r.equity.length - 1]! : null,
  };
}

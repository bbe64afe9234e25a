import { parseAmount } from '../../engine/orders/amounts.js';
import type { BacktestJobResult } from '../../server/backtest-worker.js';
import type { BacktestReport } from './strategies.js';

const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/**
 * A backtest job's result (the daemon's job API and the embedded worker answer with the same
 * object, amounts as decimal strings) as the TUI's report, amounts parsed back to exact values.
 */
export function reportFromJob(r: BacktestJobResult, quoteAsset: string): BacktestReport {
  const m = r.metrics;
  return {
    strategy: r.strategy,
    symbol: r.symbol,
    interval: r.interval,
    params: r.params,
    data: r.data,
    model: r.model,
    candles: r.candles,
    quoteAsset,
    error: r.error ?? undefined,
    metrics: {
      totalReturn: num(m.totalReturn),
      sharpe: numOrNull(m.sharpe),
      sortino: numOrNull(m.sortino),
      maxDrawdown: num(m.maxDrawdown),
      winRate: numOrNull(m.winRate),
      profitFactor: numOrNull(m.profitFactor),
      exposure: num(m.exposure),
      trades: r.trades,
      fills: r.fills,
      openTrade: m.openTrade === true,
      feesPaid: parseAmount(String(m.feesPaidExact)),
    },
    equity: {
      start: parseAmount(r.equity.start),
      end: parseAmount(r.equity.end),
      peak: parseAmount(r.equity.peak),
      trough: parseAmount(r.equity.trough),
      curve: r.equity.curve.map(([time, equity]) => ({ time, equity: parseAmount(equity) })),
    },
  };
}

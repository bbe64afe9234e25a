import { afterEach, describe, expect, it } from 'vitest';
import { QtradeError, UsageError } from '../../engine/errors.js';
import { AMOUNT_SCALE, type Amount, type Fill } from '../../engine/orders/types.js';
import { bundledMarketInfo } from '../../engine/market/market-info.js';
import { roundedAmount } from '../../commands/trading-output.js';
import { ReplaySession } from '../replay-session.js';
import { GENERATED } from '../testing/sessions.js';

let session: ReplaySession | undefined;
afterEach(async () => {
  await session?.close();
  session = undefined;
});

const inst = bundledMarketInfo().instruments.get('BTCUSDT');
const ONE = 10n ** BigInt(AMOUNT_SCALE);

/**
 * The cash flows of a sequence of fills, computed here independently of the engine:
 * quote spent and received (commissions in the quote asset count against it, commissions in the
 * base asset are valued at the fill price), and the base bought and sold.
 */
function flatPnl(fills: readonly Fill[]): { quoteNet: Amount; baseNet: Amount } {
  const qtyMul = 10n ** BigInt(AMOUNT_SCALE - inst.qtyScale);
  let quoteNet = 0n;
  let baseNet = 0n;
  for (const f of fills) {
    const base = BigInt(f.qty) * qtyMul;
    if (f.side === 'BUY') {
      quoteNet -= f.quoteQty;
      baseNet += base;
    } else {
      quoteNet += f.quoteQty;
      baseNet -= base;
    }
    if (f.commissionAsset === 'USDT') quoteNet -= f.commission;
    else baseNet -= f.commission;
  }
  return { quoteNet, baseNet };
}

describe('EmbeddedStrategies (a real node replaying a recording)', () => {
  it('starts a built-in on the paper account, reports its own fills and exact PnL, and stops it', async () => {
    session = await ReplaySession.open({ file: GENERATED, speed: 'max' });
    const strategies = session.source.strategies;
    let changes = 0;
    strategies.onChange(() => changes++);
    expect(strategies.templates().map((t) => t.name)).toContain('grid');
    // A limit-order grid: it trades on an aggTrade-only recording, where a market order finds no book.
    const started = await strategies.start({ strategy: 'grid', symbol: 'btcusdt', params: { spacing: '0.03' } });
    expect(started).toMatchObject({ id: 'grid-btcusdt', status: 'running', symbol: 'BTCUSDT', params: { levels: 5, spacing: 0.03, orderQuote: 100 }, fills: 0 });
    expect(changes).toBe(1);

    session.start();
    await session.done;
    await session.node.kernel.settled();

    const [s] = strategies.list();
    const own = session.node.trading.fills({ symbol: 'BTCUSDT' }).filter((f) => f.clientOrderId.startsWith('grid-btcusdt_'));
    // Buys below the start price, and sells one spacing above those that filled.
    expect(new Set(own.map((f) => f.side))).toEqual(new Set(['BUY', 'SELL']));
    expect(s!.fills).toBe(own.length);
    expect(s!.orders).toBe(new Set(own.map((f) => f.orderId)).size + s!.openOrders);
    const { quoteNet, baseNet } = flatPnl(own);
    // What is still held is marked at the last trade.
    const last = session.node.market.get('BTCUSDT')!.lastTrade!.price;
    expect(s!.position.qty).toBe(baseNet);
    expect(s!.position.mark).toBe(last);
    // Realized plus unrealized is what the fills made, to the last unit of the amount scale.
    const priceMul = 10n ** BigInt(AMOUNT_SCALE - inst.priceScale);
    const heldValue = (baseNet * BigInt(last) * priceMul) / ONE;
    const total = s!.position.realizedPnl + (s!.position.unrealizedPnl ?? 0n);
    expect(total - (quoteNet + heldValue)).toBeGreaterThanOrEqual(-1n);
    expect(total - (quoteNet + heldValue)).toBeLessThanOrEqual(1n);
    expect(s!.position.realizedPnl).not.toBe(0n);
    // Fees in quote: the quote commission, and the base commission at its fill's price.
    const fees = own.reduce((sum, f) => sum + (f.commissionAsset === 'USDT' ? f.commission : (f.commission * BigInt(f.price)) / 10n ** BigInt(inst.priceScale)), 0n);
    expect(s!.position.fees).toBe(fees);

    const stopped = await strategies.stop('grid-btcusdt');
    expect(stopped.status).toBe('stopped');
    expect(strategies.list()[0]!.status).toBe('stopped');
    await expect(strategies.stop('grid-btcusdt')).rejects.toThrow(UsageError);
    // The engine log has the start and the stop.
    const log = session.source.system.status().logs.map((l) => l.text);
    expect(log).toEqual(expect.arrayContaining(['strategy grid-btcusdt started: grid on BTCUSDT 1m', 'strategy grid-btcusdt stopped']));
  }, 60_000);

  it('starts the live strategies again on the fresh account of a looping replay', async () => {
    session = await ReplaySession.open({ file: GENERATED, speed: 'max', loop: true });
    const s = session;
    const strategies = s.source.strategies;
    await strategies.start({ strategy: 'grid', symbol: 'BTCUSDT', params: { spacing: '0.03' } });
    const firstNode = s.node;
    let resets = 0;
    s.source.subscribe('source.reset', () => resets++);
    s.start();
    for (let i = 0; i < 3000 && resets < 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(resets).toBeGreaterThanOrEqual(1);
    expect(s.node).not.toBe(firstNode);
    const [g] = strategies.list();
    expect(g).toMatchObject({ id: 'grid-btcusdt', status: 'running', params: { spacing: 0.03 } });
    // Its fills are the new account's: none carried over from the first pass.
    expect(g!.fills).toBe(s.node.trading.fills().filter((f) => f.clientOrderId.startsWith('grid-btcusdt_')).length);
    expect(s.source.system.status().logs.map((l) => l.text)).toContain('strategy grid-btcusdt started again on the fresh account');
  }, 60_000);

  it('refuses an unknown strategy and a bad param with the reason', async () => {
    session = await ReplaySession.open({ file: GENERATED, speed: 'max' });
    const strategies = session.source.strategies;
    await expect(strategies.start({ strategy: 'sma-crosss', symbol: 'BTCUSDT' })).rejects.toThrow(/unknown strategy "sma-crosss"/);
    await expect(strategies.start({ strategy: 'sma-cross', symbol: 'BTCUSDT', params: { fast: '30', slow: '10' } })).rejects.toThrow(/fast \(30\) must be below slow \(10\)/);
    expect(strategies.list()).toEqual([]);
  });

  it('backtests the recording on a worker thread with progress, as `qtrade backtest` reports it', async () => {
    session = await ReplaySession.open({ file: GENERATED, speed: 'max' });
    const strategies = session.source.strategies;
    const data = strategies.backtestData();
    expect(data.map((d) => d.kind)).toEqual(['recording', 'store']);
    expect(data[0]!.label).toBe('recording generated-btcusdt-aggtrades.jsonl.gz');
    const progress: number[] = [];
    const report = await strategies.backtest({ strategy: 'sma-cross', symbol: 'BTCUSDT', params: { fast: '2', slow: '3' }, data: data[0]!.data }, (p) => progress.push(p));
    expect(progress[progress.length - 1]).toBe(1);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThanOrEqual(progress[i - 1]!);
    // The figures `qtrade backtest --strategy sma-cross --param fast=2 --param slow=3 --data <this recording>` prints.
    expect(report).toMatchObject({ strategy: 'sma-cross', symbol: 'BTCUSDT', interval: '1m', model: 'exact', quoteAsset: 'USDT', error: undefined });
    expect(report.metrics.trades).toBe(1);
    expect(report.metrics.fills).toBe(2);
    expect(report.equity.start).toBe(10_000n * ONE);
    expect(roundedAmount(report.equity.end, 2)).toBe('9982.72');
    expect(report.equity.curve[0]!.equity).toBe(report.equity.start);
    expect(report.equity.curve[report.equity.curve.length - 1]!.equity).toBe(report.equity.end);
    // One at a time.
    const a = strategies.backtest({ strategy: 'dca', symbol: 'BTCUSDT', data: data[0]!.data }, () => {});
    await expect(strategies.backtest({ strategy: 'dca', symbol: 'BTCUSDT', data: data[0]!.data }, () => {})).rejects.toThrow(/running already/);
    await a;
  }, 120_000);

  it('reports a backtest that cannot run: no candles in the store yet', async () => {
    session = await ReplaySession.open({ file: GENERATED, speed: 'max' });
    const err = await session.source.strategies.backtest({ strategy: 'dca', symbol: 'BTCUSDT', data: 'store' }, () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QtradeError);
    expect((err as QtradeError).message).toMatch(/no BTCUSDT 1m candles in the store/);
  }, 60_000);
});

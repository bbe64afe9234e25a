import { describe, expect, it } from 'vitest';
import { CandleAggregator, aggregateCandles } from './aggregate.js';
import type { Candle } from './types.js';

const T0 = Date.parse('2024-08-05T00:00:00Z'); // a Monday

function minute(i: number, close: number, trades = 1, unit: 'ms' | 'us' = 'ms'): Candle {
  const f = unit === 'us' ? 1000 : 1;
  const open = (T0 + i * 60_000) * f;
  return {
    symbol: 'BTCUSDT',
    interval: '1m',
    priceScale: 2,
    qtyScale: 8,
    openTime: open,
    closeTime: open + 60_000 * f - 1,
    open: close - 1,
    high: close + 5,
    low: close - 5,
    close,
    volume: BigInt(trades) * 10n,
    quoteVolume: BigInt(trades) * 1000n,
    trades,
    takerBuyVolume: BigInt(trades),
    takerBuyQuoteVolume: BigInt(trades) * 100n,
    firstTradeId: trades ? i * 100 : -1,
    lastTradeId: trades ? i * 100 + trades - 1 : -1,
    closed: true,
  };
}

describe('CandleAggregator', () => {
  it('emits a bucket as soon as its last minute arrives, and ignores late minutes', () => {
    const out: Candle[] = [];
    const agg = new CandleAggregator({ interval: '5m', onClosed: (c) => out.push(c) });
    for (let i = 0; i < 4; i++) agg.add(minute(i, 1000 + i));
    expect(out).toHaveLength(0);
    expect(agg.current()).toMatchObject({ openTime: T0, trades: 4, closed: false });
    agg.add(minute(4, 1004));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      interval: '5m',
      openTime: T0,
      closeTime: T0 + 299_999,
      open: 999,
      high: 1009,
      low: 995,
      close: 1004,
      volume: 50n,
      quoteVolume: 5000n,
      trades: 5,
      takerBuyVolume: 5n,
      takerBuyQuoteVolume: 500n,
      firstTradeId: 0,
      lastTradeId: 400,
      closed: true,
    });
    agg.add(minute(2, 1));
    expect(agg.late).toBe(1);
    agg.add(minute(6, 2000));
    agg.flush();
    expect(out[1]).toMatchObject({ openTime: T0 + 300_000, open: 1999, trades: 1, closed: false });
  });

  it('aligns weeks to Monday and days to UTC midnight, in µs too', () => {
    const mins = [minute(0, 100, 1, 'us'), minute(60 * 24 * 3, 200, 2, 'us'), minute(60 * 24 * 7, 300, 3, 'us')];
    const weeks = aggregateCandles(mins, '1w');
    expect(weeks.map((c) => [c.openTime, c.closeTime, c.trades, c.close])).toEqual([
      [T0 * 1000, (T0 + 7 * 86_400_000) * 1000 - 1, 3, 200],
      [(T0 + 7 * 86_400_000) * 1000, (T0 + 14 * 86_400_000) * 1000 - 1, 3, 300],
    ]);
    expect(aggregateCandles(mins, '1d').map((c) => c.openTime / 1000)).toEqual([T0, T0 + 3 * 86_400_000, T0 + 7 * 86_400_000]);
  });

  it('keeps empty minutes out of OHLC but in the bucket', () => {
    const quiet = { ...minute(0, 500, 0), open: 500, high: 500, low: 500 };
    const [c] = aggregateCandles([quiet, minute(1, 700), { ...minute(2, 700, 0), open: 700, high: 700, low: 700 }], '3m');
    expect(c).toMatchObject({ open: 699, high: 705, low: 695, close: 700, trades: 1, firstTradeId: 100, lastTradeId: 100, closed: true });
    const [empty] = aggregateCandles([quiet], '3m');
    expect(empty).toMatchObject({ open: 500, high: 500, low: 500, close: 500, trades: 0, firstTradeId: -1, closed: false });
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { candleSeries, openFixture, type Fixture } from '../../../test/ai/fixtures.js';
import { parseAmount } from '../orders/amounts.js';
import { assessRisk, computeRisk } from './risk.js';

const B = 6_000_000; // 60000.00 BTCUSDT, raw at 2 decimals
const E = 300_000; // 3000.00 ETHUSDT

/** 101 1m closes: five drops of exactly 3, 2.5, 2, 1.5 and 1 % from B, each recovered, then ±600-raw wiggles. */
function minuteCloses(): number[] {
  const out = [B];
  for (const d of [300, 250, 200, 150, 100]) out.push((B * (10_000 - d)) / 10_000, B);
  while (out.length < 101) out.push(out.length % 2 === 0 ? B + 600 : B);
  return out;
}

/** 21 1h closes, constant but for one move on bar `at` (then back): `pct` in hundredths of a percent. */
function hourCloses(base: number, moves: Record<number, number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < 21; i++) out.push(moves[i] !== undefined ? (base * (10_000 + moves[i]!)) / 10_000 : base);
  return out;
}

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('risk assessment', () => {
  it('computes exposure, concentration, VaR 95/99, stop distances and limit usage exactly', async () => {
    fx = await openFixture({
      balances: { USDT: parseAmount('5000'), BTC: parseAmount('0.1'), ETH: parseAmount('2') },
      candles: [
        ...candleSeries('BTCUSDT', '1m', minuteCloses()),
        // BTC falls 2 % on bar 5 while ETH gains 1 %; on bar 9 BTC gains 1 % and ETH falls 3 %.
        ...candleSeries('BTCUSDT', '1h', hourCloses(B, { 5: -200, 9: 100 })),
        ...candleSeries('ETHUSDT', '1h', hourCloses(E, { 5: 100, 9: -300 })),
      ],
    });
    fx.tickers.set('BTCUSDT', { symbol: 'BTCUSDT', lastPrice: B, lastTime: fx.now.value, source: 'fixture' });
    fx.tickers.set('ETHUSDT', { symbol: 'ETHUSDT', lastPrice: E, lastTime: fx.now.value, source: 'fixture' });
    // A protective stop: sell 0.05 BTC if it trades at 59000.
    await fx.trading.onMarket('BTCUSDT', { trade: { symbol: 'BTCUSDT', id: 1, price: B, qty: 1_000_000, firstId: 1, lastId: 1, time: fx.now.value, buyerMaker: false } });
    await fx.trading.place({ symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_LOSS', qty: 5_000_000, stopPrice: 5_900_000 }, fx.now.value);
    await fx.trading.setLimit('maxOpenOrders', '4');

    const r = await assessRisk(fx.view);
    expect(r.quote).toBe('USDT');
    expect(r.equity).toBe('17000.00000000');
    expect(r.cash).toBe('5000.00000000');
    expect(r.assets).toEqual([
      { asset: 'USDT', qty: '5000.00000000', value: '5000.00000000', share: '29.4118' },
      { asset: 'BTC', qty: '0.10000000', symbol: 'BTCUSDT', mark: '60000.00', value: '6000.00000000', share: '35.2941' },
      { asset: 'ETH', qty: '2.00000000', symbol: 'ETHUSDT', mark: '3000.00', value: '6000.00000000', share: '35.2941' },
    ]);
    expect(r.concentration).toEqual({ largestAsset: 'BTC', largestSharePct: '35.2941', exposedPct: '70.5882' });

    // 100 one-minute scenarios of 6000 USDT of BTC: the worst is −3 % (−180), the 5th worst −1 % (−60).
    expect(r.var.find((v) => v.scope === 'BTCUSDT' && v.interval === '1m')).toEqual({
      scope: 'BTCUSDT',
      interval: '1m',
      scenarios: 100,
      var95: '60.00000000',
      var99: '180.00000000',
      var95PctOfEquity: '0.3529',
      var99PctOfEquity: '1.0588',
    });
    // 20 hourly scenarios: enough for VaR 95 (the worst one), not for VaR 99.
    const btcHour = r.var.find((v) => v.scope === 'BTCUSDT' && v.interval === '1h')!;
    expect(btcHour).toMatchObject({ scenarios: 20, var95: '120.00000000', var99: null, var95PctOfEquity: '0.7059', var99PctOfEquity: null });
    expect(btcHour.why).toMatch(/VaR 99 needs 100/);
    expect(r.var.find((v) => v.scope === 'ETHUSDT' && v.interval === '1h')).toMatchObject({ scenarios: 20, var95: '180.00000000' });
    // Both on the same bars: bar 5 is −120 + 60, bar 9 is +60 − 180: the book's worst bar is −120.
    expect(r.var.find((v) => v.scope === 'portfolio' && v.interval === '1h')).toMatchObject({ scenarios: 20, var95: '120.00000000', var99: null });

    const vol = r.volatility.find((v) => v.symbol === 'BTCUSDT' && v.interval === '1m')!;
    expect(vol.returns).toBe(100);
    expect(Number(vol.perBarPct)).toBeGreaterThan(0);

    expect(r.stops).toEqual([
      { orderId: expect.any(Number), symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_LOSS', stopPrice: '59000.00', mark: '60000.00', distancePct: '-1.6667', valueToStop: '50.00000000' },
    ]);
    expect(r.limits.state).toBe('ACTIVE');
    expect(r.limits.checks).toEqual([{ rule: 'maxOpenOrders', scope: 'global', limit: '4', current: '1', utilizationPct: '25.00' }]);
    expect(r.limits.set).toEqual([{ scope: 'global', key: 'maxOpenOrders', value: '4' }]);
  });

  it('says VaR is 0 when even the worst scenario gains, and leaves unpriced assets out with a note', () => {
    const inst = (s: string) => (s === 'BTCUSDT' ? { symbol: 'BTCUSDT', baseAsset: 'BTC', quoteAsset: 'USDT', priceScale: 2, qtyScale: 8, tickSize: '0.01', stepSize: '0.00001', status: 'TRADING' } : undefined);
    const closes = Array.from({ length: 21 }, (_, i) => B + i * 100);
    const r = computeRisk({
      quote: 'USDT',
      time: 0,
      balances: [
        { asset: 'USDT', free: parseAmount('100'), locked: 0n },
        { asset: 'BTC', free: parseAmount('1'), locked: 0n },
        { asset: 'XYZ', free: parseAmount('5'), locked: 0n },
      ],
      positions: [],
      openOrders: [],
      instrument: inst,
      marks: new Map([['BTCUSDT', B]]),
      candles: new Map([['BTCUSDT', new Map([['1h', candleSeries('BTCUSDT', '1h', closes)]])]]),
      status: { state: 'ACTIVE', reason: 'start', since: 0 },
      limits: { global: {}, symbols: {} },
    });
    expect(r.var[0]).toMatchObject({ scope: 'BTCUSDT', scenarios: 20, var95: '0.00000000' });
    expect(r.assets.find((a) => a.asset === 'XYZ')).toEqual({ asset: 'XYZ', qty: '5.00000000', unvalued: 'no XYZUSDT market' });
    expect(r.notes.join(' ')).toMatch(/XYZ is left out/);
    expect(r.equity).toBe('60100.00000000');
  });
});

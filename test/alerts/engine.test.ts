import { describe, expect, it } from 'vitest';
import { Bus } from '../../src/engine/bus.js';
import type { Candle } from '../../src/engine/candles/types.js';
import { SimClock } from '../../src/engine/clock.js';
import type { AccountView } from '../../src/engine/alerts/engine.js';
import { AlertService } from '../../src/engine/alerts/service.js';
import type { AlertInput } from '../../src/engine/alerts/spec.js';
import type { AlertFiring } from '../../src/engine/alerts/types.js';
import { bundledInstruments } from '../../src/engine/market/bundled-instruments.js';
import type { Order } from '../../src/engine/orders/types.js';
import { RSI, SMA } from '../../src/engine/strategy/indicators/index.js';

const T0 = Date.UTC(2024, 7, 8, 0, 0); // an hour boundary
const MIN = 60_000;

async function setup(opts: { account?: AccountView; schedule?: (ms: number, fn: () => void) => () => void } = {}) {
  const bus = new Bus((_t, err) => {
    throw err;
  });
  const clock = new SimClock();
  const svc = await AlertService.open({ bus, clock, instruments: bundledInstruments(), ...opts });
  const fired: AlertFiring[] = [];
  bus.subscribe('alert.fired', (f) => fired.push(f));
  let tradeId = 0;
  return {
    bus,
    clock,
    svc,
    fired,
    add: (condition: string, extra: Partial<AlertInput> = {}) => svc.add({ symbol: 'BTCUSDT', condition, untilCancelled: true, ...extra }, T0 - 1),
    trade(price: number, time: number, symbol = 'BTCUSDT') {
      clock.advance(time);
      tradeId++;
      bus.publish('trade', { symbol, id: tradeId, price, qty: 100, firstId: tradeId, lastId: tradeId, time, buyerMaker: false });
    },
    candle(openTime: number, close: number, volume = 1_000_000n, symbol = 'BTCUSDT') {
      const c: Candle = {
        symbol,
        interval: '1m',
        priceScale: 2,
        qtyScale: 8,
        openTime,
        closeTime: openTime + MIN - 1,
        open: close,
        high: close,
        low: close,
        close,
        volume,
        quoteVolume: 0n,
        trades: 1,
        takerBuyVolume: 0n,
        takerBuyQuoteVolume: 0n,
        firstTradeId: 1,
        lastTradeId: 1,
        closed: true,
      };
      clock.advance(c.closeTime);
      bus.publish('candle.closed', c);
    },
  };
}

describe('AlertEngine conditions', () => {
  it('close 1h: evaluates hourly closes built from 1m candles, at the hour close time, once per crossing', async () => {
    const t = await setup();
    await t.add('close 1h > 65000');
    // three hours of 1m candles; the hourly closes are 64000, 65000.01, 66000 → one crossing (hour 2)
    const hourly = [6_400_000, 6_500_001, 6_600_000];
    for (let h = 0; h < 3; h++) for (let m = 0; m < 60; m++) t.candle(T0 + h * 3_600_000 + m * MIN, m === 59 ? hourly[h]! : 7_000_000);
    expect(t.fired.map((f) => [f.time, f.message])).toEqual([[T0 + 2 * 3_600_000 - 1, 'BTCUSDT close 1h > 65000: close 65000.01']]);
  });

  it('rsi and sma crossings fire at the first close where the indicators say so, and not again while it holds', async () => {
    const t = await setup();
    await t.add('rsi(14, 1m) < 30');
    await t.add('sma(2, 1m) crosses above sma(4, 1m)');
    const closes = [100, 101, 102, 101, 100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 90, 89, 88, 87, 90, 95, 99, 100, 99, 98].map((x) => x * 100_00);
    const rsi = new RSI(14);
    const fast = new SMA(2);
    const slow = new SMA(4);
    const expected: string[] = [];
    let rsiPrev: boolean | undefined;
    let crossPrev: boolean | undefined;
    closes.forEach((c, i) => {
      const r = rsi.update(c / 100);
      const f = fast.update(c / 100);
      const s = slow.update(c / 100);
      const time = T0 + i * MIN + MIN - 1;
      if (r !== undefined) {
        const now = r < 30;
        if (now && rsiPrev !== true) expected.push(`a1@${time}`);
        rsiPrev = now;
      }
      if (f !== undefined && s !== undefined) {
        const now = f > s;
        if (now && crossPrev === false) expected.push(`a2@${time}`);
        crossPrev = now;
      }
      t.candle(T0 + i * MIN, c);
    });
    expect(expected.length).toBeGreaterThanOrEqual(2);
    expect(t.fired.map((f) => `${f.alertId}@${f.time}`)).toEqual(expected);
  });

  it('change: compares with the price at the start of the second the window begins in, exactly', async () => {
    const t = await setup();
    await t.add('change 1m >= 2%');
    await t.add('change 1m < -1%');
    t.trade(10_000_00, T0 + 500); // reference for trades from T0+61s on
    t.trade(10_100_00, T0 + 30_000);
    t.trade(10_199_99, T0 + 61_000); // +1.9999 %: no
    t.trade(10_200_00, T0 + 61_500); // +2 % exactly: fires
    t.trade(10_300_00, T0 + 62_000); // still ≥ 2 %: no second firing
    t.trade(10_000_00, T0 + 95_000); // ref 10100 (second 34 → close at T0+30s): −0.99 %
    t.trade(9_998_00, T0 + 96_000); // −1.0099 %: fires
    expect(t.fired.map((f) => [f.alertId, f.time])).toEqual([
      ['a1', T0 + 61_500],
      ['a2', T0 + 96_000],
    ]);
    expect(t.fired[0]!.message).toBe('BTCUSDT change 1m >= 2%: 2.00% in 60s (10000.00 → 10200.00)');
  });

  it('volume spikes against the average of the previous candles, and spreads in ticks', async () => {
    const t = await setup();
    await t.add('volume 1m > 2x avg(3)');
    await t.add('spread > 2 ticks');
    const vols = [100n, 100n, 100n, 200n, 201n, 700n, 10n];
    vols.forEach((v, i) => t.candle(T0 + i * MIN, 10_000_00, v));
    // 200 = 2 × avg(100,100,100): no; 201 > 2 × avg(100,100,200)=266.7: no; 700 > 2 × avg(100,200,201)=334: yes
    expect(t.fired.map((f) => f.time)).toEqual([T0 + 6 * MIN - 1]);
    const top = (bid: number, ask: number) => t.bus.publish('book.top', { symbol: 'BTCUSDT', updateId: 1, bid: { price: bid, qty: 1 }, ask: { price: ask, qty: 1 } });
    top(100_00, 100_02);
    top(100_00, 100_03);
    top(100_00, 100_05);
    top(100_00, 100_01);
    top(100_00, 100_04);
    expect(t.fired.slice(1).map((f) => f.message)).toEqual([
      'BTCUSDT spread > 2 ticks: spread 0.03 (3 ticks), bid 100.00 ask 100.03',
      'BTCUSDT spread > 2 ticks: spread 0.04 (4 ticks), bid 100.00 ask 100.04',
    ]);
  });

  it('account events: fills, partial fills and rejections of one symbol or any (*), risk states, mismatches', async () => {
    const t = await setup();
    await t.add('filled');
    await t.svc.add({ symbol: '*', condition: 'rejected', untilCancelled: true }, T0);
    await t.add('partially filled');
    await t.svc.add({ symbol: '*', condition: 'risk halted', untilCancelled: true }, T0);
    await t.add('candle mismatch');
    const order = (symbol: string, status: Order['status'], time: number): Order =>
      ({ symbol, orderId: 1, clientOrderId: 'c1', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', price: 1, stopPrice: 0, origQty: 2_000_000, origQuoteOrderQty: 0n, executedQty: 1_000_000, cumQuote: 0n, status, isWorking: true, time, updateTime: time, workingTime: time, lockAsset: 'USDT', locked: 0n }) as Order;
    t.bus.publish('order.update', order('BTCUSDT', 'PARTIALLY_FILLED', T0 + 1));
    t.bus.publish('order.update', order('ETHUSDT', 'FILLED', T0 + 2));
    t.bus.publish('order.update', order('BTCUSDT', 'FILLED', T0 + 3));
    t.bus.publish('order.rejected', { symbol: 'ETHUSDT', clientOrderId: 'x', code: -2010, msg: 'Account has insufficient balance for requested action.', time: T0 + 4 });
    t.bus.publish('risk.state', { state: 'REDUCING', previous: 'ACTIVE', reason: 'loss', time: T0 + 5 });
    t.bus.publish('risk.state', { state: 'HALTED', previous: 'REDUCING', reason: 'daily loss limit', time: T0 + 6 });
    const c = { symbol: 'BTCUSDT', interval: '1m', openTime: T0, closeTime: T0 + MIN - 1 } as Candle;
    t.bus.publish('candle.mismatch', { ours: c, theirs: c, fields: ['volume'] });
    expect(t.fired.map((f) => [f.alertId, f.symbol, f.time, f.message])).toEqual([
      ['a3', 'BTCUSDT', T0 + 1, 'BTCUSDT partially filled: order c1 BUY LIMIT partially filled, executed 0.01000000'],
      ['a1', 'BTCUSDT', T0 + 3, 'BTCUSDT filled: order c1 BUY LIMIT filled, executed 0.01000000'],
      ['a2', 'ETHUSDT', T0 + 4, 'ETHUSDT rejected: order x rejected: Account has insufficient balance for requested action. (-2010)'],
      ['a4', '*', T0 + 6, '* risk halted: risk REDUCING -> HALTED: daily loss limit'],
      ['a5', 'BTCUSDT', T0 + MIN - 1, "BTCUSDT candle mismatch: 2024-08-08 00:00 candle differs from Binance's in volume"],
    ]);
  });

  it('pnl: realized plus unrealized at the last trade, exact', async () => {
    const pos = { qty: 10n ** 16n, cost: 60_000n * 10n ** 16n, realizedPnl: -50n * 10n ** 16n };
    const t = await setup({ account: { position: (s) => (s === 'BTCUSDT' ? pos : undefined) } });
    await t.add('pnl BTCUSDT < -100');
    t.trade(59_950_01, T0 + 1); // −49.99 − 50 = −99.99
    t.trade(59_950_00, T0 + 2); // −100: not below
    t.trade(59_949_99, T0 + 3); // −100.01: fires
    expect(t.fired.map((f) => [f.time, f.message])).toEqual([[T0 + 3, 'BTCUSDT pnl BTCUSDT < -100: PnL -100.01000000 USDT at 59949.99']]);
  });

  it('feed down: fires at down-since + N from a live timer, or when the feed comes back without one', async () => {
    const timers: Array<{ ms: number; fn: () => void }> = [];
    const live = await setup({ schedule: (ms, fn) => (timers.push({ ms, fn }), () => undefined) });
    await live.svc.add({ symbol: '*', condition: 'feed down > 30s', untilCancelled: true }, T0);
    live.bus.publish('feed.state', { state: 'open', attempt: 0 });
    live.trade(10_000_00, T0 + 1000);
    live.bus.publish('feed.state', { state: 'reconnecting', attempt: 1, nextInMs: 1000, reason: 'socket closed' });
    expect(timers.map((x) => x.ms)).toEqual([30_000]);
    timers[0]!.fn();
    expect(live.fired.map((f) => [f.time, f.message])).toEqual([[T0 + 31_000, '* feed down > 30s: no market data for more than 30s (socket closed)']]);
    live.bus.publish('feed.state', { state: 'open', attempt: 0 });
    live.trade(10_000_00, T0 + 90_000); // the same outage does not fire twice
    expect(live.fired).toHaveLength(1);

    const replay = await setup();
    await replay.svc.add({ symbol: '*', condition: 'feed down > 30s', untilCancelled: true }, T0);
    replay.bus.publish('feed.state', { state: 'open', attempt: 0 });
    replay.trade(10_000_00, T0 + 1000);
    replay.bus.publish('feed.state', { state: 'reconnecting', attempt: 1 });
    replay.bus.publish('feed.state', { state: 'open', attempt: 0 });
    replay.trade(10_000_00, T0 + 20_000); // 19 s away: no
    replay.bus.publish('feed.state', { state: 'closed', attempt: 0 });
    replay.bus.publish('feed.state', { state: 'open', attempt: 0 });
    replay.trade(10_000_00, T0 + 90_000); // 70 s away: fires at 20 s + 30 s
    expect(replay.fired.map((f) => f.time)).toEqual([T0 + 50_000]);
  });

  it('modes: once ends the alert, every waits out its cool-down, expiry stops it on event time', async () => {
    const t = await setup();
    await t.svc.add({ symbol: 'BTCUSDT', condition: 'price > 100', once: true }, T0);
    await t.svc.add({ symbol: 'BTCUSDT', condition: 'price > 100', every: '10s' }, T0);
    await t.svc.add({ symbol: 'BTCUSDT', condition: 'price > 100', untilCancelled: true, expire: '30s' }, T0);
    const path = [99, 101, 99, 101, 99, 101, 99, 101, 99, 101];
    path.forEach((p, i) => t.trade(p * 100, T0 + i * 4000));
    // crossings at 4 s, 12 s, 20 s, 28 s, 36 s
    expect(t.fired.map((f) => `${f.alertId}@${(f.time - T0) / 1000}`)).toEqual(['a1@4', 'a2@4', 'a3@4', 'a2@20', 'a3@12', 'a3@20', 'a3@28', 'a2@36'].sort(bySecondThenId));
    expect(t.svc.list(T0 + 40_000).map((v) => [v.record.alert.id, v.status, v.record.fired, v.running])).toEqual([
      ['a1', 'done', 1, false],
      ['a2', 'active', 3, true],
      ['a3', 'expired', 4, false],
    ]);
  });

  it('a restarted level alert that fired before does not fire again until its condition turned false', async () => {
    const t = await setup();
    const rec = { alert: { id: 'a9', symbol: 'BTCUSDT', condition: 'price > 100', mode: { kind: 'until-cancelled' as const }, notify: ['tui' as const], createdAt: T0 }, fired: 2, lastFiredAt: T0 };
    t.svc.engine.add(rec);
    t.trade(101_00, T0 + 1);
    t.trade(99_00, T0 + 2);
    t.trade(101_00, T0 + 3);
    expect(t.fired.map((f) => [f.id, f.time])).toEqual([['a9.3', T0 + 3]]);
  });
});

function bySecondThenId(a: string, b: string): number {
  const [ia, sa] = a.split('@');
  const [ib, sb] = b.split('@');
  return Number(sa) - Number(sb) || ia!.localeCompare(ib!);
}

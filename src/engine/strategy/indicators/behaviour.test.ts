import { describe, expect, it } from 'vitest';
import type { Candle } from '../../candles/types.js';
import { QtradeError } from '../../errors.js';
import { ATR, Bollinger, EMA, MACD, OBV, RSI, SMA, Stochastic, VWAP, WMA, type Bar } from './index.js';
import { prng } from './test-series.js';

const MIN = 60_000;
const DAY = 86_400_000;

/** A BTCUSDT 1m candle: prices at scale 2, quantities at scale 5 (as exchangeInfo gives). */
function candle(openTime: number, o: string, h: string, l: string, c: string, qty: string, quote?: string): Candle {
  const p = (s: string) => Math.round(Number(s) * 100);
  const volume = BigInt(Math.round(Number(qty) * 1e5));
  // exact quote volume at scale 7 (2 + 5): by default every trade at the close
  const quoteVolume = quote !== undefined ? BigInt(Math.round(Number(quote) * 1e7)) : BigInt(p(c)) * volume;
  return {
    symbol: 'BTCUSDT',
    interval: '1m',
    priceScale: 2,
    qtyScale: 5,
    openTime,
    closeTime: openTime + MIN - 1,
    open: p(o),
    high: p(h),
    low: p(l),
    close: p(c),
    volume,
    quoteVolume,
    trades: 10,
    takerBuyVolume: 0n,
    takerBuyQuoteVolume: 0n,
    firstTradeId: 1,
    lastTradeId: 10,
    closed: true,
  };
}

function candles(n: number, seed: number, start = Date.UTC(2024, 7, 8)): Candle[] {
  const r = prng(seed);
  let c = 6_183_763;
  const out: Candle[] = [];
  for (let i = 0; i < n; i++) {
    const o = c;
    c = Math.max(100, o + Math.round((r() - 0.5) * 4000));
    const h = Math.max(o, c) + Math.round(r() * 1500);
    const l = Math.min(o, c) - Math.round(r() * 1500);
    const f = (x: number) => (x / 100).toFixed(2);
    out.push(candle(start + i * MIN, f(o), f(h), f(l), f(c), (0.001 + r() * 3).toFixed(5)));
  }
  return out;
}

const asBar = (c: Candle): Bar => ({
  high: c.high / 100,
  low: c.low / 100,
  close: c.close / 100,
  volume: Number(c.volume) / 1e5,
  quoteVolume: Number(c.quoteVolume) / 1e7,
  time: c.openTime,
});

describe('Candle input gives the same values as the equivalent floats', () => {
  const cs = candles(500, 11);
  const bars = cs.map(asBar);
  const cases: [string, () => { update(x: never): unknown }][] = [
    ['SMA', () => new SMA(20)],
    ['EMA', () => new EMA(20)],
    ['WMA', () => new WMA(20)],
    ['RSI', () => new RSI(14)],
    ['MACD', () => new MACD()],
    ['Bollinger', () => new Bollinger()],
    ['ATR', () => new ATR(14)],
    ['Stochastic', () => new Stochastic({ kSmoothing: 3 })],
    ['VWAP', () => new VWAP()],
    ['OBV', () => new OBV()],
  ];
  for (const [name, make] of cases) {
    it(name, () => {
      const a = make();
      const b = make();
      const fromCandles = cs.map((c) => JSON.stringify(a.update(c as never)));
      const fromBars = bars.map((x) => JSON.stringify(b.update(x as never)));
      expect(fromCandles).toEqual(fromBars);
      expect(fromCandles.filter((v) => v !== undefined).length).toBeGreaterThan(400);
    });
  }

  it('price indicators also take plain numbers (the close)', () => {
    const a = new RSI();
    const b = new RSI();
    expect(cs.map((c) => a.update(c))).toEqual(cs.map((c) => b.update(c.close / 100)));
  });
});

describe('warm-up, value, isReady, reset', () => {
  it('SMA(3): undefined until the third input, then the window mean; reset starts over', () => {
    const s = new SMA(3);
    expect([s.update(1), s.update(2)]).toEqual([undefined, undefined]);
    expect(s.isReady).toBe(false);
    expect(s.value).toBeUndefined();
    expect(s.update(6)).toBe(3);
    expect(s.update(7)).toBe(5);
    expect(s.value).toBe(5);
    expect(s.isReady).toBe(true);
    s.reset();
    expect(s.isReady).toBe(false);
    expect([s.update(10), s.update(10), s.update(10)]).toEqual([undefined, undefined, 10]);
  });

  it('every indicator replays identically after reset()', () => {
    const cs = candles(300, 5);
    const all = [
      new SMA(10),
      new EMA(10),
      new WMA(10),
      new RSI(),
      new MACD(),
      new Bollinger(),
      new ATR(),
      new Stochastic(),
      new VWAP(),
      new OBV(),
    ] as { update(x: Candle): unknown; reset(): void; isReady: boolean; value: unknown }[];
    for (const ind of all) {
      const first = cs.map((c) => JSON.stringify(ind.update(c)));
      expect(ind.isReady).toBe(true);
      ind.reset();
      expect(ind.isReady).toBe(false);
      expect(ind.value).toBeUndefined();
      expect(cs.map((c) => JSON.stringify(ind.update(c)))).toEqual(first);
    }
  });

  it('warm-up lengths: EMA n, RSI n+1, MACD slow / slow+signal−1, ATR n, Stochastic k+d−1', () => {
    const firstReady = <T,>(ind: { update(x: T): unknown }, feed: (i: number) => T) => {
      for (let i = 0; i < 1000; i++) if (ind.update(feed(i)) !== undefined) return i + 1;
      return -1;
    };
    const px = (i: number) => 100 + Math.sin(i) * 5 + i * 0.1;
    const bar = (i: number): Bar => ({ high: px(i) + 1, low: px(i) - 1, close: px(i) });
    expect(firstReady(new EMA(10), px)).toBe(10);
    expect(firstReady(new RSI(14), px)).toBe(15);
    const m = new MACD();
    expect(firstReady(m, px)).toBe(34);
    const m2 = new MACD();
    for (let i = 0; i < 26; i++) m2.update(px(i));
    expect(m2.line).toBeDefined();
    expect(m2.value).toBeUndefined();
    expect(firstReady(new ATR(14), bar)).toBe(14);
    expect(firstReady(new Stochastic({ kPeriod: 14, dPeriod: 3 }), bar)).toBe(16);
    expect(firstReady(new Stochastic({ kPeriod: 14, kSmoothing: 3, dPeriod: 3 }), bar)).toBe(18);
    expect(firstReady(new Bollinger({ period: 20 }), px)).toBe(20);
  });
});

describe('edge cases', () => {
  it('RSI: 100 with no losses, 0 with no gains, 50 when flat', () => {
    const up = new RSI(5);
    const down = new RSI(5);
    const flat = new RSI(5);
    for (let i = 0; i < 10; i++) {
      up.update(100 + i);
      down.update(100 - i);
      flat.update(100);
    }
    expect([up.value, down.value, flat.value]).toEqual([100, 0, 50]);
  });

  it('Stochastic: a flat window gives %K 0; the window max/min forget old extremes', () => {
    const st = new Stochastic({ kPeriod: 3, dPeriod: 1 });
    for (let i = 0; i < 3; i++) st.update({ high: 5, low: 5, close: 5 });
    expect(st.k).toBe(0);
    const s2 = new Stochastic({ kPeriod: 3, dPeriod: 1 });
    s2.update({ high: 100, low: 0, close: 50 });
    s2.update({ high: 20, low: 10, close: 15 });
    expect(s2.update({ high: 20, low: 10, close: 15 })?.k).toBe(15); // (15 − 0) / (100 − 0)
    expect(s2.update({ high: 20, low: 10, close: 15 })?.k).toBe(50); // the 100/0 bar left
  });

  it('Bollinger with a constant window has zero width', () => {
    const bb = new Bollinger({ period: 4 });
    let v;
    for (let i = 0; i < 10; i++) v = bb.update(61837.63);
    expect(v).toEqual({ middle: 61837.63, upper: 61837.63, lower: 61837.63 });
  });

  it('rejects NaN and infinite inputs and bad parameters with typed errors', () => {
    expect(() => new SMA(10).update(NaN)).toThrow(QtradeError);
    expect(() => new EMA(10).update(Infinity)).toThrow(/finite/);
    expect(() => new RSI().update(Number.NaN)).toThrow(QtradeError);
    expect(() => new ATR().update({ high: NaN, low: 1, close: 1 })).toThrow(QtradeError);
    expect(() => new SMA(0)).toThrow(/integer ≥ 1/);
    expect(() => new EMA(2.5)).toThrow(QtradeError);
    expect(() => new Bollinger({ k: -1 })).toThrow(QtradeError);
    expect(() => new VWAP({ session: 0 })).toThrow(QtradeError);
    expect(() => new VWAP({ source: 'quote' }).update({ high: 1, low: 1, close: 1, volume: 1 })).toThrow(/quoteVolume/);
    try {
      new SMA(-1);
    } catch (e) {
      expect((e as QtradeError).code).toBe('INDICATOR_PARAM');
      expect((e as QtradeError).hint).toBeTruthy();
    }
  });
});

describe('VWAP sessions', () => {
  const t0 = Date.UTC(2024, 7, 8, 23, 58);

  it('restarts at UTC midnight (ms times)', () => {
    const v = new VWAP();
    v.update(candle(t0, '100', '100', '100', '100', '1'));
    expect(v.update(candle(t0 + MIN, '200', '200', '200', '200', '1'))).toBe(150);
    // 00:00 the next day: a new session, its first value is its own typical price
    expect(v.update(candle(t0 + 2 * MIN, '300', '300', '300', '300', '1'))).toBe(300);
  });

  it('detects µs times (data.binance.vision spot files from 2025 on)', () => {
    const v = new VWAP();
    const us = (ms: number) => ({ ...candle(0, '100', '100', '100', '100', '1'), openTime: ms * 1000 });
    v.update(us(t0));
    expect(v.update({ ...us(t0 + MIN), close: 20000, high: 20000, low: 20000 })).toBe(150);
    expect(v.update({ ...us(t0 + 2 * MIN), close: 30000, high: 30000, low: 30000 })).toBe(300);
  });

  it("'none' never restarts by itself; reset() re-anchors", () => {
    const v = new VWAP({ session: 'none' });
    v.update(candle(t0, '100', '100', '100', '100', '1'));
    v.update(candle(t0 + DAY, '200', '200', '200', '200', '1'));
    expect(v.value).toBe(150);
    v.reset();
    expect(v.update(candle(t0 + 2 * DAY, '300', '300', '300', '300', '1'))).toBe(300);
  });

  it('custom session length (hourly) and zero-volume bars', () => {
    const v = new VWAP({ session: 3_600_000 });
    const h = Date.UTC(2024, 7, 8, 10, 59);
    v.update(candle(h, '100', '100', '100', '100', '1'));
    expect(v.update(candle(h + MIN, '200', '200', '200', '200', '0'))).toBeUndefined(); // new hour, no trades yet
    expect(v.update(candle(h + 2 * MIN, '200', '200', '200', '200', '2'))).toBe(200);
  });

  it("source 'quote' is the traded VWAP: Σ quote volume / Σ volume, not the typical price", () => {
    const v = new VWAP({ source: 'quote', session: 'none' });
    // a bar whose trades averaged 61000.5 although its H/L/C average is 61100
    v.update(candle(t0, '61000', '61300', '61000', '61000', '2', '122001'));
    expect(v.value).toBeCloseTo(61000.5, 9);
    v.update(candle(t0 + MIN, '61000', '61000', '61000', '61000', '1', '61000'));
    expect(v.value).toBeCloseTo((122001 + 61000) / 3, 9);
  });
});

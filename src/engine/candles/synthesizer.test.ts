import { describe, expect, it } from 'vitest';
import { parseFixed } from '../fixed.js';
import { wireInstrument } from '../market/instruments.js';
import type { Instrument, Trade } from '../market/types.js';
import { aggregateCandles } from './aggregate.js';
import { klineCsvRow } from './format.js';
import { CandleSynthesizer, type SynthesizerOptions } from './synthesizer.js';
import type { Candle, Interval } from './types.js';

const BTC: Instrument = {
  symbol: 'BTCUSDT',
  baseAsset: 'BTC',
  quoteAsset: 'USDT',
  priceScale: 2,
  qtyScale: 5,
  tickSize: '0.01000000',
  stepSize: '0.00001000',
  status: 'TRADING',
};
const T0 = Date.parse('2024-08-08T00:00:00Z');

let nextId = 1;
function tr(time: number, price: string, qty: string, buyerMaker: boolean, n = 1, inst = BTC): Trade {
  const t: Trade = {
    symbol: inst.symbol,
    id: nextId,
    price: parseFixed(price, inst.priceScale),
    qty: parseFixed(qty, inst.qtyScale),
    firstId: nextId * 10,
    lastId: nextId * 10 + n - 1,
    time,
    buyerMaker,
  };
  nextId++;
  return t;
}

function synth(extra: Partial<SynthesizerOptions> = {}): { s: CandleSynthesizer; out: Candle[] } {
  const out: Candle[] = [];
  const s = new CandleSynthesizer({ instrument: BTC, onClosed: (c) => out.push(c), ...extra });
  return { s, out };
}

describe('CandleSynthesizer', () => {
  it('builds a minute as Binance does, and candles for the empty minutes after it', () => {
    nextId = 1;
    const { s, out } = synth();
    s.add(tr(T0 + 1_000, '100.00', '1', false, 3)); // ids 10..12
    s.add(tr(T0 + 30_000, '105.00', '2', true)); // 20
    s.add(tr(T0 + 59_999, '99.00', '0.5', false, 2)); // 30..31
    expect(out).toHaveLength(0);
    s.add(tr(T0 + 3 * 60_000 + 10_000, '101.50', '0.25', true));
    expect(out.map(klineCsvRow)).toEqual([
      // open, high, low, close, volume, close time, quote, count 3+1+2, taker-buy 1+0.5 and 100+49.5
      `${T0},100.00000000,105.00000000,99.00000000,99.00000000,3.50000000,${T0 + 59_999},359.50000000,6,1.50000000,149.50000000,0`,
      `${T0 + 60_000},99.00000000,99.00000000,99.00000000,99.00000000,0.00000000,${T0 + 119_999},0.00000000,0,0.00000000,0.00000000,0`,
      `${T0 + 120_000},99.00000000,99.00000000,99.00000000,99.00000000,0.00000000,${T0 + 179_999},0.00000000,0,0.00000000,0.00000000,0`,
    ]);
    expect(out[0]).toMatchObject({ firstTradeId: 10, lastTradeId: 31, trades: 6, closed: true, interval: '1m' });
    expect(out[1]).toMatchObject({ firstTradeId: -1, lastTradeId: -1, trades: 0, volume: 0n });
    expect(s.current()).toMatchObject({ openTime: T0 + 180_000, open: 10150, close: 10150, closed: false, trades: 1 });
  });

  it('emits nothing before the first trade', () => {
    const { s, out } = synth();
    s.advanceTo(T0 + 10 * 60_000);
    expect(s.current()).toBeUndefined();
    s.add(tr(T0 + 5 * 60_000 + 1, '1.00', '1', true));
    s.flush();
    expect(out.map((c) => c.openTime)).toEqual([T0 + 5 * 60_000]);
  });

  it('ignores and counts trades of a closed minute', () => {
    const { s, out } = synth();
    s.add(tr(T0 + 10, '10.00', '1', true));
    s.add(tr(T0 + 60_010, '11.00', '1', true));
    s.add(tr(T0 + 59_000, '500.00', '9', false));
    expect(s.late).toBe(1);
    s.flush();
    expect(out.map((c) => [c.high, c.volume])).toEqual([
      [1000, 100000n],
      [1100, 100000n],
    ]);
  });

  it('advanceTo closes minutes that ended before time − grace, empty ones too', () => {
    const { s, out } = synth({ graceMs: 1_000 });
    s.add(tr(T0 + 10, '10.00', '1', true));
    s.advanceTo(T0 + 60_000);
    expect(out).toHaveLength(0);
    s.advanceTo(T0 + 61_000);
    expect(out).toHaveLength(1);
    s.advanceTo(T0 + 4 * 60_000 + 999);
    expect(out.map((c) => c.openTime)).toEqual([T0, T0 + 60_000, T0 + 120_000]);
    s.advanceTo(T0 + 4 * 60_000 + 1_000);
    expect(out).toHaveLength(4);
    expect(out[3]).toMatchObject({ open: 1000, trades: 0, closed: true });
    // The open minute is empty: flush has nothing to close.
    s.flush();
    expect(out).toHaveLength(4);
    s.add(tr(T0 + 4 * 60_000 + 5, '12.00', '1', false));
    s.flush();
    expect(out).toHaveLength(5);
    s.flush();
    expect(out).toHaveLength(5);
  });

  it('reports partial candles only when asked, and they are not closed', () => {
    const partial: Candle[] = [];
    const { s } = synth({ onPartial: (c) => partial.push(c) });
    s.add(tr(T0 + 10, '10.00', '1', true));
    s.add(tr(T0 + 20, '12.00', '2', false));
    expect(partial.map((c) => [c.closed, c.high, c.volume, c.takerBuyVolume])).toEqual([
      [false, 1000, 100000n, 0n],
      [false, 1200, 300000n, 200000n],
    ]);
  });

  it('keeps quote volume exact past 2^53', () => {
    const wire = wireInstrument('BTCUSDT');
    const out: Candle[] = [];
    const s = new CandleSynthesizer({ instrument: wire, onClosed: (c) => out.push(c) });
    let expected = 0n;
    let buy = 0n;
    for (let i = 0; i < 50; i++) {
      const t = tr(T0 + i, `6183${i % 10}.6${i % 7}000001`, `1234.5678910${i % 10}`, i % 3 === 0, 1, wire);
      expected += BigInt(t.price) * BigInt(t.qty);
      if (!t.buyerMaker) buy += BigInt(t.price) * BigInt(t.qty);
      s.add(t);
    }
    s.flush();
    expect(expected > BigInt(Number.MAX_SAFE_INTEGER) * 1000n).toBe(true);
    expect(out[0]!.quoteVolume).toBe(expected);
    expect(out[0]!.takerBuyQuoteVolume).toBe(buy);
    expect(klineCsvRow(out[0]!).split(',')[7]).toMatch(/^\d+\.\d{9,16}$/);

    // Many small products at 2/5 scales also pass 2^53 over a week.
    const week: Candle[] = [];
    const w = new CandleSynthesizer({ instrument: BTC, interval: '1w', onClosed: (c) => week.push(c) });
    let sum = 0n;
    let buySum = 0n;
    let vol = 0n;
    let buyVol = 0n;
    for (let i = 0; i < 2000; i++) {
      const t = tr(T0 + i * 1000, `61837.${i % 97}`, `250.1234${i % 10}`, i % 3 === 1);
      sum += BigInt(t.price) * BigInt(t.qty);
      vol += BigInt(t.qty);
      if (!t.buyerMaker) {
        buySum += BigInt(t.price) * BigInt(t.qty);
        buyVol += BigInt(t.qty);
      }
      w.add(t);
    }
    w.flush();
    expect(buySum > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(week[0]).toMatchObject({ quoteVolume: sum, takerBuyQuoteVolume: buySum, volume: vol, takerBuyVolume: buyVol });
    expect(week[0]!.openTime).toBe(Date.parse('2024-08-05T00:00:00Z'));
  });

  it('stays exact when sums pass 2^53 again and again (add and addMany alike)', () => {
    const inst: Instrument = { ...BTC, qtyScale: 8 };
    let x = 12345;
    const rnd = (): number => {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      return x / 2 ** 32;
    };
    const trades: Trade[] = [];
    for (let i = 0; i < 20_000; i++) {
      // products from tiny to about 2^52, so low parts carry every few trades
      const price = 1 + Math.floor(rnd() * 10_000_000);
      const qty = 1 + Math.floor(rnd() * (rnd() < 0.1 ? 450_000_000 : 1_000_000));
      trades.push({ symbol: 'BTCUSDT', id: i, price, qty, firstId: i, lastId: i, time: T0 + i * 20, buyerMaker: rnd() < 0.4 });
    }
    const want = new Map<number, bigint[]>();
    for (const t of trades) {
      const k = Math.floor(t.time / 60_000) * 60_000;
      const w = want.get(k) ?? [0n, 0n, 0n, 0n];
      const pq = BigInt(t.price) * BigInt(t.qty);
      w[0]! += BigInt(t.qty);
      w[1]! += pq;
      if (!t.buyerMaker) {
        w[2]! += BigInt(t.qty);
        w[3]! += pq;
      }
      want.set(k, w);
    }
    const one: Candle[] = [];
    const a = new CandleSynthesizer({ instrument: inst, onClosed: (c) => one.push(c) });
    for (const t of trades) a.add(t);
    a.flush();
    const many: Candle[] = [];
    const b = new CandleSynthesizer({ instrument: inst, onClosed: (c) => many.push(c) });
    b.addMany(trades, 0, 7_000);
    b.addMany(trades, 7_000);
    b.flush();
    expect(many).toEqual(one);
    expect(one).toHaveLength(want.size);
    expect(one.some((c) => c.quoteVolume > BigInt(Number.MAX_SAFE_INTEGER) * 4n)).toBe(true);
    for (const c of one) expect([c.volume, c.quoteVolume, c.takerBuyVolume, c.takerBuyQuoteVolume]).toEqual(want.get(c.openTime));
  });

  it('works in microseconds', () => {
    const out: Candle[] = [];
    const s = new CandleSynthesizer({ instrument: BTC, unit: 'us', graceMs: 5, onClosed: (c) => out.push(c) });
    const t0 = Date.parse('2025-01-02T10:11:00Z') * 1000;
    s.add(tr(t0 + 123, '10.00', '1', true));
    s.add(tr(t0 + 59_999_999, '11.00', '1', true));
    s.advanceTo(t0 + 60_000_000 + 4_999);
    expect(out).toHaveLength(0);
    s.advanceTo(t0 + 60_000_000 + 5_000);
    expect(out[0]).toMatchObject({ openTime: t0, closeTime: t0 + 59_999_999, open: 1000, close: 1100, trades: 2 });
  });
});

describe('aggregation', () => {
  function randomTrades(seed: number, n: number): Trade[] {
    let x = seed;
    const rnd = (): number => {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      return x / 2 ** 32;
    };
    const out: Trade[] = [];
    let time = Date.parse('2024-08-04T22:13:00Z'); // a Sunday, so the data spans two weeks
    let price = 6_000_000;
    let id = 1;
    for (let i = 0; i < n; i++) {
      // mostly sub-second steps, sometimes quiet stretches of minutes or hours
      const r = rnd();
      time += r < 0.97 ? Math.floor(rnd() * 4000) : r < 0.995 ? Math.floor(rnd() * 600_000) : Math.floor(rnd() * 20_000_000);
      price += Math.floor((rnd() - 0.5) * 400);
      const k = 1 + Math.floor(rnd() * 3);
      out.push({ symbol: 'BTCUSDT', id, price, qty: 1 + Math.floor(rnd() * 5_000_000), firstId: id * 5, lastId: id * 5 + k - 1, time, buyerMaker: rnd() < 0.5 });
      id++;
    }
    return out;
  }

  function direct(trades: Trade[], interval: Interval): Candle[] {
    const out: Candle[] = [];
    const s = new CandleSynthesizer({ instrument: BTC, interval, onClosed: (c) => out.push(c) });
    for (const t of trades) s.add(t);
    s.flush();
    return out;
  }

  it('equals synthesizing directly at the higher interval', () => {
    const trades = randomTrades(7, 30_000);
    const minutes = direct(trades, '1m');
    expect(minutes.some((c) => c.trades === 0)).toBe(true);
    for (const interval of ['3m', '15m', '1h', '4h', '1d', '1w'] as const) {
      const agg = aggregateCandles(minutes, interval);
      const want = direct(trades, interval);
      // the last bucket is partial: the aggregator says so, the synthesizer's flush does not
      expect(agg.at(-1)!.closed).toBe(false);
      agg.at(-1)!.closed = true;
      expect(agg).toEqual(want);
    }
  });

  it('takes open from the first minute with trades and sums exactly', () => {
    nextId = 100;
    const a = tr(T0 + 2 * 60_000, '10.00', '1', false, 2);
    const b = tr(T0 + 3 * 60_000, '9.00', '3', true);
    const pre = tr(T0 - 1, '20.00', '1', true);
    const m = direct([pre, a, b], '1m');
    const [five] = aggregateCandles(m.slice(1), '5m');
    expect(five).toMatchObject({
      openTime: T0,
      closeTime: T0 + 299_999,
      open: 1000,
      high: 1000,
      low: 900,
      close: 900,
      volume: 400000n,
      quoteVolume: 1000n * 100000n + 900n * 300000n,
      takerBuyVolume: 100000n,
      trades: 3,
      firstTradeId: a.firstId,
      lastTradeId: b.lastId,
    });
  });
});

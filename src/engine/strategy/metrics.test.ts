import { describe, expect, it } from 'vitest';
import { bundledMarket } from '../orders/bundled-filters.js';
import { parseAmount } from '../orders/amounts.js';
import type { Fill } from '../orders/types.js';
import { EquitySeries } from './equity.js';
import { amountToNumber, computeMetrics, roundTrips } from './metrics.js';

const inst = bundledMarket().instruments.get('BTCUSDT');
const MIN = 60_000;
const pts = (values: string[], exposed: boolean[] = []): EquitySeries =>
  EquitySeries.fromPoints(values.map((v, i) => ({ time: i * MIN, equity: parseAmount(v), exposed: exposed[i] ?? false })));

function fill(side: 'BUY' | 'SELL', price: string, qty: string, commission: string, time: number): Fill {
  const p = Math.round(Number(price) * 10 ** inst.priceScale);
  const q = Math.round(Number(qty) * 10 ** inst.qtyScale);
  return {
    symbol: 'BTCUSDT', orderId: time, clientOrderId: `c${time}`, tradeId: time, side, price: p, qty: q,
    quoteQty: parseAmount(price) * parseAmount(qty) / 10n ** 16n, commission: parseAmount(commission),
    commissionAsset: side === 'BUY' ? 'BTC' : 'USDT', isMaker: false, time,
  };
}

describe('computeMetrics on hand-computed cases', () => {
  it('returns, drawdown, Sharpe and Sortino of 100 → 110 → 99 → 121', () => {
    const m = computeMetrics({ equity: pts(['100', '110', '99', '121'], [false, true, true, false]), fills: [], instrument: inst, barMs: MIN });
    expect(m.totalReturn).toBeCloseTo(0.21, 12);
    // Per-bar returns 0.1, -0.1, 0.2222…: mean 0.0740741, sample sd 0.1613, downside sqrt(0.01/3).
    const r = [0.1, -0.1, 121 / 99 - 1];
    const mean = (r[0]! + r[1]! + r[2]!) / 3;
    const sd = Math.sqrt(r.reduce((a, x) => a + (x - mean) ** 2, 0) / 2);
    const perYear = Math.sqrt((365 * 86_400_000) / MIN);
    expect(m.sharpe).toBeCloseTo((mean / sd) * perYear, 9);
    expect(m.sortino).toBeCloseTo((mean / Math.sqrt(0.01 / 3)) * perYear, 9);
    // Peak 110 → 99: 10 %, from minute 1 to the recovery at minute 3.
    expect(m.maxDrawdown).toBeCloseTo(0.1, 12);
    expect(m.maxDrawdownDurationMs).toBe(2 * MIN);
    expect(m.cagr).toBeCloseTo(Math.pow(1.21, (365 * 1440) / 3) - 1, 6);
    expect(m.calmar).toBeCloseTo(m.cagr! / 0.1, 6);
    expect(m.exposure).toBeCloseTo(2 / 3, 12);
    expect(m.bars).toBe(3);
  });

  it('a flat curve has no Sharpe, no drawdown and no Calmar', () => {
    const m = computeMetrics({ equity: pts(['100', '100', '100']), fills: [], instrument: inst, barMs: MIN });
    expect(m).toMatchObject({ totalReturn: 0, sharpe: null, sortino: null, maxDrawdown: 0, calmar: null, trades: 0, winRate: null, profitFactor: null });
  });

  it('an unrecovered drawdown lasts to the end', () => {
    const m = computeMetrics({ equity: pts(['100', '80', '90']), fills: [], instrument: inst, barMs: MIN });
    expect(m.maxDrawdown).toBeCloseTo(0.2, 12);
    expect(m.maxDrawdownDurationMs).toBe(2 * MIN);
  });

  it('round trips, win rate, profit factor, average trade and fees from fills', () => {
    // Trip 1: buy 0.1 @ 100 (fee 0.0001 BTC), sell the 0.0999 received @ 110 (fee 0.010989 USDT):
    //         −10 + 10.989 − 0.010989 = +0.978011 USDT.
    // Trip 2: buy 0.1 @ 100, sell 0.0999 @ 95 (fee 0.0094905): −10 + 9.4905 − 0.0094905 = −0.5189905.
    const fills = [
      fill('BUY', '100', '0.1', '0.0001', 1),
      fill('SELL', '110', '0.0999', '0.010989', 2),
      fill('BUY', '100', '0.1', '0.0001', 3),
      fill('SELL', '95', '0.0999', '0.0094905', 4),
    ];
    const { trips, open } = roundTrips(fills, inst);
    expect(open).toBe(false);
    expect(trips.map((t) => t.pnl)).toEqual([parseAmount('0.978011'), -parseAmount('0.5189905')]);
    const m = computeMetrics({ equity: pts(['100', '100']), fills, instrument: inst, barMs: MIN });
    expect(m.trades).toBe(2);
    expect(m.winRate).toBe(0.5);
    expect(m.profitFactor).toBeCloseTo(0.978011 / 0.5189905, 12);
    expect(m.avgTrade).toBeCloseTo((0.978011 - 0.5189905) / 2, 12);
    // Fees: 0.0001 BTC @100 + 0.010989 + 0.0001 BTC @100 + 0.0094905 = 0.0404795 USDT.
    expect(m.feesPaidExact).toBe(parseAmount('0.0404795'));
  });
});

/**
 * The statistics as computeMetrics first computed them: every return kept in an array and every
 * mark's peak in another, then a second pass over all marks for the exact drawdown. computeMetrics
 * now keeps neither array; it must give the same bits.
 */
function reference(series: EquitySeries, barMs: number) {
  const n = series.length;
  const eq = series.equity;
  const rets: number[] = [];
  const peakOf: number[] = [];
  let sum = 0;
  let exposed = 0;
  let peak = 0;
  let peakNum = n > 0 ? eq[0]! : 0;
  let maxDdFloat = 0;
  for (let i = 0; i < n; i++) {
    const e = eq[i]!;
    if (i > 0) {
      const r = eq[i - 1]! > 0 ? e / eq[i - 1]! - 1 : 0;
      rets.push(r);
      sum += r;
      exposed += series.exposed[i]!;
    }
    if (e > peakNum * (1 + 1e-12) || (e >= peakNum * (1 - 1e-12) && series.compare(i, peak) >= 0)) {
      peak = i;
      peakNum = e;
    } else if (peakNum > 0 && (peakNum - e) / peakNum > maxDdFloat) maxDdFloat = (peakNum - e) / peakNum;
    peakOf.push(peak);
  }
  let maxDd = 0;
  let ddPeak = 0;
  if (maxDdFloat > 0) {
    for (let i = 0; i < n; i++) {
      const p = peakOf[i]!;
      if (p === i || !(eq[p]! > 0) || (eq[p]! - eq[i]!) / eq[p]! < maxDdFloat - 1e-9) continue;
      const pe = series.exact(p);
      const dd = amountToNumber(pe - series.exact(i)) / amountToNumber(pe);
      if (dd > maxDd) {
        maxDd = dd;
        ddPeak = p;
      }
    }
  }
  const perYear = Math.sqrt((365 * 86_400_000) / barMs);
  let sharpe: number | null = null;
  let sortino: number | null = null;
  if (rets.length >= 2) {
    const mean = sum / rets.length;
    let sq = 0;
    let down = 0;
    for (const r of rets) {
      sq += (r - mean) ** 2;
      down += r < 0 ? r * r : 0;
    }
    if (sq / (rets.length - 1) > 0) sharpe = (mean / Math.sqrt(sq / (rets.length - 1))) * perYear;
    if (down / rets.length > 0) sortino = (mean / Math.sqrt(down / rets.length)) * perYear;
  }
  return { sharpe, sortino, maxDrawdown: maxDd, ddPeakTime: maxDd > 0 ? series.time[ddPeak]! : undefined, exposure: n > 1 ? exposed / (n - 1) : 0 };
}

describe('computeMetrics statistics', () => {
  it('match the two-array computation bit for bit on random curves with ties and plateaus', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    let drawdowns = 0;
    for (let run = 0; run < 40; run++) {
      const s = new EquitySeries(inst.priceScale, 16);
      let quote = parseAmount('1000');
      let base = 0n;
      let price = 4_250_000;
      const n = 50 + Math.floor(rnd() * 3000);
      for (let i = 0; i < n; i++) {
        const u = rnd();
        // Trades now and then (holdings change), otherwise the price walks, often not at all.
        if (u < 0.03 && base === 0n) {
          base = (quote * 10n ** 2n) / BigInt(price) / 2n;
          quote -= (base * BigInt(price)) / 10n ** 2n;
        } else if (u < 0.06 && base > 0n) {
          quote += (base * BigInt(price)) / 10n ** 2n;
          base = 0n;
        }
        if (rnd() < 0.6) price = Math.max(100, price + Math.round((rnd() - 0.5) * (run % 2 ? 40 : 20_000)));
        s.hold(quote, base);
        s.mark(i * MIN, price, base > 0n);
      }
      const m = computeMetrics({ equity: s, fills: [], instrument: inst, barMs: MIN });
      const r = reference(s, MIN);
      expect(Object.is(m.sharpe, r.sharpe)).toBe(true);
      expect(Object.is(m.sortino, r.sortino)).toBe(true);
      expect(Object.is(m.maxDrawdown, r.maxDrawdown)).toBe(true);
      expect(Object.is(m.exposure, r.exposure)).toBe(true);
      if (r.ddPeakTime !== undefined) {
        drawdowns++;
        expect(m.maxDrawdownDurationMs).toBeGreaterThan(0);
      }
    }
    expect(drawdowns).toBeGreaterThan(30);
  });
});

describe('computeMetrics trade statistics', () => {
  it('match map/filter/reduce over the round trips bit for bit', () => {
    let seed = 11;
    const rnd = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const fills: Fill[] = [];
    for (let i = 0; i < 400; i++) {
      const price = (90 + rnd() * 20).toFixed(2);
      fills.push(fill('BUY', price, '0.1', '0.0001', 2 * i), fill('SELL', (Number(price) * (0.97 + rnd() * 0.06)).toFixed(2), '0.0999', '0.01', 2 * i + 1));
    }
    const m = computeMetrics({ equity: pts(['100', '100']), fills, instrument: inst, barMs: MIN });
    const pnls = roundTrips(fills, inst).trips.map((t) => amountToNumber(t.pnl));
    const grossWin = pnls.filter((x) => x > 0).reduce((a, b) => a + b, 0);
    const grossLoss = -pnls.filter((x) => x < 0).reduce((a, b) => a + b, 0);
    expect(pnls.length).toBe(400);
    expect(Object.is(m.winRate, pnls.filter((x) => x > 0).length / pnls.length)).toBe(true);
    expect(Object.is(m.profitFactor, grossWin / grossLoss)).toBe(true);
    expect(Object.is(m.avgTrade, pnls.reduce((a, b) => a + b, 0) / pnls.length)).toBe(true);
  });
});

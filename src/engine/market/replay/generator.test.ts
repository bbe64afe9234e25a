import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFixed } from '../../fixed.js';
import { bundledInstruments } from '../bundled-instruments.js';
import { generateAggTrades, generateRecording, Rng, wireDecimal, type AggTradePayload } from './generator.js';
import { readRecording } from './recording.js';

const BTC = bundledInstruments().get('BTCUSDT');
const START = Date.UTC(2024, 7, 8, 23, 50);

function gen(seed: number | string, count = 20_000): AggTradePayload[] {
  return [...generateAggTrades({ seed, symbol: 'BTCUSDT', instrument: BTC, count, startTime: START, startPrice: '61837.63' })];
}

describe('generateAggTrades', () => {
  const a = gen(42);

  it('is deterministic for a seed and differs between seeds', () => {
    expect(JSON.stringify(gen(42))).toBe(JSON.stringify(a));
    expect(gen('42').length).toBe(20_000);
    const b = gen(43);
    expect(b.length).toBe(a.length);
    expect(JSON.stringify(b)).not.toBe(JSON.stringify(a));
    expect(b.slice(0, 50).map((t) => t.p)).not.toEqual(a.slice(0, 50).map((t) => t.p));
  });

  it('emits exactly Binance aggTrade payloads', () => {
    expect(a).toHaveLength(20_000);
    const t = a[0]!;
    expect(Object.keys(t)).toEqual(['e', 'E', 's', 'a', 'p', 'q', 'f', 'l', 'T', 'm', 'M']);
    expect(t).toMatchObject({ e: 'aggTrade', s: 'BTCUSDT', T: START, M: true });
    const bad = a.filter((x) => !/^\d+\.\d{8}$/.test(x.p) || !/^\d+\.\d{8}$/.test(x.q) || x.E < x.T);
    expect(bad).toEqual([]);
  });

  it('keeps agg ids and first/last trade ids contiguous, trade times non-decreasing', () => {
    const broken: number[] = [];
    for (let i = 1; i < a.length; i++) {
      const p = a[i - 1]!;
      const x = a[i]!;
      if (x.a !== p.a + 1 || x.f !== p.l + 1 || x.l < x.f || x.T < p.T) broken.push(i);
    }
    expect(broken).toEqual([]);
  });

  it('puts prices on the tick grid and quantities on the step grid, positive', () => {
    const tick = parseFixed(BTC.tickSize, BTC.priceScale);
    const step = parseFixed(BTC.stepSize, BTC.qtyScale);
    const off = a.filter((x) => {
      // parseFixed refuses digits beyond the scale, so this also proves the grid precision.
      const p = parseFixed(x.p, BTC.priceScale);
      const q = parseFixed(x.q, BTC.qtyScale);
      return p % tick !== 0 || q % step !== 0 || p <= 0 || q <= 0;
    });
    expect(off).toEqual([]);
    expect(new Set(a.map((x) => x.p)).size).toBeGreaterThan(100);
    // A coarser grid too: DOGEUSDT trades whole coins at 5-decimal prices.
    const doge = bundledInstruments().get('DOGEUSDT');
    const dogeTrades = [...generateAggTrades({ seed: 1, symbol: 'dogeusdt', instrument: doge, count: 2000, startTime: START, startPrice: 0.1 })];
    expect(dogeTrades.filter((x) => !/^0\.\d{5}000$/.test(x.p) || !/^\d+\.00000000$/.test(x.q) || x.s !== 'DOGEUSDT')).toEqual([]);
  });

  it('has same-millisecond bursts, whole minutes without trades, both taker sides and heavy-tailed sizes', () => {
    let sameMs = 0;
    let longestBurst = 1;
    let run = 1;
    for (let i = 1; i < a.length; i++) {
      if (a[i]!.T === a[i - 1]!.T) {
        sameMs++;
        run++;
        longestBurst = Math.max(longestBurst, run);
      } else run = 1;
    }
    expect(sameMs).toBeGreaterThan(a.length / 20);
    expect(longestBurst).toBeGreaterThanOrEqual(5);

    const minutes = new Set(a.map((x) => Math.floor(x.T / 60_000)));
    const span = Math.floor(a.at(-1)!.T / 60_000) - Math.floor(a[0]!.T / 60_000) + 1;
    expect(span - minutes.size).toBeGreaterThan(0);

    const buys = a.filter((x) => !x.m).length;
    expect(buys).toBeGreaterThan(a.length * 0.3);
    expect(buys).toBeLessThan(a.length * 0.7);

    const q = a.map((x) => parseFixed(x.q, BTC.qtyScale)).sort((x, y) => x - y);
    const median = q[Math.floor(q.length / 2)]!;
    expect(q.at(-1)! / median).toBeGreaterThan(50);
    expect(a.some((x) => x.l > x.f)).toBe(true);
  });

  it('prints wire decimals exactly', () => {
    expect(wireDecimal(6183763, 2)).toBe('61837.63000000');
    expect(wireDecimal(5, 5)).toBe('0.00005000');
    expect(wireDecimal(12, 0)).toBe('12.00000000');
    expect(wireDecimal(1, 8)).toBe('0.00000001');
  });

  it('Rng is reproducible and uniform-ish', () => {
    const r1 = new Rng(7);
    const r2 = new Rng(7);
    const xs = Array.from({ length: 1000 }, () => r1.next());
    expect(Array.from({ length: 1000 }, () => r2.next())).toEqual(xs);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});

describe('generateRecording', () => {
  it('writes a header and aggTrade frames merged in receive-time order', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qtrade-gen-'));
    try {
      const p = path.join(dir, 'g.jsonl.gz');
      const eth = bundledInstruments().get('ETHUSDT');
      const sum = await generateRecording({
        path: p,
        seed: 9,
        startTime: START,
        count: 500,
        symbols: [
          { symbol: 'BTCUSDT', instrument: BTC, startPrice: '61837.63' },
          { symbol: 'ETHUSDT', instrument: eth, startPrice: '2683.80' },
        ],
      });
      expect(sum.frames).toBe(1000);
      let lastR = -Infinity;
      const perStream = new Map<string, number[]>();
      let header = 0;
      for await (const l of readRecording(p)) {
        if (l.kind === 'header') {
          header++;
          expect(l.header).toMatchObject({ source: 'qtrade-generator', symbols: ['BTCUSDT', 'ETHUSDT'], channels: ['aggTrade'] });
          continue;
        }
        if (l.kind !== 'frame') throw new Error('unexpected line');
        expect(l.r).toBeGreaterThanOrEqual(lastR);
        lastR = l.r;
        const d = l.frame.data as AggTradePayload;
        expect(l.r).toBeGreaterThan(d.E);
        expect(l.frame.stream).toBe(`${d.s.toLowerCase()}@aggTrade`);
        perStream.set(d.s, [...(perStream.get(d.s) ?? []), d.a]);
      }
      expect(header).toBe(1);
      expect(perStream.get('BTCUSDT')).toHaveLength(500);
      expect(perStream.get('ETHUSDT')).toHaveLength(500);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

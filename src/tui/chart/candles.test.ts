import { describe, expect, it } from 'vitest';
import type { Candle } from '../../engine/candles/types.js';
import { candleChart, type Line } from './candles.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 7, 8, 23, 54);

function candle(i: number, open: number, high: number, low: number, close: number, volume: bigint): Candle {
  return {
    symbol: 'BTCUSDT',
    interval: '1m',
    priceScale: 0,
    qtyScale: 0,
    openTime: T0 + i * MIN,
    closeTime: T0 + (i + 1) * MIN - 1,
    open,
    high,
    low,
    close,
    volume,
    quoteVolume: 0n,
    trades: 1,
    takerBuyVolume: 0n,
    takerBuyQuoteVolume: 0n,
    firstTradeId: i,
    lastTradeId: i,
    closed: true,
  };
}

const text = (l: Line): string => l.map((r) => r.text).join('');
/** The characters of one plot column, top to bottom. */
const column = (lines: Line[], col: number, rows: number): string => lines.slice(0, rows).map((l) => text(l)[col]).join('');

const UP = candle(0, 100, 115, 95, 110, 10n);
const DOWN = candle(1, 110, 112, 98, 100, 5n);
const opts = { width: 20, height: 10, formatPrice: (p: number) => String(p), formatTime: (t: number) => new Date(t).toISOString().slice(11, 16) };

describe('candleChart', () => {
  it('draws bodies and wicks on the rows their prices fall on (no colour: down bodies are ░)', () => {
    const { lines } = candleChart([UP, DOWN], { ...opts, color: false });
    const first = text(lines[0]!).search(/\S/);
    // 115..95 over 10 rows: the up candle's body spans 110..100, its wicks reach the top and bottom.
    expect(column(lines, first, 10)).toBe('││██████││');
    expect(column(lines, first + 2, 10)).toBe(' ╷░░░░░░╵ ');
  });

  it('uses half blocks at the body ends when colour tells up from down', () => {
    const { lines } = candleChart([UP, DOWN], { ...opts, color: true });
    const first = text(lines[0]!).search(/\S/);
    expect(column(lines, first, 10)).toBe('││▄████▀││');
    const tones = lines[4]!.filter((r) => r.text.trim() !== '' && r.tone !== 'muted' && r.tone !== 'accent').map((r) => r.tone);
    expect(tones).toEqual(['up', 'down']);
  });

  it('adds a volume strip, a time axis and a price axis marking the last close', () => {
    const { lines } = candleChart([UP, DOWN], { ...opts, color: false });
    expect(lines).toHaveLength(12);
    const vol = text(lines[10]!);
    expect(vol.trim()).toMatch(/^█ ▄\s+vol$/);
    expect(text(lines[11]!)).toContain('23:54');
    const marked = lines.findIndex((l) => text(l).includes('◂100'));
    expect(marked).toBe(7);
    expect(text(lines[0]!)).toContain('114');
    for (const l of lines) expect(text(l)).toHaveLength(20);
  });

  it('keeps the newest candles that fit, right-aligned', () => {
    const many = Array.from({ length: 40 }, (_, i) => candle(i, 100 + i, 101 + i, 99 + i, 100 + i, 1n));
    const { lines, capacity } = candleChart(many, { ...opts, color: false });
    expect(capacity).toBeLessThan(40);
    const axisStart = text(lines[0]!).indexOf('  1');
    // The newest candle (closing at 139, the top of the range) sits in the last plot column.
    expect(text(lines[0]!)[axisStart - 1]).not.toBe(' ');
  });
});

import { describe, expect, it } from 'vitest';
import { lineChart, resample } from './chart.js';

describe('resample', () => {
  it('keeps short series, and the first and last value of long ones', () => {
    expect(resample([1, 2, 3], 5)).toEqual([1, 2, 3]);
    const long = Array.from({ length: 1000 }, (_, i) => i);
    const r = resample(long, 10);
    expect(r).toHaveLength(10);
    expect(r[0]).toBe(0);
    expect(r[9]).toBe(999);
  });

  it("'min' keeps each column's lowest value (a drawdown's trough survives)", () => {
    const dd = Array.from({ length: 1000 }, (_, i) => (i === 537 ? -50 : -1));
    expect(Math.min(...resample(dd, 10, 'min'))).toBe(-50);
    expect(Math.min(...resample(dd, 10))).toBe(-1);
  });
});

describe('lineChart', () => {
  it('fits the given width and has no colour codes unless asked', () => {
    const values = Array.from({ length: 5000 }, (_, i) => 10000 + Math.sin(i / 100) * 50);
    const chart = lineChart(values, { columns: 60, height: 5 });
    for (const line of chart.split('\n')) expect(line.length).toBeLessThanOrEqual(60);
    expect(chart).not.toContain('\x1b[');
    expect(lineChart(values, { columns: 60, height: 5, color: 'green' })).toContain('\x1b[');
  });
});

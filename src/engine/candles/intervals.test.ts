import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { bucketClose, bucketOpen, detectTimeUnit, intervalLength, parseInterval } from './intervals.js';
import { INTERVALS } from './types.js';

const T = (iso: string): number => Date.parse(iso);

describe('intervals', () => {
  it('has a length for every interval', () => {
    for (const i of INTERVALS) expect(intervalLength(i)).toBeGreaterThan(0);
    expect(intervalLength('3m')).toBe(180_000);
    expect(intervalLength('12h')).toBe(43_200_000);
    expect(intervalLength('1w')).toBe(604_800_000);
    expect(intervalLength('1m', 'us')).toBe(60_000_000);
  });

  it('aligns buckets to UTC', () => {
    const t = T('2024-08-08T23:57:31.123Z');
    expect(bucketOpen(t, '1m')).toBe(T('2024-08-08T23:57:00Z'));
    expect(bucketOpen(t, '5m')).toBe(T('2024-08-08T23:55:00Z'));
    expect(bucketOpen(t, '4h')).toBe(T('2024-08-08T20:00:00Z'));
    expect(bucketOpen(t, '1d')).toBe(T('2024-08-08T00:00:00Z'));
    expect(bucketClose(bucketOpen(t, '1h'), '1h')).toBe(T('2024-08-08T23:59:59.999Z'));
  });

  it('starts weeks on Monday 00:00 UTC although the epoch was a Thursday', () => {
    // 2024-08-08 was a Thursday; its week opened on Monday 2024-08-05.
    expect(bucketOpen(T('2024-08-08T12:00:00Z'), '1w')).toBe(T('2024-08-05T00:00:00Z'));
    expect(bucketOpen(T('2024-08-05T00:00:00Z'), '1w')).toBe(T('2024-08-05T00:00:00Z'));
    expect(bucketOpen(T('2024-08-04T23:59:59.999Z'), '1w')).toBe(T('2024-07-29T00:00:00Z'));
    expect(bucketOpen(0, '1w')).toBe(T('1969-12-29T00:00:00Z'));
    expect(new Date(bucketOpen(T('2025-03-13T00:00:00Z'), '1w')).getUTCDay()).toBe(1);
    expect(bucketClose(T('2024-08-05T00:00:00Z'), '1w')).toBe(T('2024-08-11T23:59:59.999Z'));
  });

  it('aligns microsecond times the same way', () => {
    const us = T('2025-01-02T10:11:12.345Z') * 1000 + 678;
    expect(detectTimeUnit(us)).toBe('us');
    expect(detectTimeUnit(T('2025-01-02T10:11:12.345Z'))).toBe('ms');
    expect(bucketOpen(us, '1m', 'us')).toBe(T('2025-01-02T10:11:00Z') * 1000);
    expect(bucketClose(T('2025-01-02T10:11:00Z') * 1000, '1m', 'us')).toBe(T('2025-01-02T10:11:59.999Z') * 1000 + 999);
    expect(bucketOpen(us, '1w', 'us')).toBe(T('2024-12-30T00:00:00Z') * 1000);
  });

  it('parses user intervals and lists the valid ones on error', () => {
    expect(parseInterval('5m')).toBe('5m');
    expect(parseInterval(' 1H ')).toBe('1h');
    expect(() => parseInterval('7m')).toThrow(UsageError);
    try {
      parseInterval('10m');
    } catch (err) {
      expect((err as UsageError).hint).toContain('1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 1w');
    }
    expect(() => parseInterval('10m')).toThrow(/unknown interval "10m"/);
  });
});

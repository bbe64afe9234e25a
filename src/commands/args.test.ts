import { describe, expect, it } from 'vitest';
import { UsageError } from '../engine/errors.js';
import { isChannel, parseChannels, parseDuration, parseLimit, parseSpeed, parseSymbols, parseTime } from './args.js';
import { expectUsageError } from '../../test/helpers/expect-error.js';


describe('parseTime', () => {
  it('parses dates as UTC and refuses days that do not exist', () => {
    expect(parseTime('2024-01-31', '--from')).toBe(Date.UTC(2024, 0, 31));
    expect(parseTime('2024-01-31T12:30', '--from')).toBe(Date.UTC(2024, 0, 31, 12, 30));
    expect(parseTime('2024-01-31 12:30:15+01:00', '--from')).toBe(Date.UTC(2024, 0, 31, 11, 30, 15));
    expect(parseTime('1704067200000', '--from')).toBe(Date.UTC(2024, 0, 1));
    expect(parseTime('now', '--to', () => 42)).toBe(42);
    for (const bad of ['2024-02-30', 'yesterday', '2024-13-01', '12']) expect(() => parseTime(bad, '--from')).toThrow(/not a date/);
  });

  it('takes seconds, milliseconds, zones in either form, surrounding blanks and NOW', () => {
    expect(parseTime(' 2024-08-08T23:55:07.25Z ', '--from')).toBe(Date.UTC(2024, 7, 8, 23, 55, 7, 250));
    expect(parseTime('2024-08-08t23:55z', '--from')).toBe(Date.UTC(2024, 7, 8, 23, 55));
    expect(parseTime('2024-08-09T01:55-0200', '--from')).toBe(Date.UTC(2024, 7, 9, 3, 55));
    expect(parseTime('2024-02-29', '--from')).toBe(Date.UTC(2024, 1, 29));
    expect(parseTime('NOW', '--to', () => 7)).toBe(7);
  });

  it('names the flag and the input, with one hint', () => {
    const e = expectUsageError(() => parseTime('last tuesday', '--to'));
    expect(e.message).toBe('--to "last tuesday" is not a date or time');
    expect(e.hint).toMatch(/epoch milliseconds/);
    for (const bad of ['', '2023-02-29', '2024-08-08T25:00', '2024-08-08T23:55+5', '1723161300', '-1723161300000']) {
      expect(() => parseTime(bad, '--from')).toThrow(UsageError);
    }
  });
});

describe('parseLimit', () => {
  it('takes positive whole numbers and passes undefined through', () => {
    expect(parseLimit(undefined)).toBeUndefined();
    expect(parseLimit('1')).toBe(1);
    expect(parseLimit(' 500 ')).toBe(500);
  });

  it('refuses zero, negatives, fractions, words and unsafe integers', () => {
    for (const bad of ['0', '-1', '1.5', 'ten', '', '1e3', '9007199254740993']) {
      expect(() => parseLimit(bad)).toThrow(/--limit ".*" is not a positive whole number/);
    }
  });
});

describe('parseDuration', () => {
  it('reads bare seconds and unit sequences', () => {
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration('2.5s')).toBe(2_500);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration(' 1D ')).toBe(86_400_000);
  });

  it('refuses words, spaces between parts and zero', () => {
    expect(() => parseDuration('10 minutes')).toThrow(/--duration "10 minutes" is not a duration/);
    for (const bad of ['', 'm', '1h 30m', '5w', '-5s']) expect(() => parseDuration(bad)).toThrow(/is not a duration/);
    for (const zero of ['0', '0s', '0.0001']) expect(() => parseDuration(zero)).toThrow(/must be longer than zero/);
  });
});

describe('parseChannels', () => {
  it('keeps the given order and drops repeats and blanks', () => {
    expect(parseChannels('depth, aggTrade,,depth')).toEqual(['depth', 'aggTrade']);
    expect(isChannel('kline_1m')).toBe(true);
    expect(isChannel('kline_5m')).toBe(false);
  });

  it('refuses unknown channels and an empty list, listing the valid ones', () => {
    const e = expectUsageError(() => parseChannels('aggTrade,aggTrades'));
    expect(e.message).toBe('unknown channel "aggTrades"');
    expect(e.hint).toContain('bookTicker');
    expect(() => parseChannels(' , ')).toThrow(/--channels names no channel/);
  });
});

describe('parseSymbols', () => {
  it('uppercases, trims and deduplicates', () => {
    expect(parseSymbols('btcusdt, ETHUSDT,btcusdt,')).toEqual(['BTCUSDT', 'ETHUSDT']);
  });

  it('refuses an empty list and names with other characters', () => {
    for (const bad of ['', ',', 'btc-usdt', 'btc usdt']) expect(() => parseSymbols(bad)).toThrow(/--symbols ".*" must be comma-separated symbols/);
  });
});

describe('parseSpeed', () => {
  it('takes max and positive multiples, with or without x', () => {
    expect(parseSpeed('max')).toBe('max');
    expect(parseSpeed(' MAX ')).toBe('max');
    expect(parseSpeed('10')).toBe(10);
    expect(parseSpeed('0.5x')).toBe(0.5);
  });

  it('refuses zero, negatives and words', () => {
    for (const bad of ['0', '-2', 'fast', '', 'x', 'Infinity']) expect(() => parseSpeed(bad)).toThrow(/--speed ".*" is neither a positive number nor "max"/);
  });
});

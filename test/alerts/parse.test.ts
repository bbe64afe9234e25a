import { describe, expect, it } from 'vitest';
import { ConditionError } from '../../src/engine/alerts/errors.js';
import { parseCondition } from '../../src/engine/alerts/parse.js';
import { bundledInstruments } from '../../src/engine/market/bundled-instruments.js';

const instruments = bundledInstruments();
const btc = instruments.get('BTCUSDT');
const ctx = { instrument: btc, lookup: (s: string) => (instruments.has(s) ? instruments.get(s) : undefined), symbols: () => instruments.all().map((i) => i.symbol) };
const parse = (text: string, c: Parameters<typeof parseCondition>[1] = ctx) => parseCondition(text, c);

function error(text: string, c: Parameters<typeof parseCondition>[1] = ctx): ConditionError {
  try {
    parse(text, c);
  } catch (err) {
    expect(err).toBeInstanceOf(ConditionError);
    return err as ConditionError;
  }
  throw new Error(`"${text}" parsed`);
}

describe('alert condition grammar', () => {
  it('parses every documented form into exact values at the symbol scales', () => {
    expect(btc.priceScale).toBe(2);
    expect(parse('price > 70000')).toEqual({ kind: 'price', cmp: '>', level: 7_000_000 });
    expect(parse('PRICE crosses below 60000.5')).toEqual({ kind: 'price', cmp: 'crosses below', level: 6_000_050 });
    expect(parse('change 5m > 2%')).toEqual({ kind: 'change', windowMs: 300_000, cmp: '>', pct: { raw: 2n, scale: 0 } });
    expect(parse('change 1h30m <= -1.25 %')).toEqual({ kind: 'change', windowMs: 5_400_000, cmp: '<=', pct: { raw: -125n, scale: 2 } });
    expect(parse('close 1h > 65000')).toEqual({ kind: 'series', left: { kind: 'close', interval: '1h' }, cmp: '>', right: { kind: 'level', raw: 6_500_000, value: 65000, text: '65000' } });
    expect(parse('rsi(14, 5m) < 30')).toEqual({ kind: 'series', left: { kind: 'rsi', period: 14, interval: '5m' }, cmp: '<', right: { kind: 'level', raw: undefined, value: 30, text: '30' } });
    expect(parse('sma(20,1h) crosses above sma(50,1h)')).toEqual({
      kind: 'series',
      left: { kind: 'sma', period: 20, interval: '1h' },
      cmp: 'crosses above',
      right: { kind: 'sma', period: 50, interval: '1h' },
    });
    expect(parse('volume 1m > 3x avg(20)')).toEqual({ kind: 'volume', interval: '1m', cmp: '>', rhs: { kind: 'avg', mult: { raw: 3n, scale: 0 }, count: 20 } });
    expect(parse('volume 5m >= 2.5 x avg(10)')).toMatchObject({ rhs: { kind: 'avg', mult: { raw: 25n, scale: 1 }, count: 10 } });
    expect(parse('volume 1m > 12.5')).toEqual({ kind: 'volume', interval: '1m', cmp: '>', rhs: { kind: 'qty', raw: 1_250_000_000n } });
    expect(parse('spread > 5 ticks')).toEqual({ kind: 'spread', cmp: '>', raw: 5, ticks: 5 });
    expect(parse('spread >= 0.5')).toEqual({ kind: 'spread', cmp: '>=', raw: 50, ticks: undefined });
    expect(parse('filled')).toEqual({ kind: 'order', event: 'filled' });
    expect(parse('partially filled')).toEqual({ kind: 'order', event: 'partially filled' });
    expect(parse('rejected')).toEqual({ kind: 'order', event: 'rejected' });
    expect(parse('pnl BTCUSDT < -100')).toEqual({ kind: 'pnl', symbol: 'BTCUSDT', cmp: '<', amount: -100n * 10n ** 16n });
    expect(parse('pnl > 12.5')).toEqual({ kind: 'pnl', symbol: 'BTCUSDT', cmp: '>', amount: 125n * 10n ** 15n });
    expect(parse('risk halted')).toEqual({ kind: 'risk', state: 'HALTED' });
    expect(parse('risk changed')).toEqual({ kind: 'risk', state: 'changed' });
    expect(parse('feed down > 30s')).toEqual({ kind: 'feed-down', ms: 30_000 });
    expect(parse('candle mismatch')).toEqual({ kind: 'candle-mismatch' });
  });

  it('allows only account conditions on any symbol (*), and pnl must name its symbol there', () => {
    const any = { ...ctx, instrument: undefined };
    expect(parse('filled', any)).toEqual({ kind: 'order', event: 'filled' });
    expect(parse('pnl ETHUSDT < -50', any)).toMatchObject({ kind: 'pnl', symbol: 'ETHUSDT' });
    expect(error('price > 1', any).column).toBe(1);
    expect(error('pnl < -50', any).reason).toMatch(/pnl of which symbol/);
  });

  it('points at the bad token with its column and a caret', () => {
    const e = error('price > 70000.001');
    expect(e.column).toBe(9);
    expect(e.message).toBe("bad condition: 70000.001 has more decimals than BTCUSDT's tick size 0.01 allows at column 9\n  price > 70000.001\n          ^^^^^^^^^");
    expect(e.exitCode).toBe(2);
    expect(e.pointer).toBe('price > 70000.001\n        ^');

    const cases: Array<[string, number, RegExp]> = [
      ['prize > 7', 1, /unknown condition "prize" \(did you mean price\?\)/],
      ['price = 70000', 7, /"=" is not a comparison/],
      ['price => 70000', 7, /write ">=", not "=>"/],
      ['price above 70000', 7, /write "crosses above"/],
      ['price crosses over 70000', 15, /expected "above" or "below" after "crosses"/],
      ['price > abc', 9, /expected a price in USDT, e.g. 70000, not "abc"/],
      ['price > 70000 and more', 15, /unexpected "and" after a complete condition/],
      ['price >', 8, /expected a price in USDT/],
      ['rsi(14, 7m) < 30', 9, /expected a candle interval/],
      ['rsi(14 5m) < 30', 8, /expected "," between the period and the interval/],
      ['rsi(14, 5m) < 130', 15, /RSI runs from 0 to 100/],
      ['rsi(14, 5m) < sma(20, 5m)', 15, /RSI is 0\.\.100/],
      ['change 5m > 2', 14, /expected "%"/],
      ['change 5m crosses above 2%', 11, /no crossings/],
      ['change 2d > 2%', 8, /from 1s to 24h/],
      ['volume 1m > 3x mean(20)', 16, /expected "avg"/],
      ['spread > 1.5 ticks', 10, /whole number/],
      ['pnl DOGEUSD < -1', 5, /unknown symbol "DOGEUSD" \(did you mean DOGEUSDT/],
      ['pnl ETHUSDT < -1', 5, /pnl names ETHUSDT but the alert is on BTCUSDT/],
      ['risk stopped', 6, /expected "halted" or "reducing" or "active" or "changed"/],
      ['feed down < 30s', 11, /expected "> DURATION"/],
      ['price > 7000$', 13, /unexpected character "\$"/],
      ['', 1, /empty condition/],
    ];
    for (const [text, col, re] of cases) {
      const err = error(text);
      expect([text, err.column]).toEqual([text, col]);
      expect(err.reason).toMatch(re);
      expect(err.message.split('\n')[2]).toBe('  ' + ' '.repeat(col - 1) + '^'.repeat(Math.max(1, err.message.split('\n')[2]!.trim().length)));
    }
  });
});

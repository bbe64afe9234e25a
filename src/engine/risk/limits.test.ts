import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../errors.js';
import { parseAmount } from '../orders/amounts.js';
import { groupThousands } from './format.js';
import {
  RISK_LIMIT_KEYS,
  decodeLimits,
  emptyLimits,
  encodeLimits,
  formatLimitValue,
  listLimits,
  parseLimitValue,
  setLimit,
  type RiskLimits,
} from './limits.js';
import { expectUsageError } from '../../../test/helpers/expect-error.js';


describe('parseLimitValue / formatLimitValue', () => {
  it('parses every key exactly', () => {
    expect(parseLimitValue('maxOrderNotional', '10000')).toBe(parseAmount('10000'));
    expect(parseLimitValue('maxOrderNotional', '0.0000000000000001')).toBe(1n);
    expect(parseLimitValue('maxPositionQty', '0.5')).toBe(parseAmount('0.5'));
    expect(parseLimitValue('maxPositionNotional', '50000.25')).toBe(parseAmount('50000.25'));
    expect(parseLimitValue('dailyLossLimit', '1000')).toBe(parseAmount('1000'));
    expect(parseLimitValue('maxOpenOrders', '20')).toBe(20);
    expect(parseLimitValue('maxOpenOrders', '0')).toBe(0);
    expect(parseLimitValue('orderRate', '10/1s')).toEqual({ count: 10, windowMs: 1000 });
    expect(parseLimitValue('orderRate', '10/s')).toEqual({ count: 10, windowMs: 1000 });
    expect(parseLimitValue('orderRate', '100 / 5m')).toEqual({ count: 100, windowMs: 300_000 });
    expect(parseLimitValue('orderRate', '5/500ms')).toEqual({ count: 5, windowMs: 500 });
    expect(parseLimitValue('orderRate', '1000/24h')).toEqual({ count: 1000, windowMs: 86_400_000 });
    expect(parseLimitValue('priceBandPct', '5')).toBe(50_000n);
    expect(parseLimitValue('priceBandPct', '5%')).toBe(50_000n);
    expect(parseLimitValue('priceBandPct', '0.25')).toBe(2_500n);
  });

  it('prints the canonical form', () => {
    expect(formatLimitValue('maxOrderNotional', parseAmount('10000'))).toBe('10000');
    expect(formatLimitValue('maxPositionQty', parseAmount('0.50'))).toBe('0.5');
    expect(formatLimitValue('orderRate', { count: 100, windowMs: 300_000 })).toBe('100/5m');
    expect(formatLimitValue('orderRate', { count: 10, windowMs: 1500 })).toBe('10/1500ms');
    expect(formatLimitValue('orderRate', { count: 10, windowMs: 7_200_000 })).toBe('10/2h');
    expect(formatLimitValue('priceBandPct', 2_500n)).toBe('0.25');
    expect(formatLimitValue('maxOpenOrders', 7)).toBe('7');
  });

  it('rejects bad values with a UsageError that names the form', () => {
    const e1 = expectUsageError(() => parseLimitValue('maxOrderNotional', '10,000'));
    expect(e1.message).toBe('invalid maxOrderNotional "10,000": not a plain decimal with at most 16 decimals (no separators or units)');
    expect(e1.hint).toBe('maxOrderNotional takes a quote amount per order, e.g. `qtrade risk set maxOrderNotional 10000`; "off" removes it');
    expect(expectUsageError(() => parseLimitValue('maxOrderNotional', '0')).message).toBe('invalid maxOrderNotional "0": must be greater than 0');
    expect(expectUsageError(() => parseLimitValue('dailyLossLimit', '-5')).message).toBe('invalid dailyLossLimit "-5": must be greater than 0');
    expect(expectUsageError(() => parseLimitValue('maxOpenOrders', '2.5')).message).toBe('invalid maxOpenOrders "2.5": must be a whole number of orders');
    expect(expectUsageError(() => parseLimitValue('orderRate', '10')).message).toBe(
      'invalid orderRate "10": expected COUNT/WINDOW such as 10/1s, 100/1m or 5/500ms',
    );
    expect(expectUsageError(() => parseLimitValue('orderRate', '0/1s')).message).toBe('invalid orderRate "0/1s": the count must be at least 1');
    expect(expectUsageError(() => parseLimitValue('orderRate', '5/25h')).message).toBe('invalid orderRate "5/25h": the window must be between 1ms and 24h');
    expect(expectUsageError(() => parseLimitValue('orderRate', '5/0s')).message).toBe('invalid orderRate "5/0s": the window must be between 1ms and 24h');
    expect(expectUsageError(() => parseLimitValue('priceBandPct', '0.00001')).message).toBe('invalid priceBandPct "0.00001": not a percentage with at most 4 decimals');
    expect(expectUsageError(() => parseLimitValue('priceBandPct', '0')).message).toBe('invalid priceBandPct "0": must be greater than 0');
  });

  it('round-trips any value through its canonical string', () => {
    const amount = fc.bigInt({ min: 1n, max: 10n ** 30n });
    fc.assert(
      fc.property(amount, fc.integer({ min: 0, max: 1e9 - 1 }), fc.integer({ min: 1, max: 1e9 - 1 }), fc.integer({ min: 1, max: 86_400_000 }), (a, n, c, w) => {
        expect(parseLimitValue('maxOrderNotional', formatLimitValue('maxOrderNotional', a))).toBe(a);
        expect(parseLimitValue('priceBandPct', formatLimitValue('priceBandPct', a))).toBe(a);
        expect(parseLimitValue('maxOpenOrders', formatLimitValue('maxOpenOrders', n))).toBe(n);
        expect(parseLimitValue('orderRate', formatLimitValue('orderRate', { count: c, windowMs: w }))).toEqual({ count: c, windowMs: w });
      }),
    );
  });
});

describe('setLimit', () => {
  it('sets global and per-symbol values without mutating the input', () => {
    const a = emptyLimits();
    const b = setLimit(a, 'maxOrderNotional', '10000');
    const c = setLimit(b, 'maxOrderNotional', '50000', 'btcusdt');
    const d = setLimit(c, 'maxPositionQty', '2', 'BTCUSDT');
    expect(a).toEqual({ global: {}, symbols: {} });
    expect(b).toEqual({ global: { maxOrderNotional: parseAmount('10000') }, symbols: {} });
    expect(d).toEqual({
      global: { maxOrderNotional: parseAmount('10000') },
      symbols: { BTCUSDT: { maxOrderNotional: parseAmount('50000'), maxPositionQty: parseAmount('2') } },
    });
    expect(c.symbols.BTCUSDT).toEqual({ maxOrderNotional: parseAmount('50000') });
  });

  it('"off" removes a value, and an emptied symbol disappears', () => {
    let l = setLimit(emptyLimits(), 'maxOpenOrders', '5', 'ETHUSDT');
    l = setLimit(l, 'priceBandPct', '3');
    l = setLimit(l, 'maxOpenOrders', 'off', 'ETHUSDT');
    l = setLimit(l, 'priceBandPct', 'OFF');
    expect(l).toEqual({ global: {}, symbols: {} });
  });

  it('names the valid keys for an unknown one', () => {
    const e = expectUsageError(() => setLimit(emptyLimits(), 'maxNotional', '5'));
    expect(e.message).toBe('unknown risk limit "maxNotional"');
    expect(e.hint).toBe(
      'valid keys: maxOrderNotional (quote amount per order, e.g. 10000), maxPositionQty (base quantity, needs --symbol, e.g. 0.5), ' +
        'maxPositionNotional (quote amount, e.g. 50000), maxOpenOrders (orders, e.g. 20), orderRate (orders per window (ms, s, m, h), e.g. 10/1s), ' +
        'priceBandPct (percent from the last trade, e.g. 5), dailyLossLimit (quote amount of realized loss per UTC day, e.g. 1000)',
    );
    expect(expectUsageError(() => setLimit(emptyLimits(), 'toString', '5')).message).toBe('unknown risk limit "toString"');
  });

  it('refuses maxPositionQty without a symbol, and a malformed symbol', () => {
    const e = expectUsageError(() => setLimit(emptyLimits(), 'maxPositionQty', '1'));
    expect(e.message).toBe('maxPositionQty is per symbol (base quantity, needs --symbol)');
    expect(e.hint).toBe('add --symbol, e.g. `qtrade risk set maxPositionQty 0.5 --symbol BTCUSDT`');
    expect(expectUsageError(() => setLimit(emptyLimits(), 'maxOpenOrders', '1', 'BTC/USDT')).message).toBe('invalid symbol "BTC/USDT"');
  });

  it('lists the limits for `risk show`, global first', () => {
    let l = setLimit(emptyLimits(), 'orderRate', '10/1s');
    l = setLimit(l, 'dailyLossLimit', '1000.5', 'ETHUSDT');
    l = setLimit(l, 'maxOrderNotional', '10000');
    l = setLimit(l, 'priceBandPct', '2.5', 'BTCUSDT');
    expect(listLimits(l)).toEqual([
      { scope: 'global', key: 'maxOrderNotional', value: '10000' },
      { scope: 'global', key: 'orderRate', value: '10/1s' },
      { scope: 'BTCUSDT', key: 'priceBandPct', value: '2.5' },
      { scope: 'ETHUSDT', key: 'dailyLossLimit', value: '1000.5' },
    ]);
  });
});

describe('encodeLimits / decodeLimits', () => {
  it('stores values as the CLI strings', () => {
    let l = setLimit(emptyLimits(), 'maxOrderNotional', '10000');
    l = setLimit(l, 'orderRate', '100/1m', 'BTCUSDT');
    expect(encodeLimits(l)).toBe('{"version":1,"global":{"maxOrderNotional":"10000"},"symbols":{"BTCUSDT":{"orderRate":"100/1m"}}}');
    expect(decodeLimits(encodeLimits(l))).toEqual(l);
  });

  it('round-trips any limits', () => {
    const set = (withQty: boolean) =>
      fc.record(
        {
          maxOrderNotional: fc.bigInt({ min: 1n, max: 10n ** 24n }),
          ...(withQty ? { maxPositionQty: fc.bigInt({ min: 1n, max: 10n ** 24n }) } : {}),
          maxPositionNotional: fc.bigInt({ min: 1n, max: 10n ** 24n }),
          maxOpenOrders: fc.nat({ max: 1e6 }),
          orderRate: fc.record({ count: fc.integer({ min: 1, max: 1e6 }), windowMs: fc.integer({ min: 1, max: 86_400_000 }) }),
          priceBandPct: fc.bigInt({ min: 1n, max: 10n ** 8n }),
          dailyLossLimit: fc.bigInt({ min: 1n, max: 10n ** 24n }),
        },
        { requiredKeys: [] },
      );
    const limits: fc.Arbitrary<RiskLimits> = fc.record({
      global: set(false),
      symbols: fc.dictionary(fc.constantFrom('BTCUSDT', 'ETHBTC', 'SOLUSDT'), set(true)),
    });
    fc.assert(
      fc.property(limits, (l) => {
        expect(decodeLimits(encodeLimits(l))).toEqual(l);
      }),
    );
  });

  it('rejects stored data it did not write, with a ParseError', () => {
    const bad = [
      'nope',
      '{"version":2,"global":{},"symbols":{}}',
      '{"version":1,"global":{"maxFoo":"1"},"symbols":{}}',
      '{"version":1,"global":{"maxOrderNotional":5},"symbols":{}}',
      '{"version":1,"global":{"maxOrderNotional":"-5"},"symbols":{}}',
      '{"version":1,"global":{"maxPositionQty":"1"},"symbols":{}}',
      '{"version":1,"global":{},"symbols":{"BTC/USDT":{}}}',
      '{"version":1,"global":{},"symbols":[]}',
    ];
    for (const s of bad) expect(() => decodeLimits(s), s).toThrow(ParseError);
    expect(() => decodeLimits('{"version":1,"global":{"maxOrderNotional":"-5"},"symbols":{}}')).toThrow(
      'stored risk limits: global.maxOrderNotional: invalid maxOrderNotional "-5": must be greater than 0',
    );
  });

  it('every key has a parser and a printer', () => {
    for (const k of RISK_LIMIT_KEYS) expect(typeof formatLimitValue(k, parseLimitValue(k, k === 'orderRate' ? '1/1s' : '1') as never)).toBe('string');
  });
});

describe('groupThousands', () => {
  it('groups the integer part only', () => {
    expect(groupThousands('0.00')).toBe('0.00');
    expect(groupThousands('999.5')).toBe('999.5');
    expect(groupThousands('1000')).toBe('1,000');
    expect(groupThousands('52000.00')).toBe('52,000.00');
    expect(groupThousands('-1234567.891234')).toBe('-1,234,567.891234');
    expect(groupThousands('100000')).toBe('100,000');
  });
});

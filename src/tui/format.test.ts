import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bundledInstruments } from '../engine/market/bundled-instruments.js';
import { OrderRejectedError, Rejections } from '../engine/orders/rejections.js';
import { UsageError } from '../engine/errors.js';
import { compactAmount, describeError, fit, fmtPnl, fmtPrice, group, hms, pctChange } from './format.js';

describe('group', () => {
  it('puts separators in the integer part only', () => {
    expect(group('60012.40')).toBe('60,012.40');
    expect(group('1234567')).toBe('1,234,567');
    expect(group('-1234.5')).toBe('-1,234.5');
    expect(group('999')).toBe('999');
    expect(group('0.00012345')).toBe('0.00012345');
  });

  it('changes nothing but the separators', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.nat({ max: 8 }), (raw, scale) => {
        const s = raw.toString();
        const dec = scale === 0 || s.replace('-', '').length <= scale ? s : `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`;
        expect(group(dec).replaceAll(',', '')).toBe(dec);
      }),
    );
  });
});

describe('prices and PnL', () => {
  const btc = bundledInstruments().get('BTCUSDT');
  it('prints prices at the tick with separators', () => {
    expect(fmtPrice(6001240, btc)).toBe('60,012.40');
  });
  it('rounds PnL half away from zero and signs it', () => {
    expect(fmtPnl(90_300_000_000_000_000n)).toBe('+9.03');
    expect(fmtPnl(-5_000_000_000_000_000n)).toBe('-0.50');
    expect(fmtPnl(0n)).toBe('+0.00');
    expect(fmtPnl(4_999_999_999_999_999n, 2)).toBe('+0.50');
  });
});

describe('pctChange', () => {
  it('is exact to the hundredth of a percent, half away from zero', () => {
    expect(pctChange(100_00, 101_80)).toBe('+1.80%');
    expect(pctChange(100_00, 99_60)).toBe('-0.40%');
    expect(pctChange(3, 4)).toBe('+33.33%');
    expect(pctChange(3, 2)).toBe('-33.33%');
    expect(pctChange(8, 9)).toBe('+12.50%');
    expect(pctChange(100, 100)).toBe('+0.00%');
    expect(pctChange(0, 5)).toBeUndefined();
  });
});

describe('compactAmount', () => {
  it('abbreviates large quantities to three significant digits', () => {
    expect(compactAmount(12_345_678n * 10n ** 5n, 8)).toBe('12.3K');
    expect(compactAmount(3_070_000n * 10n ** 8n, 8)).toBe('3.07M');
    expect(compactAmount(742_318n * 10n ** 5n, 8)).toBe('742.31');
    expect(compactAmount(999_000n * 10n ** 8n, 8)).toBe('999K');
  });
});

describe('describeError', () => {
  it("shows a refusal as Binance's code and message", () => {
    expect(describeError(new OrderRejectedError(Rejections.filter('LOT_SIZE'))).text).toBe('-1013 Filter failure: LOT_SIZE');
  });
  it('adds the hint of other errors', () => {
    expect(describeError(new UsageError('bad', { hint: 'do this' })).text).toBe('bad (do this)');
  });
});

describe('fit and hms', () => {
  it('pads or cuts to the width', () => {
    expect(fit('abc', 5)).toBe('abc  ');
    expect(fit('abc', 5, 'right')).toBe('  abc');
    expect(fit('abcdef', 4)).toBe('abc…');
  });
  it('prints UTC times', () => {
    expect(hms(Date.UTC(2024, 7, 8, 23, 54, 14, 999))).toBe('23:54:14');
  });
});

import { describe, expect, it } from 'vitest';
import { groupStreams, streamName, streamNames, streamSymbol } from './streams.js';

describe('stream names', () => {
  it('spells every channel as Binance does, with a lowercase symbol', () => {
    expect(streamName('BTCUSDT', 'aggTrade')).toBe('btcusdt@aggTrade');
    expect(streamName('BTCUSDT', 'trade')).toBe('btcusdt@trade');
    expect(streamName('btcusdt', 'kline_1m')).toBe('btcusdt@kline_1m');
    expect(streamName('BtcUsdt', 'bookTicker')).toBe('btcusdt@bookTicker');
    expect(streamName('ETHUSDT', 'depth')).toBe('ethusdt@depth@100ms');
    expect(streamName('ETHUSDT', 'miniTicker')).toBe('ethusdt@miniTicker');
    expect(() => streamName('BTCUSDT', 'ticker' as never)).toThrow(/unknown channel "ticker"/);
    expect(streamNames(['BTCUSDT', 'btcusdt', 'ETHUSDT'], ['trade', 'depth'])).toEqual([
      'btcusdt@trade',
      'btcusdt@depth@100ms',
      'ethusdt@trade',
      'ethusdt@depth@100ms',
    ]);
    expect(streamSymbol('ethusdt@depth@100ms')).toBe('ETHUSDT');
  });

  it('splits streams into connection-sized groups without duplicates', () => {
    const many = Array.from({ length: 2050 }, (_, i) => `s${i}@trade`);
    expect(groupStreams(many).map((g) => g.length)).toEqual([1024, 1024, 2]);
    expect(groupStreams(many).flat()).toEqual(many);
    expect(groupStreams(['a', 'b', 'a', 'c'], 2)).toEqual([['a', 'b'], ['c']]);
    expect(groupStreams([])).toEqual([]);
    expect(() => groupStreams(['a'], 0)).toThrow(RangeError);
  });
});

import { describe, expect, it } from 'vitest';
import { UsageError } from '../engine/errors.js';
import { parseCommand } from './commands.js';

describe('parseCommand', () => {
  it('reads limit and market orders', () => {
    expect(parseCommand('buy 0.01 btcusdt limit 60000')).toEqual({ kind: 'order', ticket: { symbol: 'BTCUSDT', side: 'BUY', qty: '0.01', limit: '60000' } });
    expect(parseCommand('/sell 0.5 ethusdt')).toEqual({ kind: 'order', ticket: { symbol: 'ETHUSDT', side: 'SELL', qty: '0.5' } });
    expect(parseCommand('buy 0.01 @61000 ioc', { symbol: 'BTCUSDT' })).toEqual({ kind: 'order', ticket: { symbol: 'BTCUSDT', side: 'BUY', qty: '0.01', limit: '61000', tif: 'IOC' } });
    expect(parseCommand('sell 1 ethusdt 3100 maker')).toEqual({ kind: 'order', ticket: { symbol: 'ETHUSDT', side: 'SELL', qty: '1', limit: '3100', type: 'LIMIT_MAKER' } });
    expect(parseCommand('sell 1 stop 2900 limit 2890', { symbol: 'ETHUSDT' })).toEqual({ kind: 'order', ticket: { symbol: 'ETHUSDT', side: 'SELL', qty: '1', stop: '2900', limit: '2890' } });
  });

  it('keeps the decimals exactly as typed (the engine parses them at the symbol scale)', () => {
    const c = parseCommand('buy 0.000001 btcusdt limit 60000.123');
    expect(c).toMatchObject({ ticket: { qty: '0.000001', limit: '60000.123' } });
  });

  it('reads cancels, intervals, symbols, layouts', () => {
    expect(parseCommand('cancel all')).toEqual({ kind: 'cancelAll', symbol: undefined });
    expect(parseCommand('cancel all btcusdt')).toEqual({ kind: 'cancelAll', symbol: 'BTCUSDT' });
    expect(parseCommand('cancel 12')).toEqual({ kind: 'cancel', orderId: 12 });
    expect(parseCommand('interval 5m')).toEqual({ kind: 'interval', interval: '5m' });
    expect(parseCommand('symbol ethusdt')).toEqual({ kind: 'symbol', symbol: 'ETHUSDT' });
    expect(parseCommand('layout 3')).toEqual({ kind: 'layout', layout: 3 });
    expect(parseCommand('?')).toEqual({ kind: 'help' });
    expect(parseCommand('quit')).toEqual({ kind: 'quit' });
  });

  it('refuses what it cannot read, saying what would work', () => {
    const cases = ['buy', 'buy lots btcusdt', 'buy 1 btcusdt limit', 'buy 1 btcusdt market 5', 'cancel', 'interval 2m', 'layout 9', 'launch rockets', '', 'buy 1'];
    for (const text of cases) {
      expect(() => parseCommand(text), text).toThrow(UsageError);
    }
    expect(() => parseCommand('interval 2m')).toThrow(/1m 5m 15m 1h 4h 1d/);
  });
});

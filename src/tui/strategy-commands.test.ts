import { describe, expect, it } from 'vitest';
import { UsageError } from '../engine/errors.js';
import { parseCommand } from './commands.js';

describe('strategy and backtest commands', () => {
  it('reads strategy start, stop, resume and the list', () => {
    expect(parseCommand('/strategy start sma-cross btcusdt fast=5 slow=20')).toEqual({
      kind: 'strategyStart',
      spec: { strategy: 'sma-cross', symbol: 'BTCUSDT', params: { fast: '5', slow: '20' } },
    });
    // The selected symbol when none is named; the interval anywhere after the name.
    expect(parseCommand('strategy start grid 5m spacing=0.1', { symbol: 'ETHUSDT' })).toEqual({
      kind: 'strategyStart',
      spec: { strategy: 'grid', symbol: 'ETHUSDT', interval: '5m', params: { spacing: '0.1' } },
    });
    // "15m" is an interval, not a symbol, though it would pass for one.
    expect(parseCommand('strategy start dca 15m btcusdt')).toMatchObject({ spec: { symbol: 'BTCUSDT', interval: '15m' } });
    expect(parseCommand('strategy stop grid-btcusdt')).toEqual({ kind: 'strategyStop', id: 'grid-btcusdt' });
    expect(parseCommand('strategy resume grid-btcusdt')).toEqual({ kind: 'strategyResume', id: 'grid-btcusdt' });
    expect(parseCommand('strategies')).toEqual({ kind: 'strategies' });
    expect(parseCommand('strategy')).toEqual({ kind: 'strategies' });
  });

  it('reads backtests: data, limit and a time range', () => {
    expect(parseCommand('backtest sma-cross btcusdt fast=2 slow=3 data ./rec.jsonl.gz')).toEqual({
      kind: 'backtest',
      request: { strategy: 'sma-cross', symbol: 'BTCUSDT', params: { fast: '2', slow: '3' }, data: './rec.jsonl.gz' },
    });
    expect(parseCommand('bt dca 1h limit 500', { symbol: 'BTCUSDT' })).toEqual({
      kind: 'backtest',
      request: { strategy: 'dca', symbol: 'BTCUSDT', interval: '1h', params: {}, data: 'store', limit: 500 },
    });
    expect(parseCommand('backtest dca btcusdt from 2024-08-01 to 2024-08-08')).toMatchObject({
      request: { data: 'store', from: Date.UTC(2024, 7, 1), to: Date.UTC(2024, 7, 8) },
    });
  });

  it('refuses what it cannot read, saying what would work', () => {
    const cases = [
      'strategy start',
      'strategy start fast=3',
      'strategy launch sma-cross',
      'strategy stop',
      'strategy stop a b',
      'strategy start sma-cross btcusdt ethusdt',
      'strategy start sma-cross fast=1 fast=2',
      'backtest dca',
      'backtest dca btcusdt limit',
      'backtest dca btcusdt limit -5',
      'backtest dca btcusdt from yesterday',
      'backtest dca btcusdt from 2024-08-08 to 2024-08-01',
      'strategy start sma-cross 7x',
    ];
    for (const text of cases) expect(() => parseCommand(text, text === 'backtest dca' ? {} : { symbol: 'BTCUSDT' }), text).toThrow(UsageError);
    expect(() => parseCommand('backtest dca')).toThrow(/which symbol/);
    expect(() => parseCommand('strategy launch x')).toThrow(/strategy launch\?/);
  });

  it('switches to the strategies layout and back by number', () => {
    expect(parseCommand('layout 5')).toEqual({ kind: 'layout', layout: 5 });
    expect(parseCommand('layout 6')).toEqual({ kind: 'layout', layout: 6 });
  });
});

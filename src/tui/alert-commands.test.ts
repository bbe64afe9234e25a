import { describe, expect, it } from 'vitest';
import { UsageError } from '../engine/errors.js';
import { parseCommand } from './commands.js';

describe('the /alert and /ask commands', () => {
  it('reads an alert as `qtrade alert add` takes it, the condition as typed', () => {
    expect(parseCommand('/alert btcusdt price > 70000')).toEqual({ kind: 'alertAdd', input: { symbol: 'btcusdt', condition: 'price > 70000' } });
    expect(parseCommand('alert ETHUSDT change 5m < -2% --every 15m --expire 24h --notify tui,webhook')).toEqual({
      kind: 'alertAdd',
      input: { symbol: 'ETHUSDT', condition: 'change 5m < -2%', every: '15m', expire: '24h', notify: 'tui,webhook' },
    });
    expect(parseCommand('alert * risk halted --until-cancelled')).toEqual({ kind: 'alertAdd', input: { symbol: '*', condition: 'risk halted', untilCancelled: true } });
    expect(parseCommand('alert rm A12')).toEqual({ kind: 'alertRemove', id: 'a12' });
    expect(parseCommand('alerts')).toEqual({ kind: 'alerts' });
    expect(parseCommand('alert list')).toEqual({ kind: 'alerts' });
  });

  it('keeps the question to the assistant as typed', () => {
    expect(parseCommand('/ask  Is BTC  overextended on 5m?')).toEqual({ kind: 'ask', prompt: 'Is BTC  overextended on 5m?' });
  });

  it('refuses what it cannot read', () => {
    for (const text of ['alert btcusdt', 'alert rm', 'alert rm 12', 'alert btcusdt price > 1 --every', 'alert btcusdt price > 1 --loud', 'ask']) {
      expect(() => parseCommand(text), text).toThrow(UsageError);
    }
    expect(() => parseCommand('alert rm 12')).toThrow('alert rm needs one alert id, such as a3');
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Instruments, closeMatches, type ExchangeInfo } from './instruments.js';

const info = JSON.parse(readFileSync(new URL('../../../fixtures/binance/exchangeInfo.json', import.meta.url), 'utf8')) as ExchangeInfo;

describe('Instruments', () => {
  const instruments = Instruments.fromExchangeInfo(info);

  it('reads prices at the tick scale and quantities at the wire precision', () => {
    const btc = instruments.get('btcusdt');
    expect(btc).toMatchObject({ symbol: 'BTCUSDT', priceScale: 2, qtyScale: 8, stepSize: '0.00001000', baseAsset: 'BTC', quoteAsset: 'USDT' });
    expect(instruments.get('DOGEUSDT')).toMatchObject({ priceScale: 5, qtyScale: 8, stepSize: '1.00000000' });
  });

  it('names close matches for an unknown symbol', () => {
    expect(() => instruments.get('BTCUSTD')).toThrow(/unknown symbol "BTCUSTD"/);
    try {
      instruments.get('btcusd');
    } catch (e) {
      expect((e as { hint: string }).hint).toContain('BTCUSDT');
    }
    expect(closeMatches('ETHUSD', ['ETHUSDT', 'ETHBTC', 'SOLUSDT'])).toEqual(['ETHUSDT']);
    expect(closeMatches('SOLUSTD', ['ETHUSDT', 'SOLUSDT', 'SOLBTC'])).toEqual(['SOLUSDT']);
  });
});

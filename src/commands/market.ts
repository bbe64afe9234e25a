import type { Settings } from '../config/resolve.js';
import { formatFixed } from '../engine/fixed.js';
import type { Candle } from '../engine/candles/types.js';
import { BinanceRest } from '../engine/market/binance/rest-client.js';
import { Instruments } from '../engine/market/instruments.js';
import type { NetOptions } from '../engine/market/net.js';
import type { Store } from '../engine/store/types.js';

/** Binance endpoints and network route of this invocation. */
export interface BinanceEndpoints {
  wsUrl: string;
  restUrl: string;
  net: NetOptions;
}

export function binanceEndpoints(settings: Settings): BinanceEndpoints {
  return {
    wsUrl: settings.string('binance.wsUrl')!,
    restUrl: settings.string('binance.restUrl')!,
    net: { proxy: settings.proxyUrl(), noProxy: settings.noProxy() },
  };
}

/**
 * Symbols and their scales from Binance's exchangeInfo, cached in the store so later runs
 * can start when REST is unreachable. Returns where they came from.
 */
export async function liveInstruments(rest: BinanceRest, store: Store | undefined): Promise<{ instruments: Instruments; source: 'rest' | 'store' }> {
  try {
    const instruments = Instruments.fromExchangeInfo(await rest.exchangeInfo());
    await store?.upsertInstruments(instruments.all());
    return { instruments, source: 'rest' };
  } catch (err) {
    const cached = store ? await store.instruments() : [];
    if (cached.length === 0) throw err;
    return { instruments: new Instruments(cached), source: 'store' };
  }
}

function minute(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 16);
}

/** One closed candle as a terminal line. */
export function candleLine(c: Candle): string {
  const ps = c.priceScale;
  return [
    minute(c.openTime),
    c.symbol.padEnd(9),
    `o ${formatFixed(c.open, ps)}`,
    `h ${formatFixed(c.high, ps)}`,
    `l ${formatFixed(c.low, ps)}`,
    `c ${formatFixed(c.close, ps)}`,
    `v ${formatFixed(c.volume, c.qtyScale, 0)}`,
    `n ${c.trades}`,
  ].join('  ');
}

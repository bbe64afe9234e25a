import type { Settings } from '../config/resolve.js';
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

/** A REST client on this invocation's endpoint and network route. */
export function binanceRest(endpoints: BinanceEndpoints): BinanceRest {
  return new BinanceRest({ baseUrl: endpoints.restUrl, net: endpoints.net });
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

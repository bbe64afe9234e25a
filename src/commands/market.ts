import type { Settings } from '../config/resolve.js';
import { BinanceRest, type BinanceRestOptions } from '../engine/market/binance/rest-client.js';
import type { NetOptions } from '../engine/market/net.js';

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
export function binanceRest(endpoints: BinanceEndpoints, opts: Partial<Omit<BinanceRestOptions, 'baseUrl' | 'net'>> = {}): BinanceRest {
  return new BinanceRest({ ...opts, baseUrl: endpoints.restUrl, net: endpoints.net });
}

export { bundledMarketInfo, cachedMarketInfo, fetchMarketInfo, freshMarketInfo, liveInstruments, offlineMarketInfo, type MarketInfo } from '../engine/market/market-info.js';

import { BinanceRest } from './binance/rest-client.js';
import { decodeExchangeInfo } from './binance/rest-parse.js';
import { bundledExchangeInfo } from './bundled-instruments.js';
import { Instruments, type ExchangeInfo, type ExchangeSymbol } from './instruments.js';
import type { Store } from '../store/types.js';

/** Store key of the raw exchangeInfo JSON last fetched from Binance (filters and scales offline). */
export const EXCHANGE_INFO_STATE_KEY = 'binance.exchangeInfo';

/** Symbols with their scales and the raw exchangeInfo entries (for exchange filters), and where they came from. */
export interface MarketInfo {
  instruments: Instruments;
  symbols: ExchangeSymbol[];
  source: 'rest' | 'store' | 'bundled';
  /** exchangeInfo's serverTime, when it carried one. */
  serverTime?: number;
}

function infoFrom(info: ExchangeInfo, source: MarketInfo['source']): MarketInfo {
  return { instruments: Instruments.fromExchangeInfo(info), symbols: info.symbols, source, serverTime: info.serverTime };
}

/** Fetches exchangeInfo and caches its raw JSON (and the instruments) in the store. */
export async function fetchMarketInfo(rest: BinanceRest, store: Store | undefined): Promise<MarketInfo> {
  const info = await rest.exchangeInfo();
  const m = infoFrom(info, 'rest');
  if (store) {
    await store.setState(EXCHANGE_INFO_STATE_KEY, JSON.stringify(info));
    await store.upsertInstruments(m.instruments.all());
  }
  return m;
}

/** The exchangeInfo cached in the store by an earlier fetch; undefined when there is none. */
export async function cachedMarketInfo(store: Store): Promise<MarketInfo | undefined> {
  const raw = await store.getState(EXCHANGE_INFO_STATE_KEY);
  if (raw === undefined) return undefined;
  try {
    return infoFrom(decodeExchangeInfo(JSON.parse(raw)), 'store');
  } catch {
    return undefined; // unreadable cache: as if there were none
  }
}

/** The exchangeInfo snapshot shipped with the package. */
export function bundledMarketInfo(): MarketInfo {
  return infoFrom(bundledExchangeInfo(), 'bundled');
}

/**
 * Market info for commands that work offline: the store's cached exchangeInfo, else the bundled
 * snapshot. Never asks Binance.
 */
export async function offlineMarketInfo(store: Store): Promise<MarketInfo> {
  return (await cachedMarketInfo(store)) ?? bundledMarketInfo();
}

/**
 * Market info for a command that talks to Binance anyway: the cache while younger than `maxAgeMs`
 * (by its serverTime against the local clock), else a fresh fetch; the cache when the fetch fails.
 */
export async function freshMarketInfo(rest: BinanceRest, store: Store, maxAgeMs = 3_600_000, wallNow: () => number = Date.now): Promise<MarketInfo> {
  const cached = await cachedMarketInfo(store);
  if (cached?.serverTime !== undefined && wallNow() - cached.serverTime < maxAgeMs) return cached;
  try {
    return await fetchMarketInfo(rest, store);
  } catch (err) {
    if (cached) return cached;
    throw err;
  }
}

/**
 * Symbols and their scales from Binance's exchangeInfo, cached in the store (raw JSON and
 * instruments) so later runs can start when REST is unreachable. Returns where they came from.
 */
export async function liveInstruments(rest: BinanceRest, store: Store | undefined): Promise<{ instruments: Instruments; source: 'rest' | 'store'; symbols?: ExchangeSymbol[] }> {
  try {
    const m = await fetchMarketInfo(rest, store);
    return { instruments: m.instruments, source: 'rest', symbols: m.symbols };
  } catch (err) {
    const full = store ? await cachedMarketInfo(store) : undefined;
    if (full) return { instruments: full.instruments, source: 'store', symbols: full.symbols };
    const cached = store ? await store.instruments() : [];
    if (cached.length === 0) throw err;
    return { instruments: new Instruments(cached), source: 'store' };
  }
}

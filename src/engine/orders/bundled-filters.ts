import { bundledExchangeInfo, bundledInstruments } from '../market/bundled-instruments.js';
import type { Instruments } from '../market/instruments.js';
import { FilterSet } from './filters.js';

let cached: { instruments: Instruments; filters: FilterSet } | undefined;

/** Instruments and exchange filters from the exchangeInfo snapshot shipped with the package (offline paper trading). */
export function bundledMarket(): { instruments: Instruments; filters: FilterSet } {
  if (!cached) {
    const info = bundledExchangeInfo();
    const instruments = bundledInstruments();
    cached = { instruments, filters: FilterSet.fromExchangeSymbols(info.symbols, (s) => (instruments.has(s) ? instruments.get(s) : undefined)) };
  }
  return cached;
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../market/bundled-instruments.js';
import { Instruments, type ExchangeInfo } from '../market/instruments.js';
import { FilterSet } from './filters.js';

let cached: { instruments: Instruments; filters: FilterSet } | undefined;

/** Instruments and exchange filters from the exchangeInfo snapshot shipped with the package (offline paper trading). */
export function bundledMarket(): { instruments: Instruments; filters: FilterSet } {
  if (!cached) {
    const info = JSON.parse(readFileSync(path.join(packageRoot(), 'fixtures', 'binance', 'exchangeInfo.json'), 'utf8')) as ExchangeInfo;
    const instruments = Instruments.fromExchangeInfo(info);
    cached = { instruments, filters: FilterSet.fromExchangeSymbols(info.symbols, (s) => (instruments.has(s) ? instruments.get(s) : undefined)) };
  }
  return cached;
}

import { UsageError } from '../errors.js';
import { scaleOfStep } from '../fixed.js';
import type { Instrument } from './types.js';

/** The parts of Binance's GET /api/v3/exchangeInfo that qtrade reads. */
export interface ExchangeInfo {
  serverTime?: number;
  symbols: ExchangeSymbol[];
}

export interface ExchangeSymbol {
  symbol: string;
  status: string;
  baseAsset: string;
  quoteAsset: string;
  baseAssetPrecision?: number;
  filters: Array<{ filterType: string; [k: string]: unknown }>;
}

export function instrumentFromExchange(s: ExchangeSymbol): Instrument {
  const price = s.filters.find((f) => f.filterType === 'PRICE_FILTER');
  const lot = s.filters.find((f) => f.filterType === 'LOT_SIZE');
  const tickSize = typeof price?.tickSize === 'string' ? price.tickSize : '0.00000001';
  const stepSize = typeof lot?.stepSize === 'string' ? lot.stepSize : '0.00000001';
  // Market data can carry quantities finer than today's stepSize (orders resting from before a
  // step change show up in depth and can trade), so quantities are read at the asset's wire
  // precision; stepSize still governs new orders.
  const qtyScale = Math.max(scaleOfStep(stepSize), Math.min(s.baseAssetPrecision ?? 8, 8));
  return {
    symbol: s.symbol,
    baseAsset: s.baseAsset,
    quoteAsset: s.quoteAsset,
    priceScale: scaleOfStep(tickSize),
    qtyScale,
    tickSize,
    stepSize,
    status: s.status,
  };
}

/**
 * Binance's wire precision (8 decimals) for a symbol exchangeInfo does not describe,
 * e.g. when building candles from a file offline. Exact, only slower on products.
 */
export function wireInstrument(symbol: string): Instrument {
  return {
    symbol: symbol.toUpperCase(),
    baseAsset: '',
    quoteAsset: '',
    priceScale: 8,
    qtyScale: 8,
    tickSize: '0.00000001',
    stepSize: '0.00000001',
    status: 'UNKNOWN',
  };
}

/** Symbols known to the engine, from exchangeInfo. Looks up case-insensitively. */
export class Instruments {
  private readonly bySymbol = new Map<string, Instrument>();

  constructor(list: Iterable<Instrument> = []) {
    for (const i of list) this.bySymbol.set(i.symbol, i);
  }

  static fromExchangeInfo(info: ExchangeInfo): Instruments {
    if (!info || !Array.isArray(info.symbols)) throw new UsageError('exchangeInfo has no symbols array');
    return new Instruments(info.symbols.map(instrumentFromExchange));
  }

  has(symbol: string): boolean {
    return this.bySymbol.has(symbol.toUpperCase());
  }

  /** The instrument, or a UsageError naming the closest known symbols. */
  get(symbol: string): Instrument {
    const i = this.bySymbol.get(symbol.toUpperCase());
    if (i) return i;
    const near = closeMatches(symbol.toUpperCase(), [...this.bySymbol.keys()]);
    throw new UsageError(`unknown symbol "${symbol}"`, {
      hint: near.length ? `did you mean ${near.join(', ')}?` : 'see exchangeInfo for the symbols Binance lists',
    });
  }

  all(): Instrument[] {
    return [...this.bySymbol.values()];
  }
}

/** Up to `max` candidates within a small edit distance of `name`, closest first. */
export function closeMatches(name: string, candidates: string[], max = 3): string[] {
  const limit = Math.max(2, Math.floor(name.length / 3));
  return candidates
    .map((c) => ({ c, d: editDistance(name, c) }))
    .filter((x) => x.d <= limit)
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c))
    .slice(0, max)
    .map((x) => x.c);
}

export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

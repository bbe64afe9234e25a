import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Instruments, type ExchangeInfo } from './instruments.js';

const RELATIVE = path.join('fixtures', 'binance', 'exchangeInfo.json');

let cachedInfo: ExchangeInfo | undefined;
let cached: Instruments | undefined;

/** The package root: the nearest ancestor of this module holding fixtures/binance/exchangeInfo.json (src/ or dist/src/). */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, RELATIVE))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find ${RELATIVE} above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/**
 * Instruments from the exchangeInfo snapshot shipped with the package: scales for the
 * common symbols when reading files offline, without asking Binance.
 */
export function bundledInstruments(): Instruments {
  cached ??= Instruments.fromExchangeInfo(bundledExchangeInfo());
  return cached;
}

/** The exchangeInfo snapshot shipped with the package (fixtures/binance/exchangeInfo.json), read once. */
export function bundledExchangeInfo(): ExchangeInfo {
  cachedInfo ??= JSON.parse(readFileSync(path.join(packageRoot(), RELATIVE), 'utf8')) as ExchangeInfo;
  return cachedInfo;
}

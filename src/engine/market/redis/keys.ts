/** Where the bus lives in Redis. One prefix per deployment (tests use a unique one each). */
export const DEFAULT_KEY_PREFIX = 'qtrade:';

export interface BusKeys {
  readonly prefix: string;
  /** The stream of every market event of a symbol, in the order the leader's engine acted on them. */
  stream(symbol: string): string;
  /** The latest order-book snapshot of a symbol (encoded depthSnapshot event). */
  depth(symbol: string): string;
  /** The instrument scales the leader encodes a symbol's raw integers at (JSON). */
  meta(symbol: string): string;
}

export function busKeys(prefix: string = DEFAULT_KEY_PREFIX): BusKeys {
  const base = (symbol: string): string => `${prefix}md:${symbol.toUpperCase()}`;
  return {
    prefix,
    stream: base,
    depth: (symbol) => `${base(symbol)}:depth`,
    meta: (symbol) => `${base(symbol)}:meta`,
  };
}

import type { Channel } from '../source.js';

/**
 * Binance spot market-stream names and the per-connection limits the WebSocket client
 * must respect (developers.binance.com, "WebSocket Streams for Binance").
 */

/** A connection may listen to at most this many streams. */
export const MAX_STREAMS_PER_CONNECTION = 1024;
/** Incoming messages (SUBSCRIBE/UNSUBSCRIBE/LIST, pings, pongs) a connection may send per second. */
export const MAX_INCOMING_MESSAGES_PER_SECOND = 5;
/**
 * Spacing between our own control messages. 5/s allows 200 ms, but pongs share the
 * budget and one message every 250 ms has been seen to get connections closed (1008).
 */
export const CONTROL_MESSAGE_INTERVAL_MS = 500;
/** Binance closes every connection at the 24 h mark. */
export const CONNECTION_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** The server pings every 20 s and drops a connection that has not ponged within a minute. */
export const SERVER_PING_INTERVAL_MS = 20_000;
export const PONG_DEADLINE_MS = 60_000;
/** At most 300 connection attempts per 5 minutes per IP. */
export const MAX_CONNECT_ATTEMPTS_PER_5_MIN = 300;

const SUFFIX: Record<Channel, string> = {
  aggTrade: '@aggTrade',
  trade: '@trade',
  kline_1m: '@kline_1m',
  bookTicker: '@bookTicker',
  depth: '@depth@100ms',
  miniTicker: '@miniTicker',
};

/** `streamName('BTCUSDT', 'depth')` → `btcusdt@depth@100ms`. Symbols are lowercase in stream names. */
export function streamName(symbol: string, channel: Channel): string {
  const suffix = SUFFIX[channel];
  if (suffix === undefined) throw new RangeError(`unknown channel "${String(channel)}"`);
  return symbol.toLowerCase() + suffix;
}

/** Every stream for these symbols and channels, symbol-major, without duplicates. */
export function streamNames(symbols: readonly string[], channels: readonly Channel[]): string[] {
  const out = new Set<string>();
  for (const s of symbols) for (const c of channels) out.add(streamName(s, c));
  return [...out];
}

/** The symbol part of a stream name, uppercase (`btcusdt@trade` → `BTCUSDT`). */
export function streamSymbol(stream: string): string {
  const at = stream.indexOf('@');
  return (at === -1 ? stream : stream.slice(0, at)).toUpperCase();
}

/**
 * Splits streams into groups of at most `max` (one group per connection), dropping
 * duplicates and keeping order.
 */
export function groupStreams(streams: readonly string[], max = MAX_STREAMS_PER_CONNECTION): string[][] {
  if (!(max >= 1)) throw new RangeError(`max streams per connection must be at least 1, got ${max}`);
  const unique = [...new Set(streams)];
  const groups: string[][] = [];
  for (let i = 0; i < unique.length; i += max) groups.push(unique.slice(i, i + max));
  return groups;
}

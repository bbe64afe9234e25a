import { feedInfoToWire } from '../../client/wire.js';
import type { DaemonContext, Route } from '../types.js';

/**
 * GET /api/qtrade/feed: the symbols and channels the daemon's market feed carries, with their
 * instruments. A client that mirrors the feed (the TUI attached with --connect) needs exactly this
 * to name its streams; exchangeInfo lists every symbol the daemon knows, not the ones it streams.
 */
export function qtradeFeedRoutes(ctx: DaemonContext): Route[] {
  const node = ctx.node;
  return [
    {
      method: 'GET',
      path: '/api/qtrade/feed',
      scope: 'read',
      summary: "What the market feed carries: symbols in feed order, channels, and those symbols' instruments (scales)",
      handle: () => {
        const symbols = node.symbols();
        return { body: feedInfoToWire({ symbols, channels: node.channels(), instruments: symbols.map((s) => node.instruments.get(s)) }) };
      },
    },
  ];
}

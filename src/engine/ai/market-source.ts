import type { Candle, Interval } from '../candles/types.js';
import type { BinanceRest } from '../market/binance/rest-client.js';
import type { Instrument } from '../market/types.js';
import type { BookView, TickerView } from './view.js';

/**
 * Where the CLI's assistant reads market data: Binance's REST API when the command runs embedded,
 * the daemon's Binance-compatible REST when it is attached to one (binanceRestMarket here,
 * DaemonMarket in src/client). One source per invocation, so an answer never mixes the two.
 */
export interface MarketSource {
  /** Named in the tools' `source` field ("Binance REST https://…", "daemon http://…"). */
  readonly name: string;
  ticker(inst: Instrument): Promise<TickerView>;
  /** Up to `depth` levels per side. */
  book(inst: Instrument, depth: number): Promise<BookView>;
  /** The latest `limit` closed candles of the interval, oldest first. */
  closedCandles(inst: Instrument, interval: Interval, limit: number): Promise<Candle[]>;
}

/** Binance's depth endpoint weighs by these steps; asking the next one up costs no more. */
const DEPTH_LIMITS = [5, 10, 20, 50, 100];

export function depthLimitFor(depth: number): number {
  return DEPTH_LIMITS.find((l) => l >= depth) ?? 100;
}

/** Market data from Binance's REST API at `restUrl` (the client `rest` is on that route). */
export function binanceRestMarket(rest: BinanceRest, restUrl: string): MarketSource {
  const name = `Binance REST ${restUrl}`;
  return {
    name,
    async ticker(inst) {
      const [trades, depth] = await Promise.all([rest.aggTrades({ symbol: inst.symbol, limit: 1 }), rest.depth(inst.symbol, 5)]);
      const t = trades[trades.length - 1];
      return {
        symbol: inst.symbol,
        ...(t ? { lastPrice: t.price, lastTime: t.time } : {}),
        ...(depth.bids[0] ? { bid: depth.bids[0].price } : {}),
        ...(depth.asks[0] ? { ask: depth.asks[0].price } : {}),
        source: name,
      };
    },
    async book(inst, depth) {
      const d = await rest.depth(inst.symbol, depthLimitFor(depth));
      return { bids: d.bids.slice(0, depth), asks: d.asks.slice(0, depth), source: name };
    },
    async closedCandles(inst, interval, limit) {
      // One more than asked: the last kline Binance lists is usually still open.
      const list = await rest.klines({ symbol: inst.symbol, interval, limit: Math.min(limit + 1, 1000) });
      return list.filter((c) => c.closed).slice(-limit);
    },
  };
}

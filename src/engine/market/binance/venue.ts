import type { Instruments } from '../instruments.js';
import type { NetOptions } from '../net.js';
import type { Channel, DepthSnapshot, MarketSink, MarketVenue } from '../source.js';
import type { Trade } from '../types.js';
import { BinanceRest } from './rest-client.js';
import { streamName } from './streams.js';
import { BinanceWsFeed } from './ws-client.js';

export interface BinanceVenueOptions {
  wsUrl: string;
  restUrl: string;
  net: NetOptions;
  instruments: Instruments;
  /** Overrides for the socket client (timeouts, backoff), mainly for tests. */
  ws?: Partial<ConstructorParameters<typeof BinanceWsFeed>[0]>;
  rest?: BinanceRest;
}

/** Live Binance spot market data: combined-stream WebSocket plus REST for gap fills and depth snapshots. */
export class BinanceVenue implements MarketVenue {
  readonly name = 'binance';
  readonly rest: BinanceRest;
  private readonly feed: BinanceWsFeed;
  private channels: Channel[] = [];

  constructor(opts: BinanceVenueOptions) {
    this.rest = opts.rest ?? new BinanceRest({ baseUrl: opts.restUrl, net: opts.net, instruments: opts.instruments });
    this.feed = new BinanceWsFeed({ baseUrl: opts.wsUrl, net: opts.net, instruments: opts.instruments, ...opts.ws });
  }

  async start(symbols: string[], channels: Channel[], sink: MarketSink): Promise<void> {
    this.channels = channels;
    await this.feed.start(this.streams(symbols), sink);
  }

  async subscribe(symbols: string[]): Promise<void> {
    await this.feed.subscribe(this.streams(symbols));
  }

  async unsubscribe(symbols: string[]): Promise<void> {
    await this.feed.unsubscribe(this.streams(symbols));
  }

  aggTradesFrom(symbol: string, fromId: number, limit: number): Promise<Trade[]> {
    return this.rest.aggTrades({ symbol, fromId, limit });
  }

  depthSnapshot(symbol: string): Promise<DepthSnapshot | undefined> {
    return this.rest.depth(symbol, 1000);
  }

  async stop(): Promise<void> {
    await this.feed.stop();
  }

  private streams(symbols: string[]): string[] {
    return symbols.flatMap((s) => this.channels.map((c) => streamName(s, c)));
  }
}

import type { Instruments } from '../instruments.js';
import type { NetOptions } from '../net.js';
import type { Channel, MarketSink, MarketVenue } from '../source.js';
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
  /** Least time between two depth snapshot fetches for one symbol, ms (each costs weight 50). Default 1000. */
  depthSnapshotSpacingMs?: number;
  /** Wall clock for that spacing and for receive times (metrics only). Default Date.now. */
  now?: () => number;
  /** Waits `ms` of wall time for that spacing; injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
}

/** Depth snapshot requests for one symbol: coalesced, one in flight, spaced out. */
interface SnapshotRequests {
  wanted: boolean;
  inFlight: boolean;
  lastAt: number;
  waiting: boolean;
}

/** Live Binance spot market data: combined-stream WebSocket plus REST for gap fills and depth snapshots. */
export class BinanceVenue implements MarketVenue {
  readonly name = 'binance';
  readonly rest: BinanceRest;
  private readonly feed: BinanceWsFeed;
  private channels: Channel[] = [];
  private sink: MarketSink | undefined;
  private stopped = false;
  private readonly snapshotRequests = new Map<string, SnapshotRequests>();
  private readonly spacingMs: number;
  private readonly now: () => number;
  private readonly sleep: ((ms: number) => Promise<void>) | undefined;
  private readonly timers = new Map<ReturnType<typeof setTimeout>, () => void>();

  constructor(opts: BinanceVenueOptions) {
    this.spacingMs = opts.depthSnapshotSpacingMs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep;
    this.rest = opts.rest ?? new BinanceRest({ baseUrl: opts.restUrl, net: opts.net, instruments: opts.instruments });
    this.feed = new BinanceWsFeed({ baseUrl: opts.wsUrl, net: opts.net, instruments: opts.instruments, ...opts.ws });
  }

  async start(symbols: string[], channels: Channel[], sink: MarketSink): Promise<void> {
    this.channels = channels;
    this.sink = sink;
    for (const [symbol, req] of this.snapshotRequests) this.pumpSnapshot(symbol, req);
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

  /**
   * Fetches GET /api/v3/depth?limit=1000 and delivers it as a `depthSnapshot` event. Requests
   * that come while one is in flight or within the spacing are merged into one later fetch;
   * a failure goes to sink.error and the next request tries again.
   */
  requestDepthSnapshot(symbol: string): void {
    const sym = symbol.toUpperCase();
    let req = this.snapshotRequests.get(sym);
    if (!req) this.snapshotRequests.set(sym, (req = { wanted: false, inFlight: false, lastAt: -Infinity, waiting: false }));
    req.wanted = true;
    this.pumpSnapshot(sym, req);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const [timer, resolve] of this.timers) {
      clearTimeout(timer);
      resolve();
    }
    this.timers.clear();
    await this.feed.stop();
  }

  private pumpSnapshot(symbol: string, req: SnapshotRequests): void {
    const sink = this.sink;
    if (!sink || this.stopped || !req.wanted || req.inFlight || req.waiting) return;
    const wait = req.lastAt + this.spacingMs - this.now();
    if (wait > 0) {
      req.waiting = true;
      void this.wait(wait).then(() => {
        req.waiting = false;
        this.pumpSnapshot(symbol, req);
      });
      return;
    }
    req.wanted = false;
    req.inFlight = true;
    req.lastAt = this.now();
    this.rest
      .depth(symbol, 1000)
      .then(
        (snapshot) => {
          if (!this.stopped) sink.event({ kind: 'depthSnapshot', snapshot }, this.now());
        },
        (err: unknown) => {
          if (!this.stopped) sink.error?.(`depth snapshot for ${symbol} failed: ${(err as Error).message}`);
        },
      )
      .finally(() => {
        req.inFlight = false;
        this.pumpSnapshot(symbol, req);
      });
  }

  private wait(ms: number): Promise<void> {
    if (this.sleep) return this.sleep(ms);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.set(timer, resolve);
    });
  }

  private streams(symbols: string[]): string[] {
    return symbols.flatMap((s) => this.channels.map((c) => streamName(s, c)));
  }
}

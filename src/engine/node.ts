import { Bus } from './bus.js';
import type { Clock } from './clock.js';
import { VenueError } from './errors.js';
import { createKernel, DEFAULT_CHANNELS, type Kernel } from './kernel.js';
import type { ExchangeSymbol, Instruments } from './market/instruments.js';
import { MarketCache } from './market/market-cache.js';
import type { Channel, MarketEvent, MarketVenue } from './market/source.js';
import type { Trade } from './market/types.js';
import type { BookView } from './orders/matching.js';
import type { FeeScheduleOptions } from './orders/fees.js';
import type { OrderRequest } from './orders/types.js';
import type { Store } from './store/types.js';
import { PaperTrading, type PlacedOrder } from './trading.js';

/**
 * One running trading platform: the kernel on a live (or followed) venue, the paper account driven
 * by its trades and books, and the market cache the APIs read. The daemon and the TUI both run one;
 * nothing here prints, listens on a port or reads the wall clock.
 */
export interface TradingNodeOptions {
  store: Store;
  instruments: Instruments;
  /** Raw exchangeInfo entries (filters, /api/v3/exchangeInfo). */
  exchangeSymbols: readonly ExchangeSymbol[];
  venue: MarketVenue;
  clock: Clock;
  bus?: Bus;
  symbols: string[];
  channels?: Channel[];
  candleGraceMs?: number;
  fees?: FeeScheduleOptions;
  account?: string;
  /** The account's writer lock, released on stop. */
  lock?: { release(): void };
  /**
   * Book and last trade of a symbol the feed does not carry, for a paper order on it (REST at order
   * time, as `qtrade order` does). Absent: such orders are refused.
   */
  snapshot?: (symbol: string) => Promise<{ book: BookView; trade: Trade }>;
  /** See KernelOptions.tap (the Redis bridge). */
  tap?: (ev: MarketEvent) => void;
}

/** Channels a trading node runs: the defaults plus diff depth, so market orders walk a live book. */
export const NODE_CHANNELS: Channel[] = [...DEFAULT_CHANNELS, 'depth'];

export class TradingNode {
  readonly bus: Bus;
  readonly kernel: Kernel;
  readonly trading: PaperTrading;
  readonly market: MarketCache;
  readonly store: Store;
  readonly instruments: Instruments;
  readonly exchangeSymbols: readonly ExchangeSymbol[];
  private readonly symbolSet: Set<string>;
  private started = false;

  private constructor(
    private readonly opts: TradingNodeOptions,
    bus: Bus,
    trading: PaperTrading,
  ) {
    this.bus = bus;
    this.trading = trading;
    this.store = opts.store;
    this.instruments = opts.instruments;
    this.exchangeSymbols = opts.exchangeSymbols;
    this.symbolSet = new Set(opts.symbols.map((s) => opts.instruments.get(s).symbol));
    this.market = new MarketCache(bus);
    this.kernel = createKernel({
      clock: opts.clock,
      bus,
      venue: opts.venue,
      instruments: opts.instruments,
      store: opts.store,
      candleGraceMs: opts.candleGraceMs,
      partialCandles: true,
      orders: trading.service,
      tap: opts.tap,
    });
  }

  /** Opens the paper account (replaying its log) and wires the kernel; the feed starts with start(). */
  static async open(opts: TradingNodeOptions): Promise<TradingNode> {
    const bus = opts.bus ?? new Bus();
    const trading = await PaperTrading.open({
      store: opts.store,
      instruments: opts.instruments,
      exchangeSymbols: [...opts.exchangeSymbols],
      bus,
      clock: opts.clock,
      account: opts.account,
      lock: opts.lock,
      fees: opts.fees,
    });
    return new TradingNode(opts, bus, trading);
  }

  get clock(): Clock {
    return this.opts.clock;
  }

  /** Symbols the feed carries (uppercase). */
  symbols(): string[] {
    return [...this.symbolSet];
  }

  channels(): Channel[] {
    return this.opts.channels ?? NODE_CHANNELS;
  }

  /** Starts the venue; resolves once it is connecting (reconnects are the venue's business). */
  async start(): Promise<void> {
    this.started = true;
    await this.kernel.start(this.symbols(), this.channels());
  }

  /** Adds symbols to the running feed. */
  async subscribe(symbols: string[]): Promise<void> {
    const add = symbols.map((s) => this.instruments.get(s).symbol).filter((s) => !this.symbolSet.has(s));
    if (add.length === 0) return;
    for (const s of add) this.symbolSet.add(s);
    if (this.started) await this.kernel.subscribe(add);
  }

  /**
   * Places a paper order at the current exchange time. A symbol the feed carries trades against the
   * live local book; another one against a REST snapshot taken now (like `qtrade order`).
   */
  async placeOrder(req: OrderRequest): Promise<PlacedOrder> {
    const sym = req.symbol.toUpperCase();
    const last = this.market.get(sym)?.lastTrade;
    if (this.symbolSet.has(sym) && last) return this.trading.place(req, Math.max(this.opts.clock.now(), last.time));
    if (!this.opts.snapshot) {
      throw new VenueError('NO_MARKET', `no trade of ${sym} seen yet, so there is no price to trade at`, {
        hint: this.symbolSet.has(sym) ? 'wait for the feed to deliver a trade' : `start the daemon with ${sym.toLowerCase()} in --symbols`,
      });
    }
    const snap = await this.opts.snapshot(sym);
    await this.trading.onMarket(sym, snap);
    return this.trading.place(req, snap.trade.time);
  }

  /** Stops the feed, flushes candles and order events, and closes the account. The store stays open. */
  async stop(): Promise<void> {
    try {
      await this.kernel.stop();
    } finally {
      this.market.close();
      await this.trading.close();
    }
  }
}

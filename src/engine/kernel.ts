import { Bus } from './bus.js';
import { CandleSynthesizer } from './candles/synthesizer.js';
import { compareCandles } from './candles/compare.js';
import { IncompleteMinutes } from './candles/incomplete.js';
import type { Candle } from './candles/types.js';
import type { Clock } from './clock.js';
import type { Instruments } from './market/instruments.js';
import type { Channel, MarketEvent, MarketVenue } from './market/source.js';
import { OrderBookSync, type LocalOrderBook } from './market/orderbook.js';
import { TradeSequencer } from './market/trade-sequencer.js';
import type { OrderService } from './orders/service.js';
import type { Store } from './store/types.js';

export interface KernelOptions {
  clock: Clock;
  venue: MarketVenue;
  instruments: Instruments;
  store?: Store;
  bus?: Bus;
  /** Extra time a minute stays open after the exchange's closed kline passes it (ms); a later trade closes it at once. */
  candleGraceMs?: number;
  /** Publish partial candle updates (the TUI wants them; batch jobs do not). */
  partialCandles?: boolean;
  /**
   * The paper account, opened on this kernel's bus: fed every sequenced trade (after the candle
   * synthesizer) and every order-book update, so paper fills follow exchange event time. It
   * publishes its own events once they are durable.
   */
  orders?: OrderService;
  /**
   * Sees every market event the kernel acts on, trades once sequenced (gap-filled, deduplicated)
   * and everything else as the venue delivered it: what a follower needs to rebuild the same state
   * (the Redis bus bridge publishes these).
   */
  tap?: (ev: MarketEvent) => void;
}

export interface KernelStats {
  frames: number;
  decodeErrors: number;
  trades: number;
  duplicates: number;
  gaps: number;
  gapTradesFilled: number;
  missingTrades: number;
  candlesClosed: number;
  candlesIncomplete: number;
  candleChecks: number;
  candleMismatches: number;
  storeErrors: number;
  /** Paper order-engine calls from the feed (trades) that failed, e.g. a store write. */
  orderErrors: number;
}

export const DEFAULT_CHANNELS: Channel[] = ['aggTrade', 'kline_1m', 'bookTicker', 'miniTicker'];

interface SymbolPipeline {
  sequencer: TradeSequencer;
  synth: CandleSynthesizer;
  /** Closed candles awaiting the exchange's kline for the same minute, and vice versa. */
  ours: Map<number, Candle>;
  theirs: Map<number, Candle>;
  /** Minutes known to lack trades (see the 'candle.incomplete' topic). */
  incomplete: IncompleteMinutes;
}

/**
 * Wires the engines on one bus. Live, replay and backtest differ only in the clock and
 * venue handed in here; everything downstream of the venue is the same code.
 */
export class Kernel {
  readonly bus: Bus;
  readonly clock: Clock;
  readonly instruments: Instruments;
  readonly venue: MarketVenue;
  private readonly store: Store | undefined;
  private readonly pipelines = new Map<string, SymbolPipeline>();
  private readonly books = new Map<string, OrderBookSync>();
  private readonly statsBase = { frames: 0, decodeErrors: 0, candlesClosed: 0, candlesIncomplete: 0, candleChecks: 0, candleMismatches: 0, storeErrors: 0, orderErrors: 0 };
  private pendingWrites: Candle[] = [];
  private writing: Promise<void> = Promise.resolve();
  private channels: Channel[] = DEFAULT_CHANNELS;
  private readonly orders: OrderService | undefined;
  private readonly onOrdersError = (err: unknown): void => {
    this.statsBase.orderErrors++;
    this.bus.publish('feed.error', { message: `paper orders: ${(err as Error)?.message ?? String(err)}` });
  };

  constructor(private readonly opts: KernelOptions) {
    this.bus = opts.bus ?? new Bus();
    this.clock = opts.clock;
    this.instruments = opts.instruments;
    this.venue = opts.venue;
    this.store = opts.store;
    this.orders = opts.orders;
  }

  async start(symbols: string[], channels: Channel[] = DEFAULT_CHANNELS): Promise<void> {
    this.channels = channels;
    for (const s of symbols) this.pipeline(s);
    await this.venue.start(symbols, channels, {
      event: (ev) => this.onEvent(ev),
      raw: () => {
        this.statsBase.frames++;
      },
      state: (st) => this.bus.publish('feed.state', st),
      error: (message, detail) => {
        this.statsBase.decodeErrors++;
        this.bus.publish('feed.error', { message, detail });
      },
    });
  }

  async subscribe(symbols: string[]): Promise<void> {
    for (const s of symbols) this.pipeline(s);
    await this.venue.subscribe(symbols);
  }

  async unsubscribe(symbols: string[]): Promise<void> {
    await this.venue.unsubscribe(symbols);
  }

  /** Stops the venue, waits for gap fills in flight and flushes closed candles to the store. */
  async stop(): Promise<void> {
    await this.venue.stop();
    await this.settled();
  }

  /** Resolves when gap fills and store writes in flight (candles, paper order events) are done. */
  async settled(): Promise<void> {
    for (const p of this.pipelines.values()) await p.sequencer.settled();
    this.flushWrites();
    await this.writing;
    await this.orders?.settled();
  }

  stats(): KernelStats {
    const s = { ...this.statsBase, trades: 0, duplicates: 0, gaps: 0, gapTradesFilled: 0, missingTrades: 0 };
    for (const p of this.pipelines.values()) {
      const q = p.sequencer.stats;
      s.trades += q.emitted;
      s.duplicates += q.duplicates;
      s.gaps += q.gaps;
      s.gapTradesFilled += q.filled;
      s.missingTrades += q.missing;
    }
    return s;
  }

  /** The local order book of a symbol, kept in sync from diff depth (when the depth channel runs). */
  orderBook(symbol: string): LocalOrderBook | undefined {
    return this.books.get(symbol.toUpperCase())?.book;
  }

  /** The open (partial) 1m candle of a symbol. */
  currentCandle(symbol: string): Candle | undefined {
    return this.pipelines.get(symbol.toUpperCase())?.synth.current();
  }

  private pipeline(symbol: string): SymbolPipeline {
    const instrument = this.instruments.get(symbol);
    const existing = this.pipelines.get(instrument.symbol);
    if (existing) return existing;
    const incomplete = new IncompleteMinutes();
    const synth = new CandleSynthesizer({
      instrument,
      graceMs: this.opts.candleGraceMs ?? 0,
      onClosed: (c) => this.onCandleClosed(c),
      onPartial: this.opts.partialCandles ? (c) => this.bus.publish('candle.partial', c) : undefined,
    });
    const canFill = this.channels.includes('aggTrade');
    const sequencer = new TradeSequencer({
      symbol: instrument.symbol,
      fetchFrom: canFill ? (fromId, limit) => this.venue.aggTradesFrom(instrument.symbol, fromId, limit) : undefined,
      emit: (t) => {
        this.clock.advance(t.time);
        incomplete.onTrade(t.time);
        synth.add(t);
        // Paper orders see the print before any subscriber can react to it: an order placed
        // in response to a trade must not be filled by that same trade.
        this.orders?.onTrade(t).catch(this.onOrdersError);
        this.bus.publish('trade', t);
        this.opts.tap?.({ kind: 'trade', trade: t });
      },
      mark: (time) => synth.advanceTo(time),
      onGap: (g) => {
        if (g.filled < g.toId - g.fromId + 1) incomplete.onUnfilledGap(g.afterTime, g.beforeTime);
        this.bus.publish('feed.gap', g);
      },
      onError: (err) => this.bus.publish('feed.error', { message: `${instrument.symbol} trade pipeline: ${(err as Error).message}` }),
    });
    const pipeline: SymbolPipeline = { sequencer, synth, ours: new Map(), theirs: new Map(), incomplete };
    this.pipelines.set(instrument.symbol, pipeline);
    return pipeline;
  }

  private bookSync(symbol: string): OrderBookSync {
    const sym = symbol.toUpperCase();
    let sync = this.books.get(sym);
    if (!sync) {
      sync = new OrderBookSync({
        symbol: sym,
        request: () => this.venue.requestDepthSnapshot(sym),
        onUpdate: (book) => {
          this.orders?.onBook(sym, book);
          this.bus.publish('book.update', { symbol: sym, updateId: book.lastUpdateId });
        },
        onStatus: (status, book) => {
          if (status !== 'out-of-sync') return;
          const gap = book.lastGap;
          const detail = gap ? `expected update ${gap.expected}, got ${gap.got}` : undefined;
          this.bus.publish('feed.error', { message: `order book ${sym} out of sync: diff-depth gap, requesting a new snapshot`, detail });
        },
      });
      this.books.set(sym, sync);
    }
    return sync;
  }

  private onEvent(ev: MarketEvent): void {
    if (ev.kind !== 'trade') this.opts.tap?.(ev);
    switch (ev.kind) {
      case 'trade': {
        const p = this.pipelines.get(ev.trade.symbol);
        if (p) p.sequencer.push(ev.trade);
        return;
      }
      case 'kline': {
        const c = ev.candle;
        this.clock.advance(c.openTime);
        if (!c.closed) return;
        this.bus.publish('candle.exchange', c);
        const p = this.pipelines.get(c.symbol);
        if (!p) return;
        this.crossCheck(p, undefined, c);
        // Binance closed this minute: ours closes too, behind any trades still being gap-filled.
        p.sequencer.mark(c.closeTime + 1);
        return;
      }
      case 'bookTicker':
        this.bus.publish('book.top', ev.top);
        return;
      case 'depth':
        this.bookSync(ev.diff.symbol).onDiff(ev.diff);
        return;
      case 'depthSnapshot':
        this.bookSync(ev.snapshot.symbol).onSnapshot(ev.snapshot);
        return;
      case 'miniTicker':
        this.clock.advance(ev.ticker.time);
        this.bus.publish('ticker', ev.ticker);
        return;
    }
  }

  private onCandleClosed(c: Candle): void {
    const p = this.pipelines.get(c.symbol);
    if (p?.incomplete.take(c.openTime)) {
      this.statsBase.candlesIncomplete++;
      this.bus.publish('candle.incomplete', c);
      return;
    }
    this.statsBase.candlesClosed++;
    this.bus.publish('candle.closed', c);
    if (p && this.channels.includes('kline_1m')) this.crossCheck(p, c, undefined);
    if (this.store) {
      this.pendingWrites.push(c);
      if (this.pendingWrites.length >= 500) this.flushWrites();
      else queueMicrotask(() => this.flushWrites());
    }
  }

  /** Compares our closed candle with Binance's once both are in. */
  private crossCheck(p: SymbolPipeline, ours: Candle | undefined, theirs: Candle | undefined): void {
    const t = (ours ?? theirs)!.openTime;
    if (ours) p.ours.set(t, ours);
    if (theirs) p.theirs.set(t, theirs);
    const a = p.ours.get(t);
    const b = p.theirs.get(t);
    if (a && b) {
      p.ours.delete(t);
      p.theirs.delete(t);
      this.statsBase.candleChecks++;
      const fields = compareCandles(a, b);
      if (fields.length > 0) {
        this.statsBase.candleMismatches++;
        this.bus.publish('candle.mismatch', { ours: a, theirs: b, fields });
      }
    }
    // Keep the maps small: a minute that never gets its pair is dropped after an hour.
    for (const m of [p.ours, p.theirs]) {
      if (m.size > 60) m.delete(m.keys().next().value!);
    }
  }

  private flushWrites(): void {
    if (!this.store || this.pendingWrites.length === 0) return;
    const batch = this.pendingWrites;
    this.pendingWrites = [];
    const store = this.store;
    this.writing = this.writing
      .then(() => store.upsertCandles(batch))
      .catch((err: unknown) => {
        this.statsBase.storeErrors++;
        this.bus.publish('feed.error', { message: `store write failed: ${(err as Error).message}` });
      });
  }
}

export function createKernel(opts: KernelOptions): Kernel {
  return new Kernel(opts);
}

import type { Channel, MarketSink, MarketVenue } from '../market/source.js';
import type { Trade } from '../market/types.js';

/**
 * A stream of trades (a history import, a trade file) played as a market venue, so a trade
 * backtest runs the kernel's own pipeline: sequencer, candle synthesizer, 'trade' and
 * 'candle.closed' exactly as live. Delivered as fast as the source yields; no REST behind it.
 */
export class TradeStreamVenue implements MarketVenue {
  readonly name = 'trades';
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (err: unknown) => void;
  private stopped = false;
  private symbols = new Set<string>();

  constructor(private readonly source: AsyncIterable<Trade> | Iterable<Trade>) {
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {});
  }

  async start(symbols: string[], _channels: Channel[], sink: MarketSink): Promise<void> {
    this.symbols = new Set(symbols.map((s) => s.toUpperCase()));
    sink.state?.({ state: 'open', attempt: 0 });
    void this.run(sink).then(
      () => {
        sink.state?.({ state: 'closed', attempt: 0, reason: 'end of data' });
        this.resolveDone();
      },
      (err: unknown) => this.rejectDone(err),
    );
  }

  private async run(sink: MarketSink): Promise<void> {
    for await (const trade of this.source as AsyncIterable<Trade>) {
      if (this.stopped) return;
      if (this.symbols.has(trade.symbol)) sink.event({ kind: 'trade', trade }, trade.time);
    }
  }

  async subscribe(symbols: string[]): Promise<void> {
    for (const s of symbols) this.symbols.add(s.toUpperCase());
  }

  async unsubscribe(symbols: string[]): Promise<void> {
    for (const s of symbols) this.symbols.delete(s.toUpperCase());
  }

  async aggTradesFrom(): Promise<Trade[]> {
    return [];
  }

  requestDepthSnapshot(): void {}

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done.catch(() => {});
  }
}

import type { FeedState, RiskStateName, Topics } from '../engine/bus.js';
import type { BookStatus } from '../engine/market/orderbook.js';
import type { MiniTicker, BookLevel, BookTop, Instrument, Trade } from '../engine/market/types.js';
import type { Candle } from '../engine/candles/types.js';
import type { Balance, Fill, Order } from '../engine/orders/types.js';
import type { MarkedPosition, OrderText, PlacedOrder, PnlTotal } from '../engine/trading.js';
import type { AlertsSource } from './sources/alerts.js';
import type { AssistantSource } from './sources/assistant.js';
import type { StrategiesSource } from './sources/strategies.js';
import type { SystemSource } from './sources/system.js';

/**
 * What the TUI reads and does, and nothing more: bus topics to subscribe to, snapshots of the
 * market and the account, and the few actions a trader takes. An embedded TradingNode implements
 * it (embedded-source.ts); a daemon client over WebSocket + REST can implement it too, so every
 * value here is plain data the daemon already serves (Binance-shaped orders, fills, balances).
 */

/** Bus topics the TUI shows. */
export const SOURCE_TOPICS = [
  'trade',
  'candle.partial',
  'candle.closed',
  'candle.incomplete',
  'book.top',
  'book.update',
  'ticker',
  'feed.state',
  'feed.gap',
  'feed.error',
  'order.update',
  'fill',
  'order.rejected',
  'risk.state',
] as const;

export type BusTopic = (typeof SOURCE_TOPICS)[number];

/** The bus topics plus the source's own: `source.reset` when the engine behind it was replaced (a replay's next pass). */
export type SourceTopics = Pick<Topics, BusTopic> & {
  'source.reset': { reason: string };
};

export type SourceTopic = keyof SourceTopics;

export type VenueName = 'paper' | 'testnet' | 'mainnet';

export interface SourceInfo {
  /** Where orders go: the badge in the header, and whether orders need a review step. */
  venue: VenueName;
  /** Where market data comes from: "binance", or "replay <file> 10x". */
  feed: string;
  /** A replay: the header shows market time next to the wall clock. */
  replay: boolean;
}

/** The market of one symbol as the engine's cache holds it. */
export interface MarketView {
  symbol: string;
  /** Newest last. */
  trades: readonly Trade[];
  lastTrade: Trade | undefined;
  ticker: MiniTicker | undefined;
  top: BookTop | undefined;
  /** Closed 1m candles, newest last. */
  candles: readonly Candle[];
  /** The open 1m candle. */
  partial: Candle | undefined;
}

export interface BookView {
  /** Best first. */
  bids: BookLevel[];
  asks: BookLevel[];
  /** `top-only`: no local depth book (yet); the levels are the best bid/ask from bookTicker. */
  status: BookStatus | 'top-only';
}

export interface FeedView {
  /** The last feed.state, with the wall time it arrived (for a reconnect countdown). */
  state: FeedState | undefined;
  since: number | undefined;
  /** Local time minus the last exchange event time (live feeds only). */
  lagMs: number | undefined;
  /** Latest exchange event time seen. */
  marketTime: number;
}

export interface RiskView {
  state: RiskStateName;
  reason: string;
}

/** An order as typed: decimal strings (see engine/trading.ts orderRequestFromText), on a symbol. */
export interface OrderTicket extends OrderText {
  symbol: string;
}

export interface TuiSource {
  readonly info: SourceInfo;
  /** Returns an unsubscribe function. */
  subscribe<T extends SourceTopic>(topic: T, handler: (payload: SourceTopics[T]) => void): () => void;

  /** Symbols the feed carries (uppercase), in feed order. */
  symbols(): string[];
  instrument(symbol: string): Instrument | undefined;
  market(symbol: string): MarketView | undefined;
  book(symbol: string, levels: number): BookView | undefined;
  feed(): FeedView;
  risk(): RiskView;

  openOrders(): Order[];
  /** Newest last, at most `limit`. */
  fills(limit: number): Fill[];
  balances(): Balance[];
  /** Positions marked at the last trade prices. */
  positions(): MarkedPosition[];
  pnl(): PnlTotal[];

  /** Places an order; a refusal throws (OrderRejectedError / RiskRejectedError carry Binance's code and msg). */
  place(ticket: OrderTicket): Promise<PlacedOrder>;
  cancel(symbol: string, orderId: number): Promise<Order>;
  cancelAll(symbol?: string): Promise<Order[]>;

  /** Live strategies (start, stop, own PnL) and backtests. */
  readonly strategies: StrategiesSource;
  /** Engine modules, store, feed streams, counters and engine log, for the System panel. */
  readonly system: SystemSource;
  /** The DeepSeek assistant and its order proposals (the AI panel); absent where the session offers none. */
  readonly assistant?: AssistantSource;
  /** Alerts where this session's engine runs, and their firings (toasts, the Alerts panel); absent: none run. */
  readonly alerts?: AlertsSource;
}

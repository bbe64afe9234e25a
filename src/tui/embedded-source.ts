import type { FeedState } from '../engine/bus.js';
import type { TradingNode } from '../engine/node.js';
import type { Order, Fill, Balance } from '../engine/orders/types.js';
import { orderRequestFromText, type MarkedPosition, type PlacedOrder, type PnlTotal } from '../engine/trading.js';
import type { Instrument } from '../engine/market/types.js';
import {
  SOURCE_TOPICS,
  type BookView,
  type FeedView,
  type MarketView,
  type OrderTicket,
  type RiskView,
  type SourceInfo,
  type SourceTopic,
  type SourceTopics,
  type TuiSource,
} from './source.js';
import { EmbeddedAlerts, type EmbeddedAlertsOptions } from './sources/embedded-alerts.js';
import { EmbeddedAssistant, type EmbeddedAssistantOptions } from './sources/embedded-assistant.js';
import { EmbeddedStrategies, type EmbeddedStrategiesOptions } from './sources/embedded-strategies.js';
import { EmbeddedSystem } from './sources/embedded-system.js';

export interface EmbeddedSourceOptions {
  info: SourceInfo;
  /**
   * Time of a cancel, which no market event carries. Default: the node's clock (exchange event
   * time; a replay's simulated time). A live session passes the later of that and the wall clock,
   * as the CLI's cancel does.
   */
  actionTime?: (node: TradingNode) => number;
  /** Feed lag in ms (a live node's LiveClock.lagMs); undefined for replays. */
  lagMs?: (node: TradingNode) => number | undefined;
  /** Wall clock for the reconnect countdown. */
  wallNow?: () => number;
  /** Live strategies and backtests: the store URL (backtests on stored candles), recordings to offer. */
  strategies?: Omit<EmbeddedStrategiesOptions, 'wallNow'>;
  /** The assistant (the ai.* settings); absent: the session has no AI panel. */
  assistant?: Pick<EmbeddedAssistantOptions, 'config' | 'syncMs'>;
  /** Alerts: the session binds its AlertService to `source.alerts` (live-session.ts, replay-session.ts). */
  alerts?: Omit<EmbeddedAlertsOptions, 'wallNow'>;
}

type Handler = (payload: never) => void;

/**
 * The TUI's view of a TradingNode running in this process. It forwards the node's bus and reads
 * its cache and account; it owns nothing but the last feed state (the bus carries changes only).
 * A replay that starts over attaches a fresh node: subscribers stay, and hear `source.reset`.
 */
export class EmbeddedSource implements TuiSource {
  readonly info: SourceInfo;
  readonly strategies: EmbeddedStrategies;
  readonly system: EmbeddedSystem;
  readonly assistant: EmbeddedAssistant | undefined;
  readonly alerts: EmbeddedAlerts | undefined;
  private current: TradingNode;
  private readonly handlers = new Map<SourceTopic, Set<Handler>>();
  private detach: Array<() => void> = [];
  private feedState: FeedState | undefined;
  private feedSince: number | undefined;
  private readonly opts: EmbeddedSourceOptions;
  private readonly wallNow: () => number;

  constructor(node: TradingNode, opts: EmbeddedSourceOptions) {
    this.info = opts.info;
    this.opts = opts;
    this.wallNow = opts.wallNow ?? Date.now;
    this.current = node;
    this.wire(node);
    this.strategies = new EmbeddedStrategies(node, { ...opts.strategies, wallNow: this.wallNow });
    this.system = new EmbeddedSystem(this, { strategies: this.strategies, storeUrl: opts.strategies?.storeUrl, wallNow: this.wallNow });
    // Approvals go through place() below: the account's order path, as the order form's.
    this.assistant = opts.assistant ? new EmbeddedAssistant({ ...opts.assistant, node: () => this.current, place: (t) => this.place(t), wallNow: this.wallNow }) : undefined;
    this.alerts = opts.alerts ? new EmbeddedAlerts({ ...opts.alerts, wallNow: this.wallNow }) : undefined;
  }

  get node(): TradingNode {
    return this.current;
  }

  /**
   * Switches to another node (a replay's next pass) and tells subscribers why. Resolves once the
   * live strategies run on the new node; await it before the node's feed starts.
   */
  attach(node: TradingNode, reason: string): Promise<void> {
    for (const d of this.detach.splice(0)) d();
    this.current = node;
    this.feedState = undefined;
    this.feedSince = undefined;
    this.wire(node);
    const strategies = this.strategies.attach(node);
    this.emit('source.reset', { reason });
    return strategies;
  }

  /** Stops forwarding the node's bus. */
  close(): void {
    for (const d of this.detach.splice(0)) d();
    this.assistant?.close();
    this.alerts?.close();
  }

  subscribe<T extends SourceTopic>(topic: T, handler: (payload: SourceTopics[T]) => void): () => void {
    let set = this.handlers.get(topic);
    if (!set) this.handlers.set(topic, (set = new Set()));
    set.add(handler as Handler);
    return () => {
      set.delete(handler as Handler);
    };
  }

  symbols(): string[] {
    return this.current.symbols();
  }

  instrument(symbol: string): Instrument | undefined {
    const i = this.current.instruments;
    return i.has(symbol) ? i.get(symbol) : undefined;
  }

  market(symbol: string): MarketView | undefined {
    return this.current.market.get(symbol);
  }

  book(symbol: string, levels: number): BookView | undefined {
    const book = this.current.kernel.orderBook(symbol);
    if (book && book.status === 'synced') return { bids: book.levels('bid', levels), asks: book.levels('ask', levels), status: 'synced' };
    const top = this.current.market.get(symbol)?.top;
    if (!top) return book ? { bids: [], asks: [], status: book.status } : undefined;
    return { bids: [top.bid], asks: [top.ask], status: book ? book.status : 'top-only' };
  }

  feed(): FeedView {
    return {
      state: this.feedState,
      since: this.feedSince,
      lagMs: this.opts.lagMs?.(this.current),
      marketTime: this.current.clock.now(),
    };
  }

  risk(): RiskView {
    const s = this.current.trading.status();
    return { state: s.state, reason: s.reason };
  }

  openOrders(): Order[] {
    return this.current.trading.openOrders();
  }

  fills(limit: number): Fill[] {
    return this.current.trading.fills({ limit });
  }

  balances(): Balance[] {
    return this.current.trading.balances();
  }

  positions(): MarkedPosition[] {
    return this.current.trading.positions(this.current.market.lastPrices());
  }

  pnl(): PnlTotal[] {
    return this.current.trading.pnlTotals(this.positions());
  }

  async place(ticket: OrderTicket): Promise<PlacedOrder> {
    const node = this.current;
    const { symbol, ...text } = ticket;
    const req = orderRequestFromText(node.instruments.get(symbol), text);
    return node.placeOrder(req);
  }

  async cancel(symbol: string, orderId: number): Promise<Order> {
    return this.current.trading.cancel(symbol, { orderId }, this.actionTime());
  }

  async cancelAll(symbol?: string): Promise<Order[]> {
    return this.current.trading.cancelAll(symbol?.toUpperCase(), this.actionTime());
  }

  private actionTime(): number {
    return this.opts.actionTime ? this.opts.actionTime(this.current) : this.current.clock.now();
  }

  private wire(node: TradingNode): void {
    this.detach.push(
      node.bus.subscribe('feed.state', (s) => {
        this.feedState = s;
        this.feedSince = this.wallNow();
      }),
    );
    for (const topic of SOURCE_TOPICS) {
      this.detach.push(node.bus.subscribe(topic, (payload) => this.emit(topic, payload)));
    }
  }

  private emit<T extends SourceTopic>(topic: T, payload: SourceTopics[T]): void {
    const set = this.handlers.get(topic);
    if (!set) return;
    for (const h of [...set]) (h as (p: SourceTopics[T]) => void)(payload);
  }
}

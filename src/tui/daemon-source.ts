import { DaemonClient, DaemonRequestError } from '../client/daemon-client.js';
import { DaemonStream } from '../client/daemon-stream.js';
import { feedInfoFromWire } from '../client/wire.js';
import { DaemonTrading } from '../commands/trading-api.js';
import { Bus, type FeedState, type RiskStateChange } from '../engine/bus.js';
import { ParseError, UsageError } from '../engine/errors.js';
import { decodeExecutionReport } from '../engine/market/binance/order-parse.js';
import { decodeFrame } from '../engine/market/binance/parse.js';
import { decodeAggTrades, decodeDepthSnapshot, decodeExchangeInfo, decodeKlines, decodeServerTime } from '../engine/market/binance/rest-parse.js';
import { instrumentFromExchange, Instruments } from '../engine/market/instruments.js';
import { MarketCache } from '../engine/market/market-cache.js';
import type { Channel } from '../engine/market/source.js';
import type { Candle } from '../engine/candles/types.js';
import type { BookLevel, Instrument, Trade } from '../engine/market/types.js';
import { OrderRejectedError } from '../engine/orders/rejections.js';
import type { Balance, Fill, Order } from '../engine/orders/types.js';
import type { RiskStatus } from '../engine/risk/engine.js';
import { RiskRejectedError } from '../engine/risk/rejections.js';
import { markPosition, pnlTotals, type MarkedPosition, type PlacedOrder, type PnlTotal } from '../engine/trading.js';
import type {
  BookView,
  BusTopic,
  FeedView,
  MarketView,
  OrderTicket,
  RiskView,
  SourceInfo,
  SourceTopic,
  SourceTopics,
  TuiSource,
} from './source.js';
import { DaemonAlerts } from './sources/daemon-alerts.js';
import { DaemonAssistant } from './sources/daemon-assistant.js';
import { DaemonStrategies } from './sources/daemon-strategies.js';
import { DaemonSystem } from './sources/daemon-system.js';
import type { SystemLogLine } from './sources/system.js';

/**
 * The TUI attached to a running `qtrade daemon`: a client of its engine, never the owner of any
 * state. Market data and account events come over one combined WebSocket (Binance's stream
 * payloads and the private `orders` and `risk` streams), snapshots over REST (/api/v3 for the
 * market, /api/qtrade for the account, through the CLI's DaemonTrading), and orders go to the
 * daemon's account API. Prices and quantities are decoded at the instruments' scales by the same
 * decoders the Binance adapter uses, so every number is the daemon's exactly.
 *
 * Consistency: every (re)connect opens the stream first and holds its messages while the REST
 * snapshots load, then applies the snapshots and replays what was held, skipping what they already
 * contain (trade ids, kline open times, book update ids). An account event (an execution report, a
 * risk change) re-reads the account over REST and only then is published, so a panel woken by it
 * reads the state that includes it. While the socket is down everything stays as last seen and the
 * header shows the reconnect countdown.
 */

export interface DaemonSourceOptions {
  /** The daemon's base URL (http://127.0.0.1:8790). */
  url: string;
  /** A token with read scope at least (trade to place orders); none for a daemon without tokens. */
  token?: string;
  /** Symbols to show (a subset of the daemon's feed); default every symbol it carries. */
  symbols?: string[];
  /** Wall clock: reconnect countdown and feed lag. */
  wallNow?: () => number;
  backoff?: { initialMs: number; maxMs: number };
  silenceMs?: number;
  /** REST timeout per request. Default 10 s. */
  timeoutMs?: number;
  /** Ring the terminal bell when one of the daemon's alerts fires (this machine's alerts.bell). Default true. */
  bell?: boolean;
}

/** Fills kept for the Fills panel, and recent trades / closed candles loaded on each resync. */
const FILLS = 500;
const TRADES = 500;
const CANDLES = 500;
const BOOK_LEVELS = 20;
/** Open orders fetched per account read; the daemon holds far fewer in practice. */
const OPEN_ORDERS = 5000;
/** Lines of this client's own kept for the System panel. */
const NOTES = 100;

type Handler = (payload: never) => void;

interface AccountEvent {
  order: Order;
  fill?: Fill;
}

interface Book {
  updateId: number;
  bids: BookLevel[];
  asks: BookLevel[];
}

export class DaemonSource implements TuiSource {
  readonly info: SourceInfo;
  readonly url: string;
  readonly strategies: DaemonStrategies;
  readonly system: DaemonSystem;
  readonly alerts: DaemonAlerts;
  readonly assistant: DaemonAssistant;
  private readonly bus = new Bus();
  private readonly cache = new MarketCache(this.bus);
  private readonly client: DaemonClient;
  private readonly api: DaemonTrading;
  private readonly stream: DaemonStream;
  private readonly wallNow: () => number;
  private readonly wanted: string[] | undefined;
  private readonly resetHandlers = new Set<Handler>();

  private known = new Map<string, Instrument>();
  private instrumentSet = new Instruments();
  private feedSymbols: string[] = [];
  private channels: Channel[] = [];
  private marketTime = 0;
  private feedState: FeedState | undefined;
  private feedSince: number | undefined;
  private readonly books = new Map<string, Book>();
  private readonly lastTradeId = new Map<string, number>();
  private readonly lastClosed = new Map<string, number>();
  private readonly decodeErrors = new Set<string>();
  private readonly notes: SystemLogLine[] = [];

  private open: Order[] = [];
  private fillList: Fill[] = [];
  private balanceList: Balance[] = [];
  private positionList: MarkedPosition[] = [];
  private riskStatus: RiskStatus = { state: 'ACTIVE', reason: '', since: 0 };

  /** Stream messages held while a resync loads its snapshots. */
  private held: Array<[string, unknown, string]> | undefined;
  private synced = false;
  private pendingEvents: AccountEvent[] = [];
  private scheduled: Promise<void> | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  private constructor(opts: DaemonSourceOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.info = { venue: 'paper', feed: `daemon ${this.url}`, replay: false };
    this.wallNow = opts.wallNow ?? Date.now;
    this.wanted = opts.symbols?.map((s) => s.toUpperCase());
    this.client = new DaemonClient({ url: this.url, token: opts.token, timeoutMs: opts.timeoutMs ?? 10_000 });
    // Positions without a mark show "uPnL ?" in the panel; nothing goes to stderr under the TUI.
    this.api = new DaemonTrading(this.client, () => {});
    const instrument = (symbol: string) => this.ensureInstrument(symbol);
    const known = (symbol: string) => this.instrument(symbol);
    this.strategies = new DaemonStrategies({ client: this.client, instrument, known });
    this.system = new DaemonSystem(this, { client: this.client, strategies: this.strategies, notes: () => this.notes, wallNow: this.wallNow });
    this.alerts = new DaemonAlerts({ client: this.client, bell: opts.bell ?? true });
    this.assistant = new DaemonAssistant({ client: this.client, placed: () => this.afterAction(), wallNow: this.wallNow });
    this.stream = new DaemonStream({
      url: this.url,
      token: opts.token,
      backoff: opts.backoff,
      silenceMs: opts.silenceMs,
      prepare: () => this.prepare(),
      ready: () => this.resync(),
      message: (stream, data, text) => this.onMessage(stream, data, text),
      state: (s) => this.onFeedState(s),
      fatal: (err) => err instanceof DaemonRequestError && (err.status === 401 || err.status === 403),
    });
  }

  /**
   * Reads what the daemon's feed carries (which checks that it answers and takes the token) and
   * starts the stream; the dashboard opens while the first snapshot loads. A daemon that cannot
   * be reached, refuses the token, or lacks a symbol asked for is an error here, before any screen.
   */
  static async open(opts: DaemonSourceOptions): Promise<DaemonSource> {
    const source = new DaemonSource(opts);
    const first = await source.prepare();
    source.stream.start(first);
    return source;
  }

  /** Stops the stream; the daemon and its account are not touched. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.stop();
    this.cache.close();
    this.strategies.close();
    this.alerts.close();
    this.assistant.close();
  }

  subscribe<T extends SourceTopic>(topic: T, handler: (payload: SourceTopics[T]) => void): () => void {
    if (topic === 'source.reset') {
      const h = handler as Handler;
      this.resetHandlers.add(h);
      return () => {
        this.resetHandlers.delete(h);
      };
    }
    return this.bus.subscribe(topic as BusTopic, handler as (p: SourceTopics[BusTopic]) => void);
  }

  symbols(): string[] {
    return this.feedSymbols;
  }

  /** The channels the daemon's feed carries (the System panel's streams). */
  feedChannels(): readonly Channel[] {
    return this.channels;
  }

  instrument(symbol: string): Instrument | undefined {
    return this.known.get(symbol.toUpperCase());
  }

  market(symbol: string): MarketView | undefined {
    return this.cache.get(symbol);
  }

  book(symbol: string, levels: number): BookView | undefined {
    const sym = symbol.toUpperCase();
    const b = this.books.get(sym);
    if (b) return { bids: b.bids.slice(0, levels), asks: b.asks.slice(0, levels), status: 'synced' };
    const depth = this.channels.includes('depth');
    const top = this.cache.get(sym)?.top;
    if (!top) return depth && this.feedSymbols.includes(sym) ? { bids: [], asks: [], status: 'awaiting-snapshot' } : undefined;
    return { bids: [top.bid], asks: [top.ask], status: depth ? 'awaiting-snapshot' : 'top-only' };
  }

  feed(): FeedView {
    return {
      state: this.feedState,
      since: this.feedSince,
      lagMs: this.marketTime === 0 ? undefined : this.wallNow() - this.marketTime,
      marketTime: this.marketTime,
    };
  }

  risk(): RiskView {
    return { state: this.riskStatus.state, reason: this.riskStatus.reason };
  }

  openOrders(): Order[] {
    return this.open;
  }

  fills(limit: number): Fill[] {
    return this.fillList.slice(-limit);
  }

  balances(): Balance[] {
    return this.balanceList;
  }

  /** The daemon's positions, marked again at the last trade this client saw (the daemon marks the same way). */
  positions(): MarkedPosition[] {
    const marks = this.cache.lastPrices();
    return this.positionList.map((p) => markPosition(p, marks.get(p.symbol) ?? p.mark));
  }

  pnl(): PnlTotal[] {
    return pnlTotals(this.positions());
  }

  async place(ticket: OrderTicket): Promise<PlacedOrder> {
    let placed: PlacedOrder;
    try {
      placed = await this.api.place(ticket);
    } catch (err) {
      this.refused(ticket, err);
      throw err;
    }
    this.learn(this.api.instrument(placed.order.symbol));
    await this.afterAction();
    return placed;
  }

  async cancel(symbol: string, orderId: number): Promise<Order> {
    const order = await this.api.cancel({ orderId }, symbol);
    await this.afterAction();
    return order;
  }

  async cancelAll(symbol?: string): Promise<Order[]> {
    const list = await this.api.cancelAll(symbol?.toUpperCase());
    await this.afterAction();
    return list;
  }

  // ------------------------------------------------------------------ connection

  /** Before every attempt: what the feed carries now (a restarted daemon may carry other symbols), as stream names. */
  private async prepare(): Promise<string[]> {
    const info = feedInfoFromWire(await this.client.get('/api/qtrade/feed'));
    for (const i of info.instruments) this.learn(i);
    const carried = new Set(info.symbols);
    if (this.wanted) {
      const missing = this.wanted.filter((s) => !carried.has(s));
      if (missing.length > 0 && !this.synced) {
        throw new UsageError(`the daemon at ${this.url} does not stream ${missing.join(', ')} (its feed carries ${info.symbols.join(', ') || 'no symbol'})`, {
          hint: 'drop --symbols to see what it carries, or restart the daemon with the symbols you want (qtrade daemon --symbols ...)',
        });
      }
      if (missing.length > 0) this.bus.publish('feed.error', { message: `the daemon no longer streams ${missing.join(', ')}` });
    }
    this.feedSymbols = this.wanted ? this.wanted.filter((s) => carried.has(s)) : info.symbols;
    this.channels = info.channels;
    const trades = info.channels.includes('aggTrade') || info.channels.includes('trade');
    const names: string[] = [];
    for (const sym of this.feedSymbols) {
      const s = sym.toLowerCase();
      if (trades) names.push(`${s}@aggTrade`, `${s}@kline_1m`);
      if (info.channels.includes('bookTicker')) names.push(`${s}@bookTicker`);
      if (info.channels.includes('miniTicker')) names.push(`${s}@miniTicker`);
      if (info.channels.includes('depth')) names.push(`${s}@depth${BOOK_LEVELS}`);
    }
    names.push('orders', 'risk', 'alerts');
    return names;
  }

  /**
   * The socket is open and its messages are held: load the snapshots, apply them, then replay
   * the held messages (anything they repeat is skipped). After a reconnect, panels re-read
   * everything (`source.reset`): orders may have been placed or canceled meanwhile.
   */
  private async resync(): Promise<void> {
    this.held = [];
    try {
      const [serverTime, markets] = await Promise.all([
        this.client.get('/api/v3/time').then(decodeServerTime),
        Promise.all(this.feedSymbols.map((s) => this.marketSnapshot(s))),
        this.requestSync(),
      ]);
      for (const m of markets) this.applyMarket(m, serverTime);
    } catch (err) {
      this.held = undefined;
      throw err;
    }
    const held = this.held;
    this.held = undefined;
    for (const [stream, data, text] of held) this.onMessage(stream, data, text);
    if (this.synced) this.emitReset(`resynced with the daemon at ${this.url}`);
    this.synced = true;
    // Not part of the resync: a daemon without alerts or strategies still streams and trades.
    this.strategies.refresh().catch((err: unknown) => this.note('warn', `could not read the daemon's strategies: ${(err as Error)?.message ?? String(err)}`));
    this.alerts.refresh().catch((err: unknown) => this.note('warn', `could not read the daemon's alerts: ${(err as Error)?.message ?? String(err)}`));
    this.assistant.refresh().catch(() => undefined);
  }

  private async marketSnapshot(symbol: string) {
    const inst = this.known.get(symbol)!;
    const q = { symbol };
    const [trades, klines, depth] = await Promise.all([
      notReadyAsEmpty(this.client.get('/api/v3/aggTrades', { ...q, limit: TRADES })),
      notReadyAsEmpty(this.client.get('/api/v3/klines', { ...q, interval: '1m', limit: CANDLES })),
      this.channels.includes('depth') ? notReadyAsEmpty(this.client.get('/api/v3/depth', { ...q, limit: BOOK_LEVELS })) : undefined,
    ]);
    return { inst, trades, klines, depth };
  }

  private applyMarket(m: Awaited<ReturnType<DaemonSource['marketSnapshot']>>, serverTime: number): void {
    const { inst } = m;
    if (m.trades !== undefined) for (const t of decodeAggTrades(m.trades, inst)) this.onTrade(t);
    // The daemon lists the running minute last; it counts as closed once the daemon's clock passed its end.
    if (m.klines !== undefined) for (const c of decodeKlines(m.klines, inst, '1m', serverTime)) this.onCandle(c);
    if (m.depth !== undefined) this.onDepth(inst, m.depth);
  }

  private onFeedState(s: FeedState): void {
    this.feedState = s;
    this.feedSince = this.wallNow();
    if (s.state !== 'connecting') this.note(s.state === 'open' ? 'info' : 'warn', `link to the daemon ${s.state}${s.attempt > 0 ? ` (attempt ${s.attempt})` : ''}${s.reason ? `: ${s.reason}` : ''}`);
    this.bus.publish('feed.state', s);
  }

  private note(level: SystemLogLine['level'], text: string): void {
    this.notes.push({ time: this.wallNow(), level, text });
    if (this.notes.length > NOTES) this.notes.splice(0, this.notes.length - NOTES);
  }

  private emitReset(reason: string): void {
    for (const h of [...this.resetHandlers]) (h as (p: SourceTopics['source.reset']) => void)({ reason });
  }

  // ------------------------------------------------------------------ stream messages

  private onMessage(stream: string, data: unknown, text: string): void {
    if (this.closed) return;
    if (this.held) {
      this.held.push([stream, data, text]);
      return;
    }
    try {
      this.apply(stream, data, text);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      // One report per stream: a daemon of another version would otherwise fill the log with the same line.
      if (this.decodeErrors.has(stream)) return;
      this.decodeErrors.add(stream);
      this.bus.publish('feed.error', { message: `cannot read the daemon's ${stream} stream: ${err.message}`, detail: text.slice(0, 500) });
    }
  }

  private apply(stream: string, data: unknown, text: string): void {
    if (stream === 'orders') {
      const symbol = (data as { s?: unknown } | null)?.s;
      const inst = typeof symbol === 'string' ? this.known.get(symbol) : undefined;
      if (!inst) throw new ParseError(`an execution report names ${String(symbol)}, whose instrument this client does not know`);
      const r = decodeExecutionReport(data, inst);
      this.pendingEvents.push({ order: r.order, ...(r.fill ? { fill: r.fill } : {}) });
      void this.requestSync();
      return;
    }
    if (stream === 'risk') {
      void this.requestSync();
      return;
    }
    if (stream === 'alerts') {
      this.alerts.fired(data);
      return;
    }
    const at = stream.indexOf('@');
    const inst = this.known.get(stream.slice(0, at).toUpperCase());
    if (at <= 0 || !inst) return;
    if (stream.slice(at + 1) === `depth${BOOK_LEVELS}`) {
      this.onDepth(inst, data);
      return;
    }
    const ev = decodeFrame(text, this.instrumentSet);
    if (!ev) return;
    switch (ev.kind) {
      case 'trade':
        this.onTrade(ev.trade);
        break;
      case 'kline':
        this.onCandle(ev.candle);
        break;
      case 'bookTicker':
        this.bus.publish('book.top', ev.top);
        break;
      case 'miniTicker':
        this.advance(ev.ticker.time);
        this.bus.publish('ticker', ev.ticker);
        break;
      default:
        break;
    }
  }

  private onTrade(t: Trade): void {
    if (t.id <= (this.lastTradeId.get(t.symbol) ?? -1)) return;
    this.lastTradeId.set(t.symbol, t.id);
    this.advance(t.time);
    this.bus.publish('trade', t);
  }

  /** Closed minutes once each, in order; the running minute until it closes. */
  private onCandle(c: Candle): void {
    if (c.interval !== '1m' || c.openTime <= (this.lastClosed.get(c.symbol) ?? -1)) return;
    if (c.closed) {
      this.lastClosed.set(c.symbol, c.openTime);
      this.bus.publish('candle.closed', c);
    } else this.bus.publish('candle.partial', c);
  }

  private onDepth(inst: Instrument, data: unknown): void {
    const snap = decodeDepthSnapshot(data, inst);
    const prev = this.books.get(inst.symbol);
    if (prev && snap.lastUpdateId < prev.updateId) return;
    this.books.set(inst.symbol, { updateId: snap.lastUpdateId, bids: snap.bids, asks: snap.asks });
    this.bus.publish('book.update', { symbol: inst.symbol, updateId: snap.lastUpdateId });
  }

  private advance(time: number): void {
    if (time > this.marketTime) this.marketTime = time;
  }

  // ------------------------------------------------------------------ account

  /**
   * Reads the account again and then publishes the events that asked for it. One read at a time;
   * requests during a read share the next one, so a burst of fills costs two reads, not one each.
   */
  private requestSync(): Promise<void> {
    if (this.scheduled) return this.scheduled;
    const p = (this.running ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => {
        this.scheduled = undefined;
        const run = this.syncAccount();
        this.running = run;
        return run.finally(() => {
          if (this.running === run) this.running = undefined;
        });
      });
    this.scheduled = p;
    p.catch((err: unknown) => {
      // While the socket is down the header says so, and the resync after it reads the account again.
      if (!this.closed && this.stream.state === 'open') this.bus.publish('feed.error', { message: `could not read the account from the daemon: ${(err as Error)?.message ?? String(err)}` });
    });
    return p;
  }

  private async syncAccount(): Promise<void> {
    const events = this.pendingEvents.splice(0);
    try {
      const [open, fills, balances, positions, risk] = await Promise.all([
        this.api.openOrders({ limit: OPEN_ORDERS }),
        this.api.fills({ limit: FILLS }),
        this.api.balances(),
        this.api.positions(),
        this.api.risk(),
      ]);
      if (this.closed) return;
      for (const x of [...open, ...fills, ...positions]) this.learnFromApi(x.symbol);
      this.open = open;
      this.fillList = fills;
      this.balanceList = balances;
      this.positionList = positions;
      const previous = this.riskStatus;
      this.riskStatus = risk.status;
      if (this.synced && risk.status.state !== previous.state) {
        const change: RiskStateChange = { state: risk.status.state, previous: previous.state, reason: risk.status.reason, time: risk.status.since };
        this.bus.publish('risk.state', change);
      }
    } finally {
      // Published even when the read failed: the event happened, and the next one reads again.
      for (const e of events) {
        this.bus.publish('order.update', e.order);
        if (e.fill) this.bus.publish('fill', e.fill);
      }
    }
    // A strategy's orders, fills and position change with the account's.
    if (events.length > 0) this.strategies.refresh().catch(() => undefined);
  }

  /** After the trader's own action: the panels show its effect when the call returns. */
  private async afterAction(): Promise<void> {
    try {
      await this.requestSync();
    } catch {
      // reported on the log by requestSync; the action itself succeeded
    }
  }

  /** A refusal is on the log as the embedded engine puts it there (the command line shows it too). */
  private refused(ticket: OrderTicket, err: unknown): void {
    const time = this.marketTime > 0 ? this.marketTime : this.wallNow();
    const symbol = ticket.symbol.toUpperCase();
    if (err instanceof RiskRejectedError) {
      const r = err.rejection;
      this.bus.publish('order.rejected', { symbol, code: r.code, msg: r.msg, rule: r.rule, time, ...(ticket.clientId ? { clientOrderId: ticket.clientId } : {}) });
    } else if (err instanceof OrderRejectedError) {
      this.bus.publish('order.rejected', { symbol, code: err.binanceCode, msg: err.message, time, ...(ticket.clientId ? { clientOrderId: ticket.clientId } : {}) });
    }
  }

  /** A symbol's instrument, asked of the daemon (exchangeInfo) when this client has not seen it. */
  private async ensureInstrument(symbol: string): Promise<Instrument | undefined> {
    const had = this.known.get(symbol.toUpperCase());
    if (had) return had;
    try {
      const info = decodeExchangeInfo(await this.client.get('/api/v3/exchangeInfo', { symbol: symbol.toUpperCase() }));
      for (const s of info.symbols) this.learn(instrumentFromExchange(s));
    } catch (err) {
      if (!(err instanceof DaemonRequestError && err.status === 400)) throw err;
    }
    return this.known.get(symbol.toUpperCase());
  }

  private learnFromApi(symbol: string): void {
    if (this.known.has(symbol)) return;
    try {
      this.learn(this.api.instrument(symbol));
    } catch {
      // the reply carried no instrument for it: rows of that symbol show raw numbers
    }
  }

  private learn(i: Instrument): void {
    const had = this.known.get(i.symbol);
    if (had && had.priceScale === i.priceScale && had.qtyScale === i.qtyScale) return;
    this.known.set(i.symbol, i);
    this.instrumentSet = new Instruments(this.known.values());
  }
}

/** Market data the daemon has not seen yet (409) reads as none. */
async function notReadyAsEmpty(p: Promise<unknown>): Promise<unknown> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof DaemonRequestError && err.status === 409) return undefined;
    throw err;
  }
}


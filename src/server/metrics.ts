import type { Bus, FeedState, RiskStateName, Topic } from '../engine/bus.js';
import { LiveClock, type Clock } from '../engine/clock.js';
import type { KernelStats } from '../engine/kernel.js';
import type { OrderEventKind } from '../engine/orders/events.js';
import { LoopDelayWindows, type LoopDelayOptions } from './loop-delay.js';

/**
 * The daemon's Prometheus metrics: counted from the node's bus, read from kernel.stats() and the
 * HTTP/WS counters at scrape time, rendered in the text exposition format 0.0.4. One instance per
 * daemon (it subscribes to the bus and samples the event loop until close()).
 */

// ------------------------------------------------------------------ text exposition format 0.0.4

export type Labels = Readonly<Record<string, string>>;
export interface Sample {
  labels?: Labels;
  value: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** HELP text: backslash and line feed escaped. */
export function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Label values: backslash, double quote and line feed escaped. */
export function escapeLabelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value as Prometheus parses it (Go's ParseFloat plus NaN, +Inf, -Inf). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Builds one exposition: every family gets HELP and TYPE lines, then its samples. */
export class PromText {
  private readonly lines: string[] = [];
  private readonly names = new Set<string>();

  /** A counter; its name must end in `_total`. */
  counter(name: string, help: string, samples: number | readonly Sample[]): this {
    if (!name.endsWith('_total')) throw new Error(`counter ${name} must end in _total`);
    return this.family(name, 'counter', help, samples);
  }

  gauge(name: string, help: string, samples: number | readonly Sample[]): this {
    return this.family(name, 'gauge', help, samples);
  }

  text(): string {
    return this.lines.length === 0 ? '' : this.lines.join('\n') + '\n';
  }

  private family(name: string, type: 'counter' | 'gauge', help: string, samples: number | readonly Sample[]): this {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
    if (this.names.has(name)) throw new Error(`metric ${name} written twice`);
    this.names.add(name);
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    const list = typeof samples === 'number' ? [{ value: samples }] : samples;
    for (const s of list) this.lines.push(`${name}${labelText(s.labels)} ${formatValue(s.value)}`);
    return this;
  }
}

function labelText(labels: Labels | undefined): string {
  if (!labels) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL_NAME.test(k) || k.startsWith('__')) throw new Error(`invalid label name ${JSON.stringify(k)}`);
    parts.push(`${k}="${escapeLabelValue(v)}"`);
  }
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

// ------------------------------------------------------------------ a rate over the last seconds

/** Events per second over the last `seconds` complete wall-clock seconds. */
export class RateWindow {
  private readonly buckets: number[];
  private second = -1;

  constructor(private readonly seconds = 10) {
    // One more bucket than the window: the current, still filling second is not counted.
    this.buckets = new Array<number>(seconds + 1).fill(0);
  }

  add(nowMs: number, n = 1): void {
    this.roll(nowMs);
    this.buckets[this.second % this.buckets.length]! += n;
  }

  perSecond(nowMs: number): number {
    this.roll(nowMs);
    const cur = this.second % this.buckets.length;
    let sum = 0;
    for (let i = 0; i < this.buckets.length; i++) if (i !== cur) sum += this.buckets[i]!;
    return sum / this.seconds;
  }

  private roll(nowMs: number): void {
    const s = Math.floor(nowMs / 1000);
    if (s <= this.second) return;
    const steps = this.second < 0 ? this.buckets.length : Math.min(s - this.second, this.buckets.length);
    for (let i = 1; i <= steps; i++) this.buckets[(s - steps + i) % this.buckets.length] = 0;
    this.second = s;
  }
}

// ------------------------------------------------------------------ the daemon's metrics

/** What the metrics read from a trading node (TradingNode fits). */
export interface MetricsNode {
  readonly bus: Bus;
  readonly clock: Clock;
  readonly kernel: { stats(): KernelStats };
  readonly trading: { status(): { state: RiskStateName } };
  /** Symbols the feed is configured to carry (uppercase). */
  symbols(): string[];
}

/** What the metrics read from the HTTP/WS layer (counters.ts's Counters fits). */
export interface MetricsCounters {
  readonly requests: ReadonlyMap<string, ReadonlyMap<number, number>>;
  readonly clients: number;
  readonly dropped: ReadonlyMap<string, number>;
}

export interface DaemonMetricsOptions {
  node: MetricsNode;
  counters: MetricsCounters;
  /** Local wall clock (receive times, lag, uptime); never event time. */
  wallNow: () => number;
  startedAt: number;
  version: string;
  /** The event-loop delay windows (default: 10 s, sampled by monitorEventLoopDelay). */
  loopDelay?: LoopDelayOptions;
}

/** The feed as /health reports it. */
export interface FeedHealth {
  state: FeedState['state'];
  connected: boolean;
  /** Reconnect attempt of the current state (0 once open). */
  attempt: number;
  /** Wall now − latest exchange event time; null before the first event. */
  lagMs: number | null;
  /** Wall now − receive time of the last market message; null before the first one. */
  lastMessageAgeMs: number | null;
  /** Wall time the daemon started watching the feed (for "silent since start"). */
  since: number;
  /** One entry per symbol the feed is configured to carry. */
  symbols: SymbolFeedHealth[];
}

/** One configured symbol's market data, as /health reports it. */
export interface SymbolFeedHealth {
  symbol: string;
  /** Market messages received for it. */
  messages: number;
  /** Wall now − receive time of its last market message; null before the first one. */
  lastMessageAgeMs: number | null;
  /** Wall time the daemon started expecting it (start, or when a later subscription was first seen). */
  since: number;
}

/** Market-data topics: each one is a message the feed delivered (or a REST gap fill produced). */
const MARKET_TOPICS = ['trade', 'book.top', 'book.update', 'ticker', 'candle.exchange'] as const satisfies readonly Topic[];
type MarketTopic = (typeof MARKET_TOPICS)[number];

interface SymbolTraffic {
  messages: number;
  lastAt: number | undefined;
}

const FEED_STATES: readonly FeedState['state'][] = ['connecting', 'open', 'reconnecting', 'closed'];
const RISK_STATES: readonly RiskStateName[] = ['ACTIVE', 'REDUCING', 'HALTED'];
const ORDER_EVENT_KINDS: readonly OrderEventKind[] = ['accepted', 'rejected', 'triggered', 'fill', 'canceled', 'expired', 'ledger'];

export class DaemonMetrics {
  private readonly node: MetricsNode;
  private readonly counters: MetricsCounters;
  private readonly wallNow: () => number;
  private readonly startedAt: number;
  private readonly version: string;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly loop: LoopDelayWindows;

  private readonly messages = new Map<MarketTopic, number>(MARKET_TOPICS.map((t) => [t, 0]));
  private readonly rate = new RateWindow(10);
  private lastMessageAt: number | undefined;
  /** Per symbol: every symbol a message arrived for, and every configured one (from when it was first seen configured). */
  private readonly traffic = new Map<string, SymbolTraffic>();
  private readonly expectedSince = new Map<string, number>();
  private lastTradeTime: number | undefined;
  private feedState: FeedState = { state: 'connecting', attempt: 0 };
  private reconnects = 0;
  private feedErrors = 0;
  private readonly orderEvents = new Map<OrderEventKind, number>(ORDER_EVENT_KINDS.map((k) => [k, 0]));
  /** side|liquidity → count. */
  private readonly fills = new Map<string, number>();
  /** rule|code → count. */
  private readonly rejections = new Map<string, number>();
  private riskTransitions = 0;
  private readonly cpuStart = process.cpuUsage();

  constructor(opts: DaemonMetricsOptions) {
    this.node = opts.node;
    this.counters = opts.counters;
    this.wallNow = opts.wallNow;
    this.startedAt = opts.startedAt;
    this.version = opts.version;
    const bus = opts.node.bus;
    this.noteConfiguredSymbols(opts.startedAt);
    for (const topic of MARKET_TOPICS) {
      this.unsubscribe.push(bus.subscribe(topic, (m: { symbol?: string }) => this.onMessage(topic, m.symbol)));
    }
    this.unsubscribe.push(
      bus.subscribe('trade', (t) => {
        if (this.lastTradeTime === undefined || t.time > this.lastTradeTime) this.lastTradeTime = t.time;
      }),
      bus.subscribe('feed.state', (s) => {
        if (s.state === 'reconnecting') this.reconnects++;
        this.feedState = s;
      }),
      bus.subscribe('feed.error', () => void this.feedErrors++),
      bus.subscribe('order.event', (ev) => bump(this.orderEvents, ev.kind)),
      bus.subscribe('fill', (f) => bump(this.fills, `${f.side}|${f.isMaker ? 'maker' : 'taker'}`)),
      // Risk vetoes carry their rule; the paper engine's own refusals (filters, balance) do not.
      bus.subscribe('order.rejected', (r) => bump(this.rejections, `${r.rule ?? 'exchange'}|${r.code}`)),
      bus.subscribe('risk.state', () => void this.riskTransitions++),
    );
    this.loop = new LoopDelayWindows(opts.loopDelay);
  }

  /** The feed's state, lag and silence, for /health. */
  feed(): FeedHealth {
    const now = this.wallNow();
    return {
      state: this.feedState.state,
      connected: this.feedState.state === 'open',
      attempt: this.feedState.attempt,
      lagMs: this.lagMs(now),
      lastMessageAgeMs: this.lastMessageAt === undefined ? null : now - this.lastMessageAt,
      since: this.startedAt,
      symbols: this.symbolFeeds(now),
    };
  }

  /** Configured symbols with their traffic, in configuration order. */
  private symbolFeeds(now: number): SymbolFeedHealth[] {
    this.noteConfiguredSymbols(now);
    return this.node.symbols().map((symbol) => {
      const t = this.traffic.get(symbol);
      return {
        symbol,
        messages: t?.messages ?? 0,
        lastMessageAgeMs: t?.lastAt === undefined ? null : now - t.lastAt,
        since: this.expectedSince.get(symbol)!,
      };
    });
  }

  /**
   * Starts the "silent since" clock of symbols configured since the last look. The node does not
   * announce later subscriptions (a strategy's symbol), so those count from the first /health or
   * /metrics that sees them: never earlier than they were added.
   */
  private noteConfiguredSymbols(now: number): void {
    for (const s of this.node.symbols()) if (!this.expectedSince.has(s)) this.expectedSince.set(s, now);
  }

  /** The whole exposition, text format 0.0.4. */
  render(): string {
    const now = this.wallNow();
    const p = new PromText();
    const k = this.node.kernel.stats();
    const feed = this.feed();

    p.gauge('qtrade_build_info', 'Daemon version (always 1).', [{ labels: { version: this.version }, value: 1 }]);
    p.gauge('qtrade_start_time_seconds', 'Wall-clock time the daemon started, seconds since the epoch.', this.startedAt / 1000);
    p.gauge('qtrade_uptime_seconds', 'Seconds since the daemon started.', (now - this.startedAt) / 1000);

    // Feed
    p.counter('qtrade_feed_messages_total', 'Market messages delivered on the bus, by type (trades include REST gap fills, after de-duplication).', [...this.messages].map(([t, v]) => ({ labels: { type: t }, value: v })));
    p.gauge('qtrade_feed_messages_per_second', 'Market messages per second over the last 10 complete seconds.', this.rate.perSecond(now));
    p.counter('qtrade_feed_frames_total', 'WebSocket frames received from the exchange.', k.frames);
    p.counter('qtrade_feed_decode_errors_total', 'Exchange frames that could not be decoded.', k.decodeErrors);
    p.counter('qtrade_feed_errors_total', 'Feed errors reported (decode errors, pipeline and store failures, order-book resyncs).', this.feedErrors);
    p.gauge(
      'qtrade_feed_state',
      'Feed connection state (1 for the current state).',
      FEED_STATES.map((s) => ({ labels: { state: s }, value: s === feed.state ? 1 : 0 })),
    );
    p.gauge('qtrade_feed_connected', '1 while the exchange WebSocket is open.', feed.connected ? 1 : 0);
    p.counter('qtrade_feed_reconnects_total', 'Times the feed lost its connection and started reconnecting.', this.reconnects);
    p.gauge('qtrade_feed_lag_seconds', 'Wall-clock now minus the latest exchange event time (absent before the first event).', feed.lagMs === null ? [] : feed.lagMs / 1000);
    p.gauge(
      'qtrade_feed_last_message_age_seconds',
      'Seconds since the last market message was received (absent before the first one).',
      feed.lastMessageAgeMs === null ? [] : feed.lastMessageAgeMs / 1000,
    );
    const bySymbol = new Map<string, SymbolTraffic>(this.traffic);
    for (const s of feed.symbols) if (!bySymbol.has(s.symbol)) bySymbol.set(s.symbol, { messages: 0, lastAt: undefined });
    p.counter(
      'qtrade_feed_symbol_messages_total',
      'Market messages delivered on the bus, by symbol (0 for a configured symbol nothing arrived for).',
      [...bySymbol].map(([symbol, t]) => ({ labels: { symbol }, value: t.messages })),
    );
    p.gauge(
      'qtrade_feed_symbol_last_message_age_seconds',
      "Seconds since the symbol's last market message was received (absent before its first one).",
      [...bySymbol].flatMap(([symbol, t]) => (t.lastAt === undefined ? [] : [{ labels: { symbol }, value: (now - t.lastAt) / 1000 }])),
    );

    // Trades and candles
    p.counter('qtrade_trades_total', 'Trades sequenced by the kernel (de-duplicated, gap-filled).', k.trades);
    p.counter('qtrade_trade_duplicates_total', 'Duplicate trades dropped.', k.duplicates);
    p.counter('qtrade_trade_gaps_total', 'Gaps detected in trade ids.', k.gaps);
    p.counter('qtrade_trade_gap_filled_total', 'Missing trades recovered over REST.', k.gapTradesFilled);
    p.counter('qtrade_trade_missing_total', 'Missing trades that could not be recovered.', k.missingTrades);
    p.counter('qtrade_candles_closed_total', 'Complete 1m candles closed.', k.candlesClosed);
    p.counter('qtrade_candles_incomplete_total', 'Minutes closed known to lack trades (feed start, unfilled gaps).', k.candlesIncomplete);
    p.counter('qtrade_candle_checks_total', "Closed candles compared with the exchange's kline.", k.candleChecks);
    p.counter('qtrade_candle_mismatches_total', "Closed candles that differ from the exchange's kline.", k.candleMismatches);
    p.counter('qtrade_store_errors_total', 'Candle store writes that failed.', k.storeErrors);

    // Orders
    p.counter(
      'qtrade_order_events_total',
      'Paper order-engine events made durable, by kind.',
      [...this.orderEvents].map(([kind, v]) => ({ labels: { kind }, value: v })),
    );
    p.counter(
      'qtrade_fills_total',
      'Paper fills, by side and liquidity.',
      [...this.fills].map(([key, v]) => {
        const [side, liquidity] = key.split('|') as [string, string];
        return { labels: { side, liquidity }, value: v };
      }),
    );
    p.counter(
      'qtrade_order_rejections_total',
      'Order requests refused, by risk rule (rule="exchange" for the exchange filter and balance checks) and Binance code.',
      [...this.rejections].map(([key, v]) => {
        const i = key.lastIndexOf('|');
        return { labels: { rule: key.slice(0, i), code: key.slice(i + 1) }, value: v };
      }),
    );
    p.counter('qtrade_order_errors_total', 'Paper order-engine calls from the feed that failed.', k.orderErrors);
    const risk = this.node.trading.status().state;
    p.gauge(
      'qtrade_risk_state',
      'Risk engine state (1 for the current state).',
      RISK_STATES.map((s) => ({ labels: { state: s }, value: s === risk ? 1 : 0 })),
    );
    p.counter('qtrade_risk_transitions_total', 'Risk state changes.', this.riskTransitions);

    // HTTP and WebSocket
    const requests: Sample[] = [];
    for (const [route, byStatus] of this.counters.requests) {
      for (const [status, v] of byStatus) requests.push({ labels: { route, status: String(status) }, value: v });
    }
    p.counter('qtrade_http_requests_total', 'HTTP requests answered, by route ("METHOD path", "unknown" when none matched) and status.', requests);
    p.gauge('qtrade_ws_clients', 'WebSocket clients connected.', this.counters.clients);
    p.counter(
      'qtrade_ws_dropped_total',
      'WebSocket clients closed by the daemon, by reason (slow consumer, protocol error, ...).',
      [...this.counters.dropped].map(([reason, v]) => ({ labels: { reason }, value: v })),
    );

    // Process
    // Over fixed windows, not "since the previous scrape": the TUI's polling and Prometheus's scrapes see the same window.
    const loop = this.loop.report();
    const window = `the last complete ${this.loop.windowMs / 1000} s window (the first one so far)`;
    p.gauge('qtrade_event_loop_delay_seconds', `Event-loop delay over ${window}, by quantile.`, [
      { labels: { quantile: '0.5' }, value: loop.p50 },
      { labels: { quantile: '0.99' }, value: loop.p99 },
    ]);
    p.gauge('qtrade_event_loop_delay_max_seconds', `Largest event-loop delay over ${window}.`, loop.max);
    const mem = process.memoryUsage();
    p.gauge('qtrade_process_memory_bytes', 'Process memory, by kind.', [
      { labels: { kind: 'rss' }, value: mem.rss },
      { labels: { kind: 'heap_total' }, value: mem.heapTotal },
      { labels: { kind: 'heap_used' }, value: mem.heapUsed },
      { labels: { kind: 'external' }, value: mem.external },
      { labels: { kind: 'array_buffers' }, value: mem.arrayBuffers },
    ]);
    const cpu = process.cpuUsage(this.cpuStart);
    p.counter('qtrade_process_cpu_seconds_total', 'CPU time used by the process since the daemon started (user + system).', (cpu.user + cpu.system) / 1e6);
    return p.text();
  }

  /** Stops counting: leaves the bus and stops sampling the event loop. */
  close(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    this.loop.close();
  }

  private onMessage(topic: MarketTopic, symbol: string | undefined): void {
    const now = this.wallNow();
    this.messages.set(topic, this.messages.get(topic)! + 1);
    this.rate.add(now);
    this.lastMessageAt = now;
    if (symbol === undefined) return;
    let t = this.traffic.get(symbol);
    if (!t) this.traffic.set(symbol, (t = { messages: 0, lastAt: undefined }));
    t.messages++;
    t.lastAt = now;
  }

  private lagMs(now: number): number | null {
    const clock = this.node.clock;
    if (clock instanceof LiveClock) return clock.now() === 0 ? null : clock.lagMs();
    return this.lastTradeTime === undefined ? null : now - this.lastTradeTime;
  }
}

function bump<K>(m: Map<K, number>, key: K): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}

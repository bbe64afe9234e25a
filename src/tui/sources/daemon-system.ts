import { DaemonRequestError, type DaemonClient } from '../../client/daemon-client.js';
import { healthFromJson, metricSamples, type HealthReply, type MetricSample } from '../../client/daemon-replies.js';
import type { Channel } from '../../engine/market/source.js';
import type { Order } from '../../engine/orders/types.js';
import type { BookView, FeedView, MarketView, RiskView, SourceInfo } from '../source.js';
import type { DaemonStrategies } from './daemon-strategies.js';
import type { CounterView, Health, ModuleView, SystemLogLine, SystemSource, SystemView } from './system.js';

/** What the System view reads of the daemon source. */
export interface DaemonSystemHost {
  readonly info: SourceInfo;
  feed(): FeedView;
  symbols(): string[];
  feedChannels(): readonly Channel[];
  market(symbol: string): MarketView | undefined;
  book(symbol: string, levels: number): BookView | undefined;
  risk(): RiskView;
  openOrders(): Order[];
}

export interface DaemonSystemOptions {
  client: DaemonClient;
  strategies: DaemonStrategies;
  /** Lines of the client's own (connection, resyncs), newest last. */
  notes: () => readonly SystemLogLine[];
  wallNow?: () => number;
  /** /health and /metrics are read again when status() is asked and the last read is older. Default 2 s. */
  refreshMs?: number;
}

const LAG_WARN_MS = 5_000;

/** Kernel counters as /metrics names them, shown as the embedded panel shows its own. */
const COUNTERS: Array<[string, string, boolean]> = [
  ['frames', 'qtrade_feed_frames_total', false],
  ['trades', 'qtrade_trades_total', false],
  ['candles closed', 'qtrade_candles_closed_total', false],
  ['candles incomplete', 'qtrade_candles_incomplete_total', true],
  ['duplicates', 'qtrade_trade_duplicates_total', false],
  ['gaps', 'qtrade_trade_gaps_total', false],
  ['gap trades filled', 'qtrade_trade_gap_filled_total', false],
  ['trades missing', 'qtrade_trade_missing_total', true],
  ['candle checks', 'qtrade_candle_checks_total', false],
  ['candle mismatches', 'qtrade_candle_mismatches_total', true],
  ['decode errors', 'qtrade_feed_decode_errors_total', true],
  ['store errors', 'qtrade_store_errors_total', true],
  ['order errors', 'qtrade_order_errors_total', true],
];

/**
 * The daemon as the System panel shows it: its /health (feed, probes, uptime) and /metrics
 * (counters, WebSocket clients, memory), read while the panel asks (at most every refreshMs; a
 * /metrics read also restarts the daemon's event-loop delay window, so nothing polls it in the
 * background), and this client's own link to it. The daemon serves neither its store's kind and
 * location nor its log: the store row says so, and the log shows the strategies' lines and this
 * client's.
 */
export class DaemonSystem implements SystemSource {
  private health: HealthReply | undefined;
  private samples: MetricSample[] = [];
  private error: string | undefined;
  private readAt = -Infinity;
  private reading: Promise<void> | undefined;
  private readonly wallNow: () => number;

  constructor(
    private readonly host: DaemonSystemHost,
    private readonly opts: DaemonSystemOptions,
  ) {
    this.wallNow = opts.wallNow ?? Date.now;
  }

  /** Reads /health and /metrics now. */
  refresh(): Promise<void> {
    this.reading ??= (async () => {
      try {
        const [health, metrics] = await Promise.all([
          // A daemon that is down answers its report with 503.
          this.opts.client.get('/health').catch((err: unknown) => {
            if (err instanceof DaemonRequestError && err.status === 503) return err.extra;
            throw err;
          }),
          this.opts.client.text('/metrics'),
        ]);
        this.health = healthFromJson(health);
        this.samples = metricSamples(metrics);
        this.error = undefined;
      } catch (err) {
        this.error = (err as Error)?.message ?? String(err);
      } finally {
        this.readAt = this.wallNow();
        this.reading = undefined;
      }
    })();
    return this.reading;
  }

  status(): SystemView {
    if (this.wallNow() - this.readAt >= (this.opts.refreshMs ?? 2_000)) void this.refresh();
    const host = this.host;
    const feed = host.feed();
    const h = this.health;
    const symbols = host.symbols();
    const channels = host.feedChannels();
    const metric = (name: string, labels: Record<string, string> = {}): number | undefined =>
      this.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

    const link = feed.state;
    let linkHealth: Health;
    let linkText: string;
    if (!link) [linkHealth, linkText] = ['warn', 'not started'];
    else if (link.state === 'open') [linkHealth, linkText] = ['ok', 'open'];
    else if (link.state === 'closed') [linkHealth, linkText] = ['down', `closed${link.reason ? `: ${link.reason}` : ''}`];
    else [linkHealth, linkText] = ['warn', `${link.state}${link.attempt > 0 ? ` (attempt ${link.attempt})` : ''}`];

    const upstream = h?.feed;
    const lag = feed.lagMs === undefined ? '' : ` · lag ${feed.lagMs} ms`;
    const feedHealth: Health = !upstream ? 'warn' : !upstream.connected ? 'down' : feed.lagMs !== undefined && feed.lagMs > LAG_WARN_MS ? 'warn' : 'ok';
    const risk = host.risk();
    const strategies = this.opts.strategies.list().filter((s) => s.status !== 'stopped');
    const paused = strategies.filter((s) => s.status === 'paused').length;
    const errors = ['qtrade_feed_decode_errors_total', 'qtrade_store_errors_total', 'qtrade_order_errors_total'].reduce((n, m) => n + (metric(m) ?? 0), 0);
    const storeProbe = h?.probes.store;
    const bus = h?.probes.bus;

    const modules: ModuleView[] = [
      { name: 'daemon link', health: linkHealth, detail: `${host.info.feed} ${linkText}${this.error ? ` · ${this.error}` : ''}` },
      {
        name: 'daemon',
        health: !h ? 'warn' : h.status === 'ok' ? 'ok' : h.status === 'degraded' ? 'warn' : 'down',
        detail: h ? `${h.status}${h.reasons.length > 0 ? ` · ${h.reasons.join('; ')}` : ''} · v${h.version}` : 'health not read yet',
      },
      { name: 'feed', health: feedHealth, detail: upstream ? `binance ${upstream.state}${upstream.attempt > 0 ? ` (attempt ${upstream.attempt})` : ''}${lag} · ${symbols.length} symbol${symbols.length === 1 ? '' : 's'}` : 'unknown' },
      {
        name: 'kernel',
        health: errors > 0 ? 'warn' : 'ok',
        detail: `${metric('qtrade_trades_total') ?? '?'} trades · ${metric('qtrade_candles_closed_total') ?? '?'} candles closed${errors > 0 ? ` · ${errors} error${errors === 1 ? '' : 's'}` : ''}`,
      },
      { name: 'paper account', health: 'ok', detail: `on the daemon · ${host.openOrders().length} open orders` },
      { name: 'risk', health: risk.state === 'ACTIVE' ? 'ok' : risk.state === 'REDUCING' ? 'warn' : 'down', detail: `${risk.state}${risk.reason ? ` · ${risk.reason}` : ''}` },
      {
        name: 'strategies',
        health: paused > 0 ? 'warn' : 'ok',
        detail: strategies.length === 0 ? 'none live' : `${strategies.length - paused} running${paused > 0 ? `, ${paused} paused` : ''}`,
      },
      {
        name: 'store',
        health: !storeProbe ? 'warn' : storeProbe.ok ? 'ok' : 'down',
        detail: storeProbe ? (storeProbe.ok ? `reachable (${storeProbe.latencyMs} ms)` : `unreachable: ${storeProbe.error ?? ''}`) : 'unknown',
      },
    ];

    const clients = metric('qtrade_ws_clients');
    return {
      engine: 'daemon',
      uptimeMs: h ? h.uptimeSec * 1000 : 0,
      modules,
      // The daemon does not say which store it uses or where: /health reports only whether it answers.
      store: { kind: 'daemon', location: 'not reported by the daemon' },
      redis: bus ? { role: 'leader', health: bus.ok ? 'ok' : 'down', detail: bus.ok ? `publishing (${bus.latencyMs} ms)` : `unreachable: ${bus.error ?? ''}` } : undefined,
      clients: clients === undefined ? undefined : { count: clients, detail: `${clients} WebSocket client${clients === 1 ? '' : 's'} (this TUI included)` },
      feed: {
        source: host.info.feed,
        state: link?.state ?? 'not started',
        lagMs: feed.lagMs,
        marketTime: feed.marketTime,
        streams: symbols.map((symbol) => ({
          symbol,
          channels,
          lastTradeTime: host.market(symbol)?.lastTrade?.time,
          book: channels.includes('depth') ? (host.book(symbol, 1)?.status ?? 'awaiting-snapshot') : 'none',
        })),
      },
      counters: COUNTERS.map(([name, m, bad]): CounterView => ({ name, value: metric(m) ?? 0, ...(bad ? { bad } : {}) })),
      memory: { rssBytes: metric('qtrade_process_memory_bytes', { kind: 'rss' }) ?? 0, heapUsedBytes: metric('qtrade_process_memory_bytes', { kind: 'heap_used' }) ?? 0 },
      logs: [...this.opts.strategies.logLines(), ...this.opts.notes()].sort((a, b) => a.time - b.time).slice(-200),
    };
  }
}

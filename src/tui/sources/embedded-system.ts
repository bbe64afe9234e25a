import type { TradingNode } from '../../engine/node.js';
import { maskUrl } from '../../engine/store/postgres.js';
import { parseStoreUrl } from '../../engine/store/open.js';
import { group } from '../format.js';
import type { FeedView, SourceInfo } from '../source.js';
import type { EmbeddedStrategies } from './embedded-strategies.js';
import type { CounterView, Health, ModuleView, SystemSource, SystemView } from './system.js';

/** What the System view reads of the embedded source besides the node. */
export interface EmbeddedSystemHost {
  readonly node: TradingNode;
  readonly info: SourceInfo;
  feed(): FeedView;
}

export interface EmbeddedSystemOptions {
  strategies: EmbeddedStrategies;
  storeUrl?: (node: TradingNode) => string | undefined;
  wallNow?: () => number;
}

/** A feed lag above this is shown as a problem (Binance's streams tick several times a second). */
const LAG_WARN_MS = 5_000;

function storeLocation(node: TradingNode, url: string | undefined): { kind: string; location: string } {
  if (url === undefined) return { kind: node.store.kind, location: '(location not given)' };
  const loc = parseStoreUrl(url);
  if (loc.kind === 'sqlite') return { kind: 'sqlite', location: loc.file === ':memory:' ? 'in memory' : loc.file };
  // The connection string may carry a password: never shown.
  return { kind: 'postgres', location: `${maskUrl(loc.connectionString)} schema ${loc.schema}` };
}

/** The embedded TradingNode as the System panel shows it. */
export class EmbeddedSystem implements SystemSource {
  private readonly wallNow: () => number;
  private readonly startedAt: number;

  constructor(
    private readonly host: EmbeddedSystemHost,
    private readonly opts: EmbeddedSystemOptions,
  ) {
    this.wallNow = opts.wallNow ?? Date.now;
    this.startedAt = this.wallNow();
  }

  status(): SystemView {
    const node = this.host.node;
    const feed = this.host.feed();
    const k = node.kernel.stats();
    const trading = node.trading;
    const risk = trading.status();
    const strategies = this.opts.strategies.list().filter((s) => s.status !== 'stopped');
    const paused = strategies.filter((s) => s.status === 'paused').length;
    const channels = node.channels();
    const symbols = node.symbols();
    const fs = feed.state;

    let feedHealth: Health;
    let feedText: string;
    if (!fs) [feedHealth, feedText] = ['warn', 'not started'];
    else if (fs.state === 'open') [feedHealth, feedText] = [feed.lagMs !== undefined && feed.lagMs > LAG_WARN_MS ? 'warn' : 'ok', 'open'];
    else if (fs.state === 'closed') [feedHealth, feedText] = [this.host.info.replay ? 'off' : 'down', `closed${fs.reason ? `: ${fs.reason}` : ''}`];
    else [feedHealth, feedText] = ['warn', `${fs.state}${fs.attempt > 0 ? ` (attempt ${fs.attempt})` : ''}`];
    const lag = feed.lagMs === undefined ? '' : ` · lag ${feed.lagMs} ms`;

    const errors = k.decodeErrors + k.storeErrors + k.orderErrors;
    const store = storeLocation(node, this.opts.storeUrl?.(node));
    const modules: ModuleView[] = [
      { name: 'feed', health: feedHealth, detail: `${feedText}${lag} · ${symbols.length} symbol${symbols.length === 1 ? '' : 's'} · ${this.host.info.feed}` },
      {
        name: 'kernel',
        health: errors > 0 ? 'warn' : 'ok',
        detail: `${group(String(k.trades))} trades · ${group(String(k.candlesClosed))} candles closed${errors > 0 ? ` · ${errors} error${errors === 1 ? '' : 's'}` : ''}`,
      },
      {
        name: 'paper account',
        health: 'ok',
        detail: `${trading.account} · ${trading.openOrders().length} open orders · ${trading.fills().length} fills`,
      },
      { name: 'risk', health: risk.state === 'ACTIVE' ? 'ok' : risk.state === 'REDUCING' ? 'warn' : 'down', detail: `${risk.state}${risk.reason ? ` · ${risk.reason}` : ''}` },
      {
        name: 'strategies',
        health: paused > 0 ? 'warn' : 'ok',
        detail: strategies.length === 0 ? 'none live' : `${strategies.length - paused} running${paused > 0 ? `, ${paused} paused` : ''}`,
      },
      { name: 'store', health: k.storeErrors > 0 ? 'warn' : 'ok', detail: `${store.kind} ${store.location}` },
    ];

    const counters: CounterView[] = [
      { name: 'frames', value: k.frames },
      { name: 'trades', value: k.trades },
      { name: 'candles closed', value: k.candlesClosed },
      { name: 'candles incomplete', value: k.candlesIncomplete, bad: true },
      { name: 'duplicates', value: k.duplicates },
      { name: 'gaps', value: k.gaps },
      { name: 'gap trades filled', value: k.gapTradesFilled },
      { name: 'trades missing', value: k.missingTrades, bad: true },
      { name: 'candle checks', value: k.candleChecks },
      { name: 'candle mismatches', value: k.candleMismatches, bad: true },
      { name: 'decode errors', value: k.decodeErrors, bad: true },
      { name: 'store errors', value: k.storeErrors, bad: true },
      { name: 'order errors', value: k.orderErrors, bad: true },
    ];

    const mem = process.memoryUsage();
    return {
      engine: 'embedded',
      uptimeMs: this.wallNow() - this.startedAt,
      modules,
      store,
      redis: undefined,
      clients: undefined,
      feed: {
        source: this.host.info.feed,
        state: fs?.state ?? 'not started',
        lagMs: feed.lagMs,
        marketTime: feed.marketTime,
        streams: symbols.map((symbol) => ({
          symbol,
          channels,
          lastTradeTime: node.market.get(symbol)?.lastTrade?.time,
          book: channels.includes('depth') ? (node.kernel.orderBook(symbol)?.status ?? 'awaiting-snapshot') : 'none',
        })),
      },
      counters,
      memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed },
      logs: this.opts.strategies.logLines(),
    };
  }
}

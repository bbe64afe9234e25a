import os from 'node:os';
import pino, { type Logger } from 'pino';
import { Bus } from '../engine/bus.js';
import { LiveClock } from '../engine/clock.js';
import { UsageError } from '../engine/errors.js';
import { BinanceRest } from '../engine/market/binance/rest-client.js';
import { BinanceVenue } from '../engine/market/binance/venue.js';
import { RedisFollowVenue } from '../engine/market/redis/follow-venue.js';
import { redactRedisUrl } from '../engine/market/redis/url.js';
import type { Channel, MarketEvent, MarketVenue } from '../engine/market/source.js';
import type { NetOptions } from '../engine/market/net.js';
import { TradingNode } from '../engine/node.js';
import { StrategyManager } from '../engine/strategy/manager.js';
import type { FeeScheduleOptions } from '../engine/orders/fees.js';
import { acquireAccountLock, LockError } from '../engine/store/lock.js';
import { openStore } from '../engine/store/open.js';
import { RedisMarketPublisher } from '../engine/store/redis-bridge.js';
import type { Store } from '../engine/store/types.js';
import { fetchMarketSnapshot } from '../engine/trading.js';
import { VERSION } from '../version.js';
import { cachedMarketInfo, bundledMarketInfo, fetchMarketInfo, offlineMarketInfo, type MarketInfo } from '../engine/market/market-info.js';
import { startApiServer, type ApiServer } from './app.js';
import { startDaemonAlerts } from './routes/qtrade-alerts.js';
import { notifyConfig, type NotifyConfig } from '../notify/config.js';
import { Settings } from '../config/resolve.js';
import { BacktestJobs } from './backtest-jobs.js';
import { Counters } from './counters.js';
import { DaemonMetrics } from './metrics.js';
import { removeDaemonInfo, writeDaemonInfo } from './daemon-file.js';
import { TokenAuthenticator, TokenStore } from './tokens.js';
import type { DaemonContext } from './types.js';

/**
 * Starts a whole daemon in this process: store, account lock, market info, venue, trading node,
 * API server, daemon.json. `qtrade daemon` calls it with the invocation's settings; tests call it
 * with the fake Binance's URLs.
 */
export interface DaemonConfig {
  dataDir: string;
  storeUrl: string;
  binance: { wsUrl: string; restUrl: string; net: NetOptions };
  symbols: string[];
  channels?: Channel[];
  host: string;
  /** 0 picks a free port. */
  port: number;
  account: string;
  fees?: FeeScheduleOptions;
  candleGraceMs?: number;
  /** No market message for this long, on the whole feed or one symbol, makes /health degraded (default 60 s). */
  staleAfterMs?: number;
  /** pino level (info by default); `silent` for tests. */
  logLevel?: string;
  /** Where JSON log lines go (stdout by default). */
  logStream?: NodeJS.WritableStream;
  /** Write `<dataDir>/daemon.json` (default true). */
  announce?: boolean;
  wallNow?: () => number;
  /** A market-data venue to use instead of Binance's (benchmarks, tests). */
  venue?: MarketVenue;
  /** `--bus`: publish every market event on this Redis, so followers share this daemon's Binance feed. */
  busUrl?: string;
  /** `--follow`: take market data from a leader's Redis bus instead of Binance (no Binance at all). */
  followUrl?: string;
  /** Key prefix on the bus (default `qtrade:`), the same on leader and followers. */
  busKeyPrefix?: string;
  /** Where alert notifications go; default: the alerts.* and telegram.* settings of dataDir. */
  alerts?: NotifyConfig;
}

export interface RunningDaemon {
  url: string;
  port: number;
  node: TradingNode;
  ctx: DaemonContext;
  /** Resolves with the reason once the daemon was asked to stop (shutdown route or signal). */
  stopRequested: Promise<string>;
  /** Graceful stop: stop accepting, close sockets, flush the store, release the account. */
  stop(reason: string): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

export function createLogger(level = 'info', stream: NodeJS.WritableStream = process.stdout): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, host: os.hostname() },
      // Belt and braces: nothing logs credentials, and these paths are blanked if anything tries.
      redact: { paths: ['*.authorization', '*.headers.authorization', '*["x-mbx-apikey"]', '*.signature', '*.token', '*.apiSecret', '*.secret'], censor: '[redacted]' },
    },
    stream as pino.DestinationStream,
  );
}

export async function launchDaemon(cfg: DaemonConfig): Promise<RunningDaemon> {
  const log = createLogger(cfg.logLevel, cfg.logStream);
  const wallNow = cfg.wallNow ?? Date.now;
  const tokens = new TokenStore(cfg.dataDir);
  const auth = new TokenAuthenticator(tokens);
  if (!isLoopback(cfg.host) && !auth.required()) {
    throw new UsageError(`refusing to listen on ${cfg.host}: no tokens exist, so anyone who can reach it could trade`, {
      hint: 'create one first (qtrade token create --scope admin), or bind 127.0.0.1',
    });
  }

  if (cfg.busUrl !== undefined && cfg.followUrl !== undefined) {
    throw new UsageError('--bus and --follow cannot be used together: a follower would publish the events it follows again', {
      hint: 'run the leader with --bus and each follower with --follow',
    });
  }

  const closers: Array<() => Promise<void> | void> = [];
  const cleanup = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        log.error({ err: (err as Error).message }, 'cleanup step failed');
      }
    }
  };

  try {
    // Orders are acknowledged after their commit: checkpoints must not land inside one.
    const store = await openStore(cfg.storeUrl, { sqlite: { checkpoints: 'background' } });
    closers.push(() => store.close());
    const lock = await takeDaemonLock(cfg.dataDir, cfg.account);
    let lockHeld = true;
    closers.push(() => {
      if (lockHeld) lock.release();
    });

    const rest = new BinanceRest({ baseUrl: cfg.binance.restUrl, net: cfg.binance.net, maxRetries: 2, backoffMs: 500 });
    // A follower never asks Binance: its symbols come from the cache or the bundled snapshot.
    const market = cfg.followUrl !== undefined ? await offlineMarketInfo(store) : await loadMarket(rest, store, log);
    for (const s of cfg.symbols) market.instruments.get(s); // unknown symbol → error naming close matches

    const bus = new Bus((topic, err) => log.error({ topic, err: (err as Error)?.message }, 'bus handler failed'));
    const clock = new LiveClock(wallNow);
    const venue: MarketVenue =
      cfg.venue ??
      (cfg.followUrl !== undefined
        ? new RedisFollowVenue({
            url: cfg.followUrl,
            keyPrefix: cfg.busKeyPrefix,
            instruments: market.instruments,
            // Replaying the current minute would reach resting orders and running strategies a second time.
            backfill: () => node.trading.openOrders().length === 0 && strategies.list().every((s) => s.status !== 'running'),
          })
        : new BinanceVenue({ ...cfg.binance, instruments: market.instruments, rest }));
    const taps: Array<(ev: MarketEvent) => void> = [];
    let publisher: RedisMarketPublisher | undefined;
    if (cfg.busUrl !== undefined) {
      const pub = new RedisMarketPublisher({ url: cfg.busUrl, keyPrefix: cfg.busKeyPrefix, instruments: market.instruments, report: (level, message, stats) => log[level]({ bus: stats }, message) });
      publisher = pub;
      closers.push(() => pub.close());
      await pub.connect().catch(() => undefined); // reported (and buffered) by the publisher itself
      taps.push((ev) => pub.publish(ev));
    }
    const snapRest = new BinanceRest({ baseUrl: cfg.binance.restUrl, net: cfg.binance.net, instruments: market.instruments, maxRetries: 1, backoffMs: 200 });
    const node = await TradingNode.open({
      store,
      instruments: market.instruments,
      exchangeSymbols: market.symbols,
      venue,
      clock,
      bus,
      symbols: cfg.symbols,
      channels: cfg.channels,
      candleGraceMs: cfg.candleGraceMs,
      fees: cfg.fees,
      account: cfg.account,
      lock,
      snapshot: cfg.followUrl !== undefined ? undefined : (symbol) => fetchMarketSnapshot(snapRest, symbol),
      tap: (ev) => {
        for (const t of taps) t(ev);
      },
    });
    lockHeld = false; // the node's account releases it
    closers.push(() => node.stop());
    // Restored before the feed starts, so a strategy misses no candle; closed before node.stop().
    const strategies = new StrategyManager({
      node,
      onStatus: (e) => log[e.status === 'paused' ? 'warn' : 'info']({ strategy: e.id, error: e.error?.message }, `strategy ${e.id} ${e.status}${e.error ? `: ${e.error.message}` : ''}`),
      onError: (message, err) => log.error({ err: (err as Error)?.message }, message),
    });
    await strategies.restore();
    closers.push(() => strategies.close());
    // Alerts subscribe before the feed starts, so none misses an event; closed before the node stops.
    const alerts = await startDaemonAlerts({ node, store, log, wallNow, notify: cfg.alerts ?? notifyConfig(new Settings({ dataDir: cfg.dataDir })) });
    closers.push(() => alerts.close());
    const backtests = new BacktestJobs({ storeUrl: cfg.storeUrl, wallNow });
    closers.push(() => backtests.close());

    let requestStop!: (reason: string) => void;
    const stopRequested = new Promise<string>((resolve) => (requestStop = resolve));
    const counters = new Counters();
    const startedAt = wallNow();
    const metrics = new DaemonMetrics({ node, counters, wallNow, startedAt, version: VERSION });
    closers.push(() => metrics.close());
    const ctx: DaemonContext = {
      node,
      auth,
      log,
      counters,
      metrics,
      wallNow,
      version: VERSION,
      startedAt,
      staleAfterMs: cfg.staleAfterMs,
      feedSource: feedSource(cfg),
      probes: [{ name: 'store', check: async () => void (await store.getState('daemon.probe')) }],
      shutdown: (reason) => requestStop(reason),
      strategies,
      backtests,
      alerts,
    };
    if (publisher) ctx.probes.push({ name: 'bus', check: () => publisher.ping() });

    const api: ApiServer = await startApiServer(ctx, cfg.host, cfg.port);
    closers.push(() => api.close());
    if (cfg.announce !== false) {
      writeDaemonInfo(cfg.dataDir, { pid: process.pid, url: api.url, host: cfg.host, port: api.port, startedAt: new Date(wallNow()).toISOString(), version: VERSION, source: cfg.followUrl !== undefined ? `redis:${redactRedisUrl(cfg.followUrl)}` : 'binance' });
      closers.push(() => removeDaemonInfo(cfg.dataDir));
    }
    bus.subscribe('feed.state', (s) => log.info({ feed: s }, `feed ${s.state}`));
    bus.subscribe('feed.error', (e) => log.warn({ detail: e.detail }, e.message));
    bus.subscribe('feed.gap', (g) => log.info({ gap: g }, `gap in ${g.symbol} trades filled ${g.filled}`));
    bus.subscribe('risk.state', (r) => log.warn({ risk: r }, `risk ${r.previous} -> ${r.state}: ${r.reason}`));

    await node.start();
    log.info({ url: api.url, symbols: node.symbols(), store: store.kind, version: VERSION, market: market.source }, 'daemon listening');

    let stopping: Promise<void> | undefined;
    return {
      url: api.url,
      port: api.port,
      node,
      ctx,
      stopRequested,
      stop: (reason) =>
        (stopping ??= (async () => {
          log.info({ reason }, 'daemon stopping');
          requestStop(reason);
          await cleanup();
          log.info('daemon stopped');
          log.flush();
        })()),
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function feedSource(cfg: DaemonConfig): NonNullable<DaemonContext['feedSource']> {
  if (cfg.venue) return { name: `the ${cfg.venue.name} venue` };
  if (cfg.followUrl === undefined) return { name: 'Binance' };
  // The follower reads the streams of its own --symbols; the leader only writes those of its own.
  return { name: 'the leader', checkSymbol: (symbol) => `check that the leader publishes it: its --symbols must include ${symbol.toLowerCase()}, with the same bus key prefix` };
}

/** exchangeInfo from Binance (cached in the store), else the cache, else the bundled snapshot. */
async function loadMarket(rest: BinanceRest, store: Store, log: Logger): Promise<MarketInfo> {
  try {
    return await fetchMarketInfo(rest, store);
  } catch (err) {
    const cached = await cachedMarketInfo(store);
    const m = cached ?? bundledMarketInfo();
    log.warn({ err: (err as Error).message, source: m.source }, 'Binance exchangeInfo unreachable; using the cached symbols');
    return m;
  }
}

async function takeDaemonLock(dataDir: string, account: string) {
  try {
    return await acquireAccountLock({ dataDir, account });
  } catch (err) {
    if (!(err instanceof LockError)) throw err;
    const pid = err.owner?.pid;
    throw new UsageError(`the paper account "${account}" is in use by another process${pid === undefined ? '' : ` (pid ${pid})`}`, {
      hint: 'stop that process (a `qtrade feed --paper` or another daemon), then start the daemon again',
      cause: err,
    });
  }
}



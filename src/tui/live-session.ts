import { Bus } from '../engine/bus.js';
import { LiveClock } from '../engine/clock.js';
import { UsageError } from '../engine/errors.js';
import { BinanceRest } from '../engine/market/binance/rest-client.js';
import { BinanceVenue } from '../engine/market/binance/venue.js';
import { bundledMarketInfo, cachedMarketInfo, fetchMarketInfo, type MarketInfo } from '../engine/market/market-info.js';
import type { NetOptions } from '../engine/market/net.js';
import { TradingNode } from '../engine/node.js';
import type { FeeScheduleOptions } from '../engine/orders/fees.js';
import { acquireAccountLock, LockError, type AccountLock } from '../engine/store/lock.js';
import { openStore } from '../engine/store/open.js';
import type { Store } from '../engine/store/types.js';
import { fetchMarketSnapshot } from '../engine/trading.js';
import type { AiConfig } from '../engine/ai/config.js';
import type { NotifyConfig } from '../notify/config.js';
import { nodeAlertsWiring, startLiveAlerts, type LiveAlerts } from '../notify/live-alerts.js';
import { EmbeddedSource } from './embedded-source.js';

/**
 * The TUI's own engine on live Binance data, built as the daemon builds its node
 * (server/launch.ts): store, the paper account's writer lock, exchangeInfo (fresh, else cached,
 * else bundled), BinanceVenue and LiveClock. Paper trading only: orders never leave the process.
 */
export interface LiveSessionConfig {
  dataDir: string;
  storeUrl: string;
  binance: { wsUrl: string; restUrl: string; net: NetOptions };
  symbols: string[];
  account: string;
  fees?: FeeScheduleOptions;
  candleGraceMs?: number;
  wallNow?: () => number;
  /** The ai.* settings for the AI panel (read when asked); absent: no assistant. */
  ai?: () => AiConfig;
  /** Where alert notifications go (alerts.*, telegram.*); absent: the stored alerts do not run. */
  notify?: NotifyConfig;
}

export interface LiveSession {
  source: EmbeddedSource;
  node: TradingNode;
  /** Things the trader should know at start (exchangeInfo from the cache, …). */
  warnings: string[];
  close(): Promise<void>;
}

async function loadMarket(rest: BinanceRest, store: Store, warnings: string[]): Promise<MarketInfo> {
  try {
    return await fetchMarketInfo(rest, store);
  } catch (err) {
    const m = (await cachedMarketInfo(store)) ?? bundledMarketInfo();
    warnings.push(`Binance exchangeInfo unreachable (${(err as Error).message}); using the ${m.source === 'store' ? 'cached' : 'bundled'} symbols and filters`);
    return m;
  }
}

async function takeLock(dataDir: string, account: string): Promise<AccountLock> {
  try {
    return await acquireAccountLock({ dataDir, account });
  } catch (err) {
    if (!(err instanceof LockError)) throw err;
    const pid = err.owner?.pid;
    throw new UsageError(`the paper account "${account}" is in use by another process${pid === undefined ? '' : ` (pid ${pid})`}`, {
      hint: 'stop that process (a `qtrade feed --paper` or another TUI), then start the TUI again',
      cause: err,
    });
  }
}

export async function openLiveSession(cfg: LiveSessionConfig): Promise<LiveSession> {
  const wallNow = cfg.wallNow ?? Date.now;
  const store = await openStore(cfg.storeUrl);
  let lock: AccountLock | undefined;
  try {
    lock = await takeLock(cfg.dataDir, cfg.account);
    const warnings: string[] = [];
    const rest = new BinanceRest({ baseUrl: cfg.binance.restUrl, net: cfg.binance.net, maxRetries: 1, backoffMs: 300 });
    const market = await loadMarket(rest, store, warnings);
    for (const s of cfg.symbols) market.instruments.get(s); // unknown symbol → error naming close matches
    const clock = new LiveClock(wallNow);
    const bus = new Bus();
    const snapRest = new BinanceRest({ baseUrl: cfg.binance.restUrl, net: cfg.binance.net, instruments: market.instruments, maxRetries: 1, backoffMs: 200 });
    const node = await TradingNode.open({
      store,
      instruments: market.instruments,
      exchangeSymbols: market.symbols,
      venue: new BinanceVenue({ ...cfg.binance, instruments: market.instruments, rest }),
      clock,
      bus,
      symbols: cfg.symbols,
      candleGraceMs: cfg.candleGraceMs,
      fees: cfg.fees,
      account: cfg.account,
      lock,
      snapshot: (symbol) => fetchMarketSnapshot(snapRest, symbol),
    });
    lock = undefined; // the node's account releases it
    const source = new EmbeddedSource(node, {
      info: { venue: 'paper', feed: 'binance', replay: false },
      // A cancel has no market event behind it: the later of exchange time and the local clock, as `qtrade cancel` uses.
      actionTime: (n) => Math.max(n.clock.now(), wallNow()),
      lagMs: () => (clock.now() === 0 ? undefined : clock.lagMs()),
      wallNow,
      strategies: { storeUrl: () => cfg.storeUrl },
      ...(cfg.ai ? { assistant: { config: cfg.ai } } : {}),
      ...(cfg.notify ? { alerts: { bell: cfg.notify.bell, notify: cfg.notify } } : {}),
    });
    // The account's live strategies (persisted by whoever held it last, this TUI or the daemon)
    // continue before the feed starts, so none misses a candle.
    try {
      await source.strategies.restore();
    } catch (err) {
      source.close();
      await node.stop(); // releases the account
      throw err;
    }
    // The stored alerts (`qtrade alert add`) run on this feed, recorded and delivered as
    // `qtrade feed` does; subscribed before the feed starts, so none misses an event.
    let alerts: LiveAlerts | undefined;
    if (cfg.notify && source.alerts) {
      const view = source.alerts;
      try {
        alerts = await startLiveAlerts({ ...nodeAlertsWiring(node), store, notify: cfg.notify, wallNow, report: (level, m) => view.report(level, m) });
        await view.bind(alerts.service, node.bus, { durableHistory: true });
      } catch (err) {
        await alerts?.close();
        await source.strategies.close();
        source.close();
        await node.stop();
        throw err;
      }
    }
    let closing: Promise<void> | undefined;
    // Not awaited: start() resolves once the socket is open, and with Binance unreachable the
    // dashboard must open anyway and say "reconnecting (attempt n, next in s)".
    node.start().catch((err: unknown) => {
      if (!closing) node.bus.publish('feed.error', { message: `the Binance feed did not start: ${(err as Error)?.message ?? String(err)}` });
    });
    return {
      source,
      node,
      warnings,
      close: () =>
        (closing ??= (async () => {
          try {
            await source.strategies.close();
          } finally {
            source.close();
          }
          try {
            try {
              await alerts?.close();
            } finally {
              await node.stop();
            }
          } finally {
            await store.close();
          }
        })()),
    };
  } catch (err) {
    lock?.release();
    await store.close();
    throw err;
  }
}

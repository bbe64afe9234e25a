import type { Bus } from '../engine/bus.js';
import type { Clock } from '../engine/clock.js';
import type { AccountView } from '../engine/alerts/engine.js';
import { AlertService } from '../engine/alerts/service.js';
import type { Instruments } from '../engine/market/instruments.js';
import type { TradingNode } from '../engine/node.js';
import type { Store } from '../engine/store/types.js';
import type { BackoffOptions } from './backoff.js';
import type { NotifyConfig } from './config.js';
import type { FetchFn } from './delivery.js';
import { Notifier } from './notifier.js';
import type { ChatAccount } from './telegram-bot.js';

export interface LiveAlertsOptions {
  bus: Bus;
  clock: Clock;
  instruments: Instruments;
  store: Store;
  notify: NotifyConfig;
  /** The paper account, for pnl conditions. */
  account?: AccountView;
  /** Answer Telegram's read-only commands from this (the daemon). */
  chat?: ChatAccount;
  fetch?: FetchFn;
  wallNow?: () => number;
  backoff?: BackoffOptions;
  /** How often to take in alerts other processes added to the store (ms); default 5000, 0 never. */
  syncMs?: number;
  report?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** What alerts need of a running TradingNode (the daemon's, the TUI's): its bus, clock, symbols and paper account. */
export function nodeAlertsWiring(node: TradingNode): { bus: Bus; clock: Clock; instruments: Instruments; account: AccountView } {
  return { bus: node.bus, clock: node.clock, instruments: node.instruments, account: { position: (s) => node.trading.service.position(s) } };
}

export interface LiveAlerts {
  service: AlertService;
  notifier: Notifier;
  close(): Promise<void>;
}

/**
 * Alerts where a live feed runs (`qtrade feed`, the daemon): the stored alerts evaluated on the
 * bus with firings recorded, indicators warmed from the store's candles, feed-down timers on the
 * real clock, and every firing delivered through the durable outbox. Start it before the feed.
 */
export async function startLiveAlerts(opts: LiveAlertsOptions): Promise<LiveAlerts> {
  const report = opts.report ?? (() => {});
  let notifier: Notifier | undefined;
  const service = await AlertService.open({
    bus: opts.bus,
    clock: opts.clock,
    instruments: opts.instruments,
    store: opts.store,
    persist: true,
    warmup: true,
    account: opts.account,
    schedule: (ms, fn) => {
      const t = setTimeout(fn, ms);
      t.unref();
      return () => clearTimeout(t);
    },
    onDurable: (d) => notifier?.enqueue(d),
    onError: (m) => report('warn', m),
  });
  try {
    notifier = await Notifier.start({ store: opts.store, log: service.log!, config: opts.notify, fetch: opts.fetch, wallNow: opts.wallNow, backoff: opts.backoff, chat: opts.chat, report });
  } catch (err) {
    await service.close();
    throw err;
  }
  const syncMs = opts.syncMs ?? 5000;
  const timer = syncMs > 0 ? setInterval(() => void service.sync().catch((err: unknown) => report('warn', `alerts: cannot read the store: ${(err as Error).message}`)), syncMs) : undefined;
  timer?.unref();
  const n = notifier;
  return {
    service,
    notifier: n,
    close: async () => {
      clearInterval(timer);
      await service.close();
      await n.close();
    },
  };
}

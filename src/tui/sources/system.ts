/**
 * The engine at a glance, for the System panel: its modules and their health, the store, the
 * Redis bus and daemon clients when there are any, the feed's streams, counters, and the engine's
 * recent log lines. An embedded engine reads them from its TradingNode
 * (sources/embedded-system.ts); a daemon client can fill the same fields from /health and /metrics.
 */

/** ok: working; warn: working with a problem; down: not working; off: not running (a replay that ended). */
export type Health = 'ok' | 'warn' | 'down' | 'off';

export interface ModuleView {
  name: string;
  health: Health;
  /** One line: what it is doing. */
  detail: string;
}

export interface StreamView {
  symbol: string;
  channels: readonly string[];
  /** Exchange time of the symbol's last trade. */
  lastTradeTime: number | undefined;
  /** Local depth book: synced, syncing, …; 'none' without the depth channel. */
  book: string;
}

export interface CounterView {
  name: string;
  value: number;
  /** Counts a problem when above zero (decode errors, gaps left unfilled). */
  bad?: boolean;
}

export interface SystemLogLine {
  /** Exchange event time when the line comes from an event, else wall time. */
  time: number;
  level: 'info' | 'warn' | 'error';
  text: string;
}

export interface SystemView {
  /** Where the engine runs: inside this process, or in a daemon the TUI is attached to. */
  engine: 'embedded' | 'daemon';
  /** Wall ms since the engine (embedded) or daemon started. */
  uptimeMs: number;
  modules: ModuleView[];
  store: { kind: string; location: string };
  /** The Redis market bus; undefined when none is configured. */
  redis: { role: 'leader' | 'follower'; health: Health; detail: string } | undefined;
  /** Clients of the daemon; undefined when the engine is embedded. */
  clients: { count: number; detail: string } | undefined;
  feed: { source: string; state: string; lagMs: number | undefined; marketTime: number; streams: StreamView[] };
  counters: CounterView[];
  /** Memory of the process running the engine. */
  memory: { rssBytes: number; heapUsedBytes: number };
  /** Newest last. */
  logs: SystemLogLine[];
}

export interface SystemSource {
  status(): SystemView;
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SimClock } from '../engine/clock.js';
import { UsageError } from '../engine/errors.js';
import { bundledMarketInfo } from '../engine/market/market-info.js';
import { Instruments, wireInstrument } from '../engine/market/instruments.js';
import { readRecording, readRecordingHeader } from '../engine/market/replay/recording.js';
import { ReplayVenue } from '../engine/market/replay/replay-venue.js';
import type { Channel } from '../engine/market/source.js';
import { NODE_CHANNELS, TradingNode } from '../engine/node.js';
import type { FeeScheduleOptions } from '../engine/orders/fees.js';
import { openStore } from '../engine/store/open.js';
import type { Store } from '../engine/store/types.js';
import type { AiConfig } from '../engine/ai/config.js';
import { AlertService } from '../engine/alerts/service.js';
import { nodeAlertsWiring } from '../notify/live-alerts.js';
import { EmbeddedSource } from './embedded-source.js';

/**
 * A recording played into a real TradingNode (SimClock, ReplayVenue, a paper account in a
 * temporary SQLite store) for the TUI. Looping cannot reuse the node: the second pass replays the
 * same event times and the engine never goes back in time, so every pass builds a fresh node and
 * store, and the source switches to it (subscribers hear `source.reset`). Nothing the user has
 * is touched but the stored alerts, which are read (and added to by /alert); close() removes the
 * temporary directory.
 */
export interface ReplaySessionOptions {
  file: string;
  speed: number | 'max';
  /** Start over at the end (qtrade demo). */
  loop?: boolean;
  /** Only these symbols; default every symbol the recording carries. */
  symbols?: string[];
  fees?: FeeScheduleOptions;
  candleGraceMs?: number;
  /** Where the temporary directory goes (default the OS temp dir). */
  tmpRoot?: string;
  /** Non-fatal problems (a truncated recording tail). */
  onWarning?: (message: string) => void;
  /** Passes for tests: the pacing wait (see ReplayVenueOptions.sleep). */
  sleep?: (ms: number) => Promise<void>;
  /** The ai.* settings for the AI panel (read when asked); absent: no assistant. */
  ai?: () => AiConfig;
  /**
   * Alerts on the recording, as `qtrade replay` fires them: the alerts stored at `storeUrl` (those
   * of `qtrade alert add`; firings not recorded, nothing delivered), else only those added in
   * this session. Absent: no alerts run.
   */
  alerts?: { storeUrl?: string; bell: boolean };
}

interface Pass {
  n: number;
  node: TradingNode;
  venue: ReplayVenue;
  store: Store;
  file: string;
  alerts?: AlertService;
}

/** Every symbol a recording without a header names in its frames' streams. */
async function scanSymbols(file: string): Promise<string[]> {
  const seen = new Set<string>();
  for await (const line of readRecording(file)) {
    if (line.kind !== 'frame') continue;
    const at = line.frame.stream.indexOf('@');
    seen.add((at === -1 ? line.frame.stream : line.frame.stream.slice(0, at)).toUpperCase());
  }
  return [...seen];
}

const KNOWN_CHANNELS = new Set<string>(['aggTrade', 'trade', 'kline_1m', 'bookTicker', 'depth', 'miniTicker']);

export class ReplaySession {
  readonly source: EmbeddedSource;
  /** Resolves when the replay has ended (the last pass finished, or close()). Rejects on a failed pass. */
  readonly done: Promise<void>;
  private pass: Pass;
  private closed = false;
  private closing: Promise<void> | undefined;
  private started = false;
  private resolveDone!: () => void;
  private rejectDone!: (err: unknown) => void;

  private constructor(
    private readonly opts: ReplaySessionOptions,
    private readonly dir: string,
    private readonly symbols: string[],
    private readonly channels: Channel[],
    private readonly instruments: Instruments,
    first: Pass,
    /** Where the stored alerts are read from (the user's store), when alerts run. */
    private readonly alertStore: Store | undefined,
  ) {
    this.pass = first;
    const speed = opts.speed === 'max' ? 'max' : `${opts.speed}x`;
    this.source = new EmbeddedSource(first.node, {
      info: { venue: 'paper', feed: `replay ${path.basename(opts.file)} ${speed}${opts.loop ? ' loop' : ''}`, replay: true },
      // Backtests on this pass's stored candles, or on the recording itself.
      strategies: { storeUrl: () => `sqlite:${this.pass.file}`, recordings: [path.resolve(opts.file)] },
      ...(opts.ai ? { assistant: { config: opts.ai } } : {}),
      ...(opts.alerts ? { alerts: { bell: opts.alerts.bell } } : {}),
    });
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {});
  }

  static async open(opts: ReplaySessionOptions): Promise<ReplaySession> {
    if (!fs.existsSync(opts.file)) {
      throw new UsageError(`no such recording: ${opts.file}`, { hint: 'record one with `qtrade record --out FILE.jsonl.gz`, or run `qtrade demo`' });
    }
    const header = await readRecordingHeader(opts.file);
    const symbols = opts.symbols?.length ? opts.symbols.map((s) => s.toUpperCase()) : header?.symbols.length ? header.symbols.map((s) => s.toUpperCase()) : await scanSymbols(opts.file);
    if (symbols.length === 0) throw new UsageError(`recording ${opts.file} has no market-data frames`);
    const channels: Channel[] = header?.channels.length ? (header.channels.filter((c) => KNOWN_CHANNELS.has(c)) as Channel[]) : NODE_CHANNELS;
    const market = bundledMarketInfo();
    const instruments = new Instruments([...market.instruments.all(), ...symbols.filter((s) => !market.instruments.has(s)).map((s) => wireInstrument(s))]);
    const dir = fs.mkdtempSync(path.join(opts.tmpRoot ?? os.tmpdir(), 'qtrade-replay-'));
    let alertStore: Store | undefined;
    let session: ReplaySession;
    try {
      alertStore = await ReplaySession.openAlertStore(opts);
      const first = await ReplaySession.build(opts, dir, 1, symbols, channels, instruments);
      session = new ReplaySession(opts, dir, symbols, channels, instruments, first, alertStore);
    } catch (err) {
      await alertStore?.close();
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    try {
      // Running before start(), so /alert works as soon as the dashboard shows.
      await session.startAlerts(session.pass);
    } catch (err) {
      await session.close();
      throw err;
    }
    return session;
  }

  /** The user's store for its alerts; unreachable, the replay runs with this session's alerts only. */
  private static async openAlertStore(opts: ReplaySessionOptions): Promise<Store | undefined> {
    const url = opts.alerts?.storeUrl;
    if (url === undefined) return undefined;
    try {
      return await openStore(url);
    } catch (err) {
      opts.onWarning?.(`alerts: the store is unreachable (${(err as Error).message}); only alerts added in this session run`);
      return undefined;
    }
  }

  /** This pass's alerts on its bus, before its feed starts. */
  private async startAlerts(p: Pass): Promise<void> {
    const view = this.source.alerts;
    if (!view || p.alerts) return;
    p.alerts = await AlertService.open({
      ...nodeAlertsWiring(p.node),
      ...(this.alertStore ? { store: this.alertStore } : {}),
      persist: false,
      onError: (m) => view.report('warn', m),
    });
    await view.bind(p.alerts, p.node.bus, { durableHistory: false });
  }

  private static async build(opts: ReplaySessionOptions, dir: string, n: number, symbols: string[], channels: Channel[], instruments: Instruments): Promise<Pass> {
    const file = path.join(dir, `pass-${n}.db`);
    const store = await openStore(`sqlite:${file}`);
    try {
      const market = bundledMarketInfo();
      const venue = new ReplayVenue({ path: opts.file, instruments, speed: opts.speed, onWarning: opts.onWarning, ...(opts.sleep ? { sleep: opts.sleep } : {}) });
      const node = await TradingNode.open({
        store,
        instruments,
        exchangeSymbols: market.symbols,
        venue,
        clock: new SimClock(),
        symbols,
        channels,
        candleGraceMs: opts.candleGraceMs,
        fees: opts.fees,
      });
      return { n, node, venue, store, file };
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  /** Passes started so far. */
  get passes(): number {
    return this.pass.n;
  }

  get node(): TradingNode {
    return this.pass.node;
  }

  /** Starts the first pass; later ones follow on their own while `loop` is set. */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.run().then(this.resolveDone, this.rejectDone);
  }

  private async run(): Promise<void> {
    for (;;) {
      const p = this.pass;
      if (this.closed) return;
      await this.startAlerts(p);
      await p.node.start();
      await p.venue.done;
      if (this.closed || !this.opts.loop) return;
      const next = await ReplaySession.build(this.opts, this.dir, p.n + 1, this.symbols, this.channels, this.instruments);
      if (this.closed) {
        await this.dispose(next);
        return;
      }
      this.pass = next;
      await this.source.attach(next.node, `replay pass ${next.n}: the recording starts over with a fresh paper account`);
      await this.dispose(p);
    }
  }

  private async dispose(p: Pass): Promise<void> {
    try {
      try {
        await p.alerts?.close();
      } finally {
        await p.node.stop();
      }
    } finally {
      await p.store.close();
      fs.rmSync(p.file, { force: true });
    }
  }

  /** Stops the replay, closes the node and store, and removes the temporary directory. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      this.closed = true;
      try {
        await this.source.strategies.close();
      } finally {
        this.source.close();
      }
      try {
        if (!this.started) this.resolveDone();
        await this.pass.venue.stop();
        await this.done.catch(() => {});
        await this.dispose(this.pass);
      } finally {
        await this.alertStore?.close();
        fs.rmSync(this.dir, { recursive: true, force: true });
      }
    })());
  }
}

import type { Redis, RedisOptions } from 'ioredis';
import type { FeedState } from '../../bus.js';
import { bucketOpen } from '../../candles/intervals.js';
import { VenueError } from '../../errors.js';
import type { Instruments } from '../instruments.js';
import type { Channel, MarketEvent, MarketSink, MarketVenue } from '../source.js';
import type { Trade } from '../types.js';
import { HeldDepth } from './book-checkpoint.js';
import { decodeMarketEvent } from './codec.js';
import { openRedis } from './connection.js';
import { busKeys, type BusKeys } from './keys.js';
import { compareStreamIds, streamIdBefore } from './stream-id.js';
import { redactRedisUrl } from './url.js';

/**
 * Market data from a leader daemon's Redis bus instead of Binance (`qtrade daemon --follow`).
 * Each symbol's stream carries what the leader's kernel acted on, in that order: trades already
 * sequenced and gap-filled, klines, book tickers, diffs and book checkpoints. Fed to this daemon's
 * own kernel they rebuild the same candles and book. One connection blocks in XREAD on every
 * followed stream; another answers gap fills, snapshot requests and start-position lookups.
 *
 * Every stream is read from the last id delivered, so a leader restart (it appends to the same
 * streams) or a Redis restart (ioredis reconnects) only shows up as a trade-id gap, which the
 * kernel asks this venue to fill from the stream and marks incomplete when it cannot.
 */

export interface RedisFollowVenueOptions {
  url: string;
  /** Prefix of every key (default `qtrade:`), as the leader's. */
  keyPrefix?: string;
  /** This daemon's instruments: start() refuses a symbol the leader encodes at other scales. */
  instruments?: Instruments;
  /**
   * Start each symbol at the last trade before the newest trade's minute, so that minute closes
   * complete here as on the leader. The replayed trades reach the paper account too, so this is
   * only safe while it has no resting orders (the daemon passes a check for that). Default false:
   * from the newest entry on, the first minute then closes incomplete.
   */
  backfill?: boolean | (() => boolean);
  /** XREAD BLOCK timeout, ms (subscription changes interrupt it). Default 5 000. */
  blockMs?: number;
  /** Entries per XREAD. Default 1 000. */
  count?: number;
  /** Entries looked through at most to find a start position or a gap's trades. Default 100 000. */
  maxScan?: number;
  /** Diffs held per symbol for snapshot requests. Default 20 000. */
  maxHeldDiffs?: number;
  /** Local receive time for the sink (metrics only). Default Date.now. */
  now?: () => number;
  /** Extra ioredis options (tests shorten the reconnect backoff). */
  redis?: RedisOptions;
}

type Entry = [id: string, fields: string[]];
type XReadReply = Array<[key: string, entries: Entry[]]>;

interface Followed {
  symbol: string;
  key: string;
  /** Last entry id read: XREAD continues after it. */
  after: string;
  /** Entries up to this id only feed the held book state; later ones reach the kernel. */
  liveAfter: string;
  /** Past liveAfter (ids only grow, so this stays true). */
  live: boolean;
  depth: HeldDepth;
  /** Stream positions of recently delivered or fetched trades (trade id, entry id), for gap fills. */
  positions: Array<[number, string]>;
  snapshotInFlight: boolean;
  /** A snapshot was asked for and none could be built yet: the next checkpoint answers it. */
  snapshotWanted: boolean;
}

const POSITIONS_KEPT = 16;

function entryText(fields: string[]): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'e') return fields[i + 1];
  return undefined;
}

function tryDecode(fields: string[]): MarketEvent | undefined {
  const text = entryText(fields);
  if (text === undefined) return undefined;
  try {
    return decodeMarketEvent(text);
  } catch {
    return undefined;
  }
}

export class RedisFollowVenue implements MarketVenue {
  readonly name = 'redis';
  readonly keys: BusKeys;
  private readonly blockMs: number;
  private readonly count: number;
  private readonly maxScan: number;
  private readonly maxHeldDiffs: number;
  private readonly now: () => number;
  private readonly followed = new Map<string, Followed>();
  private readonly byKey = new Map<string, Followed>();
  /** Symbols whose start position is being looked up. */
  private readonly adding = new Set<string>();
  /** Symbols subscribed before start(). */
  private readonly preStart = new Set<string>();
  private lastReadError: string | undefined;
  private channels = new Set<Channel>();
  private sink: MarketSink | undefined;
  private reader: Redis | undefined;
  private cmd: Redis | undefined;
  private readerId: string | undefined;
  private blocked = false;
  private loop: Promise<void> | undefined;
  private stopped = false;
  private attempt = 0;
  private lastError: string | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(private readonly opts: RedisFollowVenueOptions) {
    this.keys = busKeys(opts.keyPrefix);
    this.blockMs = opts.blockMs ?? 5_000;
    this.count = opts.count ?? 1_000;
    this.maxScan = opts.maxScan ?? 100_000;
    this.maxHeldDiffs = opts.maxHeldDiffs ?? 20_000;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Connects and starts following. Resolves once Redis answered and every symbol has its start
   * position; while Redis is unreachable it keeps retrying (reported through sink.state), so this
   * waits as long as Redis is down. Rejects if stop() comes first or the leader publishes a symbol
   * at other scales than this daemon's.
   */
  async start(symbols: string[], channels: Channel[], sink: MarketSink): Promise<void> {
    if (this.reader) throw new VenueError('BUS_STARTED', 'this Redis follower is already started', { hint: 'use subscribe() to add symbols' });
    this.sink = sink;
    this.channels = new Set(channels);
    this.report({ state: 'connecting', attempt: 0 });
    const extra = this.opts.redis ?? {};
    // A read in flight when the connection drops is sent again by ioredis once it is back: with the
    // same ids, so it continues exactly after the last entry read.
    this.reader = openRedis(this.opts.url, { maxRetriesPerRequest: null, connectionName: 'qtrade-follow', ...extra });
    this.cmd = openRedis(this.opts.url, { maxRetriesPerRequest: 2, connectionName: 'qtrade-follow-cmd', ...extra });
    this.cmd.on('error', () => {});
    this.reader.on('error', (err: Error) => void (this.lastError = err.message));
    this.reader.on('close', () => void (this.readerId = undefined));
    this.reader.on('reconnecting', (delay: number) => {
      if (this.stopped) return;
      this.attempt++;
      this.report({ state: 'reconnecting', attempt: this.attempt, nextInMs: delay, reason: this.lastError });
    });
    this.reader.on('ready', () => {
      this.attempt = 0;
      this.report({ state: 'open', attempt: 0, reason: `following ${redactRedisUrl(this.opts.url)}` });
      this.wake();
    });
    try {
      await this.readerReady();
      await this.add([...this.preStart, ...symbols]);
      this.preStart.clear();
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.loop = this.run();
  }

  async subscribe(symbols: string[]): Promise<void> {
    if (this.reader) await this.add(symbols);
    else for (const s of symbols) this.preStart.add(s.toUpperCase());
  }

  async unsubscribe(symbols: string[]): Promise<void> {
    for (const s of symbols) {
      this.preStart.delete(s.toUpperCase());
      const f = this.followed.get(s.toUpperCase());
      if (!f) continue;
      this.followed.delete(f.symbol);
      this.byKey.delete(f.key);
    }
    this.wake();
  }

  /**
   * The trades `fromId`.. from the stream, oldest first, when they are there: a follower that
   * fell behind further than the stream's length, or a leader restart, leaves ids that are not.
   * Then [] (or the contiguous part found), and the kernel marks those minutes incomplete.
   */
  async aggTradesFrom(symbol: string, fromId: number, limit: number): Promise<Trade[]> {
    const sym = symbol.toUpperCase();
    const f = this.followed.get(sym);
    const cmd = this.cmd;
    const out: Trade[] = [];
    if (!cmd || this.stopped || limit <= 0) return out;
    let start = '-';
    let best = -1;
    for (const [tradeId, at] of f?.positions ?? []) {
      if (tradeId < fromId && tradeId > best) {
        best = tradeId;
        start = `(${at}`;
      }
    }
    try {
      for (let scanned = 0; scanned < this.maxScan; ) {
        const page = (await cmd.call('XRANGE', [this.keys.stream(sym), start, '+', 'COUNT', String(Math.min(1_000, this.maxScan - scanned))])) as Entry[];
        if (page.length === 0) return out;
        for (const [id, fields] of page) {
          scanned++;
          start = `(${id}`;
          const ev = tryDecode(fields);
          if (ev?.kind !== 'trade') continue;
          const want = fromId + out.length;
          if (ev.trade.id < want) continue;
          // Trade ids only grow along a stream: a later one means the wanted ids are not on it.
          if (ev.trade.id > want) return out;
          out.push(ev.trade);
          if (f) remember(f, ev.trade.id, id);
          if (out.length >= limit) return out;
        }
      }
    } catch (err) {
      this.sink?.error?.(`${sym} trades ${fromId}.. from the Redis bus failed: ${(err as Error).message}`);
    }
    return out;
  }

  /**
   * Delivers a snapshot of the symbol's book exactly at the last diff delivered: the newest book
   * checkpoint on the stream (or the depth key) rolled forward over the diffs after it. When none
   * can be built yet, the next checkpoint on the stream answers.
   */
  requestDepthSnapshot(symbol: string): void {
    const f = this.followed.get(symbol.toUpperCase());
    if (!f || this.stopped || f.snapshotInFlight) return;
    f.snapshotInFlight = true;
    void this.answerSnapshot(f).finally(() => (f.snapshotInFlight = false));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake();
    this.reader?.disconnect();
    this.cmd?.disconnect();
    await this.loop;
    this.report({ state: 'closed', attempt: 0, reason: 'stopped' });
  }

  private async answerSnapshot(f: Followed): Promise<void> {
    // Later than the request: the diffs of the batch being delivered are held by then too.
    await Promise.resolve();
    let snap = f.depth.snapshot();
    if (!snap && this.cmd) {
      try {
        const text = (await this.cmd.call('GET', [this.keys.depth(f.symbol)])) as string | null;
        const ev = text === null ? undefined : decodeMarketEvent(text);
        if (ev?.kind === 'depthSnapshot') snap = f.depth.snapshot(ev.snapshot);
      } catch (err) {
        this.sink?.error?.(`${f.symbol} depth snapshot from the Redis bus failed: ${(err as Error).message}`);
      }
    }
    if (this.stopped || this.followed.get(f.symbol) !== f) return;
    if (snap) this.emit({ kind: 'depthSnapshot', snapshot: snap });
    else f.snapshotWanted = true;
  }

  private async readerReady(): Promise<void> {
    while (this.reader!.status !== 'ready') {
      if (this.stopped) throw new VenueError('BUS_STOPPED', 'the Redis follower was stopped before it connected');
      await this.idle(1_000); // 'ready' wakes it
    }
  }

  private async add(symbols: string[]): Promise<void> {
    for (const s of symbols) {
      const symbol = s.toUpperCase();
      if (this.followed.has(symbol) || this.adding.has(symbol)) continue;
      this.adding.add(symbol);
      let start: { after: string; liveAfter: string };
      try {
        await this.checkScales(symbol);
        start = await this.startPosition(symbol);
      } finally {
        this.adding.delete(symbol);
      }
      const { after, liveAfter } = start;
      const f: Followed = { symbol, key: this.keys.stream(symbol), after, liveAfter, live: false, depth: new HeldDepth(this.maxHeldDiffs), positions: [], snapshotInFlight: false, snapshotWanted: false };
      this.followed.set(symbol, f);
      this.byKey.set(f.key, f);
    }
    this.wake();
  }

  /** The leader's raw integers must mean the same prices and quantities here. */
  private async checkScales(symbol: string): Promise<void> {
    const mine = this.opts.instruments?.has(symbol) ? this.opts.instruments.get(symbol) : undefined;
    if (!mine) return;
    const text = (await this.cmd!.call('GET', [this.keys.meta(symbol)])) as string | null;
    if (text === null) return;
    let theirs: { priceScale?: unknown; qtyScale?: unknown };
    try {
      theirs = JSON.parse(text) as typeof theirs;
    } catch {
      return;
    }
    if (theirs.priceScale !== mine.priceScale || theirs.qtyScale !== mine.qtyScale) {
      throw new VenueError(
        'BUS_SCALES',
        `the leader publishes ${symbol} at ${String(theirs.priceScale)} price / ${String(theirs.qtyScale)} quantity decimals, this daemon knows it at ${mine.priceScale} / ${mine.qtyScale}`,
        { hint: 'both sides must use the same exchangeInfo: refresh the market info here (it comes from the cache or the bundled snapshot) or restart the leader' },
      );
    }
  }

  /**
   * Where to start reading a symbol: after the newest entry (or, with backfill, at the last trade
   * before the newest trade's minute); and, for the book, at the newest checkpoint if it is older.
   * Looks back through at most maxScan entries.
   */
  private async startPosition(symbol: string): Promise<{ after: string; liveAfter: string }> {
    const key = this.keys.stream(symbol);
    const wantBook = this.channels.has('depth');
    const backfill = typeof this.opts.backfill === 'function' ? this.opts.backfill() : this.opts.backfill === true;
    let newest: string | undefined;
    let oldest: string | undefined;
    let minute: number | undefined;
    let backfillAt: string | undefined;
    let checkpointAt: string | undefined;
    let reachedStart = false;
    let end = '+';
    scan: for (let scanned = 0; scanned < this.maxScan; ) {
      const page = (await this.cmd!.call('XREVRANGE', [key, end, '-', 'COUNT', String(Math.min(1_000, this.maxScan - scanned))])) as Entry[];
      if (page.length === 0) {
        reachedStart = true;
        break;
      }
      for (const [id, fields] of page) {
        scanned++;
        newest ??= id;
        oldest = id;
        const ev = tryDecode(fields);
        if (backfill && !backfillAt && ev?.kind === 'trade') {
          if (minute === undefined) minute = bucketOpen(ev.trade.time, '1m');
          else if (ev.trade.time < minute) backfillAt = id;
        }
        if (wantBook && !checkpointAt && ev?.kind === 'depthSnapshot') checkpointAt = id;
        if ((!backfill || backfillAt) && (!wantBook || checkpointAt)) break scan;
      }
      end = `(${oldest}`;
    }
    if (newest === undefined) return { after: '0-0', liveAfter: '0-0' };
    let liveAfter = newest;
    if (backfill) liveAfter = backfillAt ? streamIdBefore(backfillAt) : reachedStart ? '0-0' : streamIdBefore(oldest!);
    let after = liveAfter;
    if (checkpointAt) {
      const at = streamIdBefore(checkpointAt);
      if (compareStreamIds(at, after) < 0) after = at;
    }
    return { after, liveAfter };
  }

  private async run(): Promise<void> {
    const reader = this.reader!;
    while (!this.stopped) {
      if (this.followed.size === 0 || reader.status !== 'ready') {
        await this.idle(1_000);
        continue;
      }
      try {
        this.readerId ??= String(await reader.call('CLIENT', ['ID']));
        const list = [...this.followed.values()];
        this.blocked = true;
        const reply = (await reader.call('XREAD', ['COUNT', String(this.count), 'BLOCK', String(this.blockMs), 'STREAMS', ...list.map((f) => f.key), ...list.map((f) => f.after)])) as XReadReply | null;
        this.blocked = false;
        this.lastReadError = undefined;
        if (reply && !this.stopped) this.deliver(reply);
      } catch (err) {
        this.blocked = false;
        if (this.stopped) break;
        // Redis refused the read (a dropped connection does not land here: ioredis resends it).
        const message = (err as Error).message;
        if (message !== this.lastReadError) this.sink?.error?.(`reading the Redis bus failed: ${message}; retrying every second`);
        this.lastReadError = message;
        await this.idle(1_000);
      }
    }
  }

  private deliver(reply: XReadReply): void {
    const recv = this.now();
    for (const [key, entries] of reply) {
      const f = this.byKey.get(key);
      if (!f) continue; // unsubscribed while the read was in flight
      for (const [id, fields] of entries) {
        if (this.byKey.get(key) !== f) break;
        f.after = id;
        const text = entryText(fields);
        let ev: MarketEvent;
        try {
          if (text === undefined) throw new Error('it has no "e" field');
          ev = decodeMarketEvent(text);
        } catch (err) {
          this.sink?.error?.(`unreadable entry ${id} on ${key}: ${(err as Error).message}`, text?.slice(0, 200));
          continue;
        }
        this.onEntry(f, id, ev, recv);
      }
    }
  }

  private onEntry(f: Followed, id: string, ev: MarketEvent, recv: number): void {
    const live = f.live || (f.live = compareStreamIds(id, f.liveAfter) > 0);
    const ch = this.channels;
    switch (ev.kind) {
      case 'depthSnapshot':
        if (!ch.has('depth')) return;
        f.depth.onSnapshot(ev.snapshot);
        if (live && f.snapshotWanted) {
          const snap = f.depth.snapshot();
          if (snap) {
            f.snapshotWanted = false;
            this.emit({ kind: 'depthSnapshot', snapshot: snap }, recv);
          }
        }
        return;
      case 'depth':
        if (!ch.has('depth')) return;
        f.depth.onDiff(ev.diff);
        if (live) this.emit(ev, recv);
        return;
      case 'trade':
        if (!live || !(ch.has('aggTrade') || ch.has('trade'))) return;
        remember(f, ev.trade.id, id);
        this.emit(ev, recv);
        return;
      case 'kline':
        if (live && ch.has('kline_1m')) this.emit(ev, recv);
        return;
      case 'bookTicker':
        if (live && ch.has('bookTicker')) this.emit(ev, recv);
        return;
      case 'miniTicker':
        if (live && ch.has('miniTicker')) this.emit(ev, recv);
        return;
    }
  }

  private emit(ev: MarketEvent, recv = this.now()): void {
    try {
      this.sink?.event(ev, recv);
    } catch (err) {
      this.sink?.error?.(`market event handler failed: ${(err as Error).message}`);
    }
  }

  private report(state: FeedState): void {
    try {
      this.sink?.state?.(state);
    } catch {
      // A failing state listener must not stop the feed.
    }
  }

  /** Interrupts the blocked XREAD (to pick up subscription changes) and an idle wait. */
  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
    if (this.blocked && this.readerId !== undefined && this.cmd && !this.stopped) {
      this.cmd.call('CLIENT', ['UNBLOCK', this.readerId]).catch(() => {});
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

}

function remember(f: Followed, tradeId: number, at: string): void {
  f.positions.push([tradeId, at]);
  if (f.positions.length > POSITIONS_KEPT) f.positions.shift();
}

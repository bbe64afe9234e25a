import type { Redis, RedisOptions } from 'ioredis';
import { VenueError } from '../errors.js';
import type { Instruments } from '../market/instruments.js';
import { BookCheckpointer } from '../market/redis/book-checkpoint.js';
import { encodeMarketEvent, eventSymbol } from '../market/redis/codec.js';
import { openRedis, untilReady } from '../market/redis/connection.js';
import { busKeys, type BusKeys } from '../market/redis/keys.js';
import { redactRedisUrl } from '../market/redis/url.js';
import type { MarketEvent } from '../market/source.js';

/**
 * The leader's side of the Redis bus: every market event its kernel acts on (the kernel tap),
 * appended to one Redis stream per symbol, so follower daemons and TUIs rebuild the same candles
 * and books without their own Binance connection.
 *
 * The tap is synchronous and on the engine's hot path, so publish() only encodes and queues;
 * queued entries go out as one pipeline per event-loop turn with at most one batch in flight,
 * which keeps them in order. Redis being down never reaches the engine: entries wait in a bounded
 * buffer (the oldest dropped beyond it, counted) and are sent when ioredis has reconnected.
 */

export interface PublisherStats {
  /** Stream entries Redis accepted. */
  published: number;
  /** Commands Redis refused (e.g. a key of the wrong type): counted, not retried. */
  failed: number;
  /** Entries dropped because the buffer was full while Redis was unreachable. */
  dropped: number;
  /** Commands waiting to be sent. */
  buffered: number;
  /** Batches that failed because the connection dropped; their entries are sent again. */
  retries: number;
  /** Pipelines sent (each one round trip). */
  batches: number;
  connected: boolean;
  lastError?: string;
}

export interface RedisPublisherOptions {
  url: string;
  /** Prefix of every key (default `qtrade:`). */
  keyPrefix?: string;
  /** Approximate length each symbol's stream is trimmed to (XADD MAXLEN ~). Default 100 000. */
  maxLen?: number;
  /** The scales the raw integers are at, written beside each stream so followers can check theirs. */
  instruments?: Instruments;
  /** Commands held while Redis is unreachable. Default 200 000. */
  maxBuffered?: number;
  /** Commands per pipeline. Default 2 000. */
  batchSize?: number;
  /** Applied diffs between two order-book checkpoints on a stream. Default 600 (a minute of @100ms diffs). */
  checkpointEvery?: number;
  /** How long connect() waits for Redis. Default 5 000 ms. */
  connectTimeoutMs?: number;
  /** Outages, refusals, drops and recoveries, once each (the daemon logs them). */
  report?: (level: 'warn' | 'info', message: string, stats: PublisherStats) => void;
  /** Extra ioredis options (tests shorten the reconnect backoff). */
  redis?: RedisOptions;
}

interface Command {
  name: 'XADD' | 'SET';
  args: string[];
}

export class RedisMarketPublisher {
  readonly keys: BusKeys;
  readonly url: string;
  private readonly redis: Redis;
  private readonly maxLen: string;
  private readonly maxBuffered: number;
  private readonly batchSize: number;
  private readonly connectTimeoutMs: number;
  private readonly checkpoints: BookCheckpointer;
  private readonly metaSent = new Set<string>();
  private queue: Command[] = [];
  private head = 0;
  private inFlight: Promise<void> | undefined;
  /** Commands of the batch on the wire: [head, head + sending). */
  private sending = 0;
  private scheduled = false;
  private closed = false;
  private down = false;
  private refusing = false;
  private droppedThisOutage = 0;
  private readonly counts = { published: 0, failed: 0, dropped: 0, retries: 0, batches: 0 };
  private lastError: string | undefined;

  constructor(private readonly opts: RedisPublisherOptions) {
    this.url = opts.url;
    this.keys = busKeys(opts.keyPrefix);
    this.maxLen = String(opts.maxLen ?? 100_000);
    this.maxBuffered = opts.maxBuffered ?? 200_000;
    this.batchSize = opts.batchSize ?? 2_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
    this.checkpoints = new BookCheckpointer(opts.checkpointEvery ?? 600);
    // Our own buffer, not ioredis's offline queue, because it is bounded. A batch in flight when
    // the connection drops is sent again by ioredis on reconnect, in order, before anything newer.
    this.redis = openRedis(opts.url, { enableOfflineQueue: false, maxRetriesPerRequest: null, ...opts.redis });
    this.redis.on('error', (err: Error) => this.onConnectionError(err));
    this.redis.on('close', () => this.onConnectionError(new Error('connection closed')));
    this.redis.on('ready', () => this.onReady());
  }

  /**
   * Waits until Redis answers; rejects with a VenueError after connectTimeoutMs. Either way the
   * publisher keeps reconnecting in the background and publish() never throws.
   */
  async connect(): Promise<void> {
    await untilReady(this.redis, this.url, this.connectTimeoutMs);
  }

  /** The kernel tap: queues the event for its symbol's stream. Never throws. */
  publish(ev: MarketEvent): void {
    if (this.closed) return;
    try {
      const symbol = eventSymbol(ev);
      if (!this.metaSent.has(symbol)) this.queueMeta(symbol);
      const text = encodeMarketEvent(ev);
      this.xadd(symbol, text);
      if (ev.kind === 'depthSnapshot') {
        if (this.checkpoints.onSnapshot(ev.snapshot)) this.push({ name: 'SET', args: [this.keys.depth(symbol), text] });
      } else if (ev.kind === 'depth') {
        const checkpoint = this.checkpoints.onDiff(ev.diff);
        if (checkpoint) {
          const cp = encodeMarketEvent({ kind: 'depthSnapshot', snapshot: checkpoint });
          this.xadd(symbol, cp);
          this.push({ name: 'SET', args: [this.keys.depth(symbol), cp] });
        }
      }
    } catch (err) {
      this.counts.failed++;
      this.lastError = (err as Error).message;
      this.tell('warn', `Redis bus: could not encode a ${ev.kind} event: ${this.lastError}`);
    }
    this.schedule();
  }

  /** For /health: resolves when Redis answers PING. */
  async ping(): Promise<void> {
    if (this.redis.status !== 'ready') {
      throw new VenueError('REDIS_UNREACHABLE', `Redis bus ${redactRedisUrl(this.url)} is ${this.redis.status}${this.lastError ? ` (${this.lastError})` : ''}`, {
        hint: `market events are buffered (${this.buffered()} waiting); check that Redis runs`,
      });
    }
    await this.redis.ping();
  }

  stats(): PublisherStats {
    return { ...this.counts, buffered: this.buffered(), connected: this.redis.status === 'ready', lastError: this.lastError };
  }

  /** Resolves once everything queued so far has been sent, or right away while Redis is down. */
  async flushed(): Promise<void> {
    while (this.buffered() > 0 && this.redis.status === 'ready') await this.startFlush();
  }

  /** Sends what is queued (waiting at most `timeoutMs`), then disconnects. */
  async close(timeoutMs = 2_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flushed(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    this.redis.disconnect();
  }

  /** The report callback, which must not break publish() by throwing. */
  private tell(level: 'warn' | 'info', message: string): void {
    try {
      this.opts.report?.(level, message, this.stats());
    } catch {
      // Reporting is best effort.
    }
  }

  private queueMeta(symbol: string): void {
    this.metaSent.add(symbol);
    if (!this.opts.instruments?.has(symbol)) return;
    const i = this.opts.instruments.get(symbol);
    this.push({ name: 'SET', args: [this.keys.meta(symbol), JSON.stringify({ priceScale: i.priceScale, qtyScale: i.qtyScale })] });
  }

  private xadd(symbol: string, text: string): void {
    this.push({ name: 'XADD', args: [this.keys.stream(symbol), 'MAXLEN', '~', this.maxLen, '*', 'e', text] });
  }

  private push(c: Command): void {
    this.queue.push(c);
    const over = this.buffered() - this.maxBuffered;
    if (over > 0) this.drop(over);
  }

  /** Drops the oldest commands not in flight (Redis has been unreachable for a while). */
  private drop(n: number): void {
    const from = this.head + this.sending;
    const removed = this.queue.splice(from, Math.max(0, Math.min(n, this.queue.length - from))).length;
    if (removed === 0) return;
    this.counts.dropped += removed;
    if (this.droppedThisOutage === 0) {
      this.tell('warn', `Redis bus: buffer full (${this.maxBuffered}), dropping the oldest market events; followers will see gaps`);
    }
    this.droppedThisOutage += removed;
  }

  private buffered(): number {
    return this.queue.length - this.head;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight || this.redis.status !== 'ready' || this.buffered() === 0) return;
    this.scheduled = true;
    // One pipeline per event-loop turn: a burst of taps goes out as one round trip.
    setImmediate(() => {
      this.scheduled = false;
      void this.startFlush();
    });
  }

  /** The flush in progress, or a new one: batches go out one at a time, in order. */
  private startFlush(): Promise<void> {
    if (!this.inFlight) {
      const p: Promise<void> = this.flush().finally(() => {
        if (this.inFlight === p) this.inFlight = undefined;
        this.compact();
      });
      this.inFlight = p;
    }
    return this.inFlight;
  }

  private async flush(): Promise<void> {
    try {
      while (this.buffered() > 0 && this.redis.status === 'ready') {
        if (!(await this.sendBatch())) break;
      }
    } catch (err) {
      this.onBatchFailed(err as Error);
    }
  }

  /** Sends one batch; false when the connection failed (the rest waits for 'ready'). */
  private async sendBatch(): Promise<boolean> {
    const n = Math.min(this.batchSize, this.buffered());
    const batch = this.queue.slice(this.head, this.head + n);
    const pipe = this.redis.pipeline();
    for (const c of batch) pipe.call(c.name, c.args);
    let results: Array<[Error | null, unknown]> | null;
    this.sending = n;
    this.counts.batches++;
    try {
      results = await pipe.exec();
    } catch (err) {
      this.onBatchFailed(err as Error);
      return false;
    } finally {
      this.sending = 0;
    }
    if (!results) {
      this.onBatchFailed(new Error('the pipeline got no replies'));
      return false;
    }
    const lost = this.redis.status !== 'ready';
    let sent = 0;
    let refused: Error | undefined;
    for (let i = 0; i < batch.length; i++) {
      const err = results[i]?.[0] ?? null;
      if (err && lost) break; // the connection went: this and the rest are sent again
      sent++;
      if (!err) {
        if (batch[i]!.name === 'XADD') this.counts.published++;
      } else {
        this.counts.failed++;
        refused = err;
      }
    }
    this.head += sent;
    if (refused) {
      this.lastError = refused.message;
      if (!this.refusing) this.tell('warn', `Redis bus: Redis refused market events: ${refused.message}`);
      this.refusing = true;
    } else {
      this.refusing = false;
    }
    if (sent < batch.length) {
      this.onBatchFailed(new Error('connection lost during a batch'));
      return false;
    }
    return true;
  }

  private onBatchFailed(err: Error): void {
    this.counts.retries++;
    this.onConnectionError(err);
  }

  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private onConnectionError(err: Error): void {
    if (this.closed) return;
    if (!this.down || err.message !== 'connection closed') this.lastError = err.message;
    if (this.down) return;
    this.down = true;
    this.tell('warn', `Redis bus ${redactRedisUrl(this.url)} unreachable: ${err.message}; buffering market events until it is back`);
  }

  private onReady(): void {
    // Redis may have restarted empty: write each symbol's scales again with its next event.
    this.metaSent.clear();
    if (this.down) {
      this.down = false;
      const dropped = this.droppedThisOutage;
      this.droppedThisOutage = 0;
      this.tell('info', `Redis bus reconnected; sending ${this.buffered()} buffered commands${dropped > 0 ? `, ${dropped} were dropped meanwhile` : ''}`);
    }
    this.schedule();
  }
}

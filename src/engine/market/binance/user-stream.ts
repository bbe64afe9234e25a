import WebSocket from 'ws';
import type { FeedState } from '../../bus.js';
import { QtradeError, VenueError } from '../../errors.js';
import type { LiveRouter } from '../../orders/live-router.js';
import type { Balance, Order } from '../../orders/types.js';
import type { Instruments } from '../instruments.js';
import { wsAgent, type NetOptions } from '../net.js';
import { decodeAccountPosition, decodeExecutionReport, obj, type ExecutionReport } from './order-parse.js';
import { BinanceApiError, type SignedRest } from './signing.js';

/**
 * The Binance spot user data stream: execution reports and balance changes for the account.
 *
 * Two transports:
 *  - 'ws-api' (default): connect to the WebSocket API and send `userDataStream.subscribe.signature`
 *    (apiKey, timestamp, recvWindow, HMAC signature over the sorted params); events arrive as
 *    `{"subscriptionId": n, "event": {...}}`. Binance retired the listenKey endpoints for spot on
 *    2026-02-20 (spot API CHANGELOG 2026-01-21), so this is the one that works against Binance now.
 *  - 'listen-key' (legacy): POST /api/v3/userDataStream for a listenKey, connect to
 *    `<stream base>/ws/<listenKey>`, PUT every 30 min to keep it alive, DELETE on stop.
 *
 * Both are the same small state machine: connecting → open → (close / silence) → reconnecting →
 * connecting …, with backoff and jitter. Events missed while disconnected are not replayed by
 * Binance, so after every reconnect the open orders and balances are fetched over REST and handed
 * to `resynced`.
 */

export type UserStreamMode = 'ws-api' | 'listen-key';

export interface UserStreamHandlers {
  /** An order changed (and, for TRADE, the fill). */
  order?(report: ExecutionReport): void;
  /** Balances that changed (outboundAccountPosition). */
  balances?(update: { time: number; balances: Balance[] }): void;
  /** After a reconnect: the state fetched over REST, to reconcile anything missed while away. */
  resynced?(snapshot: { openOrders: Order[]; balances: Balance[] }): void;
  state?(state: FeedState): void;
  /** Undecodable events, failed keepalives and resyncs, and the fatal error that stopped the stream. */
  error?(err: Error): void;
}

export interface UserStreamOptions {
  rest: SignedRest;
  /** Used for the REST re-sync after a reconnect. */
  router: LiveRouter;
  instruments: Instruments;
  net: NetOptions;
  handlers: UserStreamHandlers;
  mode?: UserStreamMode;
  /** WebSocket API endpoint, e.g. wss://ws-api.testnet.binance.vision/ws-api/v3 ('ws-api' mode). */
  wsApiUrl?: string;
  /** Streams base, e.g. wss://stream.testnet.binance.vision ('listen-key' mode). */
  streamUrl?: string;
  /** listenKey keepalive interval. Default 30 min (keys expire after 60). */
  keepaliveMs?: number;
  /** No frame, ping or pong for this long → reconnect. Default 60 s (Binance pings every 20 s). */
  silenceTimeoutMs?: number;
  /** Reconnect delay: random() × min(maxMs, initialMs × 2^(attempt−1)). Default 500 ms .. 30 s. */
  backoff?: { initialMs: number; maxMs: number };
  random?: () => number;
  /** Handshake + subscription timeout. Default 10 s. */
  connectTimeoutMs?: number;
  /** Wall clock for the silence watchdog only. */
  now?: () => number;
}

/** Errors that no reconnect can fix: bad key or signature, retired endpoint. */
function isFatal(err: unknown): boolean {
  if (err instanceof BinanceApiError) return err.binanceCode === -2014 || err.binanceCode === -2015 || err.binanceCode === -1022;
  return err instanceof VenueError && err.status === 410;
}

export class BinanceUserStream {
  private readonly o: UserStreamOptions;
  private readonly mode: UserStreamMode;
  private ws: WebSocket | undefined;
  private listenKey: string | undefined;
  private keepalive: ReturnType<typeof setInterval> | undefined;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private lastSeen = 0;
  private attempt = 0;
  private stopped = false;
  private current: FeedState['state'] | 'idle' = 'idle';
  private nextRequestId = 1;
  private subscriptionId: number | undefined;

  constructor(opts: UserStreamOptions) {
    this.o = opts;
    this.mode = opts.mode ?? 'ws-api';
    if (this.mode === 'ws-api' && !opts.wsApiUrl) throw new QtradeError('CONFIG', 'user stream: wsApiUrl is required in ws-api mode');
    if (this.mode === 'listen-key' && !opts.streamUrl) throw new QtradeError('CONFIG', 'user stream: streamUrl is required in listen-key mode');
  }

  get state(): FeedState['state'] | 'idle' {
    return this.current;
  }

  /** Connects and subscribes; resolves once events flow, rejects if the first attempt fails. */
  async start(): Promise<void> {
    this.stopped = false;
    this.setState('connecting');
    try {
      await this.connect();
    } catch (err) {
      this.setState('closed', (err as Error).message);
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = undefined;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(1000);
        setTimeout(() => {
          ws.terminate();
          resolve();
        }, 1000).unref();
      });
    }
    if (this.mode === 'listen-key' && this.listenKey) {
      const key = this.listenKey;
      this.listenKey = undefined;
      await this.o.rest.call({ method: 'DELETE', path: '/api/v3/userDataStream', params: { listenKey: key }, security: 'USER_STREAM', weight: 2 }).catch(() => undefined);
    }
    this.setState('closed', 'stopped');
  }

  private setState(state: FeedState['state'], reason?: string, nextInMs?: number): void {
    this.current = state;
    this.o.handlers.state?.({ state, attempt: this.attempt, ...(reason ? { reason } : {}), ...(nextInMs !== undefined ? { nextInMs } : {}) });
  }

  private async connect(): Promise<void> {
    let url: string;
    if (this.mode === 'listen-key') {
      const reply = obj(
        await this.o.rest.call({ method: 'POST', path: '/api/v3/userDataStream', security: 'USER_STREAM', idempotent: true, weight: 2 }),
        'POST /api/v3/userDataStream',
      );
      if (typeof reply.listenKey !== 'string') throw new VenueError('PARSE', 'POST /api/v3/userDataStream: no listenKey in the reply');
      this.listenKey = reply.listenKey;
      url = `${this.o.streamUrl!.replace(/\/+$/, '')}/ws/${this.listenKey}`;
    } else {
      url = this.o.wsApiUrl!;
    }
    const ws = await this.open(url);
    try {
      if (this.mode === 'ws-api') await this.subscribe(ws);
    } catch (err) {
      ws.terminate();
      throw err;
    }
    if (ws.readyState !== WebSocket.OPEN) throw new VenueError('NETWORK', 'user data stream: connection closed while subscribing');
    this.ws = ws;
    this.attempt = 0;
    this.lastSeen = this.now();
    this.armTimers();
    this.setState('open');
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  private open(url: string): Promise<WebSocket> {
    const timeoutMs = this.o.connectTimeoutMs ?? 10_000;
    // The listenKey is a credential of sorts: keep it out of messages.
    const shown = this.mode === 'listen-key' ? url.replace(/\/ws\/.*$/, '/ws/<listenKey>') : url;
    return new Promise((resolve, reject) => {
      const agent = wsAgent(url, this.o.net);
      const ws = new WebSocket(url, { handshakeTimeout: timeoutMs, perMessageDeflate: false, ...(agent ? { agent } : {}) });
      const onError = (err: Error) => {
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        reject(new VenueError('NETWORK', `user data stream ${shown}: ${err.message}`, { cause: err, hint: 'check the network (and proxy) to Binance' }));
      };
      ws.once('error', onError);
      ws.once('unexpected-response', (_req, res) => onError(new Error(`HTTP ${res.statusCode} on WebSocket upgrade`)));
      ws.once('open', () => {
        ws.off('error', onError);
        ws.on('error', () => {});
        ws.on('message', (data) => this.onMessage(ws, data.toString()));
        ws.on('ping', () => (this.lastSeen = this.now()));
        ws.on('pong', () => (this.lastSeen = this.now()));
        ws.on('close', (code) => this.onClose(ws, `closed (${code})`));
        resolve(ws);
      });
    });
  }

  /** Sends userDataStream.subscribe.signature; re-syncs the clock and retries once on -1021. */
  private async subscribe(ws: WebSocket): Promise<void> {
    for (let tries = 0; ; tries++) {
      const id = `qt-uds-${this.nextRequestId++}`;
      const params = await this.o.rest.signWsParams();
      const reply = await this.request(ws, { id, method: 'userDataStream.subscribe.signature', params });
      if (reply.status === 200) {
        const result = obj(reply.result, 'userDataStream.subscribe.signature result');
        this.subscriptionId = typeof result.subscriptionId === 'number' ? result.subscriptionId : undefined;
        return;
      }
      const e = obj(reply.error ?? {}, 'userDataStream.subscribe.signature error');
      const code = typeof e.code === 'number' ? e.code : 0;
      const msg = typeof e.msg === 'string' ? e.msg : 'unknown error';
      if (code === -1021 && tries === 0) {
        await this.o.rest.syncTime();
        continue;
      }
      throw new BinanceApiError('userDataStream.subscribe.signature', typeof reply.status === 'number' ? reply.status : 400, code, msg);
    }
  }

  private pending = new Map<string, (reply: Record<string, unknown>) => void>();

  private request(ws: WebSocket, msg: { id: string; method: string; params: Record<string, unknown> }): Promise<Record<string, unknown>> {
    const timeoutMs = this.o.connectTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(msg.id);
        reject(new VenueError('TIMEOUT', `${msg.method}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      const onClose = () => {
        clearTimeout(timer);
        this.pending.delete(msg.id);
        reject(new VenueError('NETWORK', `${msg.method}: connection closed before the reply`));
      };
      ws.once('close', onClose);
      this.pending.set(msg.id, (reply) => {
        clearTimeout(timer);
        ws.off('close', onClose);
        resolve(reply);
      });
      ws.send(JSON.stringify(msg));
    });
  }

  private onMessage(ws: WebSocket, text: string): void {
    this.lastSeen = this.now();
    let m: unknown;
    try {
      m = JSON.parse(text);
    } catch {
      this.o.handlers.error?.(new VenueError('PARSE', 'user data stream: a frame is not JSON'));
      return;
    }
    if (typeof m !== 'object' || m === null) return;
    const msg = m as Record<string, unknown>;
    if (this.mode === 'ws-api') {
      if (typeof msg.id === 'string' && this.pending.has(msg.id)) {
        const cb = this.pending.get(msg.id)!;
        this.pending.delete(msg.id);
        cb(msg);
        return;
      }
      if (typeof msg.event === 'object' && msg.event !== null) this.onEvent(ws, msg.event as Record<string, unknown>);
      return;
    }
    this.onEvent(ws, msg);
  }

  private onEvent(ws: WebSocket, ev: Record<string, unknown>): void {
    try {
      switch (ev.e) {
        case 'executionReport': {
          const inst = this.o.instruments.get(typeof ev.s === 'string' ? ev.s : '');
          this.o.handlers.order?.(decodeExecutionReport(ev, inst));
          return;
        }
        case 'outboundAccountPosition':
          this.o.handlers.balances?.(decodeAccountPosition(ev));
          return;
        case 'listenKeyExpired':
        case 'eventStreamTerminated':
          ws.terminate();
          return;
        default:
          return;
      }
    } catch (err) {
      this.o.handlers.error?.(err as Error);
    }
  }

  private onClose(ws: WebSocket, reason: string): void {
    if (ws !== this.ws) return;
    this.ws = undefined;
    this.clearTimers();
    if (this.stopped) return;
    this.scheduleReconnect(reason);
  }

  private scheduleReconnect(reason: string): void {
    this.attempt++;
    const { initialMs, maxMs } = this.o.backoff ?? { initialMs: 500, maxMs: 30_000 };
    const delay = Math.floor((this.o.random ?? Math.random)() * Math.min(maxMs, initialMs * 2 ** (this.attempt - 1)));
    this.setState('reconnecting', reason, delay);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopped) return;
      this.setState('connecting');
      this.connect().then(
        () => this.resync(),
        (err: unknown) => {
          if (this.stopped) return;
          if (isFatal(err)) {
            this.o.handlers.error?.(err as Error);
            this.setState('closed', (err as Error).message);
            return;
          }
          this.scheduleReconnect((err as Error).message);
        },
      );
    }, delay);
  }

  private async resync(): Promise<void> {
    try {
      const [openOrders, balances] = await Promise.all([this.o.router.openOrders(), this.o.router.account()]);
      this.o.handlers.resynced?.({ openOrders, balances });
    } catch (err) {
      this.o.handlers.error?.(err as Error);
    }
  }

  private armTimers(): void {
    const silence = this.o.silenceTimeoutMs ?? 60_000;
    this.watchdog = setInterval(() => {
      if (this.now() - this.lastSeen > silence) this.ws?.terminate();
    }, Math.max(10, Math.floor(silence / 4)));
    if (this.mode === 'listen-key') {
      this.keepalive = setInterval(() => void this.keepAlive(), this.o.keepaliveMs ?? 30 * 60_000);
    }
  }

  private async keepAlive(): Promise<void> {
    const key = this.listenKey;
    if (!key) return;
    try {
      await this.o.rest.call({ method: 'PUT', path: '/api/v3/userDataStream', params: { listenKey: key }, security: 'USER_STREAM', idempotent: true, weight: 2 });
    } catch (err) {
      this.o.handlers.error?.(err as Error);
      // An expired key cannot be revived: start over with a new one.
      if (err instanceof BinanceApiError && err.binanceCode === -1125) this.ws?.terminate();
    }
  }

  private clearTimers(): void {
    if (this.keepalive) clearInterval(this.keepalive);
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.keepalive = this.watchdog = this.retryTimer = undefined;
  }

  /** The WebSocket API subscription id of the live subscription ('ws-api' mode). */
  get subscription(): number | undefined {
    return this.subscriptionId;
  }
}

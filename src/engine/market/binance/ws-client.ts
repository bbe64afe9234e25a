import WebSocket from 'ws';
import type { FeedState } from '../../bus.js';
import { UsageError, VenueError } from '../../errors.js';
import type { Instruments } from '../instruments.js';
import { wsAgent, type NetOptions } from '../net.js';
import type { MarketSink } from '../source.js';
import { decodeFrame, readControl } from './parse.js';
import { CONNECTION_LIFETIME_MS, CONTROL_MESSAGE_INTERVAL_MS, MAX_STREAMS_PER_CONNECTION, PONG_DEADLINE_MS, groupStreams } from './streams.js';

/**
 * Binance spot market-data WebSocket client. Streams are spread over connections of at
 * most 1024 each; every connection ("slot") is a small state machine
 *
 *   connecting ──open──▶ open ──close/silence──▶ reconnecting ──backoff──▶ connecting
 *        └────────────fail───────────▶ reconnecting             stop() ──▶ closed
 *
 * with exponential backoff and full jitter, a silence watchdog, paced SUBSCRIBE /
 * UNSUBSCRIBE, and seamless rotation before Binance's 24 h limit or on serverShutdown.
 */

export interface BinanceWsFeedOptions {
  /** wss://stream.binance.com:9443, wss://data-stream.binance.vision, or ws://127.0.0.1:PORT in tests. */
  baseUrl: string;
  net: NetOptions;
  instruments: Instruments;
  /** No frame and no ping for this long → the link is dead: reconnect. Default 60 s. */
  silenceTimeoutMs?: number;
  /** Rotate to a fresh connection after this long. Default 23 h 50 m (Binance cuts at 24 h). */
  maxLifetimeMs?: number;
  /** Reconnect delay: random() × min(maxMs, initialMs × 2^(attempt−1)). Default 1 s .. 30 s. */
  backoff?: { initialMs: number; maxMs: number };
  random?: () => number;
  /** Minimum spacing of control messages per connection. Default 500 ms. */
  controlIntervalMs?: number;
  /** Local receive time for `recvTime` (metrics only). Default Date.now. */
  now?: () => number;
  /** Default 1024; lower only in tests. */
  maxStreamsPerConnection?: number;
  /** Streams beyond this URL length are added with SUBSCRIBE after connecting. Default 8000. */
  maxUrlLength?: number;
  /** Most streams in one SUBSCRIBE/UNSUBSCRIBE message. Default 200. */
  maxParamsPerMessage?: number;
  /** WebSocket handshake timeout (proxy tunnel included). Default 10 s. */
  connectTimeoutMs?: number;
}

type ConnState = 'connecting' | 'open' | 'closed';

interface Pending {
  method: 'SUBSCRIBE' | 'UNSUBSCRIBE';
  params: string[];
}

/** One socket. A slot owns its active socket and, while rotating, a standby. */
class Conn {
  state: ConnState = 'connecting';
  /** Streams the server has (or will have, once our in-flight messages land). */
  readonly onServer: Set<string>;
  readonly inflight = new Map<number, Pending>();
  nextSendAt = 0;
  controlTimer: ReturnType<typeof setTimeout> | undefined;
  watchdog: ReturnType<typeof setInterval> | undefined;
  lifetimeTimer: ReturnType<typeof setTimeout> | undefined;
  promoteTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set by every frame and ping; the watchdog clears it (cheaper than re-arming a timer per frame). */
  alive = false;
  idleTicks = 0;
  gotFrame = false;
  gotData = false;
  /** Why we closed it ourselves, for the reported state. */
  closeReason: string | undefined;
  /** Why this connection was opened beside an active one (rotation), if it was. */
  rotation: string | undefined;
  failure: string | undefined;
  waiters: Array<() => void> = [];

  constructor(
    readonly ws: WebSocket,
    urlStreams: readonly string[],
  ) {
    this.onServer = new Set(urlStreams);
  }
}

class Slot {
  readonly desired = new Set<string>();
  active: Conn | undefined;
  standby: Conn | undefined;
  state: FeedState['state'] = 'connecting';
  attempt = 0;
  rotateAttempt = 0;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
  rotateTimer: ReturnType<typeof setTimeout> | undefined;
  opened = false;
  openWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  constructor(readonly id: number) {}
}

const DEFAULTS = {
  silenceTimeoutMs: PONG_DEADLINE_MS,
  maxLifetimeMs: CONNECTION_LIFETIME_MS - 10 * 60 * 1000,
  backoff: { initialMs: 1000, maxMs: 30_000 },
  controlIntervalMs: CONTROL_MESSAGE_INTERVAL_MS,
  maxUrlLength: 8000,
  maxParamsPerMessage: 200,
  connectTimeoutMs: 10_000,
};

export class BinanceWsFeed {
  private readonly base: string;
  private readonly silenceMs: number;
  private readonly lifetimeMs: number;
  private readonly backoffCfg: { initialMs: number; maxMs: number };
  private readonly random: () => number;
  private readonly controlMs: number;
  private readonly now: () => number;
  private readonly maxStreams: number;
  private readonly maxUrl: number;
  private readonly maxParams: number;
  private readonly connectTimeoutMs: number;

  private sink: MarketSink | undefined;
  private readonly slots: Slot[] = [];
  private readonly preStart = new Set<string>();
  private nextSlotId = 1;
  private nextMsgId = 1;
  private started = false;
  private stopped = false;

  constructor(private readonly opts: BinanceWsFeedOptions) {
    let u: URL;
    try {
      u = new URL(opts.baseUrl);
    } catch {
      throw new UsageError(`invalid WebSocket base URL "${opts.baseUrl}"`, { hint: 'use e.g. wss://stream.binance.com:9443' });
    }
    if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
      throw new UsageError(`WebSocket base URL must start with ws:// or wss://, got "${opts.baseUrl}"`, { hint: 'use e.g. wss://stream.binance.com:9443' });
    }
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.silenceMs = opts.silenceTimeoutMs ?? DEFAULTS.silenceTimeoutMs;
    this.lifetimeMs = opts.maxLifetimeMs ?? DEFAULTS.maxLifetimeMs;
    this.backoffCfg = opts.backoff ?? DEFAULTS.backoff;
    this.random = opts.random ?? Math.random;
    this.controlMs = opts.controlIntervalMs ?? DEFAULTS.controlIntervalMs;
    this.now = opts.now ?? Date.now;
    this.maxStreams = Math.min(opts.maxStreamsPerConnection ?? MAX_STREAMS_PER_CONNECTION, MAX_STREAMS_PER_CONNECTION);
    this.maxUrl = opts.maxUrlLength ?? DEFAULTS.maxUrlLength;
    this.maxParams = opts.maxParamsPerMessage ?? DEFAULTS.maxParamsPerMessage;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
  }

  /**
   * Connects and starts delivering frames to `sink`. Resolves once every connection has
   * opened; until then failed attempts are retried with backoff (reported through
   * sink.state), so this waits as long as the network is down. Rejects only if stop()
   * comes first.
   */
  async start(streams: readonly string[], sink: MarketSink): Promise<void> {
    if (this.started) throw new VenueError('WS_STARTED', 'this Binance feed is already started', { hint: 'use subscribe() to add streams' });
    if (this.stopped) throw new VenueError('WS_STOPPED', 'this Binance feed was stopped', { hint: 'create a new BinanceWsFeed' });
    this.started = true;
    this.sink = sink;
    const all = [...new Set([...this.preStart, ...streams])];
    this.preStart.clear();
    const slots = groupStreams(all, this.maxStreams).map((g) => this.addSlot(g));
    await Promise.all(slots.map((s) => this.whenOpened(s)));
  }

  /** Streams on every connection, in no particular order. */
  streams(): string[] {
    return this.slots.flatMap((s) => [...s.desired]);
  }

  /** Connection states, one per connection (for status displays and tests). */
  connectionStates(): Array<{ id: number; state: FeedState['state']; attempt: number; streams: number }> {
    return this.slots.map((s) => ({ id: s.id, state: s.state, attempt: s.attempt, streams: s.desired.size }));
  }

  /**
   * Adds streams at runtime: SUBSCRIBE on open connections (paced), new connections when
   * the existing ones are full. Resolves once open connections acknowledged them (or
   * closed; a reconnect re-requests every stream) and new connections opened.
   */
  async subscribe(streams: readonly string[]): Promise<void> {
    if (this.stopped) throw new VenueError('WS_STOPPED', 'this Binance feed was stopped', { hint: 'create a new BinanceWsFeed' });
    const fresh = [...new Set(streams)].filter((s) => !this.slots.some((slot) => slot.desired.has(s)));
    if (!this.started) {
      for (const s of fresh) this.preStart.add(s);
      return;
    }
    const waits: Promise<void>[] = [];
    const touched = new Set<Slot>();
    let rest = fresh;
    for (const slot of this.slots) {
      if (rest.length === 0) break;
      const room = this.maxStreams - slot.desired.size;
      if (room <= 0) continue;
      for (const s of rest.slice(0, room)) slot.desired.add(s);
      rest = rest.slice(room);
      touched.add(slot);
    }
    for (const slot of touched) waits.push(this.reconcileSlot(slot));
    for (const group of groupStreams(rest, this.maxStreams)) waits.push(this.whenOpened(this.addSlot(group)));
    await Promise.all(waits);
  }

  /** Removes streams at runtime (UNSUBSCRIBE, paced); a connection left without streams is closed. */
  async unsubscribe(streams: readonly string[]): Promise<void> {
    const gone = new Set(streams);
    if (!this.started) {
      for (const s of gone) this.preStart.delete(s);
      return;
    }
    const waits: Promise<void>[] = [];
    for (const slot of [...this.slots]) {
      let changed = false;
      for (const s of gone) if (slot.desired.delete(s)) changed = true;
      if (!changed) continue;
      if (slot.desired.size === 0) {
        this.slots.splice(this.slots.indexOf(slot), 1);
        waits.push(this.closeSlot(slot, 'no streams left'));
      } else {
        waits.push(this.reconcileSlot(slot));
      }
    }
    await Promise.all(waits);
  }

  /** Closes every connection and cancels every timer; the feed cannot be restarted. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => this.closeSlot(s, 'stopped')));
  }

  // ── slots ──────────────────────────────────────────────────────────────────

  private addSlot(streams: readonly string[]): Slot {
    const slot = new Slot(this.nextSlotId++);
    for (const s of streams) slot.desired.add(s);
    this.slots.push(slot);
    this.connect(slot);
    return slot;
  }

  private whenOpened(slot: Slot): Promise<void> {
    if (slot.opened) return Promise.resolve();
    return new Promise((resolve, reject) => slot.openWaiters.push({ resolve, reject }));
  }

  private connect(slot: Slot): void {
    slot.retryTimer = undefined;
    slot.active = this.openConn(slot);
    this.report(slot, { state: 'connecting', attempt: slot.attempt });
  }

  private async closeSlot(slot: Slot, reason: string): Promise<void> {
    clearTimeout(slot.retryTimer);
    clearTimeout(slot.rotateTimer);
    const conns = [slot.active, slot.standby].filter((c): c is Conn => c !== undefined);
    slot.active = slot.standby = undefined;
    for (const w of slot.openWaiters.splice(0)) {
      w.reject(new VenueError('WS_STOPPED', `Binance feed stopped before connecting (${reason})`, { hint: 'nothing to do unless this was unexpected' }));
    }
    this.report(slot, { state: 'closed', attempt: slot.attempt, reason });
    await Promise.all(conns.map((c) => this.closeConn(c, reason)));
  }

  private backoffDelay(attempt: number): number {
    const { initialMs, maxMs } = this.backoffCfg;
    const cap = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
    return Math.floor(this.random() * cap);
  }

  private report(slot: Slot, state: FeedState): void {
    slot.state = state.state;
    if (state.reason !== undefined && this.slots.length > 1) state.reason = `connection ${slot.id}: ${state.reason}`;
    this.safe(() => this.sink?.state?.(state));
  }

  /** A conn of `slot` closed: reconnect, promote the standby, or retry a rotation. */
  private onConnClosed(slot: Slot, conn: Conn, why: string): void {
    if (this.stopped || !this.slots.includes(slot)) return;
    if (conn === slot.standby) {
      slot.standby = undefined;
      if (slot.active?.state === 'open') {
        const delay = this.backoffDelay(++slot.rotateAttempt);
        clearTimeout(slot.rotateTimer);
        slot.rotateTimer = setTimeout(() => this.rotate(slot, 'retry'), delay);
      }
      return;
    }
    if (conn !== slot.active) return; // a retired connection
    slot.active = undefined;
    if (slot.standby) {
      // The old connection died mid-rotation: the new one takes over at once.
      slot.active = slot.standby;
      slot.standby = undefined;
      clearTimeout(slot.active.promoteTimer);
      slot.rotateAttempt = 0;
      if (slot.active.state === 'open') this.report(slot, { state: 'open', attempt: 0, reason: `took over after ${why}` });
      else this.report(slot, { state: 'connecting', attempt: slot.attempt, reason: why });
      return;
    }
    slot.attempt++;
    const delay = this.backoffDelay(slot.attempt);
    this.report(slot, { state: 'reconnecting', attempt: slot.attempt, nextInMs: delay, reason: why });
    slot.retryTimer = setTimeout(() => this.connect(slot), delay);
  }

  /**
   * Opens a new connection with the same streams beside the active one and switches once
   * it delivers data. Both deliver during the overlap, so the same frame can arrive
   * twice: consumers de-duplicate by id (trade/aggTrade id, depth update id, kline open
   * time), which they must do anyway across reconnects.
   */
  private rotate(slot: Slot, reason: string): void {
    if (this.stopped || slot.standby || slot.active?.state !== 'open') return;
    clearTimeout(slot.rotateTimer);
    slot.rotateTimer = undefined;
    slot.standby = this.openConn(slot, reason);
  }

  private promote(slot: Slot, conn: Conn): void {
    if (conn !== slot.standby) return;
    clearTimeout(conn.promoteTimer);
    const old = slot.active;
    slot.active = conn;
    slot.standby = undefined;
    slot.rotateAttempt = 0;
    this.report(slot, { state: 'open', attempt: 0, reason: `rotated to a new connection (${conn.rotation ?? 'rotation'})` });
    if (old) void this.closeConn(old, 'rotated');
  }

  private reconcileSlot(slot: Slot): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const c of [slot.active, slot.standby]) {
      if (c?.state !== 'open') continue;
      waits.push(new Promise((resolve) => c.waiters.push(resolve)));
      this.reconcile(slot, c);
    }
    return Promise.all(waits).then(() => undefined);
  }

  // ── connections ────────────────────────────────────────────────────────────

  private url(streams: readonly string[]): { url: string; inUrl: string[] } {
    const prefix = `${this.base}/stream?streams=`;
    const inUrl: string[] = [];
    let len = prefix.length;
    for (const s of streams) {
      if (inUrl.length > 0 && len + 1 + s.length > this.maxUrl) break;
      len += s.length + (inUrl.length > 0 ? 1 : 0);
      inUrl.push(s);
    }
    return { url: prefix + inUrl.join('/'), inUrl };
  }

  private openConn(slot: Slot, rotationReason?: string): Conn {
    const { url, inUrl } = this.url([...slot.desired]);
    const ws = new WebSocket(url, {
      agent: wsAgent(url, this.opts.net),
      handshakeTimeout: this.connectTimeoutMs,
      perMessageDeflate: false,
      // Binance pings every 20 s and wants the ping's payload back; ws answers by itself.
      // We never ping: unsolicited pings and pongs count against 5 messages/s.
      autoPong: true,
    });
    const conn = new Conn(ws, inUrl);
    conn.rotation = rotationReason;

    ws.on('open', () => this.onOpen(slot, conn));
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => this.onMessage(slot, conn, data, isBinary));
    ws.on('ping', () => {
      conn.alive = true;
      if (!conn.gotFrame) this.onFirstFrame(slot, conn);
    });
    ws.on('unexpected-response', (_req, res) => {
      conn.failure = httpFailure(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err: Error) => {
      conn.failure ??= networkFailure(err);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      const wasOpen = conn.state === 'open';
      conn.state = 'closed';
      this.clearConnTimers(conn);
      for (const w of conn.waiters.splice(0)) w();
      if (code === 1008) conn.failure ??= `closed by Binance for too many messages (1008 ${reason.toString()})`;
      const why =
        conn.closeReason ??
        conn.failure ??
        (wasOpen ? `connection closed (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''})` : 'connection failed');
      this.onConnClosed(slot, conn, why);
    });
    return conn;
  }

  private onOpen(slot: Slot, conn: Conn): void {
    if (this.stopped || (conn !== slot.active && conn !== slot.standby)) {
      conn.ws.terminate();
      return;
    }
    conn.state = 'open';
    conn.alive = true;
    const tick = Math.max(5, Math.floor(this.silenceMs / 4));
    conn.watchdog = setInterval(() => {
      if (conn.alive) {
        conn.alive = false;
        conn.idleTicks = 0;
      } else if (++conn.idleTicks >= 4) {
        conn.closeReason = `no frame or ping for ${this.silenceMs} ms`;
        conn.ws.terminate();
      }
    }, tick);
    conn.lifetimeTimer = setTimeout(() => {
      if (conn === slot.active) this.rotate(slot, 'connection lifetime');
    }, this.lifetimeMs);
    if (conn === slot.active) {
      this.report(slot, { state: 'open', attempt: slot.attempt });
      if (!slot.opened) {
        slot.opened = true;
        for (const w of slot.openWaiters.splice(0)) w.resolve();
      }
    }
    this.reconcile(slot, conn);
  }

  private onFirstFrame(slot: Slot, conn: Conn): void {
    conn.gotFrame = true;
    if (conn === slot.active) slot.attempt = 0;
  }

  private onMessage(slot: Slot, conn: Conn, data: WebSocket.RawData, isBinary: boolean): void {
    conn.alive = true;
    if (!conn.gotFrame) this.onFirstFrame(slot, conn);
    const recvTime = this.now();
    const sink = this.sink!;
    const text = isBinary || !Buffer.isBuffer(data) ? rawToString(data) : data.toString('utf8');
    if (sink.raw) {
      try {
        sink.raw(text, recvTime);
      } catch (err) {
        this.sinkFailed(err);
      }
    }
    let ev;
    try {
      ev = decodeFrame(text, this.opts.instruments);
    } catch (err) {
      this.reportError(err, text);
      return;
    }
    if (ev !== null) {
      if (!conn.gotData) {
        conn.gotData = true;
        if (conn === slot.standby && this.synced(slot, conn)) this.promote(slot, conn);
      }
      try {
        sink.event(ev, recvTime);
      } catch (err) {
        this.sinkFailed(err);
      }
      return;
    }
    this.onControl(slot, conn, text);
  }

  private onControl(slot: Slot, conn: Conn, text: string): void {
    const ctl = readControl(text);
    if (!ctl) return;
    if (ctl.kind === 'serverShutdown') {
      if (conn === slot.active) this.rotate(slot, 'serverShutdown');
      else if (conn === slot.standby) void this.closeConn(conn, 'serverShutdown on the new connection');
      return;
    }
    const pending = typeof ctl.id === 'number' ? conn.inflight.get(ctl.id) : undefined;
    if (ctl.kind === 'error') {
      const what = pending ? `${pending.method} ${pending.params.slice(0, 5).join(', ')}${pending.params.length > 5 ? ', …' : ''}` : 'a request';
      this.safe(() => this.sink?.error?.(`Binance refused ${what}: ${ctl.message}${ctl.code !== undefined ? ` (code ${ctl.code})` : ''}`, text));
      if (pending && typeof ctl.id === 'number') {
        conn.inflight.delete(ctl.id);
        if (pending.method === 'SUBSCRIBE') {
          // Refused streams (misspelt, delisted) are dropped rather than retried forever.
          for (const p of pending.params) {
            slot.desired.delete(p);
            conn.onServer.delete(p);
          }
        }
      }
    } else if (pending && typeof ctl.id === 'number') {
      conn.inflight.delete(ctl.id);
    }
    this.reconcile(slot, conn);
  }

  private synced(slot: Slot, conn: Conn): boolean {
    if (conn.inflight.size > 0 || conn.onServer.size !== slot.desired.size) return false;
    for (const s of slot.desired) if (!conn.onServer.has(s)) return false;
    return true;
  }

  /** Sends at most one control message now and schedules the next, one per controlIntervalMs. */
  private reconcile(slot: Slot, conn: Conn): void {
    if (conn.state !== 'open' || this.stopped) return;
    const toAdd: string[] = [];
    for (const s of slot.desired) if (!conn.onServer.has(s) && toAdd.push(s) >= this.maxParams) break;
    const toRemove: string[] = [];
    if (toAdd.length === 0) for (const s of conn.onServer) if (!slot.desired.has(s) && toRemove.push(s) >= this.maxParams) break;
    if (toAdd.length === 0 && toRemove.length === 0) {
      if (conn.inflight.size === 0) this.onSynced(slot, conn);
      return;
    }
    if (conn.controlTimer) return;
    const wait = conn.nextSendAt - performance.now();
    if (wait > 0) {
      conn.controlTimer = setTimeout(() => {
        conn.controlTimer = undefined;
        this.reconcile(slot, conn);
      }, Math.ceil(wait));
      return;
    }
    const method = toAdd.length > 0 ? 'SUBSCRIBE' : 'UNSUBSCRIBE';
    const params = toAdd.length > 0 ? toAdd : toRemove;
    const id = this.nextMsgId++;
    conn.inflight.set(id, { method, params });
    for (const p of params) {
      if (method === 'SUBSCRIBE') conn.onServer.add(p);
      else conn.onServer.delete(p);
    }
    conn.nextSendAt = performance.now() + this.controlMs;
    conn.ws.send(JSON.stringify({ method, params, id }));
    this.reconcile(slot, conn);
  }

  private onSynced(slot: Slot, conn: Conn): void {
    for (const w of conn.waiters.splice(0)) w();
    if (conn === slot.standby && !conn.promoteTimer) {
      if (conn.gotData) this.promote(slot, conn);
      // Streams that are quiet (a halted symbol) never send data: switch anyway after a while.
      else conn.promoteTimer = setTimeout(() => this.promote(slot, conn), this.silenceMs);
    }
  }

  private clearConnTimers(conn: Conn): void {
    clearTimeout(conn.controlTimer);
    clearInterval(conn.watchdog);
    clearTimeout(conn.lifetimeTimer);
    clearTimeout(conn.promoteTimer);
    conn.controlTimer = conn.watchdog = conn.lifetimeTimer = conn.promoteTimer = undefined;
  }

  /** Closes politely, and abruptly if the close handshake does not finish within 1 s. */
  private closeConn(conn: Conn, reason: string): Promise<void> {
    this.clearConnTimers(conn);
    conn.closeReason ??= reason;
    if (conn.state === 'closed') return Promise.resolve();
    return new Promise((resolve) => {
      const force = setTimeout(() => conn.ws.terminate(), 1000);
      conn.ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      if (conn.ws.readyState === WebSocket.OPEN) conn.ws.close(1000, reason.slice(0, 100));
      else conn.ws.terminate();
    });
  }

  private reportError(err: unknown, text: string): void {
    const e = err as { message?: string; hint?: string };
    const detail = text.length > 500 ? `${text.slice(0, 500)}…` : text;
    this.safe(() => this.sink?.error?.(`bad frame from Binance: ${e.message ?? String(err)}${e.hint ? ` (${e.hint})` : ''}`, detail));
  }

  private sinkFailed(err: unknown): void {
    this.safe(() => this.sink?.error?.(`market sink failed: ${(err as Error)?.message ?? String(err)}`, (err as Error)?.stack));
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch {
      // A failing status or error handler must not take the feed down.
    }
  }
}

function rawToString(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function httpFailure(status: number): string {
  if (status === 451) return 'HTTP 451: Binance refuses connections from this location; set a proxy (qtrade config set proxy http://HOST:PORT)';
  if (status === 418 || status === 429) return `HTTP ${status}: Binance is rate-limiting this IP; backing off`;
  if (status === 407) return 'HTTP 407: the proxy wants credentials; put them in the proxy URL (http://user:pass@host:port)';
  return `HTTP ${status} on the WebSocket handshake`;
}

function networkFailure(err: Error): string {
  const code = (err as { code?: string }).code;
  if (code === 'ECONNREFUSED') return `connection refused (${err.message})`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve the host (${err.message}); check the network or proxy`;
  return err.message;
}

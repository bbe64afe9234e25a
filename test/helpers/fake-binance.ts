/**
 * A fake Binance on 127.0.0.1: one HTTP server that hosts a real `ws` WebSocketServer
 * (combined streams at /stream?streams=a/b/c, raw streams at /ws/<name>) and hands
 * plain HTTP requests to a REST handler. Tests drive it: push frames, drop or silence
 * connections, ping, announce a shutdown, refuse connections, and inspect what every
 * client sent (streams, control messages with their arrival times, pongs).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { FakeUserData } from './fake-binance-account.js';

export type RestHandler = (req: IncomingMessage, res: ServerResponse, body: string) => boolean | Promise<boolean>;

export interface FakeBinanceOptions {
  /** Answers REST requests; return false (or leave unset) for a 404 `{"code":-1,"msg":...}`. */
  rest?: RestHandler;
  /**
   * Incoming messages (text, pings, pongs) a connection may send in any 1 s window before
   * it is closed with 1008 "Too many requests", as Binance does. Default 5.
   */
  maxIncomingPerSecond?: number;
  /** Reply to SUBSCRIBE/UNSUBSCRIBE/LIST_SUBSCRIPTIONS. Default true. */
  replyToControl?: boolean;
  /** Streams whose SUBSCRIBE is refused with an error reply (to test error handling). */
  invalidStreams?: (stream: string) => boolean;
  /**
   * Account events to deliver as user data streams: on `/ws/<listenKey>` connections (legacy
   * listenKey flow) and on `/ws-api/v3` WebSocket API connections that subscribed with
   * `userDataStream.subscribe.signature` (events wrapped as `{"subscriptionId", "event"}`).
   * Pass `createFakeRest({ account }).user`.
   */
  user?: FakeUserData;
  /** Server clock for WebSocket API timestamp checks. Default Date.now. */
  now?: () => number;
}

export interface ControlMessage {
  /** performance.now() at arrival. */
  time: number;
  text: string;
  method?: string;
  params?: unknown;
  id?: unknown;
}

export interface FakeConnection {
  readonly id: number;
  /** Request path and query as the client sent it. */
  readonly url: string;
  /** True for /stream (frames wrapped in {"stream","data"}), false for /ws/<name>. */
  readonly combined: boolean;
  /** Streams subscribed now: from the URL plus SUBSCRIBE minus UNSUBSCRIBE. */
  readonly streams: Set<string>;
  /** Streams the URL named. */
  readonly urlStreams: string[];
  /** Every text message the client sent, in order. */
  readonly control: ControlMessage[];
  readonly pongs: Array<{ time: number; payload: string }>;
  readonly pings: Array<{ time: number; payload: string }>;
  readonly openedAt: number;
  closedAt?: number;
  closeCode?: number;
  /** Frames sent to this connection (data and raw). */
  sent: number;
  readonly socket: WebSocket;
  /** True for a WebSocket API connection (/ws-api/v3). */
  readonly wsApi?: boolean;
  /** WebSocket API user data subscriptions: subscriptionId → API key. */
  readonly userSubscriptions?: Map<number, string>;
}

export interface ReplayFrame {
  stream: string;
  data: unknown;
}

export interface ReplayOptions {
  /** Send every Nth frame twice in a row (a client must de-duplicate by id). */
  duplicateEvery?: number;
  /** Drop every connection after every Nth frame, then wait for the client to come back. */
  dropConnectionEvery?: number;
  /**
   * 'close' (default) closes with 1001 after everything sent has been delivered, so the
   * frames lost are exactly `lostPerDrop`; 'terminate' cuts sockets abruptly and frames
   * still in flight may be lost too.
   */
  dropMode?: 'close' | 'terminate';
  /** Frames skipped right after each drop, as if sent while the client was away. Default 0. */
  lostPerDrop?: number;
  /** How long to wait for a subscriber before giving up. Default 10 s. */
  waitMs?: number;
  /** Frames per event-loop turn. Default 500. */
  batch?: number;
}

export interface ReplayStats {
  sent: number;
  duplicated: number;
  drops: number;
  /** Indexes of the frames skipped after drops. */
  lost: number[];
}

export interface FakeBinance {
  readonly port: number;
  /** ws://127.0.0.1:PORT */
  readonly wsUrl: string;
  /** http://127.0.0.1:PORT */
  readonly restUrl: string;
  /** Live connections. */
  readonly connections: FakeConnection[];
  /** Every connection ever accepted, closed ones included. */
  readonly history: FakeConnection[];
  readonly connectionCount: number;
  /** Every WebSocket upgrade request, refused ones included. */
  readonly connectAttempts: number;
  /** Sends `data` on `stream` to every connection subscribed to it; returns how many got it. */
  send(stream: string, data: unknown): number;
  /** Sends text as is to every live connection (or the given ones). */
  sendRaw(text: string, to?: FakeConnection[]): void;
  /** Terminates every socket abruptly (no close frame). */
  dropAll(): void;
  /** Closes every socket with a close frame after pending frames are delivered. */
  closeAll(code?: number, reason?: string): Promise<void>;
  /** While on, nothing at all is sent: frames, replies and pings are dropped. */
  silence(on: boolean): void;
  /** While set, upgrade requests are answered with this HTTP status (e.g. 503, 451). */
  refuse(status: number | false): void;
  /** Pings every live connection; resolves with the pongs' payloads once all answered. */
  ping(payload?: string, timeoutMs?: number): Promise<string[]>;
  /** Announces a shutdown on every live connection; optionally closes them after `closeAfterMs`. */
  serverShutdown(opts?: { shape?: 'event' | 'payload'; closeAfterMs?: number }): void;
  /** Resolves once `pred` holds (polled), rejects after `timeoutMs` naming `what`. */
  waitFor(pred: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  waitForSubscriber(stream: string, timeoutMs?: number): Promise<FakeConnection>;
  /** Sends many frames in order with optional duplicates and connection drops. */
  replay(frames: readonly ReplayFrame[], opts?: ReplayOptions): Promise<ReplayStats>;
  close(): Promise<void>;
}

export async function startFakeBinance(opts: FakeBinanceOptions = {}): Promise<FakeBinance> {
  const maxPerSecond = opts.maxIncomingPerSecond ?? 5;
  const replyToControl = opts.replyToControl ?? true;
  const live: FakeConnection[] = [];
  const history: FakeConnection[] = [];
  let attempts = 0;
  let silent = false;
  let refusing: number | false = false;
  let nextId = 1;
  const pending = new Set<ReturnType<typeof setTimeout>>();

  const server = createServer({ maxHeaderSize: 256 * 1024 }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      void (async () => {
        let handled = false;
        try {
          handled = opts.rest ? await opts.rest(req, res, body) : false;
        } catch (err) {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: -1000, msg: `fake REST handler threw: ${(err as Error).message}` }));
          return;
        }
        if (!handled && !res.writableEnded) {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: -1, msg: `fake Binance has no route for ${req.method} ${req.url}` }));
        }
      })();
    });
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    attempts++;
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://fake');
    let combined: boolean;
    let streams: string[];
    const wsApi = url.pathname === '/ws-api/v3';
    if (wsApi) {
      combined = false;
      streams = [];
    } else if (url.pathname === '/stream') {
      combined = true;
      streams = (url.searchParams.get('streams') ?? '').split('/').filter(Boolean);
    } else if (url.pathname.startsWith('/ws')) {
      combined = false;
      streams = url.pathname.slice(3).split('/').filter(Boolean);
    } else {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    if (refusing !== false) {
      const body = JSON.stringify({ code: -1, msg: 'refused by test' });
      socket.end(`HTTP/1.1 ${refusing} Refused\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const conn: FakeConnection = {
        id: nextId++,
        url: req.url ?? '/',
        combined,
        streams: new Set(streams),
        urlStreams: streams,
        control: [],
        pongs: [],
        pings: [],
        openedAt: performance.now(),
        sent: 0,
        socket: ws,
        ...(wsApi ? { wsApi: true, userSubscriptions: new Map<number, string>() } : {}),
      };
      live.push(conn);
      history.push(conn);
      const window: number[] = [];
      const countIncoming = (): boolean => {
        const t = performance.now();
        window.push(t);
        while (window.length > 0 && window[0]! <= t - 1000) window.shift();
        if (window.length > maxPerSecond) {
          ws.close(1008, 'Too many requests');
          return false;
        }
        return true;
      };
      ws.on('message', (data, isBinary) => {
        const text = isBinary ? '' : data.toString();
        const msg: ControlMessage = { time: performance.now(), text };
        conn.control.push(msg);
        if (!countIncoming()) return;
        let parsed: { method?: unknown; params?: unknown; id?: unknown };
        try {
          parsed = JSON.parse(text) as typeof parsed;
        } catch {
          reply(conn, { error: { code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' }, id: null });
          return;
        }
        msg.method = typeof parsed.method === 'string' ? parsed.method : undefined;
        msg.params = parsed.params;
        msg.id = parsed.id;
        if (conn.wsApi) {
          wsApiRequest(conn, parsed);
          return;
        }
        const params = Array.isArray(parsed.params) ? parsed.params.filter((p): p is string => typeof p === 'string') : [];
        switch (parsed.method) {
          case 'SUBSCRIBE': {
            const bad = params.filter((p) => opts.invalidStreams?.(p));
            if (bad.length > 0) {
              reply(conn, { error: { code: 2, msg: `Invalid request: invalid stream name ${bad[0]}` }, id: parsed.id ?? null });
              return;
            }
            for (const p of params) conn.streams.add(p);
            reply(conn, { result: null, id: parsed.id ?? null });
            return;
          }
          case 'UNSUBSCRIBE':
            for (const p of params) conn.streams.delete(p);
            reply(conn, { result: null, id: parsed.id ?? null });
            return;
          case 'LIST_SUBSCRIPTIONS':
            reply(conn, { result: [...conn.streams], id: parsed.id ?? null });
            return;
          default:
            reply(conn, { error: { code: 2, msg: 'Invalid request: unknown method' }, id: parsed.id ?? null });
        }
      });
      ws.on('pong', (data) => {
        conn.pongs.push({ time: performance.now(), payload: data.toString() });
        countIncoming();
      });
      ws.on('ping', (data) => {
        conn.pings.push({ time: performance.now(), payload: data.toString() });
        countIncoming();
      });
      ws.on('error', () => {});
      ws.on('close', (code) => {
        conn.closedAt = performance.now();
        conn.closeCode = code;
        const i = live.indexOf(conn);
        if (i !== -1) live.splice(i, 1);
      });
    });
  });

  let nextSubscriptionId = 0;
  function wsApiRequest(conn: FakeConnection, parsed: { method?: unknown; params?: unknown; id?: unknown }): void {
    const id = parsed.id ?? null;
    const params = (typeof parsed.params === 'object' && parsed.params !== null ? parsed.params : {}) as Record<string, unknown>;
    const fail = (status: number, code: number, msg: string) => reply(conn, { id, status, error: { code, msg } });
    switch (parsed.method) {
      case 'userDataStream.subscribe.signature': {
        if (!opts.user) return fail(400, -1, 'fake Binance: no account configured');
        const v = opts.user.verifyWsSignature(params, (opts.now ?? Date.now)());
        if ('code' in v) return fail(v.code === -2015 ? 401 : 400, v.code, v.msg);
        if ([...conn.userSubscriptions!.values()].includes(v.apiKey)) return fail(400, -2035, 'User Data Stream subscription already active.');
        const subscriptionId = nextSubscriptionId++;
        conn.userSubscriptions!.set(subscriptionId, v.apiKey);
        reply(conn, { id, status: 200, result: { subscriptionId } });
        return;
      }
      case 'userDataStream.unsubscribe': {
        const sid = params.subscriptionId;
        if (typeof sid === 'number') conn.userSubscriptions!.delete(sid);
        else conn.userSubscriptions!.clear();
        reply(conn, { id, status: 200, result: {} });
        return;
      }
      case 'session.subscriptions':
        reply(conn, { id, status: 200, result: [...conn.userSubscriptions!.keys()].map((subscriptionId) => ({ subscriptionId })) });
        return;
      default:
        fail(400, -1100, 'Illegal characters found in parameter \'method\'; legal range is \'^[a-zA-Z0-9._]{1,100}$\'.');
    }
  }

  function reply(conn: FakeConnection, body: unknown): void {
    if (!replyToControl || silent || conn.socket.readyState !== WebSocket.OPEN) return;
    conn.socket.send(JSON.stringify(body));
  }

  function sendTo(conn: FakeConnection, text: string): void {
    if (conn.socket.readyState !== WebSocket.OPEN) return;
    conn.socket.send(text);
    conn.sent++;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const unsubscribeUser = opts.user?.onEvent((apiKey, event) => {
    if (silent) return;
    for (const key of opts.user!.listenKeysOf(apiKey)) fake.send(key, event);
    for (const conn of live) {
      if (!conn.wsApi) continue;
      for (const [subscriptionId, k] of conn.userSubscriptions!) {
        if (k === apiKey) sendTo(conn, JSON.stringify({ subscriptionId, event }));
      }
    }
  });

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        pending.delete(t);
        resolve();
      }, ms);
      pending.add(t);
    });

  const fake: FakeBinance = {
    port,
    wsUrl: `ws://127.0.0.1:${port}`,
    restUrl: `http://127.0.0.1:${port}`,
    connections: live,
    history,
    get connectionCount() {
      return live.length;
    },
    get connectAttempts() {
      return attempts;
    },

    send(stream, data) {
      if (silent) return 0;
      let n = 0;
      let combinedText: string | undefined;
      let rawText: string | undefined;
      for (const conn of live) {
        if (!conn.streams.has(stream)) continue;
        if (conn.combined) sendTo(conn, (combinedText ??= JSON.stringify({ stream, data })));
        else sendTo(conn, (rawText ??= JSON.stringify(data)));
        n++;
      }
      return n;
    },

    sendRaw(text, to = live) {
      if (silent) return;
      for (const conn of to) sendTo(conn, text);
    },

    dropAll() {
      for (const conn of [...live]) conn.socket.terminate();
    },

    async closeAll(code = 1001, reason = 'going away') {
      await Promise.all(
        [...live].map(
          (conn) =>
            new Promise<void>((resolve) => {
              if (conn.socket.readyState === WebSocket.CLOSED) return resolve();
              conn.socket.once('close', () => resolve());
              conn.socket.close(code, reason);
            }),
        ),
      );
    },

    silence(on) {
      silent = on;
    },

    refuse(status) {
      refusing = status;
    },

    async ping(payload = `p${Math.random().toString(36).slice(2, 10)}`, timeoutMs = 2000) {
      const targets = live.filter((c) => c.socket.readyState === WebSocket.OPEN);
      const before = targets.map((c) => c.pongs.length);
      if (!silent) for (const c of targets) c.socket.ping(payload);
      await fake.waitFor(() => targets.every((c, i) => c.pongs.length > before[i]!), `pongs to ping "${payload}"`, timeoutMs);
      return targets.map((c) => c.pongs[c.pongs.length - 1]!.payload);
    },

    serverShutdown({ shape = 'event', closeAfterMs } = {}) {
      const E = Date.now();
      const text = shape === 'event' ? JSON.stringify({ event: { e: 'serverShutdown', E } }) : JSON.stringify({ e: 'serverShutdown', E });
      const targets = [...live];
      for (const conn of targets) sendTo(conn, text);
      if (closeAfterMs !== undefined) {
        const t = setTimeout(() => {
          pending.delete(t);
          for (const conn of targets) conn.socket.close(1001, 'server shutdown');
        }, closeAfterMs);
        pending.add(t);
      }
    },

    async waitFor(pred, what, timeoutMs = 5000) {
      const deadline = performance.now() + timeoutMs;
      while (!pred()) {
        if (performance.now() > deadline) throw new Error(`fake Binance: timed out after ${timeoutMs} ms waiting for ${what}`);
        await sleep(5);
      }
    },

    async waitForSubscriber(stream, timeoutMs = 5000) {
      let found: FakeConnection | undefined;
      await fake.waitFor(
        () => (found = live.find((c) => c.streams.has(stream) && c.socket.readyState === WebSocket.OPEN)) !== undefined,
        `a connection subscribed to ${stream}`,
        timeoutMs,
      );
      return found!;
    },

    async replay(frames, ro = {}) {
      const stats: ReplayStats = { sent: 0, duplicated: 0, drops: 0, lost: [] };
      const batch = ro.batch ?? 500;
      const waitMs = ro.waitMs ?? 10_000;
      let inTurn = 0;
      for (let i = 0; i < frames.length; i++) {
        const f = frames[i]!;
        if (!live.some((c) => c.streams.has(f.stream) && c.socket.readyState === WebSocket.OPEN)) {
          await fake.waitForSubscriber(f.stream, waitMs);
        }
        fake.send(f.stream, f.data);
        stats.sent++;
        if (ro.duplicateEvery && (i + 1) % ro.duplicateEvery === 0) {
          fake.send(f.stream, f.data);
          stats.duplicated++;
        }
        if (ro.dropConnectionEvery && (i + 1) % ro.dropConnectionEvery === 0 && i + 1 < frames.length) {
          if (ro.dropMode === 'terminate') fake.dropAll();
          else await fake.closeAll(1001, 'replay drop');
          stats.drops++;
          for (let k = 0; k < (ro.lostPerDrop ?? 0) && i + 1 < frames.length; k++) stats.lost.push(++i);
          inTurn = 0;
          continue;
        }
        if (++inTurn >= batch) {
          inTurn = 0;
          await new Promise<void>((r) => setImmediate(r));
        }
      }
      return stats;
    },

    async close() {
      unsubscribeUser?.();
      for (const t of pending) clearTimeout(t);
      pending.clear();
      for (const conn of [...live]) conn.socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}

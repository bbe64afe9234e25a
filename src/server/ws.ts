import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Topic, Topics } from '../engine/bus.js';
import type { Instrument } from '../engine/market/types.js';
import { browserRefusal, toApiError } from './http.js';
import {
  aggTradeJson,
  alertFiredJson,
  BookSideShadow,
  bookTickerJson,
  depthUpdateJson,
  errorJson,
  ExecutionReports,
  fillEventJson,
  klineJson,
  miniTickerJson,
  partialDepthJson,
  positionsJson,
  resultJson,
  riskStateJson,
  tradeJson,
  type RequestId,
} from './stream-payloads.js';
import { ApiErrors, scopeAllows, type DaemonContext, type Principal, type Scope } from './types.js';

/**
 * The daemon's WebSocket streams, speaking Binance's market-stream protocol: raw streams at `/ws` and
 * `/ws/<name>`, combined ones at `/stream?streams=a/b/c` (wrapped as {"stream","data"}), SUBSCRIBE /
 * UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY with Binance's replies, and private
 * streams of the paper account (`orders`, `fills`, `positions`, `risk`) and `alerts` for clients whose token
 * allows them.
 *
 * Fan-out: the server subscribes to each bus topic once. An event is encoded once per stream name
 * and framed once (raw and, when someone wants it, wrapped). Clients with the same streams and
 * framing form a group, and a frame is queued once per group, not once per client: publishing costs
 * the same for one subscriber or thousands. Rounds of writes (see `step`) visit the members of the
 * groups published to; each member gets, in one write, every frame since its last write (a view of
 * the group's frames joined once), so a burst costs one write per client, not one per message. A
 * client's control replies, and what it was owed by a group it left, queue on the client itself and
 * go out ahead of its share of the group's frames, in the order they arose.
 *
 * Bounded memory: at each write, a client's socket buffer plus what it is owed is checked against
 * `maxBufferedBytes`; a client over it is closed with 1008 "slow consumer: N bytes buffered" and
 * nothing more is written to it. A client therefore gets every message of its streams in order, or
 * is closed with a reason; nothing is dropped silently. A group holds one copy of the frames not yet
 * written to all its members (about one round's worth) whatever its size.
 */

export interface StreamServerOptions {
  /** Socket buffer + queue a client may have before it is closed as a slow consumer. Default 4 MiB. */
  maxBufferedBytes?: number;
  /** Server ping period; a client that has not answered the previous ping is terminated. Default 20 s. */
  pingIntervalMs?: number;
  /** Streams per connection (Binance's limit). Default 1024. */
  maxStreams?: number;
  /** Largest control message answered; longer ones get an error reply. Default 64 KiB. */
  maxMessageBytes?: number;
  /** Scope a token needs for the private streams. Default read. */
  privateScope?: Scope;
  /** How long close() waits for clients to finish the closing handshake. Default 2 s. */
  closeTimeoutMs?: number;
  /**
   * Least time between the starts of two rounds of writes to the clients. A message after a quiet
   * spell goes out at once; under a steady stream, messages arriving within this interval share one
   * write per client (one syscall instead of several). With many clients a round takes longer than
   * this and rounds follow each other. Default 2 ms; 0 starts the next round at the end of the turn.
   */
  flushIntervalMs?: number;
}

export interface StreamServerStats {
  clients: number;
  /** Control messages answered with an error (bad JSON, unknown method, bad params, too large...). */
  malformed: number;
  /** Clients closed as slow consumers. */
  slow: number;
  /** Clients terminated for not answering a ping. */
  pongTimeouts: number;
  /** Frames queued for clients. */
  sent: number;
}

export interface StreamServer {
  clients(): number;
  stats(): StreamServerStats;
  /** Stops accepting, closes every client with 1001 "daemon stopping" and waits for them (bounded). */
  close(): Promise<void>;
}

const KiB = 1024;
const MiB = 1024 * KiB;
/** ws refuses frames beyond this outright (close 1009); up to it a too-long message gets an error reply. */
const HARD_PAYLOAD_LIMIT = 1 * MiB;
const DEFAULT_FLUSH_INTERVAL_MS = 2;
/** Clients written per event-loop turn during a round (~0.3-0.5 ms of socket writes). */
const CHUNK = 32;
/**
 * Rounds start at least this many times their last duration apart, when writing takes longer than
 * flushIntervalMs: the stream server then takes about two thirds of a core however many clients
 * there are, and messages share more of each write. Back to back (1) left the clients (on this 2-CPU
 * bench machine, in the same box) without CPU and raised the p99; 2 made the wait between rounds
 * the larger part of it.
 */
const ROUND_SPACING = 1.5;
const PRIVATE = ['orders', 'fills', 'positions', 'risk', 'alerts'] as const;
type PrivateName = (typeof PRIVATE)[number];
const METHODS = ['SUBSCRIBE', 'UNSUBSCRIBE', 'LIST_SUBSCRIPTIONS', 'SET_PROPERTY', 'GET_PROPERTY'];
const ID_STRING = /^[A-Za-z0-9]{1,36}$/;
/** Binance's stream intervals; only 1m is published by the engine. */
const KLINE_INTERVALS = new Set(['1s', '1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1M']);
const SPEEDS = new Set(['', '@100ms', '@1000ms']);

type Spec =
  | { kind: 'aggTrade' | 'trade' | 'kline' | 'bookTicker' | 'miniTicker' | 'depth'; symbol: string }
  | { kind: 'partialDepth'; symbol: string; levels: number }
  | { kind: PrivateName };

/** One stream name and who listens to it. */
interface Stream {
  readonly name: string;
  readonly spec: Spec;
  readonly subscribers: Set<Client>;
  /** The groups of its subscribers: a frame of this stream is queued once for each. */
  readonly groups: Set<Group>;
}

/** Clients with the same set of streams and the same framing (raw or combined): they are owed the same frames. */
interface Group {
  readonly key: string;
  readonly combined: boolean;
  readonly streams: readonly Stream[];
  readonly members: Set<Client>;
  /** Frames not yet written to every member, numbered from `base`: frames[i] is frame base + i. */
  frames: Buffer[];
  /** Where each of those ends in everything the group has published (bytes); frame `base` starts at baseBytes. */
  ends: number[];
  base: number;
  baseBytes: number;
  /** The retained frames joined, until the next publish or trim. */
  joined: Buffer | undefined;
  /** Waiting for the next round. */
  queued: boolean;
}

/** The streams of one symbol, for the hot paths (one Map lookup per event). */
interface SymbolStreams {
  instrument: Instrument;
  aggTrade?: Stream;
  trade?: Stream;
  kline?: Stream;
  bookTicker?: Stream;
  miniTicker?: Stream;
  /** depth, depth@100ms, depth@1000ms: one diff, several names. */
  depth: Stream[];
  partial: Stream[];
  shadow?: { bids: BookSideShadow; asks: BookSideShadow; lastUpdateId: number | undefined };
}

interface Client {
  readonly ws: WebSocket;
  readonly socket: Duplex;
  readonly principal: Principal;
  combined: boolean;
  /** Subscription order is LIST_SUBSCRIPTIONS' order. */
  readonly streams: Map<string, Stream>;
  group: Group | undefined;
  /** Number of the next frame of its group it is owed (everything before was written to it). */
  from: number;
  /** Owed ahead of that share: control replies, and frames of a group it left since the last flush. */
  own: Buffer[];
  ownBytes: number;
  ownQueued: boolean;
  alive: boolean;
  closed: boolean;
}

/** A complete unmasked text frame (server to client, RFC 6455 §5.2). */
function textFrame(text: string): Buffer {
  const len = Buffer.byteLength(text);
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const buf = Buffer.allocUnsafe(head + len);
  buf[0] = 0x81;
  if (len < 126) buf[1] = len;
  else if (len < 65536) {
    buf[1] = 126;
    buf.writeUInt16BE(len, 2);
  } else {
    buf[1] = 127;
    buf.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    buf.writeUInt32BE(len >>> 0, 6);
  }
  buf.write(text, head, 'utf8');
  return buf;
}

class RequestError extends Error {
  constructor(
    readonly code: number,
    msg: string,
  ) {
    super(msg);
  }
}

const invalid = (why: string): RequestError => new RequestError(2, `Invalid request: ${why}`);

/** A stream the connection's token may not read: an error reply, or 403 at the upgrade. */
class ScopeError extends RequestError {}

export function attachStreams(server: Server, ctx: DaemonContext, opts: StreamServerOptions = {}): StreamServer {
  const maxBuffered = opts.maxBufferedBytes ?? 4 * MiB;
  const pingMs = opts.pingIntervalMs ?? 20_000;
  const maxStreams = opts.maxStreams ?? 1024;
  const maxMessage = opts.maxMessageBytes ?? 64 * KiB;
  const privateScope = opts.privateScope ?? 'read';
  const closeTimeout = opts.closeTimeoutMs ?? 2_000;
  const flushInterval = opts.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
  const node = ctx.node;

  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false, maxPayload: Math.max(HARD_PAYLOAD_LIMIT, maxMessage) });
  const clients = new Set<Client>();
  const streams = new Map<string, Stream>();
  const bySymbol = new Map<string, SymbolStreams>();
  const privates: Partial<Record<PrivateName, Stream>> = {};
  const stats: StreamServerStats = { clients: 0, malformed: 0, slow: 0, pongTimeouts: 0, sent: 0 };
  let closing = false;

  // ---------------------------------------------------------------- sending

  const groups = new Map<string, Group>();
  /** Groups published to since their members were last visited: the next round visits them. */
  const dirtyGroups: Group[] = [];
  const dirtyClients: Client[] = [];
  /** The round in progress: the members of the groups it started with, visited CHUNK at a time. */
  let round: Client[] = [];
  let roundPos = 0;
  let stepScheduled = false;
  let lastRound = -Infinity;
  let lastRoundCost = 0;

  const writable = (c: Client): boolean => !c.closed && c.ws.readyState === WebSocket.OPEN && !c.socket.destroyed;

  /** Writes `bytes` to the client, unless that would take it over maxBuffered: then it is closed as slow. */
  const write = (c: Client, data: Buffer): void => {
    // The socket's own buffer is ws's bufferedAmount here (ws queues nothing itself without compression).
    const buffered = c.socket.writableLength + data.length;
    if (buffered > maxBuffered) closeSlow(c, buffered);
    else c.socket.write(data);
  };

  /** Number of the group's next frame. */
  const head = (g: Group): number => g.base + g.frames.length;
  /** Where frame `i` (base ≤ i ≤ head) starts in the group's output. */
  const offset = (g: Group, i: number): number => (i === g.base ? g.baseBytes : g.ends[i - 1 - g.base]!);

  /** Frames `from`..head as one buffer: a view of the group's retained frames, joined once per publish. */
  const share = (g: Group, from: number): Buffer => {
    if (g.joined === undefined) g.joined = g.frames.length === 1 ? g.frames[0]! : Buffer.concat(g.frames);
    return from === g.base ? g.joined : g.joined.subarray(offset(g, from) - g.baseBytes);
  };

  /** Forgets the frames every member has been written. */
  const trim = (g: Group): void => {
    let min = head(g);
    for (const c of g.members) if (c.from < min) min = c.from;
    if (min === g.base) return;
    const n = min - g.base;
    g.baseBytes = g.ends[n - 1]!;
    g.frames.splice(0, n);
    g.ends.splice(0, n);
    g.base = min;
    g.joined = undefined;
  };

  /** Brings one client up to date with its group: everything since its last write, in one write. */
  const catchUp = (c: Client): void => {
    const g = c.group;
    if (g === undefined) return;
    const n = head(g);
    if (c.from < n && writable(c)) write(c, share(g, c.from));
    c.from = n;
  };

  /** Clients with frames of their own (replies, what a group they left owed them): those, then their group's share. */
  const writeOwn = (): void => {
    for (const c of dirtyClients) {
      c.ownQueued = false;
      const own = c.own;
      c.own = [];
      c.ownBytes = 0;
      const g = c.group;
      if (g !== undefined && c.from < head(g)) {
        own.push(share(g, c.from));
        c.from = head(g);
      }
      if (own.length > 0 && writable(c)) write(c, own.length === 1 ? own[0]! : Buffer.concat(own));
    }
    dirtyClients.length = 0;
  };

  /**
   * Writing is a round over the members of every group published to, CHUNK clients per event-loop
   * turn. A client gets, in one write, everything its group published since its last write, up to
   * the moment of this write: messages published while a round is under way are picked up by the
   * clients it has not reached yet and by the next round. A message therefore waits at most about
   * one round (~10 µs of CPU per socket write, mostly the kernel's, times the clients), where
   * writing frozen batches made it wait for the batch in progress and then its place in the next.
   * Between chunks the loop runs the feed, HTTP requests and replies. `limit` Infinity writes
   * everything now (close()).
   */
  const step = (limit: number): void => {
    stepScheduled = false;
    writeOwn();
    if (roundPos === round.length) {
      round = [];
      roundPos = 0;
      if (dirtyGroups.length === 0) return;
      lastRound = performance.now();
      for (const g of dirtyGroups) {
        g.queued = false;
        trim(g);
        for (const c of g.members) if (c.from < head(g)) round.push(c);
      }
      dirtyGroups.length = 0;
    }
    const end = Math.min(round.length, roundPos + limit);
    while (roundPos < end) catchUp(round[roundPos++]!);
    if (roundPos < round.length) {
      stepScheduled = true;
      setImmediate(step, CHUNK);
      return;
    }
    lastRoundCost = performance.now() - lastRound;
    if (dirtyGroups.length > 0 || dirtyClients.length > 0) scheduleFlush();
  };

  /**
   * Starts writing: at once after a quiet spell, otherwise flushIntervalMs after the last round
   * started, so messages arriving within it share one write per client. Nothing to do while a round
   * is under way: its next chunk takes what was queued.
   */
  const scheduleFlush = (): void => {
    if (stepScheduled || roundPos < round.length) return;
    stepScheduled = true;
    const wait = lastRound + Math.max(flushInterval, ROUND_SPACING * lastRoundCost) - performance.now();
    if (wait <= 0) setImmediate(step, CHUNK);
    else setTimeout(step, wait, CHUNK);
  };

  /** Writes everything owed now, synchronously. */
  const flushAll = (): void => {
    while (roundPos < round.length || dirtyGroups.length > 0 || dirtyClients.length > 0) step(Infinity);
  };

  /** Moves what the client is owed by its group so far onto its own queue (before a reply, or leaving the group). */
  const takeShare = (c: Client): void => {
    const g = c.group;
    if (g === undefined) return;
    const n = head(g);
    if (c.from < n) {
      for (let i = c.from; i < n; i++) c.own.push(g.frames[i - g.base]!);
      c.ownBytes += offset(g, n) - offset(g, c.from);
      markOwn(c);
    }
    c.from = n;
  };

  const markOwn = (c: Client): void => {
    if (c.ownQueued) return;
    c.ownQueued = true;
    dirtyClients.push(c);
    scheduleFlush();
  };

  const reply = (c: Client, text: string): void => {
    if (c.closed) return;
    takeShare(c);
    const frame = textFrame(text);
    c.own.push(frame);
    c.ownBytes += frame.length;
    stats.sent++;
    markOwn(c);
  };

  const leaveGroup = (c: Client): void => {
    const g = c.group;
    if (g === undefined) return;
    c.group = undefined;
    c.from = 0;
    g.members.delete(c);
    if (g.members.size > 0) return;
    for (const s of g.streams) s.groups.delete(g);
    groups.delete(g.key);
  };

  /** Puts the client in the group of its current streams and framing, after a change of either. */
  const regroup = (c: Client): void => {
    const key = c.streams.size === 0 ? undefined : `${c.combined ? 'combined' : 'raw'} ${[...c.streams.keys()].sort().join('/')}`;
    if (c.group?.key === key) return;
    takeShare(c);
    leaveGroup(c);
    if (key === undefined || c.closed) return;
    let g = groups.get(key);
    if (g === undefined) {
      g = { key, combined: c.combined, streams: [...c.streams.values()], members: new Set(), frames: [], ends: [], base: 0, baseBytes: 0, joined: undefined, queued: false };
      groups.set(key, g);
      for (const s of g.streams) s.groups.add(g);
    }
    g.members.add(c);
    c.group = g;
    c.from = head(g);
  };

  /** Queues one encoded payload for every group subscribed to `s`, framed at most once per form. */
  const publish = (s: Stream | undefined, payload: string): void => {
    if (!s || s.groups.size === 0) return;
    let raw: Buffer | undefined;
    let wrapped: Buffer | undefined;
    for (const g of s.groups) {
      const frame = g.combined ? (wrapped ??= textFrame(`{"stream":"${s.name}","data":${payload}}`)) : (raw ??= textFrame(payload));
      g.ends.push(offset(g, head(g)) + frame.length);
      g.frames.push(frame);
      g.joined = undefined;
      stats.sent += g.members.size;
      if (!g.queued) {
        g.queued = true;
        dirtyGroups.push(g);
        scheduleFlush();
      }
    }
  };

  const wanted = (s: Stream | undefined): s is Stream => s !== undefined && s.subscribers.size > 0;

  // ---------------------------------------------------------------- closing clients

  const detach = (c: Client): void => {
    if (c.closed) return;
    c.closed = true;
    c.own = [];
    c.ownBytes = 0;
    leaveGroup(c);
    for (const s of c.streams.values()) unsubscribeOne(c, s);
    c.streams.clear();
  };

  const closeSlow = (c: Client, buffered: number): void => {
    detach(c);
    stats.slow++;
    ctx.counters.wsDropped('slow');
    const reason = `slow consumer: ${buffered} bytes buffered`;
    ctx.log.warn({ buffered, limit: maxBuffered, principal: c.principal.name }, `WebSocket client closed: ${reason}`);
    c.ws.close(1008, reason);
  };

  // ---------------------------------------------------------------- stream names

  const feedHas = (ch: string): boolean => (node.channels() as string[]).includes(ch);

  /** A stream name → its canonical name and spec; throws RequestError naming what is wrong. */
  const parseName = (raw: unknown, principal: Principal): { name: string; spec: Spec } => {
    if (typeof raw !== 'string' || raw.length === 0 || raw.length > 100) throw invalid(`stream names are non-empty strings of at most 100 characters, got ${JSON.stringify(raw)?.slice(0, 120)}`);
    if ((PRIVATE as readonly string[]).includes(raw)) {
      const name = raw as PrivateName;
      if (!scopeAllows(principal.scope, privateScope)) throw new ScopeError(2, `Invalid request: stream "${name}" needs a token with scope ${privateScope} (this connection has ${principal.scope})`);
      return { name, spec: { kind: name } };
    }
    const at = raw.indexOf('@');
    if (at <= 0) throw invalid(`"${raw}" is not a stream name: use <symbol>@<stream> (e.g. btcusdt@aggTrade) or one of ${PRIVATE.join(', ')}`);
    const sym = raw.slice(0, at).toUpperCase();
    const rest = raw.slice(at + 1);
    const lower = rest.toLowerCase();
    if (!node.instruments.has(sym)) throw invalid(`unknown symbol "${raw.slice(0, at)}" in "${raw}"`);
    if (!node.symbols().includes(sym)) {
      throw invalid(`${sym.toLowerCase()} is not on this daemon's feed (it carries ${node.symbols().map((s) => s.toLowerCase()).join(', ')}); restart it with the symbol in --symbols`);
    }
    const s = sym.toLowerCase();
    const needs = (ch: string[], what: string): void => {
      if (!ch.some(feedHas)) throw invalid(`"${raw}": the daemon's feed does not carry ${what} (channels: ${node.channels().join(', ')})`);
    };
    if (lower === 'aggtrade' || lower === 'trade') {
      needs(['aggTrade', 'trade'], 'trades');
      const kind = lower === 'aggtrade' ? 'aggTrade' : 'trade';
      return { name: `${s}@${kind}`, spec: { kind, symbol: sym } };
    }
    if (lower.startsWith('kline_')) {
      const interval = rest.slice(6);
      if (!KLINE_INTERVALS.has(interval)) throw invalid(`"${raw}": unknown kline interval "${interval}"`);
      if (interval !== '1m') throw invalid(`"${raw}": only 1m klines are streamed (the engine builds 1m candles); aggregate them, or read other intervals from GET /api/v3/klines`);
      needs(['aggTrade', 'trade'], 'trades to build klines from');
      return { name: `${s}@kline_1m`, spec: { kind: 'kline', symbol: sym } };
    }
    if (lower === 'bookticker') {
      needs(['bookTicker'], 'book tickers');
      return { name: `${s}@bookTicker`, spec: { kind: 'bookTicker', symbol: sym } };
    }
    if (lower === 'miniticker') {
      needs(['miniTicker'], 'mini tickers');
      return { name: `${s}@miniTicker`, spec: { kind: 'miniTicker', symbol: sym } };
    }
    const depth = /^depth(5|10|20)?(@100ms|@1000ms)?$/.exec(lower);
    if (depth && SPEEDS.has(depth[2] ?? '')) {
      needs(['depth'], 'diff depth (no local order book)');
      const speed = depth[2] ?? '';
      if (depth[1] === undefined) return { name: `${s}@depth${speed}`, spec: { kind: 'depth', symbol: sym } };
      const levels = Number(depth[1]);
      return { name: `${s}@depth${levels}${speed}`, spec: { kind: 'partialDepth', symbol: sym, levels } };
    }
    throw invalid(`"${raw}": unsupported stream; this daemon serves @aggTrade, @trade, @kline_1m, @bookTicker, @miniTicker, @depth, @depth5/10/20 and ${PRIVATE.join(', ')}`);
  };

  // ---------------------------------------------------------------- subscriptions

  const symbolStreams = (sym: string): SymbolStreams => {
    let e = bySymbol.get(sym);
    if (!e) bySymbol.set(sym, (e = { instrument: node.instruments.get(sym), depth: [], partial: [] }));
    return e;
  };

  const streamFor = (name: string, spec: Spec): Stream => {
    let s = streams.get(name);
    if (s) return s;
    s = { name, spec, subscribers: new Set(), groups: new Set() };
    streams.set(name, s);
    if ('symbol' in spec) {
      const e = symbolStreams(spec.symbol);
      switch (spec.kind) {
        case 'depth':
          if (e.depth.length === 0) e.shadow = newShadow(spec.symbol);
          e.depth.push(s);
          break;
        case 'partialDepth':
          e.partial.push(s);
          break;
        default:
          e[spec.kind] = s;
      }
    } else privates[spec.kind] = s;
    return s;
  };

  /** The book as diff subscribers start from: their REST snapshot comes from the same local book. */
  const newShadow = (sym: string): NonNullable<SymbolStreams['shadow']> => {
    const sh = { bids: new BookSideShadow(true), asks: new BookSideShadow(false), lastUpdateId: undefined as number | undefined };
    const book = node.kernel.orderBook(sym);
    if (book && book.status === 'synced') {
      sh.bids.reset(book.levels('bid', Infinity));
      sh.asks.reset(book.levels('ask', Infinity));
      sh.lastUpdateId = book.lastUpdateId;
    }
    return sh;
  };

  const dropStream = (s: Stream): void => {
    streams.delete(s.name);
    const spec = s.spec;
    if (!('symbol' in spec)) {
      delete privates[spec.kind];
      return;
    }
    const e = bySymbol.get(spec.symbol);
    if (!e) return;
    if (spec.kind === 'depth') {
      e.depth = e.depth.filter((x) => x !== s);
      if (e.depth.length === 0) e.shadow = undefined;
    } else if (spec.kind === 'partialDepth') e.partial = e.partial.filter((x) => x !== s);
    else if (e[spec.kind] === s) e[spec.kind] = undefined;
    if (!e.aggTrade && !e.trade && !e.kline && !e.bookTicker && !e.miniTicker && e.depth.length === 0 && e.partial.length === 0) bySymbol.delete(spec.symbol);
  };

  const subscribeOne = (c: Client, name: string, spec: Spec): void => {
    if (c.streams.has(name)) return;
    const s = streamFor(name, spec);
    s.subscribers.add(c);
    c.streams.set(name, s);
  };

  function unsubscribeOne(c: Client, s: Stream): void {
    s.subscribers.delete(c);
    if (s.subscribers.size === 0) dropStream(s);
  }

  /** Validates every name first: a request with one bad name changes nothing. */
  const subscribe = (c: Client, names: readonly unknown[]): void => {
    const parsed = names.map((n) => parseName(n, c.principal));
    const fresh = new Set(parsed.map((p) => p.name).filter((n) => !c.streams.has(n)));
    if (c.streams.size + fresh.size > maxStreams) throw invalid(`too many streams: a connection may subscribe to at most ${maxStreams} (it has ${c.streams.size}, asked for ${fresh.size} more)`);
    for (const p of parsed) subscribeOne(c, p.name, p.spec);
    regroup(c);
  };

  const unsubscribe = (c: Client, names: readonly unknown[]): void => {
    const parsed = names.map((n) => {
      if (typeof n !== 'string') throw invalid(`stream names are strings, got ${JSON.stringify(n)?.slice(0, 120)}`);
      return n;
    });
    for (const n of parsed) {
      // Canonical or as given: a name that is not subscribed is not an error (as on Binance).
      const s = c.streams.get(n) ?? c.streams.get(canonical(n, c.principal));
      if (!s) continue;
      c.streams.delete(s.name);
      unsubscribeOne(c, s);
    }
    regroup(c);
  };

  const canonical = (n: string, p: Principal): string => {
    try {
      return parseName(n, p).name;
    } catch {
      return n;
    }
  };

  // ---------------------------------------------------------------- control messages

  const readId = (v: Record<string, unknown>): RequestId => {
    const id = v.id;
    if (id === null) return null;
    if (typeof id === 'number' && Number.isSafeInteger(id)) return id;
    if (typeof id === 'string' && ID_STRING.test(id)) return id;
    throw invalid('request ID must be an integer, an alphanumeric string of at most 36 characters, or null');
  };

  const paramsOf = (v: Record<string, unknown>, method: string): unknown[] => {
    const p = v.params;
    if (p === undefined) return [];
    if (!Array.isArray(p)) throw invalid(`${method} params must be an array`);
    return p;
  };

  const handle = (c: Client, v: Record<string, unknown>): unknown => {
    const method = v.method;
    if (method === undefined) throw invalid('missing field `method`');
    if (typeof method !== 'string' || !METHODS.includes(method)) {
      throw invalid(`unknown variant ${JSON.stringify(method)?.slice(0, 60)}, expected one of ${METHODS.map((m) => `\`${m}\``).join(', ')}`);
    }
    const params = paramsOf(v, method);
    switch (method) {
      case 'SUBSCRIBE':
      case 'UNSUBSCRIBE':
        if (params.length === 0) throw invalid(`${method} needs params: an array of stream names`);
        if (params.length > maxStreams) throw invalid(`too many parameters (at most ${maxStreams} streams)`);
        if (method === 'SUBSCRIBE') subscribe(c, params);
        else unsubscribe(c, params);
        return null;
      case 'LIST_SUBSCRIPTIONS':
        if (params.length > 0) throw invalid('too many parameters');
        return [...c.streams.keys()];
      case 'SET_PROPERTY': {
        if (params.length !== 2) throw invalid('SET_PROPERTY params are ["combined", true|false]');
        if (typeof params[0] !== 'string') throw invalid('property name must be a string');
        if (params[0] !== 'combined') throw new RequestError(0, 'Unknown property');
        if (typeof params[1] !== 'boolean') throw new RequestError(1, 'Invalid value type: expected Boolean');
        c.combined = params[1];
        regroup(c);
        return null;
      }
      default: {
        if (params.length !== 1) throw invalid('GET_PROPERTY params are ["combined"]');
        if (typeof params[0] !== 'string') throw invalid('property name must be a string');
        if (params[0] !== 'combined') throw new RequestError(0, 'Unknown property');
        return c.combined;
      }
    }
  };

  const onMessage = (c: Client, data: RawData, isBinary: boolean): void => {
    if (c.closed) return;
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    let id: RequestId = null;
    let label = 'WS invalid';
    try {
      if (isBinary) throw new RequestError(3, 'Invalid JSON: binary frames are not accepted; send JSON text');
      if (size > maxMessage) throw invalid(`message of ${size} bytes is over the ${maxMessage}-byte limit`);
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch (err) {
        throw new RequestError(3, `Invalid JSON: ${(err as Error).message}`);
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid('expected a JSON object {"method": ..., "params": [...], "id": ...}');
      const obj = v as Record<string, unknown>;
      id = readId(obj);
      if (typeof obj.method === 'string' && METHODS.includes(obj.method)) label = `WS ${obj.method}`;
      const result = handle(c, obj);
      ctx.counters.request(label, 200);
      reply(c, resultJson(result, id));
    } catch (err) {
      if (!(err instanceof RequestError)) {
        ctx.log.error({ err: (err as Error)?.message }, 'WebSocket request failed');
      }
      const e = err instanceof RequestError ? err : new RequestError(2, 'Invalid request: internal error');
      stats.malformed++;
      ctx.counters.request(label, 400);
      reply(c, errorJson(e.code, e.message, id));
    }
  };

  // ---------------------------------------------------------------- connections

  const refuse = (socket: Duplex, status: number, body: { code: number; msg: string }): void => {
    const text = JSON.stringify(body);
    ctx.counters.request('WS upgrade', status);
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: application/json;charset=UTF-8\r\n` +
        `content-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
    );
  };

  const tokenOf = (req: IncomingMessage, url: URL): string | undefined => {
    const h = req.headers.authorization;
    if (h !== undefined && h !== '') {
      const m = /^Bearer\s+(\S+)$/i.exec(h);
      if (!m) throw ApiErrors.unauthorized('Authorization must be "Bearer <token>"');
      return m[1];
    }
    return url.searchParams.get('token') ?? url.searchParams.get('listenKey') ?? undefined;
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => {});
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://daemon');
    } catch {
      refuse(socket, 400, { code: -1100, msg: 'Illegal characters found in the request URL.' });
      return;
    }
    const path = url.pathname;
    let combined: boolean;
    let names: string[];
    if (path === '/stream') {
      combined = true;
      names = (url.searchParams.get('streams') ?? '').split('/').filter(Boolean);
    } else if (path === '/ws' || path.startsWith('/ws/')) {
      combined = false;
      names = path.slice(3).split('/').filter(Boolean).map((n) => decodeURIComponentSafe(n));
    } else {
      refuse(socket, 404, { code: -1020, msg: `${path} is not a WebSocket endpoint of this daemon (use /ws, /ws/<stream> or /stream?streams=a/b).` });
      return;
    }
    if (closing) {
      refuse(socket, 503, { code: -1001, msg: 'Internal error; unable to process your request: the daemon is stopping.' });
      return;
    }
    let principal: Principal;
    try {
      principal = ctx.auth.authenticateToken(tokenOf(req, url));
    } catch (err) {
      const e = toApiError(err);
      refuse(socket, e.status, e.toJSON());
      return;
    }
    // Browsers let any page open a WebSocket to localhost; without tokens only non-browser clients may.
    if (principal.kind === 'open') {
      const refusal = browserRefusal(req.headers);
      if (refusal !== undefined) {
        refuse(socket, refusal.status, refusal.toJSON());
        return;
      }
    }
    const timeUnit = url.searchParams.get('timeUnit');
    if (timeUnit !== null && timeUnit.toUpperCase() !== 'MILLISECOND') {
      refuse(socket, 400, { code: -1100, msg: `timeUnit=${timeUnit} is not supported: this daemon's streams carry milliseconds (omit timeUnit or use MILLISECOND).` });
      return;
    }
    let parsed: Array<{ name: string; spec: Spec }>;
    try {
      parsed = names.map((n) => parseName(n, principal));
      if (new Set(parsed.map((p) => p.name)).size > maxStreams) throw invalid(`too many streams: a connection may subscribe to at most ${maxStreams}`);
    } catch (err) {
      if (err instanceof ScopeError) refuse(socket, 403, ApiErrors.forbidden(privateScope).toJSON());
      else refuse(socket, 400, { code: -1100, msg: (err as Error).message });
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, socket, principal, combined, parsed));
  };

  const onConnection = (ws: WebSocket, socket: Duplex, principal: Principal, combined: boolean, initial: Array<{ name: string; spec: Spec }>): void => {
    const c: Client = { ws, socket, principal, combined, streams: new Map(), group: undefined, from: 0, own: [], ownBytes: 0, ownQueued: false, alive: true, closed: false };
    clients.add(c);
    stats.clients++;
    ctx.counters.wsClients(1);
    if (closing) {
      detach(c);
      ws.close(1001, 'daemon stopping');
    } else {
      for (const p of initial) subscribeOne(c, p.name, p.spec);
      regroup(c);
    }
    ws.on('message', (data, isBinary) => onMessage(c, data, isBinary));
    ws.on('pong', () => {
      c.alive = true;
    });
    ws.on('error', (err) => {
      // ws closes the connection itself (e.g. 1009 for a frame over maxPayload, 1002 for a protocol error).
      stats.malformed++;
      ctx.counters.wsDropped('protocol');
      ctx.log.info({ err: err.message }, 'WebSocket client error');
    });
    ws.on('close', () => {
      detach(c);
      clients.delete(c);
      stats.clients--;
      ctx.counters.wsClients(-1);
    });
  };

  // ---------------------------------------------------------------- bus → streams

  const symbolOf = (sym: string): SymbolStreams | undefined => bySymbol.get(sym);

  const onTrade = (t: Topics['trade']): void => {
    const e = symbolOf(t.symbol);
    if (!e) return;
    if (wanted(e.aggTrade)) publish(e.aggTrade, aggTradeJson(t, e.instrument));
    if (wanted(e.trade)) publish(e.trade, tradeJson(t, e.instrument));
  };

  const onCandle = (c: Topics['candle.partial']): void => {
    if (c.interval !== '1m') return;
    const e = symbolOf(c.symbol);
    if (wanted(e?.kline)) publish(e.kline, klineJson(c, Math.max(node.clock.now(), c.openTime)));
  };

  const onTop = (t: Topics['book.top']): void => {
    const e = symbolOf(t.symbol);
    if (wanted(e?.bookTicker)) publish(e.bookTicker, bookTickerJson(t, e.instrument));
  };

  const onTicker = (t: Topics['ticker']): void => {
    const e = symbolOf(t.symbol);
    if (wanted(e?.miniTicker)) publish(e.miniTicker, miniTickerJson(t, e.instrument));
  };

  const onBook = (u: Topics['book.update']): void => {
    const e = symbolOf(u.symbol);
    if (!e || (e.depth.length === 0 && e.partial.length === 0)) return;
    const book = node.kernel.orderBook(u.symbol);
    if (!book || book.status !== 'synced') return;
    const sh = e.shadow;
    if (sh && e.depth.length > 0) {
      const bids = sh.bids.diff(book.levels('bid', Infinity));
      const asks = sh.asks.diff(book.levels('ask', Infinity));
      // An update that changed nothing is folded into the next one: its U continues from the last u sent.
      if (bids.length > 0 || asks.length > 0) {
        const payload = depthUpdateJson(
          {
            symbol: u.symbol,
            // The diff's own event time does not reach the bus; the latest exchange time seen stands in.
            eventTime: node.clock.now(),
            firstUpdateId: sh.lastUpdateId === undefined ? u.updateId : sh.lastUpdateId + 1,
            lastUpdateId: u.updateId,
            bids,
            asks,
          },
          e.instrument,
        );
        sh.lastUpdateId = u.updateId;
        for (const s of e.depth) publish(s, payload);
      }
    }
    for (const s of e.partial) {
      const n = (s.spec as { levels: number }).levels;
      publish(s, partialDepthJson(u.updateId, book.levels('bid', n), book.levels('ask', n), e.instrument));
    }
  };

  const reports = new ExecutionReports(
    (s) => node.instruments.get(s),
    node.trading.openOrders(),
    (orderId) => node.trading.order({ orderId }),
  );
  let positionsDue: number | undefined;

  const onOrderEvent = (ev: Topics['order.event']): void => {
    // The mirror follows every event, listened to or not, so a later subscriber sees exact states;
    // a report is only built when someone listens.
    const report = reports.onEvent(ev, wanted(privates.orders));
    if (report !== undefined) publish(privates.orders, report);
    if (ev.kind !== 'fill') return;
    if (wanted(privates.fills)) publish(privates.fills, fillEventJson(ev.fill, node.instruments.get(ev.fill.symbol)));
    if (wanted(privates.positions)) {
      // One positions message per published batch of fills: the account state is already the batch's end state.
      if (positionsDue === undefined) {
        queueMicrotask(() => {
          const time = positionsDue!;
          positionsDue = undefined;
          publish(privates.positions, positionsJson(node.trading.positions(node.market.lastPrices()), time));
        });
      }
      positionsDue = Math.max(positionsDue ?? 0, ev.time);
    }
  };

  const onRisk = (r: Topics['risk.state']): void => {
    if (wanted(privates.risk)) publish(privates.risk, riskStateJson(r));
  };

  const onAlert = (f: Topics['alert.fired']): void => {
    if (wanted(privates.alerts)) publish(privates.alerts, alertFiredJson(f));
  };

  const unsubscribers: Array<() => void> = [];
  const on = <T extends Topic>(topic: T, h: (p: Topics[T]) => void): void => {
    unsubscribers.push(node.bus.subscribe(topic, h));
  };
  on('trade', onTrade);
  on('candle.partial', onCandle);
  // Incomplete minutes ('candle.incomplete') are known to lack trades: they are not sent as final klines.
  on('candle.closed', onCandle);
  on('book.top', onTop);
  on('ticker', onTicker);
  on('book.update', onBook);
  on('order.event', onOrderEvent);
  on('risk.state', onRisk);
  on('alert.fired', onAlert);

  server.on('upgrade', onUpgrade);

  const pinger = setInterval(() => {
    for (const c of clients) {
      if (c.closed) continue;
      if (!c.alive) {
        stats.pongTimeouts++;
        ctx.counters.wsDropped('pong timeout');
        ctx.log.info({ principal: c.principal.name }, 'WebSocket client terminated: no pong to the last ping');
        detach(c);
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }, pingMs);
  pinger.unref();

  return {
    clients: () => clients.size,
    stats: () => ({ ...stats }),
    close: async () => {
      if (closing) return;
      closing = true;
      server.off('upgrade', onUpgrade);
      clearInterval(pinger);
      for (const u of unsubscribers.splice(0)) u();
      flushAll();
      const open = [...clients];
      const done = Promise.all(open.map((c) => new Promise<void>((resolve) => (c.ws.readyState === WebSocket.CLOSED ? resolve() : c.ws.once('close', () => resolve())))));
      for (const c of open) {
        detach(c);
        c.ws.close(1001, 'daemon stopping');
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, closeTimeout)))]);
      clearTimeout(timer);
      for (const c of clients) c.ws.terminate();
      await done;
    },
  };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}


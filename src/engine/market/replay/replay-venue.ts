import { access } from 'node:fs/promises';
import { QtradeError, UsageError } from '../../errors.js';
import { decodeFrame } from '../binance/parse.js';
import { decodeAggTrades, decodeDepthSnapshot } from '../binance/rest-parse.js';
import { wireInstrument, type Instruments } from '../instruments.js';
import type { Channel, MarketSink, MarketVenue } from '../source.js';
import type { Instrument, Trade } from '../types.js';
import { readRecording, type RecordingHeader, type RecordingLine } from './recording.js';

export interface ReplayVenueOptions {
  path: string;
  instruments: Instruments;
  /** Replay speed as a multiple of the recorded pace, or 'max' to never wait. Default 1. */
  speed?: number | 'max';
  /** Start over at the end of the file; `done` then never resolves (stop() still ends it). */
  loop?: boolean;
  /** Waits `ms` of wall time; injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Wall clock for pacing (ms). Defaults to performance.now, or, when only `sleep` is
   * injected, to a virtual clock that advances by exactly what was slept.
   */
  now?: () => number;
  /** Non-fatal problems with the file (a truncated tail). */
  onWarning?: (message: string) => void;
}

const TRADE_CHANNELS: ReadonlySet<Channel> = new Set<Channel>(['aggTrade', 'trade']);

interface StreamInfo {
  symbol: string;
  channel: Channel | undefined;
}

/** `btcusdt@depth@100ms` → BTCUSDT / depth; unknown suffixes have no channel. */
function streamInfo(stream: string): StreamInfo {
  const at = stream.indexOf('@');
  const symbol = (at === -1 ? stream : stream.slice(0, at)).toUpperCase();
  const suffix = at === -1 ? '' : stream.slice(at + 1);
  let channel: Channel | undefined;
  if (suffix === 'aggTrade' || suffix === 'trade' || suffix === 'kline_1m' || suffix === 'bookTicker' || suffix === 'miniTicker') channel = suffix;
  else if (/^depth(@\d+ms)?$/.test(suffix)) channel = 'depth';
  return { symbol, channel };
}

function restSymbol(rest: string): { path: string; symbol: string | undefined } {
  const u = new URL(rest, 'http://recording.invalid');
  return { path: u.pathname, symbol: u.searchParams.get('symbol')?.toUpperCase() ?? undefined };
}

/**
 * A recorded session played back as a market venue. Frames go through the same decoder
 * as the live feed; event times are the recorded exchange times, and pacing follows the
 * recorded receive times divided by `speed`.
 */
export class ReplayVenue implements MarketVenue {
  readonly name = 'replay';
  /** Resolves at the end of the file (or on stop()); rejects if the file cannot be read. */
  readonly done: Promise<void>;

  private readonly opts: ReplayVenueOptions;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private resolveDone!: () => void;
  private rejectDone!: (err: unknown) => void;
  private stopped = false;
  private wakeStop: (() => void) | undefined;
  /** The pacing wait in progress; stop() clears it, or a long recorded pause would keep the process alive. */
  private pacingTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly stopSignal: Promise<void>;
  private started = false;
  private symbols = new Set<string>();
  private channels = new Set<Channel>();
  private sink: MarketSink | undefined;
  private header: RecordingHeader | undefined;
  /** Symbols with a frame of each trade channel: decides whether `trade` stands in for `aggTrade`. */
  private readonly tradeChannelSeen = new Map<string, Set<Channel>>();
  private readonly streamCache = new Map<string, StreamInfo>();
  private readonly aggReplies = new Map<string, unknown[]>();
  private fullAggScan: Promise<void> | undefined;
  /** Every recorded aggTrades reply is in aggReplies (a full scan or pass was made): later passes add none again. */
  private aggRepliesComplete = false;
  private delivered = 0;

  constructor(opts: ReplayVenueOptions) {
    if (opts.speed !== undefined && opts.speed !== 'max' && !(opts.speed > 0 && Number.isFinite(opts.speed))) {
      throw new UsageError(`replay speed must be a positive number or "max", got ${String(opts.speed)}`);
    }
    this.opts = opts;
    if (opts.sleep && !opts.now) {
      let virtual = 0;
      const inner = opts.sleep;
      this.now = () => virtual;
      this.sleep = async (ms) => {
        await inner(ms);
        virtual += ms;
      };
    } else {
      this.now = opts.now ?? (() => performance.now());
      this.sleep = opts.sleep ?? ((ms) => this.wallSleep(ms));
    }
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {}); // callers that never await `done` must not crash the process
    this.stopSignal = new Promise<void>((resolve) => (this.wakeStop = resolve));
  }

  /** Frames delivered to the sink so far. */
  get frames(): number {
    return this.delivered;
  }

  async start(symbols: string[], channels: Channel[], sink: MarketSink): Promise<void> {
    if (this.started) throw new UsageError('this replay venue was already started');
    this.started = true;
    try {
      await access(this.opts.path);
    } catch (err) {
      throw new UsageError(`cannot read recording "${this.opts.path}": no such file or not readable`, {
        cause: err,
        hint: 'record one with `qtrade record --out FILE.jsonl.gz` or use fixtures/recordings/',
      });
    }
    this.symbols = new Set(symbols.map((s) => s.toUpperCase()));
    this.channels = new Set(channels);
    this.sink = sink;
    sink.state?.({ state: 'open', attempt: 0 });
    void this.run().then(
      () => {
        sink.state?.({ state: 'closed', attempt: 0, reason: this.stopped ? 'stopped' : 'end of recording' });
        this.resolveDone();
      },
      (err: unknown) => {
        sink.state?.({ state: 'closed', attempt: 0, reason: (err as Error).message });
        this.rejectDone(err);
      },
    );
  }

  async subscribe(symbols: string[]): Promise<void> {
    for (const s of symbols) this.symbols.add(s.toUpperCase());
  }

  async unsubscribe(symbols: string[]): Promise<void> {
    for (const s of symbols) this.symbols.delete(s.toUpperCase());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pacingTimer);
    this.pacingTimer = undefined;
    this.wakeStop?.();
    if (!this.started) this.resolveDone();
    await this.done.catch(() => {});
  }

  /**
   * Nothing to do: a recording cannot be asked for anything new. The recorder fetched a
   * snapshot on every (re)connect, and each is delivered as a `depthSnapshot` event where
   * its line sits among the frames, which is where a live fetch would have answered.
   */
  requestDepthSnapshot(_symbol: string): void {}

  /**
   * Answers from recorded REST aggTrades replies. A gap fill is recorded after the frame
   * that revealed the gap, so a request not covered by replies seen so far reads the
   * whole file's replies once.
   */
  async aggTradesFrom(symbol: string, fromId: number, limit: number): Promise<Trade[]> {
    const sym = symbol.toUpperCase();
    let found = this.tradesFrom(sym, fromId, limit);
    if (found.length === 0) {
      this.fullAggScan ??= this.scanAggReplies();
      await this.fullAggScan;
      found = this.tradesFrom(sym, fromId, limit);
    }
    return found;
  }

  private tradesFrom(sym: string, fromId: number, limit: number): Trade[] {
    const bodies = this.aggReplies.get(sym);
    if (!bodies) return [];
    const inst = this.instrument(sym);
    const byId = new Map<number, Trade>();
    for (const b of bodies) for (const t of decodeAggTrades(b, inst)) if (t.id >= fromId) byId.set(t.id, t);
    return [...byId.values()].sort((a, b) => a.id - b.id).slice(0, Math.max(0, limit));
  }

  private async scanAggReplies(): Promise<void> {
    const seen = new Map<string, unknown[]>();
    for await (const line of readRecording(this.opts.path)) {
      if (line.kind !== 'rest') continue;
      const { path, symbol } = restSymbol(line.rest);
      if (path.endsWith('/aggTrades') && symbol) {
        const list = seen.get(symbol) ?? [];
        list.push(line.body);
        seen.set(symbol, list);
      }
    }
    for (const [sym, list] of seen) this.aggReplies.set(sym, list);
    this.aggRepliesComplete = true;
  }

  private instrument(sym: string): Instrument {
    return this.opts.instruments.has(sym) ? this.opts.instruments.get(sym) : wireInstrument(sym);
  }

  private async run(): Promise<void> {
    const speed = this.opts.speed ?? 1;
    do {
      let r0: number | undefined;
      let wall0 = 0;
      for await (const line of readRecording(this.opts.path, { onWarning: this.opts.onWarning })) {
        if (this.stopped) return;
        if (line.kind !== 'frame') {
          this.onMeta(line);
          continue;
        }
        const info = this.info(line.frame.stream);
        if (!this.accepts(info)) continue;
        if (speed !== 'max') {
          if (r0 === undefined) {
            r0 = line.r;
            wall0 = this.now();
          } else {
            const wait = wall0 + (line.r - r0) / speed - this.now();
            if (wait >= 1) {
              await Promise.race([this.sleep(wait), this.stopSignal]);
              if (this.stopped) return;
            }
          }
        }
        this.deliver(JSON.stringify(line.frame), line.r);
      }
      this.aggRepliesComplete = true;
    } while (this.opts.loop && !this.stopped);
  }

  private wallSleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.pacingTimer = setTimeout(() => {
        this.pacingTimer = undefined;
        resolve();
      }, ms);
    });
  }

  private deliver(text: string, r: number): void {
    const sink = this.sink!;
    this.delivered++;
    sink.raw?.(text, r);
    let ev;
    try {
      ev = decodeFrame(text, this.opts.instruments);
    } catch (err) {
      if (!(err instanceof QtradeError)) throw err;
      sink.error?.(err.message, text.length > 300 ? text.slice(0, 300) + '…' : text);
      return;
    }
    if (ev) sink.event(ev, r);
  }

  private onMeta(line: Exclude<RecordingLine, { kind: 'frame' }>): void {
    if (line.kind === 'header') {
      this.header = line.header;
      return;
    }
    const { path, symbol } = restSymbol(line.rest);
    if (!symbol) return;
    if (path.endsWith('/depth')) this.deliverSnapshot(symbol, line.body, line.r);
    else if (path.endsWith('/aggTrades') && !this.aggRepliesComplete) {
      const list = this.aggReplies.get(symbol) ?? [];
      list.push(line.body);
      this.aggReplies.set(symbol, list);
    }
  }

  private deliverSnapshot(symbol: string, body: unknown, r: number): void {
    if (!this.channels.has('depth') || !this.symbols.has(symbol)) return;
    const sink = this.sink!;
    let snapshot;
    try {
      snapshot = decodeDepthSnapshot(body, this.instrument(symbol));
    } catch (err) {
      if (!(err instanceof QtradeError)) throw err;
      sink.error?.(`recorded depth snapshot for ${symbol}: ${err.message}`);
      return;
    }
    sink.event({ kind: 'depthSnapshot', snapshot }, r);
  }

  private info(stream: string): StreamInfo {
    let i = this.streamCache.get(stream);
    if (!i) {
      i = streamInfo(stream);
      this.streamCache.set(stream, i);
    }
    return i;
  }

  /**
   * Symbol and channel filter. A recording of `trade` frames serves a request for
   * `aggTrade` (and the reverse) when it does not carry the requested one: both feed the
   * same candles, and a raw trade is an aggTrade of one trade.
   */
  private accepts(info: StreamInfo): boolean {
    const ch = info.channel;
    if (ch === undefined || !this.symbols.has(info.symbol)) return false;
    if (this.channels.has(ch)) {
      if (TRADE_CHANNELS.has(ch)) this.markTradeChannel(info.symbol, ch);
      return true;
    }
    if (!TRADE_CHANNELS.has(ch)) return false;
    const wanted: Channel = ch === 'trade' ? 'aggTrade' : 'trade';
    if (!this.channels.has(wanted)) return false;
    if (this.header) return !this.header.channels.includes(wanted);
    // No header: stand in until the requested channel itself shows up for this symbol.
    this.markTradeChannel(info.symbol, ch);
    return !this.tradeChannelSeen.get(info.symbol)!.has(wanted);
  }

  private markTradeChannel(symbol: string, ch: Channel): void {
    let s = this.tradeChannelSeen.get(symbol);
    if (!s) this.tradeChannelSeen.set(symbol, (s = new Set()));
    s.add(ch);
  }
}

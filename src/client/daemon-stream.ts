import WebSocket from 'ws';
import type { FeedState } from '../engine/bus.js';
import { backoffMs } from '../notify/backoff.js';

/**
 * One combined-stream WebSocket to a qtrade daemon (`/stream?streams=a/b/c`), kept up:
 *
 *   connecting ──prepare, upgrade, ready──▶ open ──close/silence──▶ reconnecting ──backoff──▶ connecting
 *        └──────────────any step fails──────────▶ reconnecting      refused (401/403) or stop() ──▶ closed
 *
 * `prepare` runs before every attempt (it names the streams, so a daemon restarted with other
 * symbols is followed); `ready` runs once the socket is open, while its messages are already
 * delivered, and the state turns `open` only when it resolved (the client's resync). A daemon
 * that refuses the token is not retried: that needs the trader, not time.
 */

export interface DaemonStreamOptions {
  /** The daemon's HTTP base URL (http://127.0.0.1:8790); ws:// or wss:// is derived from it. */
  url: string;
  token?: string;
  /** The stream names to open, asked before every attempt. Throwing fails the attempt. */
  prepare(): Promise<string[]>;
  /** The socket is open (its messages flow): resync. Throwing drops the socket and retries. */
  ready(): Promise<void>;
  /** One message: its stream name, its `data`, and the frame's text (for decoders that take text). */
  message(stream: string, data: unknown, text: string): void;
  state(s: FeedState): void;
  /** Whether an error from prepare/ready means retrying cannot help (e.g. a refused token). */
  fatal?(err: unknown): boolean;
  /** Reconnect delay: exponential from initialMs to maxMs, jittered between half and all of it. Default 500 ms .. 15 s. */
  backoff?: { initialMs: number; maxMs: number };
  random?: () => number;
  /** No message and no ping for this long: the link is dead. Default 60 s (the daemon pings every 20 s). */
  silenceMs?: number;
  connectTimeoutMs?: number;
}

/** A refusal of the upgrade: status and the daemon's `{code, msg}`. */
export class StreamRefused extends Error {
  constructor(
    readonly status: number,
    msg: string,
  ) {
    super(msg);
    this.name = 'StreamRefused';
  }
}

export class DaemonStream {
  private ws: WebSocket | undefined;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private alive = false;
  private stopped = false;
  private current: FeedState['state'] = 'connecting';
  private readonly wsBase: string;

  constructor(private readonly opts: DaemonStreamOptions) {
    this.wsBase = opts.url.replace(/\/+$/, '').replace(/^http/, 'ws');
  }

  get state(): FeedState['state'] {
    return this.current;
  }

  /** Connects; `streams`, when given, are the first attempt's (the caller just asked prepare itself). */
  start(streams?: string[]): void {
    void this.connect(streams);
  }

  /** Closes the socket and cancels every timer; no reconnect after this. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.watchdog);
    const ws = this.ws;
    this.ws = undefined;
    ws?.removeAllListeners();
    ws?.on('error', () => {});
    ws?.terminate();
    this.report({ state: 'closed', attempt: this.attempt, reason: 'closed' });
  }

  private report(s: FeedState): void {
    this.current = s.state;
    this.opts.state(s);
  }

  private async connect(given?: string[]): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    this.report({ state: 'connecting', attempt: this.attempt });
    let streams: string[];
    try {
      streams = given ?? (await this.opts.prepare());
    } catch (err) {
      this.failed(err);
      return;
    }
    if (this.stopped) return;
    const url = `${this.wsBase}/stream?streams=${streams.map(encodeURIComponent).join('/')}`;
    const ws = new WebSocket(url, {
      headers: this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {},
      handshakeTimeout: this.opts.connectTimeoutMs ?? 10_000,
      perMessageDeflate: false,
      autoPong: true,
    });
    this.ws = ws;
    let failure: unknown;
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 4096) body += c;
      });
      res.on('end', () => {
        let msg = `HTTP ${res.statusCode ?? 0}`;
        try {
          const v = JSON.parse(body) as { msg?: unknown };
          if (typeof v.msg === 'string') msg = v.msg;
        } catch {
          // not JSON: the status says enough
        }
        failure = new StreamRefused(res.statusCode ?? 0, `the daemon refused the stream: ${msg}`);
        ws.terminate();
      });
    });
    ws.on('error', (err) => {
      failure ??= err;
    });
    ws.on('ping', () => {
      this.alive = true;
    });
    ws.on('message', (raw: WebSocket.RawData) => {
      this.alive = true;
      const text = raw.toString();
      let root: { stream?: unknown; data?: unknown };
      try {
        root = JSON.parse(text) as { stream?: unknown; data?: unknown };
      } catch {
        return; // the daemon sends JSON only; a broken frame carries nothing to show
      }
      if (typeof root.stream === 'string') this.opts.message(root.stream, root.data, text);
    });
    ws.on('close', (code, reason) => {
      if (ws !== this.ws) return;
      this.ws = undefined;
      clearInterval(this.watchdog);
      if (this.stopped) return;
      const why = failure ?? new Error(reason.length > 0 ? `closed by the daemon (${code} ${reason.toString()})` : `connection closed (${code})`);
      this.failed(why);
    });
    ws.on('open', () => {
      this.alive = true;
      const silence = this.opts.silenceMs ?? 60_000;
      this.watchdog = setInterval(() => {
        if (this.alive) {
          this.alive = false;
          return;
        }
        failure ??= new Error(`no message or ping from the daemon for ${Math.round(silence / 1000)} s`);
        ws.terminate();
      }, silence);
      this.watchdog.unref();
      this.opts.ready().then(
        () => {
          if (ws !== this.ws) return;
          this.attempt = 0;
          this.report({ state: 'open', attempt: 0 });
        },
        (err: unknown) => {
          if (ws !== this.ws) return;
          failure = err;
          ws.terminate();
        },
      );
    });
  }

  private failed(err: unknown): void {
    if (this.stopped) return;
    const reason = err instanceof Error ? err.message : String(err);
    if (err instanceof StreamRefused ? err.status === 401 || err.status === 403 : this.opts.fatal?.(err) === true) {
      this.stopped = true;
      this.report({ state: 'closed', attempt: this.attempt, reason });
      return;
    }
    this.attempt++;
    const { initialMs, maxMs } = this.opts.backoff ?? { initialMs: 500, maxMs: 15_000 };
    const delay = backoffMs(this.attempt - 1, { baseMs: initialMs, maxMs, random: this.opts.random });
    this.report({ state: 'reconnecting', attempt: this.attempt, nextInMs: delay, reason });
    this.timer = setTimeout(() => void this.connect(), delay);
  }
}

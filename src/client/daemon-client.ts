import type { Settings } from '../config/resolve.js';
import { QtradeError, VenueError } from '../engine/errors.js';
import { findDaemon } from '../server/daemon-file.js';

/**
 * The CLI's (and the TUI's) way into a running daemon: JSON over HTTP with the configured token.
 * Answers that are not 2xx become DaemonRequestError with Binance's `{code, msg}`; a daemon that
 * cannot be reached is a VenueError (exit 4).
 */

/** A `{code, msg}` answer from the daemon. exitCode: 3 for refusals (4xx with a code), 2 for auth, 4 for 5xx. */
export class DaemonRequestError extends QtradeError {
  override readonly exitCode: number;
  constructor(
    readonly status: number,
    readonly apiCode: number,
    readonly msg: string,
    /** Extra fields of the answer (e.g. a risk rejection's `rule`). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(
      'DAEMON_' + status,
      msg,
      status === 401 || status === 403 ? { hint: 'give the daemon a token: qtrade config set daemon.token <token> (or QTRADE_TOKEN); qtrade token create makes one' } : {},
    );
    this.exitCode = status === 401 || status === 403 ? 2 : status >= 500 ? 4 : 3;
  }
}

export interface DaemonClientOptions {
  url: string;
  token?: string;
  timeoutMs?: number;
}

export type Query = Record<string, string | number | boolean | undefined>;

export class DaemonClient {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  constructor(opts: DaemonClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  post<T>(path: string, json?: unknown, query?: Query): Promise<T> {
    return this.request<T>('POST', path, { json, query });
  }

  put<T>(path: string, json?: unknown, query?: Query): Promise<T> {
    return this.request<T>('PUT', path, { json, query });
  }

  delete<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('DELETE', path, { query });
  }

  async request<T>(method: string, path: string, opts: { query?: Query; json?: unknown } = {}): Promise<T> {
    const { res, text } = await this.send(method, path, opts);
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new VenueError('DAEMON_BAD_ANSWER', `the daemon at ${this.url} answered ${method} ${path} with non-JSON (HTTP ${res.status})`, { status: res.status });
    }
    if (!res.ok) throw DaemonClient.refusal(res.status, parsed);
    return parsed as T;
  }

  /** A text answer (GET /metrics); refusals as request() throws them. */
  async text(path: string, query?: Query): Promise<string> {
    const { res, text } = await this.send('GET', path, { query });
    if (res.ok) return text;
    throw DaemonClient.refusalOf(res.status, text);
  }

  /**
   * A streamed answer (POST /api/qtrade/ai's NDJSON): the body as it arrives; aborting `signal`
   * ends it. Refusals as request() throws them. No timeout: an answer may take minutes.
   */
  async stream(method: string, path: string, opts: { json?: unknown; signal?: AbortSignal } = {}): Promise<ReadableStream<Uint8Array>> {
    const res = await this.fetch(method, path, { json: opts.json, signal: opts.signal });
    if (res.ok && res.body) return res.body;
    throw DaemonClient.refusalOf(res.status, await res.text());
  }

  /** A refusal whose body may not be JSON (the status says it then). */
  private static refusalOf(status: number, text: string): DaemonRequestError {
    try {
      return DaemonClient.refusal(status, JSON.parse(text));
    } catch {
      return DaemonClient.refusal(status, {});
    }
  }

  private static refusal(status: number, parsed: unknown): DaemonRequestError {
    const p = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    const code = typeof p.code === 'number' ? p.code : -1000;
    const msg = typeof p.msg === 'string' ? p.msg : `HTTP ${status}`;
    const { code: _c, msg: _m, ...extra } = p;
    return new DaemonRequestError(status, code, msg, extra);
  }

  private async send(method: string, path: string, opts: { query?: Query; json?: unknown }): Promise<{ res: Response; text: string }> {
    const res = await this.fetch(method, path, { ...opts, signal: AbortSignal.timeout(this.timeoutMs) });
    return { res, text: await res.text() };
  }

  private async fetch(method: string, path: string, opts: { query?: Query; json?: unknown; signal?: AbortSignal }): Promise<Response> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const target = `${this.url}${path}${qs.size > 0 ? `?${qs}` : ''}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    }
    let res: Response;
    try {
      res = await fetch(target, { method, headers, body, signal: opts.signal });
    } catch (err) {
      if (opts.signal?.aborted && (err as Error)?.name === 'AbortError') throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new VenueError('DAEMON_UNREACHABLE', `the qtrade daemon at ${this.url} did not answer (${why})`, {
        hint: 'is it running? `qtrade daemon status`; or drop --connect / QTRADE_CONNECT to work without it',
        cause: err,
      });
    }
    return res;
  }
}

/**
 * The daemon this invocation should use: `--connect` / QTRADE_CONNECT / daemon.url when set, else
 * the daemon running for the data dir (daemon.json with a live pid), else undefined (work embedded).
 */
export function connectDaemon(settings: Settings): DaemonClient | undefined {
  const token = settings.string('daemon.token');
  const url = settings.string('daemon.url');
  if (url !== undefined) return new DaemonClient({ url, token });
  const info = findDaemon(settings.dataDir);
  return info ? new DaemonClient({ url: info.url, token }) : undefined;
}

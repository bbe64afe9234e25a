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
      res = await fetch(target, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new VenueError('DAEMON_UNREACHABLE', `the qtrade daemon at ${this.url} did not answer (${why})`, {
        hint: 'is it running? `qtrade daemon status`; or drop --connect / QTRADE_CONNECT to work without it',
        cause: err,
      });
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new VenueError('DAEMON_BAD_ANSWER', `the daemon at ${this.url} answered ${method} ${path} with non-JSON (HTTP ${res.status})`, { status: res.status });
    }
    if (!res.ok) {
      const p = parsed as { code?: unknown; msg?: unknown };
      const code = typeof p.code === 'number' ? p.code : -1000;
      const msg = typeof p.msg === 'string' ? p.msg : `HTTP ${res.status}`;
      const { code: _c, msg: _m, ...extra } = parsed as Record<string, unknown>;
      throw new DaemonRequestError(res.status, code, msg, extra);
    }
    return parsed as T;
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

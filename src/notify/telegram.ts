import type { AlertFiring } from '../engine/alerts/types.js';
import { fromNetworkError, urlOrigin, type Delivery, type FetchFn, type Sender } from './delivery.js';
import { firingText } from './payload.js';

/**
 * The Telegram Bot API (https://core.telegram.org/bots/api): POST <apiUrl>/bot<token>/<method>
 * with a JSON body, answered with {ok, result} or {ok: false, error_code, description,
 * parameters.retry_after}. The token is a credential and sits in the URL path, so nothing here
 * ever prints a URL, and every text that leaves this module has the token scrubbed out.
 */
export interface TelegramOptions {
  token: string;
  /** Default https://api.telegram.org; a local Bot API server or a test stand-in otherwise. */
  apiUrl?: string;
  fetch?: FetchFn;
  timeoutMs?: number;
}

export interface TelegramMessage {
  message_id: number;
  date: number;
  chat: { id: number; type?: string };
  from?: { id: number; username?: string };
  text?: string;
}

export interface TelegramUpdate {
  update_id: number;
  message?: TelegramMessage;
}

/** A Telegram API failure: `retry` when waiting may help (429, 5xx, network). */
export class TelegramError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'TelegramError';
  }
}

export class TelegramApi {
  private readonly base: string;
  private readonly fetch: FetchFn;
  private readonly token: string;
  readonly origin: string;

  constructor(private readonly opts: TelegramOptions) {
    this.token = opts.token;
    const api = (opts.apiUrl ?? 'https://api.telegram.org').replace(/\/+$/, '');
    this.base = `${api}/bot${opts.token}`;
    this.origin = urlOrigin(api);
    this.fetch = opts.fetch ?? fetch;
  }

  /** Removes the token from a text (error messages can quote request details). */
  redact(text: string): string {
    return this.token ? text.split(this.token).join('[token]') : text;
  }

  async call<T>(method: string, params: Record<string, unknown>, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<T> {
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? this.opts.timeoutMs ?? 15_000);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await this.fetch(`${this.base}/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params), signal });
    } catch (err) {
      const d = fromNetworkError(err);
      throw new TelegramError(this.redact(`Telegram ${method} at ${this.origin}: ${d.ok ? '' : d.reason}`), true);
    }
    let body: { ok?: boolean; result?: T; error_code?: number; description?: string; parameters?: { retry_after?: number } };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new TelegramError(`Telegram ${method} at ${this.origin}: HTTP ${res.status}, not JSON`, res.status >= 500);
    }
    if (res.ok && body.ok === true) return body.result as T;
    const code = body.error_code ?? res.status;
    const after = body.parameters?.retry_after;
    const retry = code === 429 || code >= 500;
    const hint = code === 401 || code === 404 ? ' (check telegram.botToken)' : code === 400 && /chat not found/i.test(body.description ?? '') ? ' (check telegram.chatId, and that the chat has messaged the bot)' : '';
    throw new TelegramError(this.redact(`Telegram ${method}: ${code} ${body.description ?? ''}`.trim() + hint), retry, after !== undefined ? after * 1000 : undefined);
  }

  sendMessage(chatId: string, text: string, signal?: AbortSignal): Promise<TelegramMessage> {
    return this.call<TelegramMessage>('sendMessage', { chat_id: chatId, text, disable_web_page_preview: true }, signal ? { signal } : {});
  }

  /** Long polling: waits up to `timeoutSec` for updates after `offset`. */
  getUpdates(offset: number, timeoutSec: number, signal?: AbortSignal): Promise<TelegramUpdate[]> {
    return this.call<TelegramUpdate[]>('getUpdates', { offset, timeout: timeoutSec, allowed_updates: ['message'] }, { signal, timeoutMs: (timeoutSec + 10) * 1000 });
  }
}

/** Sends firings to one chat. */
export class TelegramSender implements Sender {
  readonly channel = 'telegram' as const;
  readonly target: string;

  constructor(
    private readonly api: TelegramApi,
    private readonly chatId: string,
  ) {
    this.target = `${api.origin} chat ${chatId}`;
  }

  async send(firing: AlertFiring, signal?: AbortSignal): Promise<Delivery> {
    try {
      await this.api.sendMessage(this.chatId, firingText(firing), signal);
      return { ok: true };
    } catch (err) {
      if (!(err instanceof TelegramError)) throw err;
      return err.retryAfterMs === undefined ? { ok: false, retry: err.retry, reason: err.message } : { ok: false, retry: err.retry, reason: err.message, retryAfterMs: err.retryAfterMs };
    }
  }
}

import type { AlertFiring } from '../engine/alerts/types.js';
import { VERSION } from '../version.js';
import { fromNetworkError, fromStatus, shortBody, urlOrigin, type Delivery, type FetchFn, type Sender } from './delivery.js';
import { webhookBody, type WebhookFormat } from './payload.js';
import { WEBHOOK_HEADERS, signWebhook } from './sign.js';

export interface WebhookOptions {
  url: string;
  /** Signs every request (see sign.ts); without it requests go unsigned. */
  secret?: string;
  format?: WebhookFormat;
  fetch?: FetchFn;
  /** Local wall clock (ms) for the timestamp header. */
  wallNow?: () => number;
  timeoutMs?: number;
}

/** POSTs a firing as JSON (qtrade's, Slack's or Discord's shape), signed, with its id for de-duplication. */
export class WebhookSender implements Sender {
  readonly channel = 'webhook' as const;
  readonly target: string;
  private readonly opts: WebhookOptions;
  private readonly fetch: FetchFn;
  private readonly wallNow: () => number;

  constructor(opts: WebhookOptions) {
    this.opts = opts;
    this.target = urlOrigin(opts.url);
    this.fetch = opts.fetch ?? fetch;
    this.wallNow = opts.wallNow ?? Date.now;
  }

  async send(firing: AlertFiring, signal?: AbortSignal): Promise<Delivery> {
    const body = webhookBody(firing, this.opts.format ?? 'json');
    const timestamp = String(Math.floor(this.wallNow() / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': `qtrade/${VERSION}`,
      [WEBHOOK_HEADERS.delivery]: firing.id,
      [WEBHOOK_HEADERS.timestamp]: timestamp,
    };
    if (this.opts.secret) headers[WEBHOOK_HEADERS.signature] = signWebhook(this.opts.secret, timestamp, body);
    let res: Response;
    try {
      const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 10_000);
      res = await this.fetch(this.opts.url, { method: 'POST', headers, body, redirect: 'manual', signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (err) {
      return fromNetworkError(err);
    }
    const ok = res.status >= 200 && res.status < 300;
    const detail = ok ? '' : await shortBody(res);
    if (ok) await res.body?.cancel().catch(() => undefined);
    return fromStatus(res.status, res.headers.get('retry-after'), detail, this.wallNow);
  }
}

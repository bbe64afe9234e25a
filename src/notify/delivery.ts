import type { AlertFiring } from '../engine/alerts/types.js';

/** How one delivery attempt went. `retry`: worth trying again later (the receiver or the network was down). */
export type Delivery = { ok: true } | { ok: false; retry: boolean; reason: string; retryAfterMs?: number };

/** A channel's way out: one attempt per call; the outbox decides about retries. */
export interface Sender {
  readonly channel: 'webhook' | 'telegram';
  /** Where it goes, safe to print (no path, token or secret). */
  readonly target: string;
  /** `signal` aborts an attempt in flight (shutdown): it then counts as not delivered. */
  send(firing: AlertFiring, signal?: AbortSignal): Promise<Delivery>;
}

export type FetchFn = typeof fetch;

/** An HTTP answer as a delivery: 2xx delivered; 408, 425, 429 and 5xx retried (honouring Retry-After); other 4xx refused. */
export function fromStatus(status: number, retryAfter: string | null, detail: string, wallNow: () => number): Delivery {
  if (status >= 200 && status < 300) return { ok: true };
  const retry = status === 408 || status === 425 || status === 429 || status >= 500;
  const reason = `HTTP ${status}${detail ? `: ${detail}` : ''}`;
  const after = retryAfterMs(retryAfter, wallNow);
  return after === undefined ? { ok: false, retry, reason } : { ok: false, retry, reason, retryAfterMs: after };
}

/** Retry-After in seconds or as an HTTP date, in ms from now. */
export function retryAfterMs(value: string | null, wallNow: () => number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - wallNow());
}

/** A failed fetch as a retryable delivery: the cause's code (ECONNREFUSED, timeout), never the URL. */
export function fromNetworkError(err: unknown): Delivery {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? 'timed out' : (e.cause?.code ?? e.cause?.message ?? e.message ?? String(err));
  return { ok: false, retry: true, reason: `unreachable (${why})` };
}

/** scheme://host[:port] of a URL: what may be printed of a webhook (Slack's and Discord's paths are credentials). */
export function urlOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

/** Reads at most `max` characters of an answer, for error messages. */
export async function shortBody(res: Response, max = 200): Promise<string> {
  try {
    const t = (await res.text()).replace(/\s+/g, ' ').trim();
    return t.length > max ? t.slice(0, max) + '…' : t;
  } catch {
    return '';
  }
}

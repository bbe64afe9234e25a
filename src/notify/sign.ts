import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures: HMAC-SHA256, keyed by alerts.webhookSecret, over `<timestamp>.<body>` (the
 * timestamp header's value, a dot, then the raw body), sent hex-encoded as `sha256=<hex>`.
 * Signing the timestamp with the body lets a receiver refuse replays of an old, validly signed
 * request; the delivery id lets it drop the duplicates at-least-once delivery can produce.
 */
export const WEBHOOK_HEADERS = {
  signature: 'x-qtrade-signature',
  /** Unix seconds when the request was sent. */
  timestamp: 'x-qtrade-timestamp',
  /** The firing's id: the same on every retry of one notification. */
  delivery: 'x-qtrade-delivery',
} as const;

export function signWebhook(secret: string, timestamp: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

export interface VerifyInput {
  secret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  body: string;
  /** Receiver's clock, Unix seconds; with `toleranceSec`, older or future timestamps are refused. */
  nowSec?: number;
  toleranceSec?: number;
}

/** What a receiver does: recompute the signature and compare in constant time; check the timestamp's age. */
export function verifyWebhook(v: VerifyInput): boolean {
  if (v.timestamp === undefined || v.signature === undefined || !/^\d{1,12}$/.test(v.timestamp)) return false;
  if (v.nowSec !== undefined && Math.abs(v.nowSec - Number(v.timestamp)) > (v.toleranceSec ?? 300)) return false;
  const want = Buffer.from(signWebhook(v.secret, v.timestamp, v.body));
  const got = Buffer.from(v.signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

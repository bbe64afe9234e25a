import { firingJson, utcMillis } from '../engine/alerts/format.js';
import type { AlertFiring } from '../engine/alerts/types.js';

export const WEBHOOK_FORMATS = ['json', 'slack', 'discord'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** Discord refuses `content` over 2000 characters; Slack advises 4000 for `text`; Telegram allows 4096. */
const LIMITS: Record<WebhookFormat | 'telegram', number> = { json: Infinity, slack: 4000, discord: 2000, telegram: 4096 };

/** The human text of a firing, as chat channels show it. */
export function firingText(f: AlertFiring, limit: number = LIMITS.telegram): string {
  const head = f.test ? 'qtrade alert test' : 'qtrade alert';
  return clip(`${head} ${f.alertId}: ${f.message}\n${utcMillis(f.time)}`, limit);
}

/**
 * The webhook body: `json` is qtrade's own (every field of the firing, plus `type` and an ISO
 * time); `slack` is an incoming-webhook message ({text}); `discord` an execute-webhook message
 * ({content}). The JSON body carries the id for de-duplication; chat formats show it in the text.
 */
export function webhookBody(f: AlertFiring, format: WebhookFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify({ type: 'alert.fired', ...firingJson(f), timeIso: new Date(f.time).toISOString() });
    case 'slack':
      return JSON.stringify({ text: firingText(f, LIMITS.slack) });
    case 'discord':
      return JSON.stringify({ content: firingText(f, LIMITS.discord), allowed_mentions: { parse: [] } });
  }
}

function clip(s: string, limit: number): string {
  return s.length <= limit ? s : s.slice(0, limit - 1) + '…';
}

import type { Settings } from '../config/resolve.js';
import { WEBHOOK_FORMATS, type WebhookFormat } from './payload.js';

/** Where notifications go, from the alerts.* and telegram.* settings. Secrets stay in here, unprinted. */
export interface NotifyConfig {
  webhook: { url: string; secret: string | undefined; format: WebhookFormat } | undefined;
  telegram: { token: string; chatId: string; apiUrl: string } | undefined;
  bell: boolean;
}

export function notifyConfig(settings: Settings): NotifyConfig {
  const url = settings.string('alerts.webhookUrl');
  const format = (settings.string('alerts.format') ?? 'json') as WebhookFormat;
  const token = settings.string('telegram.botToken');
  const chatId = settings.string('telegram.chatId');
  return {
    webhook: url ? { url, secret: settings.string('alerts.webhookSecret') || undefined, format: WEBHOOK_FORMATS.includes(format) ? format : 'json' } : undefined,
    telegram: token && chatId ? { token, chatId, apiUrl: settings.string('telegram.apiUrl') ?? 'https://api.telegram.org' } : undefined,
    bell: settings.resolve('alerts.bell').value !== false,
  };
}

/** What is configured, for messages: never a secret, a token or a webhook path. */
export function describeNotify(c: NotifyConfig): string {
  const parts: string[] = [];
  if (c.webhook) parts.push(`webhook ${new URL(c.webhook.url).origin} (${c.webhook.format}${c.webhook.secret ? ', signed' : ', unsigned'})`);
  if (c.telegram) parts.push(`telegram chat ${c.telegram.chatId}`);
  return parts.length ? parts.join(', ') : 'no webhook or Telegram configured';
}

/**
 * The channels of `notify` that `c` gives nowhere to go, each with what to set: an alert on them is
 * kept but never delivered there, so adding one warns (wherever the alert is added).
 */
export function unconfiguredChannelWarnings(notify: readonly string[], c: NotifyConfig): string[] {
  const warnings: string[] = [];
  if (notify.includes('webhook') && !c.webhook) warnings.push('no webhook configured: qtrade config set alerts.webhookUrl URL (and alerts.webhookSecret to sign)');
  if (notify.includes('telegram') && !c.telegram) warnings.push('Telegram not configured: qtrade config set telegram.botToken TOKEN and telegram.chatId ID');
  return warnings;
}

import type { AlertLog } from '../engine/alerts/log.js';
import type { AlertFiring } from '../engine/alerts/types.js';
import type { Store } from '../engine/store/types.js';
import type { BackoffOptions } from './backoff.js';
import type { NotifyConfig } from './config.js';
import type { Delivery, FetchFn, Sender } from './delivery.js';
import { Outbox, type OutboxEvent } from './outbox.js';
import { TelegramBot, type ChatAccount } from './telegram-bot.js';
import { TelegramApi, TelegramSender } from './telegram.js';
import { WebhookSender } from './webhook.js';

export interface NotifierOptions {
  store: Store;
  log: AlertLog;
  config: NotifyConfig;
  fetch?: FetchFn;
  wallNow?: () => number;
  backoff?: BackoffOptions;
  maxAgeMs?: number;
  /** Answer the read-only chat commands from this account (the daemon); absent: only send. */
  chat?: ChatAccount;
  /** Telegram long-poll length (s). */
  pollSeconds?: number;
  report?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** The senders a configuration asks for. */
export function sendersFor(config: NotifyConfig, opts: { fetch?: FetchFn; wallNow?: () => number } = {}): { webhook?: Sender; telegram?: Sender; api?: TelegramApi } {
  const out: { webhook?: Sender; telegram?: Sender; api?: TelegramApi } = {};
  if (config.webhook) out.webhook = new WebhookSender({ url: config.webhook.url, secret: config.webhook.secret, format: config.webhook.format, fetch: opts.fetch, wallNow: opts.wallNow });
  if (config.telegram) {
    const api = new TelegramApi({ token: config.telegram.token, apiUrl: config.telegram.apiUrl, fetch: opts.fetch });
    out.api = api;
    out.telegram = new TelegramSender(api, config.telegram.chatId);
  }
  return out;
}

/**
 * Delivery wherever alerts run: the durable outbox on the configured senders, and, given a chat
 * account, the Telegram command poller. `enqueue` takes the AlertService's durable firings.
 */
export class Notifier {
  private constructor(
    readonly outbox: Outbox,
    private readonly bot: TelegramBot | undefined,
  ) {}

  static async start(opts: NotifierOptions): Promise<Notifier> {
    const report = opts.report ?? (() => {});
    const s = sendersFor(opts.config, opts);
    const outbox = await Outbox.open({
      store: opts.store,
      log: opts.log,
      senders: { ...(s.webhook ? { webhook: s.webhook } : {}), ...(s.telegram ? { telegram: s.telegram } : {}) },
      backoff: opts.backoff,
      maxAgeMs: opts.maxAgeMs,
      wallNow: opts.wallNow,
      onEvent: (e) => report(...outboxLine(e, s)),
      onError: (m) => report('error', m),
    });
    let bot: TelegramBot | undefined;
    if (opts.chat && s.api && opts.config.telegram) {
      bot = new TelegramBot({
        api: s.api,
        chatId: opts.config.telegram.chatId,
        account: opts.chat,
        pollSeconds: opts.pollSeconds,
        onError: (m) => report('warn', m),
        onIgnored: (chat) => report('warn', `telegram: ignored a message from chat ${chat} (only chat ${opts.config.telegram!.chatId} is answered)`),
      });
      bot.start();
    }
    return new Notifier(outbox, bot);
  }

  enqueue(durable: ReadonlyArray<{ seq: number; firing: AlertFiring }>): void {
    this.outbox.enqueue(durable);
  }

  async close(): Promise<void> {
    await this.bot?.stop();
    await this.outbox.close();
  }
}

function outboxLine(e: OutboxEvent, s: { webhook?: Sender; telegram?: Sender }): ['info' | 'warn' | 'error', string] {
  const where = `${e.channel} ${s[e.channel]?.target ?? ''}`.trim();
  if (e.kind === 'delivered') return ['info', `alert ${e.firing.id} delivered to ${where}${e.attempts > 1 ? ` after ${e.attempts} attempts` : ''}`];
  if (e.kind === 'retry') return ['warn', `alert ${e.firing.id} to ${where}: ${e.reason}; retrying in ${Math.ceil(e.inMs / 1000)} s`];
  return ['error', `alert ${e.firing.id} not delivered to ${where}: ${e.reason}`];
}

/** One immediate attempt per channel (`qtrade alert test`): no outbox, no retries. */
export async function sendNow(firing: AlertFiring, config: NotifyConfig, opts: { fetch?: FetchFn; wallNow?: () => number } = {}): Promise<Array<{ channel: string; target: string; delivery: Delivery }>> {
  const s = sendersFor(config, opts);
  const out: Array<{ channel: string; target: string; delivery: Delivery }> = [];
  for (const ch of firing.notify) {
    if (ch === 'tui') continue;
    const sender = s[ch];
    if (!sender) {
      const reason = ch === 'webhook' ? 'no webhook configured: qtrade config set alerts.webhookUrl URL' : 'Telegram not configured: qtrade config set telegram.botToken TOKEN and telegram.chatId ID';
      out.push({ channel: ch, target: '', delivery: { ok: false, retry: false, reason } });
      continue;
    }
    out.push({ channel: ch, target: sender.target, delivery: await sender.send(firing) });
  }
  return out;
}

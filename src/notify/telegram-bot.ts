import { TelegramError, type TelegramApi, type TelegramUpdate } from './telegram.js';

/** What the chat may read: each answer one message of text. Read-only by construction. */
export interface ChatAccount {
  status(): Promise<string>;
  balance(): Promise<string>;
  positions(): Promise<string>;
  pnl(): Promise<string>;
}

const READ_ONLY = ['/status', '/balance', '/positions', '/pnl'];
/** Commands a trading bot would take; refused with a reason instead of "unknown". */
const TRADING = new Set(['/buy', '/sell', '/order', '/orders', '/cancel', '/cancelall', '/close', '/closeall', '/halt', '/resume', '/stop', '/start_trading', '/trade', '/market', '/limit', '/forcebuy', '/forcesell', '/forceexit', '/forceenter', '/reset']);
const HELP = `qtrade answers read-only commands here: ${READ_ONLY.join(', ')}.`;

/**
 * The answer to one chat message, or undefined to stay silent (not a command). Trading commands
 * are refused: a chat account is one phished phone away from an attacker, so orders go through
 * the CLI, the TUI or an authenticated daemon API only.
 */
export async function answerCommand(text: string, account: ChatAccount): Promise<string | undefined> {
  const first = text.trim().split(/\s+/)[0] ?? '';
  if (!first.startsWith('/')) return undefined;
  const cmd = first.toLowerCase().replace(/@[a-z0-9_]+$/, '');
  switch (cmd) {
    case '/status':
      return account.status();
    case '/balance':
    case '/balances':
      return account.balance();
    case '/positions':
      return account.positions();
    case '/pnl':
      return account.pnl();
    case '/start':
    case '/help':
      return HELP;
  }
  if (TRADING.has(cmd)) return `${cmd} refused: trading commands are not accepted from chat. Use the qtrade CLI or TUI. ${HELP}`;
  return `Unknown command ${cmd}. ${HELP}`;
}

export interface TelegramBotOptions {
  api: TelegramApi;
  /** The only chat answered; messages from any other chat are ignored (and reported). */
  chatId: string;
  account: ChatAccount;
  /** Long-poll length (s); default 25. */
  pollSeconds?: number;
  /** Pause after a failed poll (ms); default 5000. */
  retryMs?: number;
  onError?: (message: string) => void;
  onIgnored?: (chatId: number) => void;
}

/** Polls getUpdates and answers /status, /balance, /positions and /pnl for the configured chat. */
export class TelegramBot {
  private offset = 0;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly opts: TelegramBotOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
  }

  /** Handles one update (exposed for tests); resolves once the answer was sent. */
  async handle(u: TelegramUpdate): Promise<void> {
    const m = u.message;
    if (!m || typeof m.text !== 'string') return;
    if (String(m.chat.id) !== this.opts.chatId) {
      this.opts.onIgnored?.(m.chat.id);
      return;
    }
    let reply: string | undefined;
    try {
      reply = await answerCommand(m.text, this.opts.account);
    } catch (err) {
      reply = `Could not answer: ${(err as Error).message}`;
    }
    if (reply === undefined) return;
    await this.opts.api.sendMessage(this.opts.chatId, reply.length > 4096 ? reply.slice(0, 4095) + '…' : reply);
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        const updates = await this.opts.api.getUpdates(this.offset, this.opts.pollSeconds ?? 25, signal);
        for (const u of updates) {
          this.offset = Math.max(this.offset, u.update_id + 1);
          await this.handle(u).catch((err: unknown) => this.opts.onError?.(`telegram reply failed: ${(err as Error).message}`));
        }
      } catch (err) {
        if (signal.aborted) return;
        this.opts.onError?.(err instanceof TelegramError ? err.message : `telegram polling failed: ${(err as Error).message}`);
        const wait = err instanceof TelegramError && err.retryAfterMs !== undefined ? err.retryAfterMs : (this.opts.retryMs ?? 5000);
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, wait);
        });
      }
    }
  }
}

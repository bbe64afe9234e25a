import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../engine/errors.js';
import { parseRate, type FeeRates, type FeeScheduleOptions } from '../engine/orders/fees.js';
import { parsePriceOverrides } from '../engine/ai/pricing.js';

/**
 * Every user setting, with its env variable, default and validation. Resolution order is
 * flags > QTRADE_* env > config file > defaults (see resolve.ts).
 */
export interface SettingSpec {
  key: string;
  env?: string;
  description: string;
  default?: string | number | boolean;
  type: 'string' | 'number' | 'boolean';
  /** Validates and normalises a value from the CLI, env or file; throws UsageError. */
  check?: (value: string) => void;
  secret?: boolean;
}

function checkUrl(protocols: string[]) {
  return (value: string): void => {
    let u: URL;
    try {
      u = new URL(value);
    } catch {
      throw new UsageError(`"${value}" is not a URL`, { hint: `expected a URL such as ${protocols[0]}//host:port` });
    }
    if (!protocols.includes(u.protocol)) {
      throw new UsageError(`"${value}" must use ${protocols.join(' or ')}`);
    }
  };
}

export const SETTINGS: readonly SettingSpec[] = [
  {
    key: 'binance.wsUrl',
    env: 'QTRADE_BINANCE_WS_URL',
    type: 'string',
    default: 'wss://stream.binance.com:9443',
    description: 'Binance market-data WebSocket base URL',
    check: checkUrl(['ws:', 'wss:']),
  },
  {
    key: 'binance.restUrl',
    env: 'QTRADE_BINANCE_REST_URL',
    type: 'string',
    default: 'https://api.binance.com',
    description: 'Binance REST base URL',
    check: checkUrl(['http:', 'https:']),
  },
  {
    key: 'proxy',
    env: 'QTRADE_PROXY',
    type: 'string',
    description: 'HTTP CONNECT proxy for WS and REST (e.g. http://127.0.0.1:4780); HTTPS_PROXY is used when unset',
    check: checkUrl(['http:', 'https:']),
  },
  {
    key: 'store',
    env: 'QTRADE_STORE',
    type: 'string',
    description: 'Store URL: sqlite:PATH or postgres://... (default: sqlite file in the data dir)',
    check: (v) => {
      if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(v)) {
        throw new UsageError(`store "${v}" is neither sqlite:PATH nor postgres://...`);
      }
    },
  },
  {
    key: 'symbols',
    env: 'QTRADE_SYMBOLS',
    type: 'string',
    default: 'btcusdt,ethusdt',
    description: 'Default symbols for the feed, comma-separated',
    check: (v) => {
      if (!/^[a-z0-9]+(,[a-z0-9]+)*$/i.test(v)) throw new UsageError(`symbols "${v}" must be comma-separated names like btcusdt,ethusdt`);
    },
  },
  {
    key: 'live.mainnetConfirmed',
    env: 'QTRADE_LIVE_MAINNET_CONFIRMED',
    type: 'boolean',
    default: false,
    description: 'Allow `--venue mainnet` (real money); testnet is the default live venue',
  },
  {
    key: 'live.restUrl',
    env: 'QTRADE_LIVE_REST_URL',
    type: 'string',
    description: 'REST base URL of the live venue (default: https://testnet.binance.vision for testnet, https://api.binance.com for mainnet)',
    check: checkUrl(['http:', 'https:']),
  },
  {
    key: 'fees.maker',
    env: 'QTRADE_FEES_MAKER',
    type: 'string',
    default: '0.001',
    description: 'Paper maker fee rate as a fraction ("0.001" = 0.1 %)',
    check: (v) => void parseRate(v),
  },
  {
    key: 'fees.taker',
    env: 'QTRADE_FEES_TAKER',
    type: 'string',
    default: '0.001',
    description: 'Paper taker fee rate as a fraction ("0.001" = 0.1 %)',
    check: (v) => void parseRate(v),
  },
  {
    key: 'fees.symbols',
    env: 'QTRADE_FEES_SYMBOLS',
    type: 'string',
    description: 'Per-symbol paper fee rates, maker/taker: "BTCUSDT=0.0002/0.0004,ETHUSDT=0/0.00075"',
    check: (v) => void parseSymbolFees(v),
  },
  {
    key: 'daemon.url',
    env: 'QTRADE_CONNECT',
    type: 'string',
    description: 'Daemon to use (e.g. http://host:8081); default: the one running for this data dir, if any (see daemon.json)',
    check: checkUrl(['http:', 'https:']),
  },
  {
    key: 'daemon.token',
    env: 'QTRADE_TOKEN',
    type: 'string',
    secret: true,
    description: 'Token for the daemon\'s API (qtrade token create); needed once the daemon has tokens',
  },
  {
    key: 'candles.graceMs',
    env: 'QTRADE_CANDLES_GRACE_MS',
    type: 'number',
    default: 0,
    description: 'How long a minute stays open for its trades after Binance\'s closed kline passes it (ms); a later trade closes it at once',
    check: (v) => {
      if (!/^\d+$/.test(v) || Number(v) > 60_000) throw new UsageError(`candles.graceMs must be an integer 0..60000, got "${v}"`);
    },
  },
  {
    key: 'ai.baseUrl',
    env: 'QTRADE_AI_BASE_URL',
    type: 'string',
    default: 'https://api.deepseek.com',
    description: 'OpenAI-compatible chat completions endpoint of the assistant (DeepSeek by default)',
    check: checkUrl(['http:', 'https:']),
  },
  {
    key: 'ai.model',
    env: 'QTRADE_AI_MODEL',
    type: 'string',
    default: 'deepseek-flash',
    description: 'Assistant model: deepseek-flash or deepseek-v4-pro (qtrade ask --model overrides it)',
    check: (v) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$/.test(v)) throw new UsageError(`ai.model "${v}" is not a model name`, { hint: 'e.g. deepseek-flash or deepseek-v4-pro' });
    },
  },
  {
    key: 'ai.apiKey',
    env: 'DEEPSEEK_API_KEY',
    type: 'string',
    secret: true,
    description: 'DeepSeek API key (platform.deepseek.com/api_keys); kept in config.json, mode 600, never printed',
  },
  {
    key: 'ai.thinking',
    env: 'QTRADE_AI_THINKING',
    type: 'boolean',
    default: false,
    description: "Use the model's thinking mode (slower, more tokens; its reasoning is shown apart from the answer)",
  },
  {
    key: 'ai.timeoutMs',
    env: 'QTRADE_AI_TIMEOUT_MS',
    type: 'number',
    default: 120_000,
    description: 'How long the assistant waits for the model to start or continue an answer (ms)',
    check: (v) => {
      if (!/^\d+$/.test(v) || Number(v) < 100 || Number(v) > 3_600_000) throw new UsageError(`ai.timeoutMs must be an integer 100..3600000, got "${v}"`);
    },
  },
  {
    key: 'ai.prices',
    env: 'QTRADE_AI_PRICES',
    type: 'string',
    description: "Token prices replacing qtrade's table, USD per 1M tokens cache-hit/cache-miss/output: \"deepseek-flash=0.006/0.3/1.2\"",
    check: (v) => void parsePriceOverrides(v),
  },
  {
    key: 'alerts.webhookUrl',
    env: 'QTRADE_ALERTS_WEBHOOK_URL',
    type: 'string',
    // Slack and Discord webhook URLs carry their credential in the path.
    secret: true,
    description: 'Webhook that alert notifications are POSTed to (--notify webhook); signed when alerts.webhookSecret is set',
    check: (v) => {
      let u: URL | undefined;
      try {
        u = new URL(v);
      } catch {
        u = undefined;
      }
      if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw new UsageError('alerts.webhookUrl must be an http:// or https:// URL', { hint: 'e.g. https://hooks.slack.com/services/...' });
    },
  },
  {
    key: 'alerts.webhookSecret',
    env: 'QTRADE_ALERTS_WEBHOOK_SECRET',
    type: 'string',
    secret: true,
    description: 'Key of the HMAC-SHA256 signature (X-Qtrade-Signature over "<X-Qtrade-Timestamp>.<body>") on webhook notifications; never printed',
  },
  {
    key: 'alerts.format',
    env: 'QTRADE_ALERTS_FORMAT',
    type: 'string',
    default: 'json',
    description: "Webhook payload: json (qtrade's, with the firing id), slack ({text}) or discord ({content})",
    check: (v) => {
      if (!['json', 'slack', 'discord'].includes(v)) throw new UsageError(`alerts.format "${v}" is not json, slack or discord`);
    },
  },
  {
    key: 'alerts.bell',
    env: 'QTRADE_ALERTS_BELL',
    type: 'boolean',
    default: true,
    description: 'Ring the terminal bell when an alert fires (TUI, qtrade feed)',
  },
  {
    key: 'telegram.botToken',
    env: 'QTRADE_TELEGRAM_BOT_TOKEN',
    type: 'string',
    secret: true,
    description: 'Telegram bot token from @BotFather, for --notify telegram and the read-only chat commands; never printed',
    check: (v) => {
      if (!/^\d+:[A-Za-z0-9_-]{20,}$/.test(v)) throw new UsageError('telegram.botToken does not look like a bot token', { hint: 'BotFather gives tokens like 123456789:AA...; copy it whole' });
    },
  },
  {
    key: 'telegram.chatId',
    env: 'QTRADE_TELEGRAM_CHAT_ID',
    type: 'string',
    description: 'The Telegram chat alerts go to and the only chat whose /status, /balance, /positions, /pnl are answered',
    check: (v) => {
      if (!/^-?\d{1,20}$|^@[A-Za-z][A-Za-z0-9_]{3,}$/.test(v)) throw new UsageError(`telegram.chatId "${v}" is neither a numeric chat id nor @channelname`);
    },
  },
  {
    key: 'telegram.apiUrl',
    env: 'QTRADE_TELEGRAM_API_URL',
    type: 'string',
    default: 'https://api.telegram.org',
    description: 'Telegram Bot API base URL (a local Bot API server, or a stand-in for tests)',
    check: checkUrl(['http:', 'https:']),
  },
];

export function settingSpec(key: string): SettingSpec {
  const spec = SETTINGS.find((s) => s.key === key);
  if (!spec) {
    throw new UsageError(`unknown setting "${key}"`, { hint: `known settings: ${SETTINGS.map((s) => s.key).join(', ')}` });
  }
  return spec;
}

/** Converts a string from the CLI or env into the setting's type, validating it. */
export function coerceSetting(spec: SettingSpec, value: string): string | number | boolean {
  spec.check?.(value);
  switch (spec.type) {
    case 'number': {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new UsageError(`${spec.key} must be a number, got "${value}"`);
      return n;
    }
    case 'boolean':
      if (value !== 'true' && value !== 'false') throw new UsageError(`${spec.key} must be true or false, got "${value}"`);
      return value === 'true';
    default:
      return value;
  }
}

/** ~/.config/qtrade (or $XDG_CONFIG_HOME/qtrade) unless --data-dir / QTRADE_DATA_DIR say otherwise. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'qtrade');
}

/** "BTCUSDT=0.0002/0.0004,ETHUSDT=0/0.00075" → per-symbol maker/taker rates. */
export function parseSymbolFees(spec: string): Record<string, FeeRates> {
  const out: Record<string, FeeRates> = {};
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9]+)=([^/]+)\/([^/]+)$/.exec(part);
    if (!m) throw new UsageError(`fee entry "${part}" is not SYMBOL=MAKER/TAKER`, { hint: 'e.g. BTCUSDT=0.0002/0.0004' });
    parseRate(m[2]!);
    parseRate(m[3]!);
    out[m[1]!.toUpperCase()] = { maker: m[2]!, taker: m[3]! };
  }
  return out;
}

/** The paper fee schedule from the fees.* settings. */
export function feeOptions(get: (key: string) => string | undefined): FeeScheduleOptions {
  const symbols = get('fees.symbols');
  return {
    maker: get('fees.maker') ?? '0.001',
    taker: get('fees.taker') ?? '0.001',
    ...(symbols ? { perSymbol: parseSymbolFees(symbols) } : {}),
  };
}

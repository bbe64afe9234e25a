import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { UsageError } from '../../errors.js';

/**
 * Binance API keys for live trading and the choice of live venue. Keys come from the
 * environment (BINANCE_API_KEY / BINANCE_API_SECRET) or from `credentials.json` in the data
 * dir, written 0600 and atomically; a file others can read is refused. The secret is held in a
 * `Secret`, which prints as "****" however it is stringified, so it cannot leak into an error
 * message, a log line or a JSON reply by accident.
 */

const MASK = '****';

/** A string that never prints itself. Read it with `reveal()` only where it is used. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  get length(): number {
    return this.#value.length;
  }
  toString(): string {
    return MASK;
  }
  toJSON(): string {
    return MASK;
  }
  [inspect.custom](): string {
    return MASK;
  }
  [Symbol.toPrimitive](): string {
    return MASK;
  }
}

export type LiveVenueName = 'testnet' | 'mainnet';
export const LIVE_VENUES: readonly LiveVenueName[] = ['testnet', 'mainnet'];

export interface Credentials {
  /** Sent as X-MBX-APIKEY; not a secret on its own, but kept out of messages anyway. */
  apiKey: string;
  apiSecret: Secret;
  source: 'env' | 'file';
}

export interface CredentialsInput {
  apiKey: string;
  apiSecret: string | Secret;
}

export const CREDENTIALS_FILE = 'credentials.json';

export function credentialsPath(dataDir: string): string {
  return path.join(dataDir, CREDENTIALS_FILE);
}

function checkVenue(venue: string): asserts venue is LiveVenueName {
  if (!(LIVE_VENUES as readonly string[]).includes(venue)) {
    throw new UsageError(`unknown live venue "${venue}"`, { hint: `use ${LIVE_VENUES.join(' or ')}` });
  }
}

// Binance keys are 64 alphanumerics; accept any printable token so a format change does not lock users out.
const KEY_RE = /^[\x21-\x7e]{8,256}$/;

function checkKey(what: string, value: string): void {
  if (!KEY_RE.test(value)) {
    throw new UsageError(`${what} is not a valid Binance key (${value.length} characters)`, {
      hint: 'copy the key again from the API management page (testnet keys: https://testnet.binance.vision)',
    });
  }
}

type FileShape = Partial<Record<LiveVenueName, { apiKey: string; apiSecret: string }>>;

function readFile(file: string): FileShape {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The parser's message can quote the file's content, i.e. a secret: say only where.
    throw new UsageError(`${file} is not valid JSON`, { hint: `fix it or delete it and save the keys again` });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`${file} must hold an object keyed by venue`, { hint: 'delete it and save the keys again' });
  }
  return parsed as FileShape;
}

/** Group/other permission bits set on the file, or 0 (always 0 on Windows, which has no modes). */
function widePermissions(file: string): number {
  if (process.platform === 'win32') return 0;
  return statSync(file).mode & 0o077;
}

/**
 * Saves a venue's keys into the data dir's credentials file with mode 0600: written to a
 * temporary file created 0600, synced, then renamed over the old one, so a crash never leaves
 * a half-written or world-readable file.
 */
export function saveCredentials(dataDir: string, venue: LiveVenueName, keys: CredentialsInput): string {
  checkVenue(venue);
  const secret = keys.apiSecret instanceof Secret ? keys.apiSecret.reveal() : keys.apiSecret;
  checkKey('API key', keys.apiKey);
  checkKey('API secret', secret);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = credentialsPath(dataDir);
  const current = readFile(file);
  current[venue] = { apiKey: keys.apiKey, apiSecret: secret };
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, JSON.stringify(current, null, 2) + '\n');
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, file);
  return file;
}

export interface LoadCredentialsOptions {
  /** Load a file others can read, reporting it in `warnings` instead of refusing. Default false. */
  allowInsecure?: boolean;
}

export interface LoadedCredentials extends Credentials {
  warnings: string[];
}

/**
 * The keys for `venue`: BINANCE_API_KEY + BINANCE_API_SECRET from `env` when both are set,
 * else the data dir's credentials file. Undefined when neither has them.
 */
export function loadCredentials(
  dataDir: string,
  venue: LiveVenueName,
  env: NodeJS.ProcessEnv = process.env,
  opts: LoadCredentialsOptions = {},
): LoadedCredentials | undefined {
  checkVenue(venue);
  const envKey = env.BINANCE_API_KEY?.trim();
  const envSecret = env.BINANCE_API_SECRET?.trim();
  if (envKey || envSecret) {
    if (!envKey || !envSecret) {
      throw new UsageError(`${envKey ? 'BINANCE_API_SECRET' : 'BINANCE_API_KEY'} is not set, but ${envKey ? 'BINANCE_API_KEY' : 'BINANCE_API_SECRET'} is`, {
        hint: 'set both variables, or unset both to use the saved credentials',
      });
    }
    checkKey('BINANCE_API_KEY', envKey);
    checkKey('BINANCE_API_SECRET', envSecret);
    return { apiKey: envKey, apiSecret: new Secret(envSecret), source: 'env', warnings: [] };
  }

  const file = credentialsPath(dataDir);
  const all = readFile(file);
  const entry = all[venue];
  if (!entry) return undefined;
  const warnings: string[] = [];
  const wide = widePermissions(file);
  if (wide !== 0) {
    const mode = (statSync(file).mode & 0o777).toString(8).padStart(3, '0');
    const msg = `${file} is accessible by other users (mode ${mode})`;
    if (!opts.allowInsecure) throw new UsageError(msg, { hint: `run: chmod 600 ${file}` });
    warnings.push(`${msg}; run: chmod 600 ${file}`);
  }
  if (typeof entry.apiKey !== 'string' || typeof entry.apiSecret !== 'string') {
    throw new UsageError(`${file}: the ${venue} entry needs apiKey and apiSecret strings`, { hint: 'save the keys again' });
  }
  checkKey(`${venue} API key in ${file}`, entry.apiKey);
  checkKey(`${venue} API secret in ${file}`, entry.apiSecret);
  return { apiKey: entry.apiKey, apiSecret: new Secret(entry.apiSecret), source: 'file', warnings };
}

/** Like loadCredentials, but a missing key pair is a UsageError that says how to provide one. */
export function requireCredentials(
  dataDir: string,
  venue: LiveVenueName,
  env: NodeJS.ProcessEnv = process.env,
  opts: LoadCredentialsOptions = {},
): LoadedCredentials {
  const c = loadCredentials(dataDir, venue, env, opts);
  if (c) return c;
  throw new UsageError(`no Binance ${venue} API keys configured`, {
    hint: `set BINANCE_API_KEY and BINANCE_API_SECRET, or save them with \`qtrade config set binance.apiKey\` / \`binance.apiSecret\`${
      venue === 'testnet' ? ' (testnet keys: https://testnet.binance.vision)' : ''
    }`,
  });
}

/** Where a live venue lives. */
export interface LiveEndpoints {
  venue: LiveVenueName;
  /** REST base, e.g. https://testnet.binance.vision. */
  restUrl: string;
  /** WebSocket streams base (legacy listenKey streams at /ws/<listenKey>). */
  streamUrl: string;
  /** WebSocket API endpoint (user data stream subscriptions). */
  wsApiUrl: string;
}

export const LIVE_ENDPOINTS: Readonly<Record<LiveVenueName, LiveEndpoints>> = {
  testnet: {
    venue: 'testnet',
    restUrl: 'https://testnet.binance.vision',
    streamUrl: 'wss://stream.testnet.binance.vision',
    wsApiUrl: 'wss://ws-api.testnet.binance.vision/ws-api/v3',
  },
  mainnet: {
    venue: 'mainnet',
    restUrl: 'https://api.binance.com',
    streamUrl: 'wss://stream.binance.com:9443',
    wsApiUrl: 'wss://ws-api.binance.com:443/ws-api/v3',
  },
};

export interface ResolveLiveVenueOptions {
  /** `--venue`; undefined means the default live venue, testnet. */
  venue?: string;
  /** The config confirmation (`live.mainnetConfirmed`); mainnet needs it AND `--venue mainnet`. */
  mainnetConfirmed?: boolean;
  /** Endpoint overrides (tests, or a proxy that rewrites hosts). */
  overrides?: Partial<Omit<LiveEndpoints, 'venue'>>;
}

/**
 * The live venue's endpoints. Testnet is the default; mainnet trades real money, so it takes two
 * deliberate steps: the config confirmation and `--venue mainnet` on the command.
 */
export function resolveLiveVenue(opts: ResolveLiveVenueOptions = {}): LiveEndpoints {
  const name = opts.venue ?? 'testnet';
  if (name === 'paper') {
    throw new UsageError('"paper" is not a live venue', { hint: 'paper orders run in the embedded paper engine; use --venue testnet or mainnet for Binance' });
  }
  checkVenue(name);
  if (name === 'mainnet' && opts.mainnetConfirmed !== true) {
    throw new UsageError('live trading on Binance mainnet is not confirmed', {
      hint: 'mainnet uses real money and needs two steps: run `qtrade config set live.mainnetConfirmed true` once, then pass --venue mainnet on each command',
    });
  }
  return { ...LIVE_ENDPOINTS[name], ...stripUndefined(opts.overrides ?? {}) };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

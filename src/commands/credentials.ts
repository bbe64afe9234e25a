import { readFileSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../engine/errors.js';
import { LIVE_VENUES, loadCredentials, saveCredentials, type LiveVenueName } from '../engine/market/binance/credentials.js';

/**
 * `qtrade config set binance.apiKey|binance.apiSecret`: Binance keys are not settings, they go to
 * the data dir's credentials.json through saveCredentials (0600, atomic) and are never printed.
 * The two halves arrive in two commands: an API key without its secret waits in
 * credentials.pending.json (0600, never holding a secret) until the secret completes the pair.
 */

export const CREDENTIAL_KEYS = { 'binance.apiKey': 'apiKey', 'binance.apiSecret': 'apiSecret' } as const;
export type CredentialKey = keyof typeof CREDENTIAL_KEYS;

const PENDING = 'credentials.pending.json';
const KEY_RE = /^[\x21-\x7e]{8,256}$/;

function venueOf(v: string | undefined): LiveVenueName {
  const name = (v ?? 'testnet').toLowerCase();
  if (!(LIVE_VENUES as readonly string[]).includes(name)) throw new UsageError(`unknown live venue "${v}"`, { hint: `use ${LIVE_VENUES.join(' or ')}` });
  return name as LiveVenueName;
}

function readPending(file: string): Partial<Record<LiveVenueName, string>> {
  try {
    const o = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return typeof o === 'object' && o !== null ? (o as Partial<Record<LiveVenueName, string>>) : {};
  } catch {
    return {};
  }
}

function writePending(file: string, pending: Partial<Record<LiveVenueName, string>>): void {
  if (Object.keys(pending).length === 0) {
    rmSync(file, { force: true });
    return;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(pending) + '\n', { mode: 0o600, flag: 'w' });
  renameSync(tmp, file);
}

/** Stores one half of a venue's key pair; returns a note for stderr (never the value). */
export function setCredential(dataDir: string, key: CredentialKey, value: string, venueName?: string): { file?: string; note: string } {
  const venue = venueOf(venueName);
  if (value === '') throw new UsageError(`no value given for ${key}`, { hint: `pass it, or pipe it in: qtrade config set ${key} < file` });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pendingFile = path.join(dataDir, PENDING);
  const pending = readPending(pendingFile);
  // Only the file counts here: keys in BINANCE_API_* env variables are not ours to pair with.
  const existing = loadCredentials(dataDir, venue, {}, { allowInsecure: true });
  if (CREDENTIAL_KEYS[key] === 'apiKey') {
    if (existing) {
      const file = saveCredentials(dataDir, venue, { apiKey: value, apiSecret: existing.apiSecret });
      delete pending[venue];
      writePending(pendingFile, pending);
      return { file, note: `saved the ${venue} API key to ${file} (mode 600); set binance.apiSecret too if the secret changed` };
    }
    if (!KEY_RE.test(value)) throw new UsageError(`API key is not a valid Binance key (${value.length} characters)`, { hint: 'copy the key again from the API management page' });
    pending[venue] = value;
    writePending(pendingFile, pending);
    return { note: `${venue} API key kept; now set binance.apiSecret to complete the key pair (without a value it is read from stdin)` };
  }
  const apiKey = pending[venue] ?? existing?.apiKey;
  if (apiKey === undefined) {
    throw new UsageError(`no ${venue} API key to pair the secret with`, { hint: `run \`qtrade config set binance.apiKey KEY${venue === 'mainnet' ? ' --venue mainnet' : ''}\` first` });
  }
  const file = saveCredentials(dataDir, venue, { apiKey, apiSecret: value });
  delete pending[venue];
  writePending(pendingFile, pending);
  return { file, note: `saved the ${venue} key pair to ${file} (mode 600)` };
}

/** Whether a venue's keys are configured, and where from (for `config get`). */
export function credentialStatus(dataDir: string, venueName?: string): { set: boolean; source: 'env' | 'file' | 'unset' } {
  const c = loadCredentials(dataDir, venueOf(venueName), process.env, { allowInsecure: true });
  return c ? { set: true, source: c.source } : { set: false, source: 'unset' };
}

import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../errors.js';
import { credentialsPath, loadCredentials, requireCredentials, resolveLiveVenue, saveCredentials, Secret } from './credentials.js';

const KEY = 'A'.repeat(64);
const SECRET = 'sEcReT0123456789sEcReT0123456789sEcReT0123456789sEcReT0123456789';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'qtrade-cred-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('Secret', () => {
  it('never prints its value', () => {
    const s = new Secret(SECRET);
    for (const text of [String(s), `${s}`, s.toString(), JSON.stringify({ s }), inspect(s), inspect({ nested: { s } }), 'x' + s]) {
      expect(text).not.toContain(SECRET);
      expect(text).toContain('****');
    }
    expect(s.reveal()).toBe(SECRET);
  });
});

describe('credentials file', () => {
  it('saves with mode 0600, atomically, and loads back', () => {
    const file = saveCredentials(dir, 'testnet', { apiKey: KEY, apiSecret: SECRET });
    expect(file).toBe(credentialsPath(dir));
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const c = loadCredentials(dir, 'testnet', {})!;
    expect(c.apiKey).toBe(KEY);
    expect(c.apiSecret.reveal()).toBe(SECRET);
    expect(c.source).toBe('file');
    expect(JSON.stringify(c)).not.toContain(SECRET);
    expect(loadCredentials(dir, 'mainnet', {})).toBeUndefined();
  });

  it('keeps other venues when saving one', () => {
    saveCredentials(dir, 'testnet', { apiKey: KEY, apiSecret: SECRET });
    saveCredentials(dir, 'mainnet', { apiKey: 'B'.repeat(64), apiSecret: new Secret(SECRET) });
    expect(loadCredentials(dir, 'testnet', {})!.apiKey).toBe(KEY);
    expect(loadCredentials(dir, 'mainnet', {})!.apiKey).toBe('B'.repeat(64));
  });

  it.skipIf(process.platform === 'win32')('refuses a file others can read, or warns when allowed', () => {
    const file = saveCredentials(dir, 'testnet', { apiKey: KEY, apiSecret: SECRET });
    chmodSync(file, 0o644);
    const err = (() => {
      try {
        loadCredentials(dir, 'testnet', {});
      } catch (e) {
        return e as UsageError;
      }
      throw new Error('expected a refusal');
    })();
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toMatch(/mode 644/);
    expect(err.hint).toMatch(/chmod 600/);
    const c = loadCredentials(dir, 'testnet', {}, { allowInsecure: true })!;
    expect(c.warnings[0]).toMatch(/chmod 600/);
  });

  it('does not echo a corrupt file (it may hold a secret)', () => {
    writeFileSync(credentialsPath(dir), `{"testnet": {"apiKey": "${KEY}", "apiSecret": "${SECRET}"`, { mode: 0o600 });
    expect(() => loadCredentials(dir, 'testnet', {})).toThrow(UsageError);
    try {
      loadCredentials(dir, 'testnet', {});
    } catch (e) {
      expect(JSON.stringify({ m: (e as Error).message, h: (e as UsageError).hint })).not.toContain(SECRET);
    }
  });

  it('rejects malformed keys without printing them', () => {
    expect(() => saveCredentials(dir, 'testnet', { apiKey: KEY, apiSecret: 'short' })).toThrow(/API secret is not a valid Binance key \(5 characters\)/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('environment', () => {
  it('prefers BINANCE_API_KEY / BINANCE_API_SECRET over the file', () => {
    saveCredentials(dir, 'testnet', { apiKey: 'B'.repeat(64), apiSecret: SECRET });
    const c = loadCredentials(dir, 'testnet', { BINANCE_API_KEY: KEY, BINANCE_API_SECRET: SECRET })!;
    expect(c.source).toBe('env');
    expect(c.apiKey).toBe(KEY);
  });

  it('refuses half a key pair', () => {
    expect(() => loadCredentials(dir, 'testnet', { BINANCE_API_KEY: KEY })).toThrow(/BINANCE_API_SECRET is not set/);
  });

  it('explains how to configure keys when there are none', () => {
    const err = (() => {
      try {
        requireCredentials(dir, 'testnet', {});
      } catch (e) {
        return e as UsageError;
      }
      throw new Error('expected an error');
    })();
    expect(err.exitCode).toBe(2);
    expect(err.hint).toMatch(/BINANCE_API_KEY/);
  });
});

describe('resolveLiveVenue', () => {
  it('defaults to testnet', () => {
    expect(resolveLiveVenue()).toEqual({
      venue: 'testnet',
      restUrl: 'https://testnet.binance.vision',
      streamUrl: 'wss://stream.testnet.binance.vision',
      wsApiUrl: 'wss://ws-api.testnet.binance.vision/ws-api/v3',
    });
  });

  it('needs both the config confirmation and --venue mainnet for mainnet', () => {
    expect(() => resolveLiveVenue({ venue: 'mainnet' })).toThrow(UsageError);
    try {
      resolveLiveVenue({ venue: 'mainnet', mainnetConfirmed: false });
    } catch (e) {
      expect((e as UsageError).hint).toMatch(/live\.mainnetConfirmed true/);
      expect((e as UsageError).hint).toMatch(/--venue mainnet/);
    }
    // the confirmation alone does not switch the default venue
    expect(resolveLiveVenue({ mainnetConfirmed: true }).venue).toBe('testnet');
    expect(resolveLiveVenue({ venue: 'mainnet', mainnetConfirmed: true }).restUrl).toBe('https://api.binance.com');
  });

  it('rejects unknown venues and applies overrides', () => {
    expect(() => resolveLiveVenue({ venue: 'kraken' })).toThrow(/unknown live venue/);
    expect(() => resolveLiveVenue({ venue: 'paper' })).toThrow(/not a live venue/);
    expect(resolveLiveVenue({ overrides: { restUrl: 'http://127.0.0.1:1' } }).restUrl).toBe('http://127.0.0.1:1');
  });
});

it('the saved file holds exactly what was saved', () => {
  saveCredentials(dir, 'testnet', { apiKey: KEY, apiSecret: SECRET });
  expect(JSON.parse(readFileSync(credentialsPath(dir), 'utf8'))).toEqual({ testnet: { apiKey: KEY, apiSecret: SECRET } });
});

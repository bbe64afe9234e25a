import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { IncomingHttpHeaders } from 'node:http';
import { UsageError } from '../engine/errors.js';
import { hmacSha256Hex } from '../engine/market/binance/signing.js';
import { ApiErrors, SCOPES, type Authenticator, type Principal, type Scope } from './types.js';

/**
 * The daemon's users: `<dataDir>/tokens.json` (mode 0600). A bearer token is stored only as its
 * SHA-256 (tokens are 256-bit random, so a plain hash cannot be brute-forced). A Binance-style key
 * pair stores the API key's hash and the secret itself: an HMAC can only be checked with the key it
 * was made with (Binance keeps it too), so the file's permissions are what protect it.
 */
export interface TokenRecord {
  id: string;
  name: string;
  scope: Scope;
  createdAt: string;
  /** sha256 hex of the bearer token, or of the API key for a key pair. */
  hash: string;
  kind: 'token' | 'apiKey';
  /** Key pairs only. */
  secret?: string;
}

/** What `token create` shows once: the credentials are never stored in the clear (but a pair's secret). */
export interface IssuedToken {
  record: Omit<TokenRecord, 'hash' | 'secret'>;
  token?: string;
  apiKey?: string;
  apiSecret?: string;
}

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
const NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

export function parseScope(s: string): Scope {
  const v = s.toLowerCase();
  if (!(SCOPES as readonly string[]).includes(v)) throw new UsageError(`unknown scope "${s}"`, { hint: `use ${SCOPES.join(', ')}` });
  return v as Scope;
}

export class TokenStore {
  readonly file: string;
  private cache: { mtimeMs: number; size: number; list: TokenRecord[] } | undefined;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'tokens.json');
  }

  /** Every token, re-read when the file changed (a `token create` while the daemon runs takes effect at once). */
  list(): TokenRecord[] {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.file);
    } catch {
      this.cache = undefined;
      return [];
    }
    if (this.cache && this.cache.mtimeMs === st.mtimeMs && this.cache.size === st.size) return this.cache.list;
    let list: TokenRecord[];
    try {
      const v = JSON.parse(fs.readFileSync(this.file, 'utf8')) as { tokens?: TokenRecord[] };
      if (!Array.isArray(v.tokens)) throw new Error('no "tokens" array');
      list = v.tokens;
    } catch (err) {
      throw new UsageError(`${this.file} is not a token file: ${(err as Error).message}`, { hint: 'fix or remove it, then create tokens again with `qtrade token create`' });
    }
    this.cache = { mtimeMs: st.mtimeMs, size: st.size, list };
    return list;
  }

  create(opts: { scope: Scope; name?: string; apiKey?: boolean }): IssuedToken {
    const list = [...this.list()];
    const name = opts.name ?? `${opts.scope}-${list.length + 1}`;
    if (!NAME.test(name)) throw new UsageError(`token name "${name}" must be 1-64 letters, digits, or _ . @ -`);
    if (list.some((t) => t.name === name)) throw new UsageError(`a token named "${name}" exists`, { hint: 'pick another --name, or `qtrade token revoke` it first' });
    const id = randomBytes(4).toString('hex');
    const record = { id, name, scope: opts.scope, createdAt: new Date().toISOString() };
    let issued: IssuedToken;
    if (opts.apiKey) {
      // Binance's shape: 64 alphanumerics each.
      const apiKey = alnum(64);
      const apiSecret = alnum(64);
      list.push({ ...record, kind: 'apiKey', hash: sha256(apiKey), secret: apiSecret });
      issued = { record: { ...record, kind: 'apiKey' }, apiKey, apiSecret };
    } else {
      const token = `qt_${id}_${randomBytes(32).toString('base64url')}`;
      list.push({ ...record, kind: 'token', hash: sha256(token) });
      issued = { record: { ...record, kind: 'token' }, token };
    }
    this.write(list);
    return issued;
  }

  /** Removes a token by id or name; false when none matches. */
  revoke(idOrName: string): boolean {
    const list = this.list();
    const next = list.filter((t) => t.id !== idOrName && t.name !== idOrName);
    if (next.length === list.length) return false;
    this.write(next);
    return true;
  }

  findToken(token: string): TokenRecord | undefined {
    return this.find('token', token);
  }

  findApiKey(apiKey: string): TokenRecord | undefined {
    return this.find('apiKey', apiKey);
  }

  private find(kind: TokenRecord['kind'], credential: string): TokenRecord | undefined {
    const h = Buffer.from(sha256(credential), 'hex');
    for (const t of this.list()) {
      if (t.kind === kind && timingSafeEqual(h, Buffer.from(t.hash, 'hex'))) return t;
    }
    return undefined;
  }

  private write(list: TokenRecord[]): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ tokens: list }, null, 2) + '\n', { mode: 0o600 });
    fs.renameSync(tmp, this.file);
    fs.chmodSync(this.file, 0o600);
    this.cache = undefined;
  }
}

function alnum(n: number): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(n * 2);
  let s = '';
  for (let i = 0; i < bytes.length && s.length < n; i++) if (bytes[i]! < 248) s += chars[bytes[i]! % 62];
  return s.padEnd(n, 'A');
}

/** Binance's recvWindow bounds: default 5000 ms, at most 60000. */
const DEFAULT_RECV_WINDOW = 5000;
const MAX_RECV_WINDOW = 60_000;

export class TokenAuthenticator implements Authenticator {
  constructor(readonly tokens: TokenStore) {}

  required(): boolean {
    return this.tokens.list().length > 0;
  }

  authenticate(headers: IncomingHttpHeaders, total: { query: string; body: string }, signed: boolean, now: number): Principal {
    const bearer = bearerOf(headers);
    if (bearer !== undefined) return this.authenticateToken(bearer);
    const apiKey = headerOf(headers, 'x-mbx-apikey');
    if (apiKey !== undefined) {
      const rec = this.tokens.findApiKey(apiKey);
      if (!rec) throw ApiErrors.unauthorized('unknown API key');
      if (signed) verifySignature(rec.secret ?? '', total, now);
      return { kind: 'apiKey', scope: rec.scope, tokenId: rec.id, name: rec.name };
    }
    if (this.required()) throw ApiErrors.unauthorized('send Authorization: Bearer <token> or X-MBX-APIKEY');
    return { kind: 'open', scope: 'admin' };
  }

  authenticateToken(token: string | undefined): Principal {
    if (token === undefined || token === '') {
      if (this.required()) throw ApiErrors.unauthorized('a token is required');
      return { kind: 'open', scope: 'admin' };
    }
    const rec = this.tokens.findToken(token) ?? this.tokens.findApiKey(token);
    if (!rec) throw ApiErrors.unauthorized('unknown token');
    return { kind: rec.kind === 'apiKey' ? 'apiKey' : 'token', scope: rec.scope, tokenId: rec.id, name: rec.name };
  }
}

/**
 * Binance's SIGNED check: `signature` (hex HMAC-SHA256 of the query string followed by the body,
 * each without the signature parameter) and `timestamp` within `recvWindow` of the server time.
 */
function verifySignature(secret: string, total: { query: string; body: string }, now: number): void {
  const q = splitSignature(total.query);
  const b = splitSignature(total.body);
  const signature = q.signature ?? b.signature;
  if (signature === undefined) throw ApiErrors.mandatory('signature');
  const params = new URLSearchParams(q.rest + (q.rest && b.rest ? '&' : '') + b.rest);
  const ts = params.get('timestamp');
  if (ts === null || ts === '') throw ApiErrors.mandatory('timestamp');
  if (!/^\d{1,16}$/.test(ts)) throw ApiErrors.badParam('timestamp', 'expected milliseconds since the epoch');
  const rw = params.get('recvWindow');
  let recvWindow = DEFAULT_RECV_WINDOW;
  if (rw !== null) {
    if (!/^\d{1,16}(\.\d{1,3})?$/.test(rw) || Number(rw) > MAX_RECV_WINDOW) throw ApiErrors.badParam('recvWindow', `expected a number of ms up to ${MAX_RECV_WINDOW}`);
    recvWindow = Number(rw);
  }
  const expected = Buffer.from(hmacSha256Hex(secret, q.rest + b.rest), 'utf8');
  const given = Buffer.from(signature.toLowerCase(), 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw ApiErrors.badSignature();
  const t = Number(ts);
  if (!(t < now + 1000 && now - t <= recvWindow)) throw ApiErrors.badTimestamp();
}

/** The raw text without its `signature=` parameter (verbatim otherwise), and the signature. */
function splitSignature(text: string): { rest: string; signature?: string } {
  if (text === '') return { rest: '' };
  const parts = text.split('&');
  let signature: string | undefined;
  const rest: string[] = [];
  for (const p of parts) {
    if (p.startsWith('signature=')) signature = decodeURIComponent(p.slice('signature='.length));
    else rest.push(p);
  }
  return { rest: rest.join('&'), signature };
}

function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}

function bearerOf(headers: IncomingHttpHeaders): string | undefined {
  const v = headerOf(headers, 'authorization');
  if (v === undefined) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(v);
  if (!m) throw ApiErrors.unauthorized('Authorization must be "Bearer <token>"');
  return m[1];
}

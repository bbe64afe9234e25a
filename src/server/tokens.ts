import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { IncomingHttpHeaders } from 'node:http';
import { UsageError } from '../engine/errors.js';
import { hmacSha256Hex } from '../engine/market/binance/signing.js';
import { ApiError, ApiErrors, SCOPES, type Authenticator, type Principal, type Scope } from './types.js';

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
  private cache: { stamp: string; list: TokenRecord[] } | undefined;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'tokens.json');
  }

  /** Every token, re-read when the file changed (a `token create` while the daemon runs takes effect at once). */
  list(): TokenRecord[] {
    let st: fs.Stats | undefined;
    try {
      // Called for every request: a missing file (an open daemon) must not cost a thrown error each time.
      st = fs.statSync(this.file, { throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    if (st === undefined) {
      this.cache = undefined;
      return [];
    }
    // The inode too: a revoke and a create in the same clock tick can leave mtime and size unchanged.
    const stamp = `${st.ino}:${st.mtimeMs}:${st.ctimeMs}:${st.size}`;
    if (this.cache?.stamp === stamp) return this.cache.list;
    let list: TokenRecord[];
    try {
      const v = JSON.parse(fs.readFileSync(this.file, 'utf8')) as { tokens?: TokenRecord[] };
      if (!Array.isArray(v.tokens)) throw new Error('no "tokens" array');
      list = v.tokens;
    } catch (err) {
      throw new UsageError(`${this.file} is not a token file: ${(err as Error).message}`, { hint: 'fix or remove it, then create tokens again with `qtrade token create`' });
    }
    this.cache = { stamp, list };
    return list;
  }

  create(opts: { scope: Scope; name?: string; apiKey?: boolean }): IssuedToken {
    const list = [...this.list()];
    const name = opts.name ?? `${opts.scope}-${list.length + 1}`;
    if (!NAME.test(name)) throw new UsageError(`token name "${name}" must be 1-64 letters, digits, or _ . @ -`);
    if (list.some((t) => t.name === name)) throw new UsageError(`a token named "${name}" exists`, { hint: 'pick another --name, or `qtrade token revoke` it first' });
    let id: string;
    do id = randomBytes(4).toString('hex');
    while (list.some((t) => t.id === id));
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

  /** Removes the token with this id (else this name) and returns it; undefined when none matches. */
  revoke(idOrName: string): TokenRecord | undefined {
    const list = this.list();
    const gone = list.find((t) => t.id === idOrName) ?? list.find((t) => t.name === idOrName);
    if (!gone) return undefined;
    this.write(list.filter((t) => t !== gone));
    return gone;
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
      const stored = Buffer.from(typeof t.hash === 'string' ? t.hash : '', 'hex');
      // A hand-edited record with a malformed hash matches nothing (timingSafeEqual throws on a length mismatch).
      if (t.kind === kind && stored.length === h.length && timingSafeEqual(h, stored)) return t;
    }
    return undefined;
  }

  private write(list: TokenRecord[]): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    // A fresh file, so the mode applies (a leftover tmp file would keep its own, perhaps readable one).
    fs.rmSync(tmp, { force: true });
    fs.writeFileSync(tmp, JSON.stringify({ tokens: list }, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
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

/**
 * Binance's `totalParams`: the query string and the body, verbatim. `form: false` marks a JSON
 * body: it is signed as it is, but never searched for parameters.
 */
export interface SignedPayload {
  query: string;
  body: string;
  form?: boolean;
}

export class TokenAuthenticator implements Authenticator {
  constructor(readonly tokens: TokenStore) {}

  required(): boolean {
    return this.tokens.list().length > 0;
  }

  authenticate(headers: IncomingHttpHeaders, total: SignedPayload, signed: boolean, now: number): Principal {
    const bearer = bearerOf(headers);
    if (bearer !== undefined) return this.authenticateToken(bearer);
    const apiKey = headerOf(headers, 'x-mbx-apikey');
    if (apiKey !== undefined) {
      const rec = this.tokens.findApiKey(apiKey);
      if (!rec) throw ApiErrors.unauthorized('unknown API key');
      const principal: Principal = { kind: 'apiKey', scope: rec.scope, tokenId: rec.id, name: rec.name };
      if (signed || signaturesOf(total).length > 0) {
        verifySignature(rec.secret ?? '', total, now);
        return principal;
      }
      // The key travels in every request, so alone it proves little: as on Binance (MARKET_DATA,
      // USER_STREAM) it may read; anything more must be signed with the secret.
      return { ...principal, scope: 'read' };
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
    // An API key without its signature reads only (see authenticate).
    if (rec.kind === 'apiKey') return { kind: 'apiKey', scope: 'read', tokenId: rec.id, name: rec.name };
    return { kind: 'token', scope: rec.scope, tokenId: rec.id, name: rec.name };
  }
}

/**
 * Binance's SIGNED check: exactly one `signature` (hex HMAC-SHA256 of the query string followed
 * directly by the body, each without the signature parameter), and `timestamp` within `recvWindow`
 * of the server time. A parameter in both the query and the body is taken from the query, as on
 * Binance and in the parameters the routes see.
 */
function verifySignature(secret: string, total: SignedPayload, now: number): void {
  const signatures = signaturesOf(total);
  if (signatures.length === 0) throw ApiErrors.mandatory('signature');
  if (signatures.length > 1) throw new ApiError(400, -1101, "Duplicate values for a parameter detected: send 'signature' once.");
  const q = withoutSignature(total.query);
  const b = total.form === false ? total.body : withoutSignature(total.body);
  const qp = new URLSearchParams(q);
  const bp = new URLSearchParams(total.form === false ? '' : b);
  const param = (name: string): string | null => qp.get(name) ?? bp.get(name);
  const ts = param('timestamp');
  if (ts === null || ts === '') throw ApiErrors.mandatory('timestamp');
  if (!/^\d{1,16}$/.test(ts)) throw ApiErrors.badParam('timestamp', 'expected milliseconds since the epoch');
  const rw = param('recvWindow');
  let recvWindow = DEFAULT_RECV_WINDOW;
  if (rw !== null) {
    if (!/^\d{1,16}(\.\d{1,3})?$/.test(rw)) throw ApiErrors.badParam('recvWindow', `expected a number of ms up to ${MAX_RECV_WINDOW}`);
    if (Number(rw) > MAX_RECV_WINDOW) throw new ApiError(400, -1131, `recvWindow must be less than ${MAX_RECV_WINDOW}.`);
    recvWindow = Number(rw);
  }
  const given = signatures[0]!;
  if (!/^[0-9a-fA-F]{64}$/.test(given)) throw ApiErrors.badSignature();
  const expected = Buffer.from(hmacSha256Hex(secret, q + b), 'utf8');
  if (!timingSafeEqual(expected, Buffer.from(given.toLowerCase(), 'utf8'))) throw ApiErrors.badSignature();
  const t = Number(ts);
  if (!(t < now + 1000 && now - t <= recvWindow)) throw ApiErrors.badTimestamp();
}

/** Every `signature=` value in the query and a form body (decoded; undecodable ones kept raw, so they fail). */
function signaturesOf(total: SignedPayload): string[] {
  const parts = [...total.query.split('&'), ...(total.form === false ? [] : total.body.split('&'))];
  return parts.filter((p) => p.startsWith('signature=')).map((p) => decoded(p.slice('signature='.length)));
}

/** The raw text without its `signature=` parameters, verbatim otherwise. */
function withoutSignature(text: string): string {
  if (text === '') return '';
  return text
    .split('&')
    .filter((p) => !p.startsWith('signature='))
    .join('&');
}

function decoded(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
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

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StoreError, UsageError } from '../errors.js';
import { DEFAULT_PG_SCHEMA, PostgresStore, maskUrl } from './postgres.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite.js';
import type { Store } from './types.js';

const URL_HINT = 'use sqlite:/path/to/file.db, sqlite::memory: or postgres://user:password@host:5432/db[?schema=name]';

export type StoreLocation =
  | { kind: 'sqlite'; file: string }
  | { kind: 'postgres'; connectionString: string; schema: string };

/** Parses a store URL without touching the disk or the network. */
export function parseStoreUrl(url: string): StoreLocation {
  const trimmed = url.trim();
  if (/^sqlite:/i.test(trimmed)) {
    let p = trimmed.slice('sqlite:'.length);
    if (p === ':memory:') return { kind: 'sqlite', file: ':memory:' };
    // sqlite:///abs/path is the URL-style spelling of sqlite:/abs/path.
    if (p.startsWith('///')) p = p.slice(2);
    else if (p.startsWith('//')) {
      throw new UsageError(`store URL "${url}" names a host; SQLite stores are local files`, { hint: URL_HINT });
    }
    if (p === '') throw new UsageError(`store URL "${url}" has no file path`, { hint: URL_HINT });
    if (p === '~' || p.startsWith('~/')) p = path.join(os.homedir(), p.slice(1));
    return { kind: 'sqlite', file: path.resolve(p) };
  }
  if (/^postgres(ql)?:\/\//i.test(trimmed)) {
    let u: URL;
    try {
      u = new URL(trimmed);
    } catch {
      throw new UsageError(`store URL ${maskUrl(trimmed)} is not a valid PostgreSQL URL`, { hint: URL_HINT });
    }
    const schema = u.searchParams.get('schema') ?? DEFAULT_PG_SCHEMA;
    u.searchParams.delete('schema');
    return { kind: 'postgres', connectionString: u.toString(), schema };
  }
  throw new UsageError(`store URL ${maskUrl(trimmed) || '""'} is neither sqlite: nor postgres://`, { hint: URL_HINT });
}

/**
 * Opens and migrates the store a URL names: `sqlite:/path/file.db` (creating the parent
 * directory), `sqlite::memory:`, or `postgres://…` / `postgresql://…` with an optional
 * `?schema=name`. Errors never carry the URL's password. `opts.sqlite` applies to a SQLite store only.
 */
export async function openStore(url: string, opts: { sqlite?: SqliteStoreOptions } = {}): Promise<Store> {
  const loc = parseStoreUrl(url);
  let store: Store;
  if (loc.kind === 'sqlite') {
    if (loc.file !== ':memory:') {
      try {
        fs.mkdirSync(path.dirname(loc.file), { recursive: true });
      } catch (err) {
        throw new StoreError('STORE_OPEN', `cannot create directory ${path.dirname(loc.file)} for the SQLite store: ${(err as Error).message}`, {
          hint: 'choose a writable location with --store sqlite:PATH',
          cause: err,
        });
      }
    }
    store = new SqliteStore(loc.file, opts.sqlite);
  } else {
    store = new PostgresStore({ connectionString: loc.connectionString, schema: loc.schema });
  }
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  return store;
}

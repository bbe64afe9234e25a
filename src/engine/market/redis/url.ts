import { UsageError } from '../../errors.js';

/** Checks a `--bus` / `--follow` value: a redis:// or rediss:// URL with a host. */
export function checkRedisUrl(text: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${flag} "${redactRedisUrl(text)}" is not a URL`, { hint: `use ${flag} redis://host:6379 (rediss:// for TLS)` });
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new UsageError(`${flag} must be a redis:// or rediss:// URL, not ${url.protocol}//`, { hint: `e.g. ${flag} redis://127.0.0.1:6379` });
  }
  if (!url.hostname) throw new UsageError(`${flag} "${redactRedisUrl(text)}" names no host`, { hint: `e.g. ${flag} redis://127.0.0.1:6379` });
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new UsageError(`${flag}: "${db}" is not a Redis database number`, { hint: 'use redis://host:6379/0 or leave the path out' });
  return text;
}

/** The URL without its password, for logs, /health and daemon.json. */
export function redactRedisUrl(text: string): string {
  try {
    const url = new URL(text);
    url.password = '';
    return url.toString();
  } catch {
    // Not a URL: hide anything that looks like credentials before an @.
    return text.replace(/\/\/[^@/]*@/, '//');
  }
}

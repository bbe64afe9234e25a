import { Redis, type RedisOptions } from 'ioredis';
import { VenueError } from '../../errors.js';
import { redactRedisUrl } from './url.js';

/**
 * An ioredis client for the bus. RESP2, so replies have the documented array shapes (ioredis 6
 * defaults to RESP3, where XREAD answers a map). It connects at once and keeps reconnecting with
 * ioredis's backoff; callers listen to its events.
 */
export function openRedis(url: string, opts: RedisOptions = {}): Redis {
  return new Redis(url, { protocol: 2, lazyConnect: false, ...opts });
}

/** Resolves once `redis` is ready; rejects after `timeoutMs` or when the client ends. */
export function untilReady(redis: Redis, url: string, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError: Error | undefined;
    const done = (err?: Error): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('end', onEnd);
      redis.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const fail = (why: string): VenueError =>
      new VenueError('REDIS_UNREACHABLE', `Redis at ${redactRedisUrl(url)} is unreachable: ${why}`, {
        hint: 'check that Redis runs and the URL (host, port, password, db) is right',
        cause: lastError,
      });
    const onReady = (): void => done();
    const onEnd = (): void => done(fail(lastError?.message ?? 'connection closed'));
    const onError = (err: Error): void => void (lastError = err);
    const timer = setTimeout(() => done(fail(lastError?.message ?? `no connection within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    redis.on('ready', onReady);
    redis.on('end', onEnd);
    redis.on('error', onError);
  });
}

import { describe, expect, it } from 'vitest';
import { UsageError } from '../../errors.js';
import { checkRedisUrl, redactRedisUrl } from './url.js';

describe('Redis bus URLs', () => {
  it.each(['redis://127.0.0.1:6379', 'rediss://cache.example:6380/2', 'redis://:secret@host:6379/0', 'redis://user:pw@host'])('accepts %s', (url) => {
    expect(checkRedisUrl(url, '--bus')).toBe(url);
  });

  it.each([
    ['http://127.0.0.1:6379', /--follow must be a redis:\/\/ or rediss:\/\/ URL, not http:\/\//],
    ['127.0.0.1:6379', /--follow "127\.0\.0\.1:6379" is not a URL/],
    ['localhost:6379', /--follow must be a redis:\/\/ or rediss:\/\/ URL, not localhost:\/\//],
    ['not a url', /--follow "not a url" is not a URL/],
    ['redis://host:6379/db1', /--follow: "db1" is not a Redis database number/],
  ])('refuses %s with a UsageError', (url, msg) => {
    expect(() => checkRedisUrl(url, '--follow')).toThrow(UsageError);
    expect(() => checkRedisUrl(url, '--follow')).toThrow(msg);
  });

  it('never repeats a password', () => {
    expect(redactRedisUrl('redis://:s3cret@host:6379/1')).toBe('redis://host:6379/1');
    expect(redactRedisUrl('rediss://alice:s3cret@host:6380')).toBe('rediss://alice@host:6380');
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    let err: unknown;
    try {
      checkRedisUrl('redis://:s3cret@host:6379/x', '--bus');
    } catch (e) {
      err = e;
    }
    expect(String((err as Error).message)).not.toContain('s3cret');
  });
});

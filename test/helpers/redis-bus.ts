import { randomBytes } from 'node:crypto';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { Redis } from 'ioredis';

/** The Redis the tests run against (started by the machine, not by the tests). */
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A key prefix no other test run uses. */
export function uniquePrefix(name: string): string {
  return `qtrade-test:${name}:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix`. */
export async function deletePrefix(prefix: string): Promise<void> {
  const r = new Redis(REDIS_URL, { protocol: 2 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = (await r.call('SCAN', [cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000'])) as [string, string[]];
      cursor = next;
      if (keys.length > 0) await r.call('DEL', keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

/**
 * A TCP relay on 127.0.0.1 in front of the real Redis, so a test can cut every connection and
 * refuse new ones (Redis "going away") without touching the shared server.
 */
export interface RedisRelay {
  readonly url: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Cuts every open connection; with `refuse`, new ones are cut at once until restore(). */
  cut(opts?: { refuse?: boolean }): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startRedisRelay(target = { host: '127.0.0.1', port: 6379 }): Promise<RedisRelay> {
  const sockets = new Set<Socket>();
  let refusing = false;
  let accepted = 0;
  const server = createServer((client) => {
    accepted++;
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    cut(opts = {}) {
      refusing = opts.refuse === true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      refusing = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

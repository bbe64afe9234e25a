import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WEBHOOK_HEADERS, verifyWebhook } from '../../src/notify/sign.js';

/** One request the receiver got, with its signature checked against the receiver's secret. */
export interface ReceivedWebhook {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: unknown;
  /** Signature valid (undefined when the receiver has no secret). */
  verified: boolean | undefined;
  /** The status it was answered with. */
  status: number;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  received: ReceivedWebhook[];
  /** Answers the next requests with these statuses (then 200 again); replaces what was queued before. */
  respond(statuses: number[]): void;
  /** Resolves once at least `n` requests came in. */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 that verifies qtrade's webhook signatures as a receiver would. */
export async function startWebhookReceiver(opts: { secret?: string; port?: number } = {}): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const queue: number[] = [];
  const waiters: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const verified =
        opts.secret === undefined
          ? undefined
          : verifyWebhook({
              secret: opts.secret,
              timestamp: req.headers[WEBHOOK_HEADERS.timestamp] as string | undefined,
              signature: req.headers[WEBHOOK_HEADERS.signature] as string | undefined,
              body,
              nowSec: Math.floor(Date.now() / 1000),
            });
      const status = queue.shift() ?? 200;
      received.push({ headers: req.headers, body, json, verified, status });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? '{"ok":true}' : `{"error":"answered ${status} by the test"}`);
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/qtrade`,
    port,
    received,
    respond: (statuses) => void queue.splice(0, queue.length, ...statuses),
    async waitFor(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < n) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`webhook receiver: ${received.length} of ${n} requests after ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on (connections are refused), for "receiver down" cases. */
export async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

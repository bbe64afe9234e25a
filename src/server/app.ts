import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequestHandler, handleClientError } from './http.js';
import { allRoutes } from './routes/index.js';
import type { DaemonContext } from './types.js';
import { attachStreams } from './ws.js';

/** The daemon's HTTP server (REST, /health, /metrics, /openapi.json) with the WebSocket streams on it. */
export interface ApiServer {
  server: http.Server;
  url: string;
  port: number;
  /** Stops accepting, closes WebSocket clients with "going away", and waits for requests in flight. */
  close(): Promise<void>;
}

export async function startApiServer(ctx: DaemonContext, host: string, port: number): Promise<ApiServer> {
  // Header and request timeouts are only enforced on this interval (Node's default is 30 s): a
  // slowloris client could otherwise hold a connection three times longer than headersTimeout.
  const server = http.createServer({ connectionsCheckingInterval: 1_000 }, createRequestHandler(ctx, allRoutes(ctx)));
  server.on('clientError', handleClientError);
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  const closers: Array<() => Promise<void>> = [];
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const streams = attachStreams(server, ctx);
  closers.push(() => streams.close());
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `http://${shownHost}:${addr.port}`,
    port: addr.port,
    close: async () => {
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of closers.splice(0)) await c();
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), 5_000);
      await done;
      clearTimeout(timer);
    },
  };
}

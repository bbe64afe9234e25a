import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequestHandler } from './http.js';
import { allRoutes } from './routes/index.js';
import type { DaemonContext } from './types.js';

/** The daemon's HTTP server (REST, /health, /metrics, /openapi.json) with the WebSocket streams on it. */
export interface ApiServer {
  server: http.Server;
  url: string;
  port: number;
  /** Stops accepting, closes WebSocket clients with "going away", and waits for requests in flight. */
  close(): Promise<void>;
}

export async function startApiServer(ctx: DaemonContext, host: string, port: number): Promise<ApiServer> {
  const server = http.createServer(createRequestHandler(ctx, allRoutes(ctx)));
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

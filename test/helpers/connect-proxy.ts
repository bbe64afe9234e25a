/**
 * A real HTTP proxy on 127.0.0.1 for tests: CONNECT tunnels (what https-proxy-agent
 * uses for ws/wss and undici's ProxyAgent uses for every target, http included, since
 * its `proxyTunnel` defaults to true) and, for clients that send them, plain-HTTP
 * absolute-URI requests (`GET http://host/path`). Records every target so a test can
 * prove traffic went through it.
 */
import { createServer, request as httpRequest } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface ConnectProxy {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** CONNECT tunnels opened, in order. */
  readonly tunnels: Array<{ host: string; port: number }>;
  /** Absolute-URI requests forwarded (not tunnelled). */
  readonly forwarded: Array<{ method: string; url: string }>;
  close(): Promise<void>;
}

export async function startConnectProxy(): Promise<ConnectProxy> {
  const tunnels: Array<{ host: string; port: number }> = [];
  const forwarded: Array<{ method: string; url: string }> = [];
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };

  const server = createServer((req, res) => {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('test proxy: expected an absolute-URI request or CONNECT');
      return;
    }
    forwarded.push({ method: req.method ?? 'GET', url: target.href });
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const upstream = httpRequest(
      { host: target.hostname, port: target.port || 80, path: target.pathname + target.search, method: req.method, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`test proxy: upstream failed: ${err.message}`);
    });
    req.pipe(upstream);
  });

  server.on('connect', (req, client: Socket, head: Buffer) => {
    track(client);
    const [host, portText] = splitHostPort(req.url ?? '');
    const port = Number(portText);
    tunnels.push({ host, port });
    const upstream = connect(port, host);
    track(upstream);
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => {
      if (client.writable) client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
      client.destroy();
    });
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.on('connection', track);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    forwarded,
    async close() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function splitHostPort(authority: string): [string, string] {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return [authority.slice(1, end), authority.slice(end + 2) || '443'];
  }
  const i = authority.lastIndexOf(':');
  return i === -1 ? [authority, '443'] : [authority.slice(0, i), authority.slice(i + 1)];
}

import type { Agent } from 'node:http';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { ProxyAgent, type Dispatcher } from 'undici';

/** Where traffic goes: an HTTP CONNECT proxy (or none) and the NO_PROXY exceptions. */
export interface NetOptions {
  proxy?: string;
  noProxy?: string;
}

/** True when `url`'s host matches a NO_PROXY entry (exact host, suffix ".example.com", host:port or "*"). */
export function bypassesProxy(url: string, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = u.port || (u.protocol === 'https:' || u.protocol === 'wss:' ? '443' : '80');
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const [eHost, ePort] = entry.split(':') as [string, string | undefined];
    if (ePort && ePort !== port) continue;
    const bare = eHost.replace(/^\*?\./, '');
    if (host === bare || host.endsWith(`.${bare}`)) return true;
  }
  return false;
}

/** The proxy to use for `url`, or undefined for a direct connection. */
export function proxyFor(url: string, net: NetOptions): string | undefined {
  if (!net.proxy || bypassesProxy(url, net.noProxy)) return undefined;
  return net.proxy;
}

/** An agent for the `ws` client that tunnels through the proxy with CONNECT. */
export function wsAgent(url: string, net: NetOptions): Agent | undefined {
  const proxy = proxyFor(url, net);
  return proxy ? new HttpsProxyAgent(proxy) : undefined;
}

const dispatchers = new Map<string, Dispatcher>();

/** An undici dispatcher for REST calls through the proxy (cached per proxy URL). */
export function restDispatcher(url: string, net: NetOptions): Dispatcher | undefined {
  const proxy = proxyFor(url, net);
  if (!proxy) return undefined;
  let d = dispatchers.get(proxy);
  if (!d) {
    d = new ProxyAgent(proxy);
    dispatchers.set(proxy, d);
  }
  return d;
}

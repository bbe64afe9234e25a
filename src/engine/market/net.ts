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
    const { host: eHost, port: ePort } = splitEntry(entry);
    if (ePort && ePort !== port) continue;
    const bare = eHost.replace(/^\*?\./, '');
    if (host === bare || host.endsWith(`.${bare}`)) return true;
  }
  return false;
}

/** A NO_PROXY entry's host and optional port: `host`, `host:port`, `::1`, `[::1]` or `[::1]:port`. */
function splitEntry(entry: string): { host: string; port: string | undefined } {
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    const rest = close === -1 ? '' : entry.slice(close + 1);
    return { host: normalIpv6(entry.slice(1, close === -1 ? undefined : close)), port: rest.startsWith(':') ? rest.slice(1) : undefined };
  }
  // More than one colon: a bare IPv6 address, which cannot carry a port without brackets.
  const first = entry.indexOf(':');
  if (first !== entry.lastIndexOf(':')) return { host: normalIpv6(entry), port: undefined };
  return first === -1 ? { host: entry, port: undefined } : { host: entry.slice(0, first), port: entry.slice(first + 1) };
}

/** An IPv6 address as URL prints it (`2001:db8:0::5` → `2001:db8::5`), so spellings compare equal. */
function normalIpv6(addr: string): string {
  try {
    return new URL(`http://[${addr}]/`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return addr;
  }
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

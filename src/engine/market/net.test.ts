import { describe, expect, it } from 'vitest';
import { bypassesProxy, proxyFor } from './net.js';

describe('NO_PROXY matching', () => {
  it('matches hosts, domain suffixes, ports and *', () => {
    expect(bypassesProxy('https://api.binance.com/api/v3/time', 'binance.com')).toBe(true);
    expect(bypassesProxy('https://api.binance.com/api/v3/time', '.binance.com')).toBe(true);
    expect(bypassesProxy('https://api.binance.com/api/v3/time', '*.binance.com')).toBe(true);
    expect(bypassesProxy('https://notbinance.com/', 'binance.com')).toBe(false);
    expect(bypassesProxy('wss://stream.binance.com:9443/stream', 'stream.binance.com:9443')).toBe(true);
    expect(bypassesProxy('wss://stream.binance.com:9443/stream', 'stream.binance.com:443')).toBe(false);
    expect(bypassesProxy('http://127.0.0.1:8080/', ' localhost , 127.0.0.1 ')).toBe(true);
    expect(bypassesProxy('http://example.org/', '*')).toBe(true);
    expect(bypassesProxy('http://example.org/', '')).toBe(false);
  });

  it('matches IPv6 entries, bare or in brackets, with or without a port', () => {
    const url = 'http://[::1]:8080/api/v3/time';
    expect(bypassesProxy(url, '::1')).toBe(true);
    expect(bypassesProxy(url, '[::1]')).toBe(true);
    expect(bypassesProxy(url, '[::1]:8080')).toBe(true);
    expect(bypassesProxy(url, '[::1]:9090')).toBe(false);
    expect(bypassesProxy(url, '::2')).toBe(false);
    expect(bypassesProxy('http://[2001:db8::5]/', '2001:db8::5')).toBe(true);
    expect(proxyFor(url, { proxy: 'http://proxy:3128', noProxy: 'localhost,::1' })).toBeUndefined();
  });
});

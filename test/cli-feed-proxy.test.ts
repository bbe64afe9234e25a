import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledInstruments } from '../src/engine/market/bundled-instruments.js';
import { generateAggTrades } from '../src/engine/market/replay/generator.js';
import { BIN, runCli, tempDir } from './helpers/cli.js';
import { startConnectProxy, type ConnectProxy } from './helpers/connect-proxy.js';
import { startFakeBinance, type FakeBinance } from './helpers/fake-binance.js';
import { createFakeRest } from './helpers/fake-binance-rest.js';

const START = Date.UTC(2024, 7, 8, 23, 54, 30);
const minuteOf = (t: number): number => Math.floor(t / 60_000) * 60_000;

describe('qtrade feed through a CONNECT proxy, cross-checked against Binance klines', () => {
  let fake: FakeBinance;
  let proxy: ConnectProxy;
  let tmp: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    fake = await startFakeBinance({ rest: createFakeRest().handler });
    proxy = await startConnectProxy();
    tmp = tempDir();
  });
  afterAll(async () => {
    await fake?.close();
    await proxy?.close();
    tmp?.cleanup();
  });

  it('stores the candles it prints, reports a kline mismatch, and sends WS and REST through the proxy', async () => {
    const trades = [...generateAggTrades({ seed: 7, symbol: 'BTCUSDT', instrument: bundledInstruments().get('BTCUSDT'), count: 600, startTime: START, startPrice: '61837.63' })];
    expect(minuteOf(trades[trades.length - 1]!.T) - minuteOf(START)).toBeGreaterThanOrEqual(2 * 60_000);

    const child = spawn(process.execPath, [BIN, '--data-dir', tmp.dir, '--proxy', proxy.url, 'feed', '--symbols', 'btcusdt', '--channels', 'aggTrade,kline_1m', '--json'], {
      env: { ...process.env, QTRADE_BINANCE_WS_URL: fake.wsUrl, QTRADE_BINANCE_REST_URL: fake.restUrl, NO_PROXY: '', no_proxy: '', HTTPS_PROXY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await fake.waitForSubscriber('btcusdt@aggTrade', 15_000);
      for (const t of trades) fake.send('btcusdt@aggTrade', t);
      // Binance's closed kline for the second minute, with values that differ from the trades: must be reported.
      const second = minuteOf(START) + 60_000;
      fake.send('btcusdt@kline_1m', {
        e: 'kline',
        E: second + 60_000,
        s: 'BTCUSDT',
        k: { t: second, T: second + 59_999, s: 'BTCUSDT', i: '1m', f: 1, L: 2, o: '1.00', c: '1.00', h: '1.00', l: '1.00', v: '1.00000000', n: 2, x: true, q: '1.0000000000', V: '0', Q: '0', B: '0' },
      });
      await fake.waitFor(() => stdout.includes('"type":"mismatch"'), 'a mismatch line', 15_000);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(stderr).toBe('');

    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.type === 'incomplete')).toMatchObject({ symbol: 'BTCUSDT', openTime: minuteOf(START) });
    const candles = lines.filter((l) => l.type === 'candle');
    expect(candles.length).toBeGreaterThanOrEqual(1);
    expect(candles[0]).toMatchObject({ symbol: 'BTCUSDT', interval: '1m', openTime: minuteOf(START) + 60_000, closed: true });
    expect(lines.find((l) => l.type === 'mismatch')?.fields).toEqual(expect.arrayContaining(['open', 'trades']));
    expect(lines[lines.length - 1]).toMatchObject({ type: 'summary', trades: trades.length, gaps: 0, candleMismatches: 1 });

    // exchangeInfo over REST and the WebSocket both went through the CONNECT proxy.
    const port = Number(new URL(fake.restUrl).port);
    expect(proxy.tunnels.filter((t) => t.port === port).length).toBeGreaterThanOrEqual(2);

    // What was printed is what was stored; the incomplete minute was not.
    const stored = await runCli(['--data-dir', tmp.dir, 'candles', 'BTCUSDT', '--interval', '1m', '--json']);
    expect(stored.code).toBe(0);
    const rows = stored.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toEqual(candles.map(({ type: _type, ...c }) => c));
  });
});

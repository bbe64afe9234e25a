import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { primeBtcMarket, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { callTools, say, startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { candleSeries } from './fixtures.js';

/**
 * `qtrade ask` (built binary) attached to a daemon running for the data dir, on a host whose
 * Binance REST URL leads nowhere useful: a recorder that refuses everything. The assistant's
 * market tools must read the daemon's /api/v3 — its feed, book and candle store — and the CLI
 * must not ask Binance at all.
 */

const KEY = 'sk-ask-daemon-31c0de';
const T = Date.UTC(2024, 7, 8, 12, 0, 0);

interface Recorder {
  url: string;
  hits: string[];
  close(): Promise<void>;
}

/** Stands in for Binance's REST API on the CLI host: records each request, answers 403 to all. */
async function startRecorder(): Promise<Recorder> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(403, { 'content-type': 'application/json' }).end('{"code":-1,"msg":"this host has no route to Binance"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let d: TestDaemon;
let ai: FakeOpenAI;
let binance: Recorder;

beforeAll(async () => {
  ai = await startFakeOpenAI();
  binance = await startRecorder();
  d = await startTestDaemon();
  await primeBtcMarket(d, T);
  d.fake.send('btcusdt@miniTicker', { e: '24hrMiniTicker', E: T, s: 'BTCUSDT', c: '59995.00000000', o: '58000.00000000', h: '60500.00000000', l: '57500.00000000', v: '1234.50000000', q: '74000000.00000000' });
  await d.fake.waitFor(() => d.daemon.node.market.get('BTCUSDT')?.ticker !== undefined, 'the 24h ticker', 10_000);
  await d.daemon.node.store.upsertCandles(candleSeries('BTCUSDT', '1m', [100, 101, 102, 103, 104, 105].map((c) => c * 600)));
}, 60_000);

afterAll(async () => {
  await d?.close();
  await binance?.close();
  await ai?.close();
});

/** The content the CLI sent back to the model for tool call `id`. */
function toolResult(id: string): Record<string, unknown> {
  const messages = ai.requests[1]!.body.messages as Array<{ tool_call_id?: string; content: string }>;
  return JSON.parse(messages.find((m) => m.tool_call_id === id)!.content) as Record<string, unknown>;
}

describe('qtrade ask attached to a daemon', () => {
  it("reads ticker, order book and candles from the daemon's REST, never from Binance", async () => {
    ai.script(
      callTools(
        { name: 'get_ticker', arguments: '{"symbol":"BTCUSDT"}', id: 't' },
        { name: 'get_order_book', arguments: '{"symbol":"BTCUSDT","depth":1}', id: 'b' },
        { name: 'get_candles', arguments: '{"symbol":"BTCUSDT","interval":"1m","limit":5,"show":1}', id: 'c' },
      ),
      say('Quiet market.'),
    );
    const r = await runCli(['--data-dir', d.dataDir, 'ask', 'how is BTC doing?'], {
      env: {
        QTRADE_AI_BASE_URL: ai.url,
        DEEPSEEK_API_KEY: KEY,
        QTRADE_BINANCE_REST_URL: binance.url,
        QTRADE_CONNECT: undefined,
        QTRADE_TOKEN: undefined,
        QTRADE_DATA_DIR: undefined,
        QTRADE_STORE: undefined,
      },
      timeoutMs: 60_000,
    });
    expect(r.stderr).not.toContain('[tool refused]');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Quiet market.\n');

    const source = `daemon ${d.url}`;
    expect(toolResult('t')).toMatchObject({
      symbol: 'BTCUSDT',
      lastPrice: '59995.00',
      lastTime: new Date(T).toISOString(),
      bid: '59990.00',
      ask: '60000.00',
      day: { open: '58000.00', high: '60500.00', low: '57500.00', close: '59995.00' },
      source,
    });
    expect(toolResult('b')).toMatchObject({ bids: [['59990.00', '0.50000000']], asks: [['60000.00', '0.50000000']], source: `${source} (its order book)` });
    expect(toolResult('c')).toMatchObject({ count: 5, firstOpen: '600.00', lastClose: '630.00', source });
    expect(binance.hits).toEqual([]);
  }, 120_000);
});

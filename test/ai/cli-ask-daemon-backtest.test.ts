import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/engine/store/open.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { callTools, say, startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { CROSS_5M_SPEC, candleSeries } from './fixtures.js';

/**
 * `qtrade ask` (built binary) attached to a daemon with --connect from a data dir of its own: the
 * assistant's run_backtest must run on the daemon's candles (its backtest job API), not on this
 * host's store, which has none. The same question embedded, on a store holding the same candles,
 * gives the same metrics.
 */

const KEY = 'sk-ask-daemon-bt-51de';
const CLOSES = [
  ...Array.from({ length: 100 }, () => 6_000_000),
  ...Array.from({ length: 100 }, (_, i) => 6_000_000 + (i + 1) * 2_000),
  ...Array.from({ length: 100 }, (_, i) => 6_200_000 - (i + 1) * 2_000),
];
const SPEC = CROSS_5M_SPEC;

let d: TestDaemon;
let ai: FakeOpenAI;
const attached = tempDir('qtrade-ask-attached-');
const embedded = tempDir('qtrade-ask-embedded-');

beforeAll(async () => {
  ai = await startFakeOpenAI();
  d = await startTestDaemon();
  await d.daemon.node.store.upsertCandles(candleSeries('BTCUSDT', '1m', CLOSES));
  const local = await openStore(`sqlite:${path.join(embedded.dir, 'qtrade.db')}`);
  await local.upsertCandles(candleSeries('BTCUSDT', '1m', CLOSES));
  await local.close();
}, 60_000);

afterAll(async () => {
  await d?.close();
  await ai?.close();
  attached.cleanup();
  embedded.cleanup();
});

const ENV = { QTRADE_AI_BASE_URL: undefined, DEEPSEEK_API_KEY: KEY, QTRADE_CONNECT: undefined, QTRADE_TOKEN: undefined, QTRADE_DATA_DIR: undefined, QTRADE_STORE: undefined };

/** Asks for a built-in's and a spec's backtest; answers the two tool results. */
async function backtests(dir: string, connect?: string): Promise<{ builtin: Record<string, unknown>; spec: Record<string, unknown>; stdout: string; stderr: string }> {
  const first = ai.requests.length;
  ai.script(
    callTools(
      { name: 'run_backtest', arguments: JSON.stringify({ symbol: 'BTCUSDT', strategy: 'rsi-reversion', interval: '1m', bars: 250 }), id: 'builtin' },
      { name: 'run_backtest', arguments: JSON.stringify({ symbol: 'BTCUSDT', spec: SPEC, bars: 60 }), id: 'spec' },
    ),
    say('Here are the backtests.'),
  );
  const r = await runCli(['--data-dir', dir, ...(connect ? ['--connect', connect] : []), 'ask', 'backtest these'], { env: { ...ENV, QTRADE_AI_BASE_URL: ai.url }, timeoutMs: 60_000 });
  expect(r.stderr).not.toContain('[tool refused]');
  expect(r.code).toBe(0);
  const messages = ai.requests[first + 1]!.body.messages as Array<{ tool_call_id?: string; content: string }>;
  const result = (id: string) => JSON.parse(messages.find((m) => m.tool_call_id === id)!.content) as Record<string, unknown>;
  return { builtin: result('builtin'), spec: result('spec'), stdout: r.stdout, stderr: r.stderr };
}

describe('qtrade ask attached to a daemon: run_backtest', () => {
  it("runs on the daemon's candles through its backtest jobs, with the metrics an embedded run gives", async () => {
    const jobsBefore = ((await (await fetch(`${d.url}/api/qtrade/backtests`)).json()) as unknown[]).length;
    const remote = await backtests(attached.dir, d.url);
    expect(remote.builtin).toMatchObject({ strategy: 'rsi-reversion', symbol: 'BTCUSDT', interval: '1m', candles: 250 });
    expect(String(remote.builtin.data)).toContain(`daemon ${d.url}`);
    expect(remote.spec).toMatchObject({ strategy: 'cross-5m', symbol: 'BTCUSDT', interval: '5m', model: 'candle-approximation', candles: 300 });
    expect(String(remote.spec.data)).toContain(`daemon ${d.url}`);
    // Both ran as jobs of the daemon.
    const jobs = (await (await fetch(`${d.url}/api/qtrade/backtests`)).json()) as Array<{ request: { strategy: string } }>;
    expect(jobs.length - jobsBefore).toBe(2);
    expect(jobs.slice(0, 2).map((j) => j.request.strategy).sort()).toEqual(['cross-5m', 'rsi-reversion']);
    // The spec's backtest is printed and kept as in the embedded path.
    expect(remote.stdout).toContain('strategy  cross-5m on BTCUSDT 5m (declarative spec, candle-approximation)');

    // Orders were made and filled: the metrics compared below are not all zero.
    expect(remote.builtin.fills).toBeGreaterThan(0);
    expect((remote.spec.lastFills as unknown[]).length).toBeGreaterThan(0);
    const local = await backtests(embedded.dir);
    for (const k of ['builtin', 'spec'] as const) {
      const { data: _a, ...r } = remote[k];
      const { data: _b, ...l } = local[k];
      expect(r).toEqual(l);
    }
  }, 120_000);

  it('the job API takes a spec instead of a strategy, checked before it runs', async () => {
    const post = async (body: unknown) => {
      const res = await fetch(`${d.url}/api/qtrade/backtests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, json: (await res.json()) as { msg?: string; id?: string } };
    };
    const both = await post({ strategy: 'rsi-reversion', spec: SPEC, symbol: 'BTCUSDT' });
    expect(both.status).toBe(400);
    expect(both.json.msg).toContain('give strategy (a built-in or a strategy file on the daemon host) or spec');
    const bad = await post({ spec: { ...SPEC, interval: '7m' }, symbol: 'BTCUSDT' });
    expect(bad.status).toBe(400);
    expect(bad.json.msg).toContain('spec.interval: must be one of');
    const neither = await post({ symbol: 'BTCUSDT' });
    expect(neither.status).toBe(400);
    expect(neither.json.msg).toContain('strategy');
    const ok = await post({ spec: SPEC, symbol: 'BTCUSDT', interval: '5m', limit: 60 });
    expect(ok.status).toBe(202);
  });
});


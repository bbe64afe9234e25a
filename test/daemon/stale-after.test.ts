import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findDaemon } from '../../src/server/daemon-file.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.js';
import { createFakeRest } from '../helpers/fake-binance-rest.js';

/** `qtrade daemon --stale-after SECONDS`: the built binary, its feed on a fake Binance that stays silent. */

let fake: FakeBinance;
const tmp = tempDir('qtrade-stale-after-');
beforeAll(async () => {
  fake = await startFakeBinance({ rest: createFakeRest().handler });
});
afterAll(async () => {
  await fake?.close();
  tmp.cleanup();
});

const env = (): Record<string, string> => ({ QTRADE_BINANCE_WS_URL: fake.wsUrl, QTRADE_BINANCE_REST_URL: fake.restUrl });

async function waitFor<T>(get: () => T | undefined | Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('qtrade daemon --stale-after', () => {
  it('refuses what is not a positive number of seconds (exit 2) and is in qtrade daemon --help', async () => {
    const dir = `${tmp.dir}/bad`;
    const bad = await Promise.all(['0', '-5', 'abc', '1e400', ''].map((v) => runCli(['--data-dir', dir, 'daemon', '--stale-after', v, '--port', '0'], { env: env() })));
    for (const [i, v] of ['0', '-5', 'abc', '1e400', ''].entries()) {
      expect([v, bad[i]!.code]).toEqual([v, 2]);
      expect(bad[i]!.stderr).toBe(`error: --stale-after "${v}" is not a positive number of seconds\nhint: e.g. --stale-after 30 (default 60)\n`);
    }
    const help = await runCli(['daemon', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--stale-after <seconds>\s+\/health turns degraded after this long without a\s+market message/);
  }, 60_000);

  it('marks /health degraded after that many seconds of silence instead of 60', async () => {
    const dir = `${tmp.dir}/run`;
    const started = Date.now();
    const daemon = runCli(['--data-dir', dir, 'daemon', '--port', '0', '--symbols', 'btcusdt', '--channels', 'aggTrade', '--stale-after', '1.5', '--log-level', 'warn'], { env: env(), timeoutMs: 60_000 });
    try {
      const info = await waitFor(() => findDaemon(dir), 'daemon.json');
      // Degraded for the silence, not only because the feed is still connecting (a loaded machine
      // answers /health before the feed's socket is open, and that is degraded too).
      const silence = /^no market message since start \d+ s ago$/;
      const health = await waitFor(async () => {
        const h = (await (await fetch(`${info.url}/health`)).json()) as { status: string; reasons: string[]; feed: { symbols: Record<string, { stale: boolean }> } };
        return h.status === 'degraded' && h.reasons.some((r) => silence.test(r)) ? h : undefined;
      }, 'health degraded by the silence');
      // Well before the default 60 s: the flag reached /health.
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(health.reasons.filter((r) => silence.test(r))).toHaveLength(1);
      expect(health.feed.symbols.BTCUSDT).toMatchObject({ seen: false, stale: true });
    } finally {
      const stop = await runCli(['--data-dir', dir, 'daemon', 'stop']);
      expect(stop.code).toBe(0);
    }
    const end = await daemon;
    expect([end.code, end.stderr]).toEqual([0, '']);
  }, 60_000);
});

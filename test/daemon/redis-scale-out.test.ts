import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Candle } from '../../src/engine/candles/types.js';
import type { TradingNode } from '../../src/engine/node.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js';
import { deletePrefix, REDIS_URL, uniquePrefix } from '../helpers/redis-bus.js';

/**
 * Scale-out on the real Redis: a leader daemon fed by the fake Binance publishes on the bus, a
 * follower daemon (its own data dir and paper account, no Binance at all) follows it, and both
 * close the same candles, field for field, through a leader restart.
 */

const keyPrefix = uniquePrefix('scale-out');
/** Streams of their own: the first test's daemons keep following theirs until the end. */
const healthPrefix = uniquePrefix('symbol-health');
const T = (h: number, m: number, s = 0) => Date.UTC(2024, 0, 1, h, m, s);
const D2 = (m: number, s = 0) => Date.UTC(2024, 0, 2, 0, m, s);
const running: TestDaemon[] = [];

function closedCandles(node: TradingNode): Candle[] {
  const out: Candle[] = [];
  node.bus.subscribe('candle.closed', (c) => out.push(c));
  return out;
}

/** Trades every `stepS` seconds from `from` to `to` (exclusive), ids from `firstId`, prices wandering. */
function sendTrades(d: TestDaemon, firstId: number, from: number, to: number, stepS: number): number {
  let id = firstId;
  for (let t = from; t < to; t += stepS * 1000, id++) {
    const cents = 4_200_000 + ((id * 7919) % 3001) - 1500;
    d.trade({ id, time: t, price: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}000000`, qty: `0.${String(1 + (id % 97)).padStart(3, '0')}00000`, buyerMaker: id % 3 === 0 });
  }
  return id;
}

async function health(d: TestDaemon): Promise<{ status: string; feed: { state: string }; bus?: { ok: boolean } }> {
  return (await (await fetch(`${d.url}/health`)).json()) as { status: string; feed: { state: string }; bus?: { ok: boolean } };
}

async function waitFor(pred: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

afterAll(async () => {
  for (const d of running.splice(0).reverse()) await d.close();
  await deletePrefix(keyPrefix);
  await deletePrefix(healthPrefix);
});

describe('daemon scale-out on Redis', () => {
  it('a follower closes the same candles as its leader, and keeps following through a leader restart', async () => {
    const leader = await startTestDaemon({ busUrl: REDIS_URL, busKeyPrefix: keyPrefix });
    running.push(leader);
    const follower = await startTestDaemon({ followUrl: REDIS_URL, busKeyPrefix: keyPrefix });
    running.push(follower);
    const ours = closedCandles(leader.daemon.node);
    const theirs = closedCandles(follower.daemon.node);

    // 23:54–23:58 in event time, sent as fast as the sockets take them; a trade at 23:59:05 closes 23:58.
    let next = sendTrades(leader, 1, T(23, 54, 3), T(23, 59, 0), 7);
    next = sendTrades(leader, next, T(23, 59, 5), T(23, 59, 6), 1);
    await waitFor(() => ours.length >= 4 && theirs.length >= 4, 'four closed minutes on both');
    // 23:54 is the minute both joined: incomplete on both, so neither stores or publishes it closed.
    expect(ours.map((c) => c.openTime)).toEqual([T(23, 55), T(23, 56), T(23, 57), T(23, 58)]);
    expect(theirs).toStrictEqual(ours);
    expect(ours[0]!.trades).toBeGreaterThan(0);
    await leader.daemon.node.kernel.settled();
    await follower.daemon.node.kernel.settled();
    const q = { symbol: 'BTCUSDT', interval: '1m' as const };
    expect(await follower.daemon.node.store.candles(q)).toStrictEqual(await leader.daemon.node.store.candles(q));
    expect(follower.daemon.node.market.get('BTCUSDT')!.lastTrade).toStrictEqual(leader.daemon.node.market.get('BTCUSDT')!.lastTrade);

    expect((await health(follower)).feed.state).toBe('open');
    expect((await health(leader)).bus).toMatchObject({ ok: true });
    const info = JSON.parse(fs.readFileSync(path.join(follower.dataDir, 'daemon.json'), 'utf8')) as { source: string };
    expect(info.source).toBe(`redis:${REDIS_URL}`);
    // The follower never talked to Binance: no socket, no REST call (not even exchangeInfo).
    expect(follower.fake.connections).toHaveLength(0);
    expect(follower.rest.log).toHaveLength(0);

    // The leader goes away and a new one starts on the same Redis; Binance moved on meanwhile.
    await leader.close();
    running.splice(running.indexOf(leader), 1);
    const leader2 = await startTestDaemon({ busUrl: REDIS_URL, busKeyPrefix: keyPrefix });
    running.push(leader2);
    const ours2 = closedCandles(leader2.daemon.node);
    const before = theirs.length;
    // Trades 00:00:12–00:02:57 with 40 ids skipped (printed while no leader ran); 00:03:02 closes 00:02.
    next = sendTrades(leader2, next + 40, D2(0, 12), D2(3, 0), 5);
    sendTrades(leader2, next, D2(3, 2), D2(3, 3), 1);
    await waitFor(() => ours2.length >= 2 && theirs.filter((c) => c.openTime >= D2(1)).length >= 2, 'minutes after the restart on both');
    // The new leader joined in 00:00; the follower saw the ids jump, found nothing to fill them
    // with on the stream and marked 23:59–00:00 incomplete. From 00:01 on both are whole and equal.
    expect(ours2.map((c) => c.openTime)).toEqual([D2(1), D2(2)]);
    expect(theirs.slice(before)).toStrictEqual(ours2);
    expect(follower.daemon.node.kernel.stats()).toMatchObject({ gaps: 1, missingTrades: 40 });
    expect((await health(follower)).feed.state).toBe('open');
  });

  it('a follower reports a symbol its leader does not publish on /health and /metrics, and a published one as fine', async () => {
    const leader = await startTestDaemon({ busUrl: REDIS_URL, busKeyPrefix: healthPrefix });
    running.push(leader);
    // Added to the follower's wall clock: past the grace period without waiting for it.
    let skew = 0;
    const staleAfterMs = 5_000;
    const follower = await startTestDaemon({ followUrl: REDIS_URL, busKeyPrefix: healthPrefix, symbols: ['btcusdt', 'ethusdt'], staleAfterMs, wallNow: () => Date.now() + skew });
    running.push(follower);
    await waitFor(() => follower.daemon.ctx.metrics.feed().connected, 'the follower to open');

    skew = staleAfterMs + 1_000;
    // A BTCUSDT trade arrives after the jump, so it is fresh; ETHUSDT has been silent since start.
    const trades = (): number => follower.daemon.node.kernel.stats().trades;
    const before = trades();
    sendTrades(leader, 1, Date.now(), Date.now() + 1, 1);
    await waitFor(() => trades() > before, 'the BTCUSDT trade on the follower');

    const res = await fetch(`${follower.url}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; reasons: string[]; feed: { state: string; symbols: Record<string, { seen: boolean; lastMessageAgeMs: number | null; stale: boolean }> } };
    expect(body.status).toBe('degraded');
    expect(body.feed.state).toBe('open');
    expect(body.reasons).toHaveLength(1);
    expect(body.reasons[0]).toMatch(/^no market data for ETHUSDT from the leader since start \d+ s ago \(check that the leader publishes it: its --symbols must include ethusdt/);
    expect(body.feed.symbols.ETHUSDT).toEqual({ seen: false, lastMessageAgeMs: null, stale: true });
    expect(body.feed.symbols.BTCUSDT).toMatchObject({ seen: true, stale: false });
    expect(body.feed.symbols.BTCUSDT!.lastMessageAgeMs).toBeLessThan(staleAfterMs);

    const m = parsePrometheus(await (await fetch(`${follower.url}/metrics`)).text());
    expect(sampleValue(m, 'qtrade_feed_symbol_messages_total', { symbol: 'ETHUSDT' })).toBe(0);
    expect(sampleValue(m, 'qtrade_feed_symbol_messages_total', { symbol: 'BTCUSDT' })).toBeGreaterThan(0);
    expect(sampleValue(m, 'qtrade_feed_symbol_last_message_age_seconds', { symbol: 'BTCUSDT' })).toBeLessThan(staleAfterMs / 1000);
    expect(m.get('qtrade_feed_symbol_last_message_age_seconds')!.samples.map((s) => s.labels.symbol)).toEqual(['BTCUSDT']);

    // The leader carries only BTCUSDT, which it has just published: it is ok.
    expect((await health(leader)).status).toBe('ok');
  });

  it('a follower crosses a 90-day gap in its leader\'s stream without blocking, and goes on closing candles', async () => {
    const prefix = uniquePrefix('long-gap');
    const mine: TestDaemon[] = [];
    try {
      const leader = await startTestDaemon({ busUrl: REDIS_URL, busKeyPrefix: prefix });
      mine.push(leader);
      const follower = await startTestDaemon({ followUrl: REDIS_URL, busKeyPrefix: prefix });
      mine.push(follower);
      const theirs = closedCandles(follower.daemon.node);
      let incomplete = 0;
      follower.daemon.node.bus.subscribe('candle.incomplete', () => incomplete++);
      let next = sendTrades(leader, 1, T(23, 54, 3), T(23, 56, 0), 7);
      next = sendTrades(leader, next, T(23, 56, 5), T(23, 56, 6), 1);
      await waitFor(() => theirs.length >= 1, 'a closed minute on the follower');

      // The leader is away for 90 days; a new one starts on the same streams, Binance's ids far ahead.
      await leader.close();
      mine.splice(mine.indexOf(leader), 1);
      const leader2 = await startTestDaemon({ busUrl: REDIS_URL, busKeyPrefix: prefix });
      mine.push(leader2);
      const later = T(23, 56) + 90 * 86_400_000;
      // The longest the event loop went without running a timer, while the follower crosses the gap.
      let worst = 0;
      let last = performance.now();
      const beat = setInterval(() => {
        const now = performance.now();
        worst = Math.max(worst, now - last);
        last = now;
      }, 5);
      try {
        next = sendTrades(leader2, next + 5_000_000, later + 12_000, later + 180_000, 5);
        sendTrades(leader2, next, later + 182_000, later + 183_000, 1);
        await waitFor(() => theirs.some((c) => c.openTime === later + 120_000), 'the minutes after the gap on the follower', 30_000);
      } finally {
        clearInterval(beat);
      }
      // A set of marked minutes scanned on each of the gap's 129,600 closes blocked it for about 20 s.
      expect(worst).toBeLessThan(2_000);
      expect(follower.daemon.node.kernel.stats()).toMatchObject({ gaps: 1, missingTrades: 5_000_000 });
      // The gap's minutes closed incomplete (never stored or sent as Binance's), the ones after it whole.
      expect(incomplete).toBeGreaterThanOrEqual(90 * 1440);
      expect(theirs.filter((c) => c.openTime > T(23, 56)).map((c) => c.openTime)).toEqual([later + 60_000, later + 120_000]);
      expect((await health(follower)).feed.state).toBe('open');
    } finally {
      for (const d of mine.reverse()) await d.close();
      await deletePrefix(prefix);
    }
  }, 90_000);

  it('refuses --bus and --follow together', async () => {
    await expect(startTestDaemon({ busUrl: REDIS_URL, followUrl: REDIS_URL, busKeyPrefix: keyPrefix })).rejects.toThrow(/--bus and --follow cannot be used together/);
  });

  it('qtrade daemon run checks --bus and --follow URLs (exit 2, password never echoed)', async () => {
    const tmp = tempDir('qtrade-bus-cli-');
    try {
      const qtrade = (...args: string[]) => runCli(['--data-dir', tmp.dir, 'daemon', 'run', '--port', '0', ...args], { cwd: tmp.dir, timeoutMs: 50_000 });
      const [bad, notUrl, both] = await Promise.all([
        qtrade('--bus', 'http://:hunter2@127.0.0.1:6379'),
        qtrade('--follow', '127.0.0.1:6379'),
        qtrade('--bus', REDIS_URL, '--follow', REDIS_URL),
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--bus must be a redis:// or rediss:// URL, not http://');
      expect(bad.stderr + bad.stdout).not.toContain('hunter2');
      expect(notUrl.code).toBe(2);
      expect(notUrl.stderr).toContain('--follow "127.0.0.1:6379" is not a URL');
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('--bus and --follow cannot be used together');
    } finally {
      tmp.cleanup();
    }
  }, 60_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { startFakeBinance, type FakeBinance } from '../helpers/fake-binance.js';
import { createFakeRest } from '../helpers/fake-binance-rest.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/** `qtrade feed` runs the stored alerts: fires them on the live feed, records them, delivers them. */

const SECRET = 'whsec_feed_test_77a1';
let fake: FakeBinance;
let rx: WebhookReceiver;
const tmp = tempDir('qtrade-alert-feed-');

beforeAll(async () => {
  fake = await startFakeBinance({ rest: createFakeRest().handler });
  rx = await startWebhookReceiver({ secret: SECRET });
});
afterAll(async () => {
  await fake.close();
  await rx.close();
  tmp.cleanup();
});

const M = Date.UTC(2024, 7, 8, 23, 54);
const agg = (id: number, time: number, price: string) => ({ e: 'aggTrade', E: time + 1, s: 'BTCUSDT', a: id, p: price, q: '0.02000000', f: id, l: id, T: time, m: false, M: true });

describe('qtrade feed with alerts', () => {
  it('fires a stored alert once per crossing, prints it, records it and delivers it to the webhook', async () => {
    const env = { QTRADE_BINANCE_WS_URL: fake.wsUrl, QTRADE_BINANCE_REST_URL: fake.restUrl, QTRADE_ALERTS_WEBHOOK_URL: rx.url, QTRADE_ALERTS_WEBHOOK_SECRET: SECRET, QTRADE_CONNECT: undefined, QTRADE_STORE: undefined };
    const add = await runCli(['--data-dir', tmp.dir, 'alert', 'add', 'BTCUSDT', 'price crosses above 61840', '--until-cancelled', '--notify', 'tui,webhook'], { env });
    expect(add.code).toBe(0);
    const run = runCli(['--data-dir', tmp.dir, 'feed', '--symbols', 'btcusdt', '--channels', 'aggTrade', '--duration', '4s', '--json'], { env, timeoutMs: 60_000 });
    await fake.waitForSubscriber('btcusdt@aggTrade', 20_000);
    const prices = ['61837.63', '61840.01', '61845.00', '61839.99', '61840.00', '61840.50'];
    prices.forEach((p, i) => fake.send('btcusdt@aggTrade', agg(100 + i, M + 30_000 + i * 1000, p)));
    const res = await run;
    expect(res.code).toBe(0);
    const rows = res.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    // Crossings at 61840.01 and 61840.50 (61840.00 is not above).
    expect(rows.filter((r) => r.type === 'alert').map((r) => [r.id, r.time, r.message])).toEqual([
      ['a1.1', M + 31_000, 'BTCUSDT price crosses above 61840: price 61840.01'],
      ['a1.2', M + 35_000, 'BTCUSDT price crosses above 61840: price 61840.50'],
    ]);
    const list = await runCli(['--data-dir', tmp.dir, 'alert', 'list', '--json'], { env });
    expect(JSON.parse(list.stdout)).toMatchObject([{ id: 'a1', fired: 2, lastFiredAt: M + 35_000 }]);
    // Delivered at least once each (a second run would deliver what this one could not).
    const delivered = new Set(rx.received.filter((r) => r.status === 200 && r.verified).map((r) => r.headers['x-qtrade-delivery']));
    if (delivered.size < 2) {
      const again = runCli(['--data-dir', tmp.dir, 'feed', '--symbols', 'btcusdt', '--channels', 'aggTrade', '--duration', '3s'], { env, timeoutMs: 60_000 });
      expect((await again).code).toBe(0);
      for (const r of rx.received) if (r.status === 200 && r.verified) delivered.add(r.headers['x-qtrade-delivery']);
    }
    expect([...delivered].sort()).toEqual(['a1.1', 'a1.2']);
    expect(res.stdout + res.stderr).not.toContain(SECRET);
  }, 120_000);
});

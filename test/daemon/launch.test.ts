import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;

beforeAll(async () => {
  d = await startTestDaemon();
});
afterAll(async () => {
  await d?.close();
});

describe('daemon launch', () => {
  it('announces itself in daemon.json and answers unknown routes with {code, msg}', async () => {
    const info = JSON.parse(fs.readFileSync(path.join(d.dataDir, 'daemon.json'), 'utf8')) as { pid: number; url: string };
    expect(info).toMatchObject({ pid: process.pid, url: d.url });
    const res = await fetch(`${d.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: -1020, msg: 'GET /nope is not an endpoint of this daemon (see /openapi.json).' });
  });

  it('feeds trades into the market cache', async () => {
    d.trade({ id: 1, time: Date.UTC(2024, 0, 1, 0, 0, 5), price: '42000.00000000' });
    await d.fake.waitFor(() => d.daemon.node.market.get('BTCUSDT')?.lastTrade !== undefined, 'trade in cache', 5_000);
    expect(d.daemon.node.market.get('BTCUSDT')!.lastTrade!.price).toBe(4_200_000);
  });
});

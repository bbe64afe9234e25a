import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { startFakeTelegram, type FakeTelegram } from '../helpers/fake-telegram.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/** Alerts in the daemon: its REST routes, firing on its live feed, delivery, the chat commands, the CLI through it. */

const SECRET = 'whsec_daemon_test_51c0';
const T0 = Date.UTC(2024, 7, 8, 12, 0, 0);
let d: TestDaemon;
let rx: WebhookReceiver;
let tg: FakeTelegram;

beforeAll(async () => {
  rx = await startWebhookReceiver({ secret: SECRET });
  tg = await startFakeTelegram();
  d = await startTestDaemon({
    logLevel: 'info',
    alerts: { webhook: { url: rx.url, secret: SECRET, format: 'json' }, telegram: { token: tg.token, chatId: '4242', apiUrl: tg.apiUrl }, bell: false },
  });
});
afterAll(async () => {
  await d?.close();
  await rx?.close();
  await tg?.close();
});

async function api<T = Record<string, unknown>>(method: string, p: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${d.url}${p}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  return { status: res.status, json: (await res.json()) as T };
}

describe('alerts in the daemon', () => {
  it('adds over the API, fires on the live feed, delivers to the webhook and Telegram, answers chat commands, removes', async () => {
    const bad = await api<{ code: number; msg: string }>('POST', '/api/qtrade/alerts', { symbol: 'BTCUSDT', condition: 'price >> 61000' });
    expect(bad.status).toBe(400);
    expect(bad.json.msg).toContain('bad condition: expected a price in USDT, e.g. 70000, not ">" at column 8\n  price >> 61000\n         ^');
    const unknownField = await api('POST', '/api/qtrade/alerts', { symbol: 'BTCUSDT', condition: 'price > 1', repeat: true });
    expect(unknownField.status).toBe(400);

    const add = await api<{ id: string; status: string }>('POST', '/api/qtrade/alerts', { symbol: 'btcusdt', condition: 'price crosses above 61000', untilCancelled: true, notify: 'tui,webhook,telegram' });
    expect(add.status).toBe(200);
    expect(add.json).toMatchObject({ id: 'a1', symbol: 'BTCUSDT', status: 'active', mode: 'until-cancelled', notify: ['tui', 'webhook', 'telegram'] });

    d.trade({ id: 1, time: T0, price: '60999.00' });
    d.trade({ id: 2, time: T0 + 1000, price: '61000.01' });
    d.trade({ id: 3, time: T0 + 2000, price: '61002.00' }); // still above: no second firing
    await rx.waitFor(1);
    await tg.waitForSent(1);
    expect(rx.received[0]!.verified).toBe(true);
    expect(rx.received[0]!.json).toMatchObject({ id: 'a1.1', alertId: 'a1', time: T0 + 1000, message: 'BTCUSDT price crosses above 61000: price 61000.01' });
    expect(tg.sent[0]).toEqual({ chat_id: '4242', text: 'qtrade alert a1: BTCUSDT price crosses above 61000: price 61000.01\n2024-08-08 12:00:01.000 UTC' });

    const one = await api<{ fired: number; history: Array<{ id: string; time: number }> }>('GET', '/api/qtrade/alerts?id=a1');
    expect(one.json.fired).toBe(1);
    expect(one.json.history.map((h) => [h.id, h.time])).toEqual([['a1.1', T0 + 1000]]);

    // The chat: read-only answers for the configured chat only.
    tg.pushMessage(4242, '/balance');
    tg.pushMessage(777, '/balance');
    tg.pushMessage(4242, '/sell BTCUSDT 1');
    await tg.waitForSent(3, 15_000);
    expect(tg.sent.slice(1).map((m) => m.text)).toEqual(['USDT free 10000.00000000 locked 0.00000000', expect.stringMatching(/^\/sell refused: trading commands are not accepted from chat/)]);

    // The CLI talks to the daemon (daemon.json in the data dir).
    const cli = await runCli(['--data-dir', d.dataDir, 'alert', 'list', '--json'], { env: { QTRADE_CONNECT: undefined } });
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject([{ id: 'a1', fired: 1, lastFiredAt: T0 + 1000 }]);
    const hist = await runCli(['--data-dir', d.dataDir, 'alert', 'history', '--json'], { env: { QTRADE_CONNECT: undefined } });
    expect(JSON.parse(hist.stdout)).toMatchObject([{ id: 'a1.1' }]);

    const del = await api('DELETE', '/api/qtrade/alerts?id=a1');
    expect(del.status).toBe(200);
    expect((await api<unknown[]>('GET', '/api/qtrade/alerts')).json).toEqual([]);
    expect((await api('DELETE', '/api/qtrade/alerts?id=a1')).status).toBe(404);
    // Its firing history stays, through the daemon as in the store.
    const kept = await runCli(['--data-dir', d.dataDir, 'alert', 'history', 'a1', '--json'], { env: { QTRADE_CONNECT: undefined } });
    expect(kept.code).toBe(0);
    expect((JSON.parse(kept.stdout) as Array<{ id: string }>).map((f) => f.id)).toEqual(['a1.1']);
    d.trade({ id: 4, time: T0 + 3000, price: '60000.00' });
    d.trade({ id: 5, time: T0 + 4000, price: '61500.00' });
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.received).toHaveLength(1);

    // This daemon delivers to both: adding through it warns of nothing.
    const added = await runCli(['--data-dir', d.dataDir, 'alert', 'add', 'BTCUSDT', 'price > 90000', '--notify', 'tui,webhook,telegram'], { env: { QTRADE_CONNECT: undefined } });
    expect([added.code, added.stderr]).toEqual([0, '']);
    expect(added.stdout).toMatch(/^added a\d+: BTCUSDT price > 90000 \(once; notify tui, webhook, telegram\)\n$/);

    const logs = d.logs.join('\n');
    expect(logs).toContain('alert a1.1: BTCUSDT price crosses above 61000: price 61000.01');
    expect(logs).not.toContain(SECRET);
    expect(logs).not.toContain(tg.token);
  }, 60_000);
});

describe('alerts in a daemon with no webhook or Telegram', () => {
  let bare: TestDaemon;
  beforeAll(async () => {
    bare = await startTestDaemon({ alerts: { webhook: undefined, telegram: undefined, bell: false } });
  });
  afterAll(async () => {
    await bare?.close();
  });
  const cli = (...args: string[]) => runCli(['--data-dir', bare.dataDir, 'alert', ...args], { env: { QTRADE_CONNECT: undefined } });

  it('warns, over the API and in the CLI, that the channels it cannot deliver to stay silent', async () => {
    const res = await fetch(`${bare.url}/api/qtrade/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ symbol: 'BTCUSDT', condition: 'price > 1', notify: 'tui' }) });
    expect(await res.json()).toMatchObject({ id: 'a1', notify: ['tui'], warnings: [] });

    const both = await cli('add', 'BTCUSDT', 'price > 70000', '--notify', 'tui,webhook,telegram');
    expect(both.code).toBe(0);
    expect(both.stdout).toBe('added a2: BTCUSDT price > 70000 (once; notify tui, webhook, telegram)\n');
    expect(both.stderr).toBe(
      'warning: no webhook configured: qtrade config set alerts.webhookUrl URL (and alerts.webhookSecret to sign), then restart the daemon (it reads these at start)\n' +
        'warning: Telegram not configured: qtrade config set telegram.botToken TOKEN and telegram.chatId ID, then restart the daemon (it reads these at start)\n',
    );
    // --json prints the alert as the store path does; the warning still goes to stderr.
    const json = await cli('add', '*', 'filled', '--notify', 'webhook', '--json');
    expect(json.code).toBe(0);
    expect(Object.keys(JSON.parse(json.stdout) as object)).not.toContain('warnings');
    expect(json.stderr).toMatch(/^warning: no webhook configured: .*\n$/);
    const tuiOnly = await cli('add', 'BTCUSDT', 'price < 10');
    expect([tuiOnly.code, tuiOnly.stderr]).toEqual([0, '']);

    // A test notification through this daemon fails on both channels, naming why: exit 4, as without a daemon.
    const t = await cli('test', 'a2');
    expect(t.code).toBe(4);
    expect(t.stdout).toBe(
      'tui: published on the daemon bus (TUIs connected to it show it)\n' +
        'webhook: failed: no webhook configured: qtrade config set alerts.webhookUrl URL\n' +
        'telegram: failed: Telegram not configured: qtrade config set telegram.botToken TOKEN and telegram.chatId ID\n',
    );
    expect(t.stderr.split('\n')[0]).toBe('error: the test notification did not reach webhook, telegram');
  }, 60_000);

  it('an unknown alert id is bad usage (exit 2) naming the id, as without a daemon, for rm, test and history', async () => {
    for (const args of [['rm', 'zz9'], ['test', 'zz9'], ['history', 'zz9']]) {
      const r = await cli(...args);
      expect([args.join(' '), r.code]).toEqual([args.join(' '), 2]);
      expect(r.stderr).toBe('error: no alert "zz9"\nhint: qtrade alert list --all shows the alerts and their ids\n');
    }
    // A symbol only the daemon can judge (not in the bundled list): its 400 is bad usage too.
    const add = await cli('add', 'FOOUSDT', 'price > 1');
    expect(add.code).toBe(2);
    expect(add.stderr).toContain('FOOUSDT');
  }, 60_000);
});

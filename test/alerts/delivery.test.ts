import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AlertLog } from '../../src/engine/alerts/log.js';
import type { AlertFiring } from '../../src/engine/alerts/types.js';
import { openStore } from '../../src/engine/store/open.js';
import type { Store } from '../../src/engine/store/types.js';
import { Outbox, OUTBOX_STREAM, type OutboxEvent } from '../../src/notify/outbox.js';
import { sendNow } from '../../src/notify/notifier.js';
import { answerCommand, TelegramBot } from '../../src/notify/telegram-bot.js';
import { TelegramApi, TelegramSender } from '../../src/notify/telegram.js';
import { WebhookSender } from '../../src/notify/webhook.js';
import { verifyWebhook } from '../../src/notify/sign.js';
import { tempDir } from '../helpers/cli.js';
import { startFakeTelegram } from '../helpers/fake-telegram.js';
import { freePort, startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const SECRET = 'whsec_test_3f9a1c0e7b2d';
const tmp = tempDir('qtrade-delivery-');
afterAll(() => tmp.cleanup());
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const BACKOFF = { baseMs: 20, maxMs: 200 };

async function storeWithFirings(n: number, notify: AlertFiring['notify'] = ['webhook']): Promise<{ store: Store; log: AlertLog; firings: Array<{ seq: number; firing: AlertFiring }> }> {
  const store = await openStore(`sqlite:${path.join(tmp.dir, `s-${Math.random().toString(36).slice(2)}.db`)}`);
  cleanups.push(() => store.close());
  const log = await AlertLog.open(store);
  const rec = await log.add({ symbol: 'BTCUSDT', condition: 'price > 61000', mode: { kind: 'until-cancelled' }, notify }, 1);
  const list: AlertFiring[] = Array.from({ length: n }, (_, i) => ({
    id: `${rec.alert.id}.${i + 1}`,
    alertId: rec.alert.id,
    n: i + 1,
    symbol: 'BTCUSDT',
    condition: 'price > 61000',
    time: 1723161300000 + i,
    message: `BTCUSDT price > 61000: price 61000.0${i + 1}`,
    notify,
  }));
  return { store, log, firings: await log.recordFirings(list) };
}

describe('webhook delivery', () => {
  it('POSTs signed JSON with the firing id; a receiver verifies the signature over timestamp.body', async () => {
    const rx = await startWebhookReceiver({ secret: SECRET });
    cleanups.push(() => rx.close());
    const { firings } = await storeWithFirings(1);
    const sender = new WebhookSender({ url: rx.url, secret: SECRET });
    expect(await sender.send(firings[0]!.firing)).toEqual({ ok: true });
    const [r] = rx.received;
    expect(r!.verified).toBe(true);
    expect(r!.headers['x-qtrade-delivery']).toBe('a1.1');
    expect(r!.json).toEqual({
      type: 'alert.fired',
      id: 'a1.1',
      alertId: 'a1',
      n: 1,
      symbol: 'BTCUSDT',
      condition: 'price > 61000',
      time: 1723161300000,
      timeIso: '2024-08-08T23:55:00.000Z',
      message: 'BTCUSDT price > 61000: price 61000.01',
      notify: ['webhook'],
    });
    // A tampered body or a wrong secret does not verify.
    const ts = r!.headers['x-qtrade-timestamp'] as string;
    const sig = r!.headers['x-qtrade-signature'] as string;
    expect(verifyWebhook({ secret: SECRET, timestamp: ts, signature: sig, body: r!.body.replace('61000.01', '61000.02') })).toBe(false);
    expect(verifyWebhook({ secret: 'other', timestamp: ts, signature: sig, body: r!.body })).toBe(false);
    expect(verifyWebhook({ secret: SECRET, timestamp: ts, signature: sig, body: r!.body, nowSec: Number(ts) + 3600 })).toBe(false);
  });

  it('speaks Slack ({text}) and Discord ({content}) payloads', async () => {
    const rx = await startWebhookReceiver();
    cleanups.push(() => rx.close());
    const { firings } = await storeWithFirings(1);
    await new WebhookSender({ url: rx.url, format: 'slack' }).send(firings[0]!.firing);
    await new WebhookSender({ url: rx.url, format: 'discord' }).send(firings[0]!.firing);
    const text = 'qtrade alert a1: BTCUSDT price > 61000: price 61000.01\n2024-08-08 23:55:00.000 UTC';
    expect(rx.received.map((r) => r.json)).toEqual([{ text }, { content: text, allowed_mentions: { parse: [] } }]);
    expect(rx.received[0]!.headers['x-qtrade-signature']).toBeUndefined();
  });

  it('the outbox retries after 500s with backoff, keeps the order, and records each outcome once', async () => {
    const rx = await startWebhookReceiver({ secret: SECRET });
    cleanups.push(() => rx.close());
    rx.respond([500, 503, 500]);
    const { store, log } = await storeWithFirings(3);
    const events: OutboxEvent[] = [];
    const outbox = await Outbox.open({ store, log, senders: { webhook: new WebhookSender({ url: rx.url, secret: SECRET }) }, backoff: BACKOFF, onEvent: (e) => events.push(e) });
    cleanups.push(() => outbox.close());
    await outbox.idle();
    expect(rx.received.map((r) => [r.headers['x-qtrade-delivery'], r.status])).toEqual([
      ['a1.1', 500],
      ['a1.1', 503],
      ['a1.1', 500],
      ['a1.1', 200],
      ['a1.2', 200],
      ['a1.3', 200],
    ]);
    expect(rx.received.every((r) => r.verified)).toBe(true);
    expect(events.filter((e) => e.kind === 'retry').map((e) => (e as { reason: string }).reason)).toEqual([
      'HTTP 500: {"error":"answered 500 by the test"}',
      'HTTP 503: {"error":"answered 503 by the test"}',
      'HTTP 500: {"error":"answered 500 by the test"}',
    ]);
    const outcomes = await store.readEvents(OUTBOX_STREAM);
    expect(outcomes.map((e) => [e.kind, JSON.parse(e.body).id, JSON.parse(e.body).attempts])).toEqual([
      ['delivered', 'a1.1', 4],
      ['delivered', 'a1.2', 1],
      ['delivered', 'a1.3', 1],
    ]);
    // Reopened: nothing is delivered twice.
    await outbox.close();
    const again = await Outbox.open({ store, log, senders: { webhook: new WebhookSender({ url: rx.url, secret: SECRET }) }, backoff: BACKOFF });
    cleanups.push(() => again.close());
    expect(again.pending()).toBe(0);
  });

  it('keeps retrying while connections are refused, and delivers once the receiver is up', async () => {
    const port = await freePort();
    const { store, log } = await storeWithFirings(2);
    const url = `http://127.0.0.1:${port}/hooks/qtrade`;
    const retries: string[] = [];
    const outbox = await Outbox.open({ store, log, senders: { webhook: new WebhookSender({ url, secret: SECRET }) }, backoff: BACKOFF, onEvent: (e) => e.kind === 'retry' && retries.push(e.reason) });
    cleanups.push(() => outbox.close());
    while (retries.length < 2) await new Promise((r) => setTimeout(r, 10));
    expect(retries[0]).toBe('unreachable (ECONNREFUSED)');
    let rx: WebhookReceiver;
    try {
      rx = await startWebhookReceiver({ secret: SECRET, port });
    } catch {
      return void expect.fail(`port ${port} was taken by another process in between; rerun`);
    }
    cleanups.push(() => rx.close());
    await outbox.idle();
    expect(rx.received.map((r) => [r.headers['x-qtrade-delivery'], r.verified])).toEqual([
      ['a1.1', true],
      ['a1.2', true],
    ]);
  });

  it('a 4xx other than 408/425/429 fails for good, recorded with the reason; the rest go on', async () => {
    const rx = await startWebhookReceiver();
    cleanups.push(() => rx.close());
    rx.respond([410]);
    const { store, log } = await storeWithFirings(2);
    const outbox = await Outbox.open({ store, log, senders: { webhook: new WebhookSender({ url: rx.url }) }, backoff: BACKOFF });
    cleanups.push(() => outbox.close());
    await outbox.idle();
    const outcomes = await store.readEvents(OUTBOX_STREAM);
    expect(outcomes.map((e) => [e.kind, JSON.parse(e.body).id, JSON.parse(e.body).reason])).toEqual([
      ['failed', 'a1.1', 'HTTP 410: {"error":"answered 410 by the test"}'],
      ['delivered', 'a1.2', undefined],
    ]);
  });

  it('a notification waiting for a receiver that is down survives closing the outbox and goes out from the next one', async () => {
    const port = await freePort();
    const { store, log } = await storeWithFirings(1);
    const url = `http://127.0.0.1:${port}/x`;
    const first = await Outbox.open({ store, log, senders: { webhook: new WebhookSender({ url }) }, backoff: BACKOFF });
    await new Promise((r) => setTimeout(r, 50));
    expect(first.pending()).toBe(1);
    await first.close();
    const rx = await startWebhookReceiver({ port });
    cleanups.push(() => rx.close());
    const second = await Outbox.open({ store, log: await AlertLog.open(store), senders: { webhook: new WebhookSender({ url }) }, backoff: BACKOFF });
    cleanups.push(() => second.close());
    await second.idle();
    expect(rx.received.map((r) => r.headers['x-qtrade-delivery'])).toEqual(['a1.1']);
  });
});

describe('Telegram', () => {
  it('sends firings to the chat, retrying 429 and 5xx answers', async () => {
    const tg = await startFakeTelegram();
    cleanups.push(() => tg.close());
    tg.failSends(429, 1);
    tg.failSends(500, 1);
    const { store, log } = await storeWithFirings(2, ['telegram']);
    const api = new TelegramApi({ token: tg.token, apiUrl: tg.apiUrl });
    const outbox = await Outbox.open({ store, log, senders: { telegram: new TelegramSender(api, '4242') }, backoff: BACKOFF });
    cleanups.push(() => outbox.close());
    await outbox.idle();
    expect(tg.sent).toEqual([
      { chat_id: '4242', text: 'qtrade alert a1: BTCUSDT price > 61000: price 61000.01\n2024-08-08 23:55:00.000 UTC' },
      { chat_id: '4242', text: 'qtrade alert a1: BTCUSDT price > 61000: price 61000.02\n2024-08-08 23:55:00.001 UTC' },
    ]);
  });

  it('answers read-only commands for the configured chat only, refuses trading, never leaks the token', async () => {
    const tg = await startFakeTelegram();
    cleanups.push(() => tg.close());
    const api = new TelegramApi({ token: tg.token, apiUrl: tg.apiUrl });
    const ignored: number[] = [];
    const account = {
      status: async () => 'risk ACTIVE',
      balance: async () => 'USDT free 10000.00000000 locked 0.00000000',
      positions: async () => 'no open positions',
      pnl: async () => 'no PnL yet: nothing traded',
    };
    const bot = new TelegramBot({ api, chatId: '4242', account, pollSeconds: 1, retryMs: 50, onIgnored: (c) => ignored.push(c) });
    bot.start();
    cleanups.push(() => bot.stop());
    tg.pushMessage(999, '/balance');
    tg.pushMessage(4242, '/status');
    tg.pushMessage(4242, '/balance@qtrade_bot');
    tg.pushMessage(4242, '/positions');
    tg.pushMessage(4242, '/pnl');
    tg.pushMessage(4242, '/buy BTCUSDT 1');
    tg.pushMessage(4242, 'hello');
    tg.pushMessage(4242, '/help');
    await tg.waitForSent(6);
    expect(tg.sent.map((m) => [m.chat_id, m.text])).toEqual([
      ['4242', 'risk ACTIVE'],
      ['4242', 'USDT free 10000.00000000 locked 0.00000000'],
      ['4242', 'no open positions'],
      ['4242', 'no PnL yet: nothing traded'],
      ['4242', '/buy refused: trading commands are not accepted from chat. Use the qtrade CLI or TUI. qtrade answers read-only commands here: /status, /balance, /positions, /pnl.'],
      ['4242', 'qtrade answers read-only commands here: /status, /balance, /positions, /pnl.'],
    ]);
    expect(ignored).toEqual([999]);
    expect(await answerCommand('/cancel all', account)).toMatch(/^\/cancel refused/);

    // A wrong token: the error names the problem, not the token.
    const bad = new TelegramApi({ token: '987654321:WRONGwrongWRONGwrongWRONG', apiUrl: tg.apiUrl });
    const d = await new TelegramSender(bad, '4242').send({ id: 'a1.1', alertId: 'a1', n: 1, symbol: 'BTCUSDT', condition: 'c', time: 0, message: 'm', notify: ['telegram'] });
    expect(d).toEqual({ ok: false, retry: false, reason: 'Telegram sendMessage: 401 Unauthorized (check telegram.botToken)' });
    const unreachable = new TelegramApi({ token: tg.token, apiUrl: `http://127.0.0.1:${await freePort()}` });
    const u = await new TelegramSender(unreachable, '4242').send({ id: 'a1.1', alertId: 'a1', n: 1, symbol: 'BTCUSDT', condition: 'c', time: 0, message: 'm', notify: ['telegram'] });
    expect(u.ok).toBe(false);
    expect(JSON.stringify(u)).not.toContain(tg.token.split(':')[1]!);
    expect(JSON.stringify(u)).toMatch(/ECONNREFUSED/);
  });

  it('sendNow reports each channel of a test notification without printing secrets', async () => {
    const rx = await startWebhookReceiver({ secret: SECRET });
    cleanups.push(() => rx.close());
    const firing: AlertFiring = { id: 'a1.test-1', alertId: 'a1', n: 0, symbol: 'BTCUSDT', condition: 'price > 1', time: 0, message: 'test', notify: ['tui', 'webhook', 'telegram'], test: true };
    const r = await sendNow(firing, { webhook: { url: `${rx.url}?token=${SECRET}`, secret: SECRET, format: 'json' }, telegram: undefined, bell: true });
    expect(r).toEqual([
      { channel: 'webhook', target: rx.url.replace('/hooks/qtrade', ''), delivery: { ok: true } },
      { channel: 'telegram', target: '', delivery: { ok: false, retry: false, reason: 'Telegram not configured: qtrade config set telegram.botToken TOKEN and telegram.chatId ID' } },
    ]);
    expect(JSON.stringify(r)).not.toContain(SECRET);
    expect(rx.received[0]!.verified).toBe(true);
  });
});

import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempDir } from '../helpers/cli.js';
import { startFakeTelegram } from '../helpers/fake-telegram.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';

const GENERATED = path.join(ROOT, 'fixtures/recordings/generated-btcusdt-aggtrades.jsonl.gz');
const SECRET = 'whsec_cli_test_8d2f6b';
const tmp = tempDir('qtrade-alert-cli-');
afterAll(() => tmp.cleanup());
const base = { QTRADE_CONNECT: undefined, QTRADE_STORE: undefined };

describe('qtrade alert', () => {
  it('adds, lists, removes and shows history; --json everywhere; a replay fires stored alerts without using them up', async () => {
    const dir = path.join(tmp.dir, 'crud');
    const cli = (...args: string[]) => runCli(['--data-dir', dir, 'alert', ...args], { env: base });
    const a1 = await cli('add', 'btcusdt', 'price  crosses above 61700', '--json');
    expect(a1.code).toBe(0);
    expect(JSON.parse(a1.stdout)).toMatchObject({ id: 'a1', symbol: 'BTCUSDT', condition: 'price crosses above 61700', mode: 'once', notify: ['tui'], status: 'active', fired: 0, expiresAt: null });
    const a2 = await cli('add', 'BTCUSDT', 'close 1m < 61700', '--every', '5m', '--expire', '24h');
    expect(a2.code).toBe(0);
    expect(a2.stdout).toMatch(/^added a2: BTCUSDT close 1m < 61700 \(every 5m, expires \d{4}-\d\d-\d\d [\d:.]+ UTC; notify tui\)\n$/);
    expect(a2.stderr).toContain('it fires while `qtrade feed` or the daemon runs');
    const a3 = await cli('add', '*', 'filled', '--until-cancelled', '--notify', 'tui,webhook');
    expect(a3.code).toBe(0);
    expect(a3.stderr).toContain('warning: no webhook configured');

    const list = await cli('list');
    expect(list.stdout.split('\n').slice(0, 4)).toEqual([
      'id  symbol   condition                  mode             notify       status  fired  last fired',
      'a1  BTCUSDT  price crosses above 61700  once             tui          active      0  -',
      'a2  BTCUSDT  close 1m < 61700           every 5m         tui          active      0  -',
      'a3  *        filled                     until cancelled  tui,webhook  active      0  -',
    ]);

    const replay = await runCli(['--data-dir', dir, 'replay', GENERATED, '--speed', 'max', '--json'], { env: base, timeoutMs: 60_000 });
    expect(replay.code).toBe(0);
    const rows = replay.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const fired = rows.filter((r) => r.type === 'alert');
    expect(fired.map((f) => [f.id, f.time, f.message])).toEqual([
      ['a1.1', 1723075338229, 'BTCUSDT price crosses above 61700: price 61702.53'],
      ...fired.filter((f) => f.alertId === 'a2').map((f) => [f.id, f.time, f.message]),
    ]);
    expect(fired.filter((f) => f.alertId === 'a2').length).toBeGreaterThan(0);
    expect(rows.at(-1)).toMatchObject({ type: 'summary', alerts: fired.length });
    // The once-alert is still active and unfired: a replay records nothing.
    const after = JSON.parse((await cli('list', '--json')).stdout) as Array<{ id: string; status: string; fired: number }>;
    expect(after.map((a) => [a.id, a.status, a.fired])).toEqual([
      ['a1', 'active', 0],
      ['a2', 'active', 0],
      ['a3', 'active', 0],
    ]);

    const rm = await cli('rm', 'a2', '--json');
    expect(JSON.parse(rm.stdout)).toMatchObject({ id: 'a2', condition: 'close 1m < 61700' });
    expect((await cli('list')).stdout).not.toContain('a2 ');
    const gone = await cli('rm', 'a2');
    expect([gone.code, gone.stderr]).toEqual([2, 'error: no alert "a2"\nhint: qtrade alert list --all shows the alerts and their ids\n']);
    const hist = await cli('history', '--json');
    expect(JSON.parse(hist.stdout)).toEqual([]);
  }, 120_000);

  it('refuses bad conditions with a caret under the bad token, unknown symbols and bad flags, with exit 2', async () => {
    const dir = path.join(tmp.dir, 'errors');
    const cli = (...args: string[]) => runCli(['--data-dir', dir, 'alert', ...args], { env: base });
    const [cond, sym, flags, notify] = await Promise.all([
      cli('add', 'BTCUSDT', 'rsi(14, 7m) < 30'),
      cli('add', 'BTCUSDX', 'price > 1'),
      cli('add', 'BTCUSDT', 'price > 1', '--once', '--every', '5m'),
      cli('add', 'BTCUSDT', 'price > 1', '--notify', 'sms'),
    ]);
    expect(cond.code).toBe(2);
    expect(cond.stderr.split('\n').slice(0, 3)).toEqual([
      'error: bad condition: expected a candle interval (1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 1w); did you mean 1m or 3m? at column 9',
      '  rsi(14, 7m) < 30',
      '          ^^',
    ]);
    expect(sym.code).toBe(2);
    expect(sym.stderr).toMatch(/BTCUSDX/);
    expect(sym.stderr).toMatch(/BTCUSDT/); // the close match
    expect([flags.code, flags.stderr.split('\n')[0]]).toEqual([2, 'error: --once and --every cannot be combined']);
    expect([notify.code, notify.stderr.split('\n')[0]]).toEqual([2, 'error: unknown notification channel "sms"']);
    expect((await cli('list', '--all', '--json')).stdout.trim()).toBe('[]');
  }, 60_000);

  it('alert test reaches the webhook (signed) and Telegram, and never prints the secret or the token', async () => {
    const rx = await startWebhookReceiver({ secret: SECRET });
    const tg = await startFakeTelegram();
    try {
      const dir = path.join(tmp.dir, 'test');
      const env = {
        ...base,
        QTRADE_ALERTS_WEBHOOK_URL: rx.url,
        QTRADE_ALERTS_WEBHOOK_SECRET: SECRET,
        QTRADE_TELEGRAM_BOT_TOKEN: tg.token,
        QTRADE_TELEGRAM_CHAT_ID: '4242',
        QTRADE_TELEGRAM_API_URL: tg.apiUrl,
      };
      const cli = (...args: string[]) => runCli(['--data-dir', dir, 'alert', ...args], { env });
      expect((await cli('add', 'BTCUSDT', 'price > 70000', '--notify', 'tui,webhook,telegram')).code).toBe(0);
      const t = await cli('test', 'a1');
      expect(t.code).toBe(0);
      expect(t.stdout).toBe(`tui: nothing to show here: a running TUI shows alerts as they fire\nwebhook: sent to ${new URL(rx.url).origin}\ntelegram: sent to ${tg.apiUrl} chat 4242\n`);
      expect(rx.received).toHaveLength(1);
      expect(rx.received[0]!.verified).toBe(true);
      expect(rx.received[0]!.json).toMatchObject({ alertId: 'a1', n: 0, test: true, message: 'BTCUSDT price > 70000: test notification' });
      expect(tg.sent).toEqual([{ chat_id: '4242', text: expect.stringMatching(/^qtrade alert test a1: BTCUSDT price > 70000: test notification\n/) }]);

      // The receiver fails: exit 4, the reason, and still no secret anywhere.
      rx.respond([500]);
      const bad = await runCli(['--data-dir', dir, 'alert', 'test', 'a1', '--json'], { env: { ...env, QTRADE_TELEGRAM_BOT_TOKEN: '123456789:WRONGwrongWRONGwrongWRONGwrong' } });
      expect(bad.code).toBe(4);
      expect(JSON.parse(bad.stdout)).toMatchObject({
        results: [
          { channel: 'tui', ok: true },
          { channel: 'webhook', ok: false, reason: 'HTTP 500: {"error":"answered 500 by the test"}' },
          { channel: 'telegram', ok: false, reason: 'Telegram sendMessage: 401 Unauthorized (check telegram.botToken)' },
        ],
      });
      const cfg = await runCli(['--data-dir', dir, 'config', 'list'], { env });
      for (const r of [t, bad, cfg]) {
        const all = r.stdout + r.stderr;
        expect(all).not.toContain(SECRET);
        expect(all).not.toContain(tg.token.split(':')[1]!);
        expect(all).not.toContain('WRONGwrong');
      }
      expect(cfg.stdout).toMatch(/telegram\.botToken\s+\*{8}/);
    } finally {
      await rx.close();
      await tg.close();
    }
  }, 60_000);
});

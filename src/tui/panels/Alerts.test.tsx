import { stripVTControlCharacters } from 'node:util';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeBinance, type FakeBinance } from '../../../test/helpers/fake-binance.js';
import { createFakeRest } from '../../../test/helpers/fake-binance-rest.js';
import { tempDir } from '../../../test/helpers/cli.js';
import { AlertLog } from '../../engine/alerts/log.js';
import { alertSpecFrom, type AlertInput } from '../../engine/alerts/spec.js';
import type { AlertFiring } from '../../engine/alerts/types.js';
import { bundledInstruments } from '../../engine/market/bundled-instruments.js';
import { openStore } from '../../engine/store/open.js';
import { App } from '../App.js';
import { openLiveSession } from '../live-session.js';
import { ReplaySession } from '../replay-session.js';
import { KEYS, renderTui, tick, until, type Rendered } from '../testing/harness.js';
import { GENERATED } from '../testing/sessions.js';

/**
 * Alerts in the TUI: the stored alerts (`qtrade alert add`) fire in a replayed recording and on a
 * live feed, each firing a toast over the layout, the bell (unless alerts.bell is off) and a
 * line in the log; the Alerts panel lists the alerts and the firings; /alert adds and removes.
 */

const tmp = tempDir('qtrade-tui-alerts-');
const storeUrl = `sqlite:${path.join(tmp.dir, 'qtrade.db')}`;
afterAll(() => tmp.cleanup());

/** Adds an alert to a store as `qtrade alert add` does (no engine running in this process). */
async function storeAlert(url: string, input: AlertInput): Promise<string> {
  const store = await openStore(url);
  try {
    const log = await AlertLog.open(store);
    const now = Date.now();
    return (await log.add(alertSpecFrom(input, bundledInstruments(), now).spec, now)).alert.id;
  } finally {
    await store.close();
  }
}

async function storedHistory(url: string): Promise<{ firings: AlertFiring[]; fired: Record<string, number> }> {
  const store = await openStore(url);
  try {
    const log = await AlertLog.open(store);
    return { firings: await log.history({ limit: 100 }), fired: Object.fromEntries(log.list().map((r) => [r.alert.id, r.fired])) };
  } finally {
    await store.close();
  }
}

async function command(r: Rendered, text: string): Promise<void> {
  r.write('/');
  await tick(20);
  for (const ch of text) {
    r.write(ch);
    await tick(2);
  }
  await until(r, (f) => f.split('\n').at(-1)!.trim() === `> ${text}`, `the command line showing "${text}"`);
  r.write(KEYS.enter);
}

describe('alerts in the replay TUI', () => {
  it('fires a stored alert on the recording: toast, bell, log line and the Alerts panel; the store records nothing', async () => {
    const once = await storeAlert(storeUrl, { symbol: 'BTCUSDT', condition: 'price crosses above 61700' });
    const never = await storeAlert(storeUrl, { symbol: 'BTCUSDT', condition: 'price > 1000000', untilCancelled: true });
    const session = await ReplaySession.open({ file: GENERATED, speed: 'max', alerts: { storeUrl, bell: true } });
    let bells = 0;
    // Wide enough that the toast (top right) leaves the Alerts panel's title in sight.
    const r = renderTui(session.source, <App onBell={() => bells++} />, { columns: 150, rows: 40 });
    try {
      await until(r, (f) => f.includes('Order book'), 'the dashboard');
      session.start();
      await session.done;
      const f = await until(r, (x) => x.includes(`alert ${once}.1`) && x.includes('BTCUSDT price crosses above 61700'), 'the toast');
      expect(f.split('\n')[1]).toMatch(/╔═ alert a\d+\.1 · \d\d:\d\d:\d\d UTC ═+╗$/);
      expect(bells).toBe(1);
      expect(r.ctx.log.entries().map((e) => e.text)).toContainEqual(expect.stringMatching(new RegExp(`^alert ${once}\\.1: BTCUSDT price crosses above 61700`)));

      r.write('8');
      const panel = await until(r, (x) => x.includes('Alerts (1 active)'), 'the Alerts panel');
      expect(panel).toMatch(new RegExp(`${once} +BTCUSDT +price crosses above 61700 +once +done +1`));
      // The toast covers the right of the first rows: the active alert's columns are read from the source.
      expect(panel).toMatch(new RegExp(`${never} +BTCUSDT +price > 1000000`));
      expect(session.source.alerts!.list().map((a) => [a.id, a.mode, a.status, a.fired])).toEqual([
        [once, 'once', 'done', 1],
        [never, 'until-cancelled', 'active', 0],
      ]);
      expect(panel).toContain('Fired (1)');
      expect(panel).toMatch(new RegExp(`${once}\\.1 +BTCUSDT price crosses above 61700`));
    } finally {
      r.unmount();
      await session.close();
    }
    // A replay fires the stored alerts without using them up or adding to their history.
    expect(await storedHistory(storeUrl)).toEqual({ firings: [], fired: { [once]: 0, [never]: 0 } });
  }, 60_000);

  let session: ReplaySession;
  beforeAll(async () => {
    // No store: only alerts added in the session run, and no bell.
    session = await ReplaySession.open({ file: GENERATED, speed: 'max', alerts: { bell: false } });
    session.start();
    await session.done;
  }, 60_000);
  afterAll(async () => {
    await session?.close();
  });

  it('toasts a published firing over the 80x24 layout without the bell when alerts.bell is off', async () => {
    let bells = 0;
    const r = renderTui(session.source, <App onBell={() => bells++} />, { columns: 80, rows: 24 });
    try {
      await until(r, (f) => f.split('\n')[0]!.length <= 80 && f.includes('Order book'), 'the compact layout');
      const firing: AlertFiring = { id: 'a7.1', alertId: 'a7', n: 1, symbol: 'BTCUSDT', condition: 'price > 61500', time: Date.UTC(2024, 7, 8, 0, 15, 55), message: 'BTCUSDT price > 61500: price 61598.52', notify: ['tui'] };
      session.node.bus.publish('alert.fired', firing);
      const f = await until(r, (x) => x.includes('alert a7.1 · 00:15:55 UTC'), 'the toast');
      const lines = stripVTControlCharacters(f).split('\n');
      expect(lines.length).toBeLessThanOrEqual(23);
      for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
      // Over the panels at the right edge, under the header and the watchlist strip.
      expect(lines[2]).toMatch(/╔═ alert a7\.1 · 00:15:55 UTC ═*╗$/);
      expect(lines[3]).toMatch(/║ BTCUSDT price > 61500: price 61598\.52 *║$/);
      expect(bells).toBe(0);

      // Several at once: one box, newest first, one line each.
      session.node.bus.publish('alert.fired', { ...firing, id: 'a7.2', n: 2, time: firing.time + 1000 });
      const two = stripVTControlCharacters(await until(r, (x) => x.includes('2 alerts'), 'two toasts')).split('\n');
      expect(two[2]).toMatch(/╔═ 2 alerts ═*╗$/);
      expect(two[3]).toMatch(/║ a7\.2 00:15:56 BTCUSDT price > 61500: pri…║$/);
      expect(two[4]).toMatch(/║ a7\.1 00:15:55 BTCUSDT price > 61500: pri…║$/);
    } finally {
      r.unmount();
    }
  });

  it('adds and removes alerts from the command line, and says what is wrong with a bad one', async () => {
    const r = renderTui(session.source, <App />, { columns: 120, rows: 30 });
    const logged = (re: RegExp) => until(r, () => r.ctx.log.entries().some((e) => re.test(e.text)), `a log line ${re}`);
    try {
      await until(r, (f) => f.includes('Order book'), 'the dashboard');
      await command(r, 'alert btcusdt price > 70000 --every 5m');
      await logged(/^✓ alert a1 added: BTCUSDT price > 70000 \(every crossing, with a cool-down; tui\)$/);
      await command(r, 'alerts');
      const panel = await until(r, (f) => f.includes('Alerts (1 active)'), 'the Alerts panel');
      expect(panel).toMatch(/a1 +BTCUSDT +price > 70000 +every 5m +active +0/);
      expect(session.source.alerts!.list().map((a) => a.id)).toEqual(['a1']);

      await command(r, 'alert btcusdt price >> 7');
      await logged(/^✗ alert: bad condition: .* at column 8: "price >»> 7"/);
      await command(r, 'alert rm a99');
      await logged(/^✗ alert rm a99: no alert "a99"/);
      await command(r, 'alert rm a1');
      await logged(/^✓ alert a1 removed: BTCUSDT price > 70000$/);
      await until(r, (f) => f.includes('Alerts (0 active)'), 'the alert gone');
      expect(session.source.alerts!.list()).toEqual([]);

      // Typed in one go with its Enter (a paste, tmux send-keys): the Enter runs it.
      r.write('/alert btcusdt price > 80000\r');
      await logged(/^✓ alert a2 added: BTCUSDT price > 80000 \(once; tui\)$/);
      expect(r.lastFrame().split('\n').at(-1)).not.toMatch(/^ > /);
    } finally {
      r.unmount();
    }
  });
});

describe('alerts across the passes of a looping replay', () => {
  it('runs the session\'s alerts again on every pass', async () => {
    const looping = await ReplaySession.open({ file: GENERATED, speed: 'max', loop: true, alerts: { bell: false } });
    try {
      const alerts = looping.source.alerts!;
      // Added before the replay starts, as a trader typing /alert at once would.
      await alerts.add({ symbol: 'BTCUSDT', condition: 'price crosses above 61700', untilCancelled: true });
      const fired: Array<{ pass: number; id: string }> = [];
      alerts.subscribe((e) => {
        if (e.kind === 'fired') fired.push({ pass: looping.passes, id: e.firing.id });
      });
      looping.start();
      const end = Date.now() + 60_000;
      while (!fired.some((f) => f.pass >= 2)) {
        if (Date.now() > end) throw new Error(`no firing in the second pass; fired: ${JSON.stringify(fired)}`);
        await tick(20);
      }
      expect(fired[0]).toEqual({ pass: 1, id: 'a1.1' });
      expect(fired.find((f) => f.pass >= 2)!.id).toBe('a1.1');
      expect(alerts.list().map((a) => [a.id, a.condition])).toEqual([['a1', 'price crosses above 61700']]);
    } finally {
      await looping.close();
    }
  }, 90_000);
});

describe('alerts in the live TUI (fake Binance)', () => {
  let fake: FakeBinance;
  beforeAll(async () => {
    fake = await startFakeBinance({ rest: createFakeRest().handler });
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('runs the stored alerts on the live feed, records and shows their firings', async () => {
    const dir = tempDir('qtrade-tui-live-alerts-');
    const url = `sqlite:${path.join(dir.dir, 'store.db')}`;
    const id = await storeAlert(url, { symbol: 'BTCUSDT', condition: 'price > 61000' });
    const live = await openLiveSession({
      dataDir: dir.dir,
      storeUrl: url,
      binance: { wsUrl: fake.wsUrl, restUrl: fake.restUrl, net: {} },
      symbols: ['BTCUSDT'],
      account: 'default',
      notify: { webhook: undefined, telegram: undefined, bell: true },
    });
    let bells = 0;
    const r = renderTui(live.source, <App onBell={() => bells++} />, { columns: 100, rows: 30 });
    try {
      await fake.waitForSubscriber('btcusdt@aggTrade', 10_000);
      const T = Date.now() - 100;
      fake.send('btcusdt@aggTrade', { e: 'aggTrade', E: T + 1, s: 'BTCUSDT', a: 100, p: '61837.63000000', q: '0.02000000', f: 100, l: 100, T, m: false, M: true });
      await until(r, (f) => f.includes(`alert ${id}.1`), 'the toast', 10_000);
      expect(bells).toBe(1);
      r.write('8');
      await until(r, (f) => f.includes('Alerts (0 active)') && f.includes('Fired (1)'), 'the panel');
      // This session has no webhook: an alert that should go there warns in the log.
      const warned = (): string[] => r.ctx.log.entries().map((e) => e.text).filter((t) => t.startsWith('alerts: '));
      expect(warned()).toEqual([]);
      const hooked = await live.source.alerts!.add({ symbol: 'BTCUSDT', condition: 'price > 70000', notify: 'tui,webhook' });
      expect(warned()).toEqual([expect.stringMatching(/^alerts: no webhook configured: qtrade config set alerts\.webhookUrl URL/)]);
      await live.source.alerts!.remove(hooked.id);
    } finally {
      r.unmount();
      await live.close();
    }
    const stored = await storedHistory(url);
    expect(stored.fired).toEqual({ [id]: 1 });
    expect(stored.firings.map((x) => [x.id, x.message])).toEqual([[`${id}.1`, expect.stringContaining('BTCUSDT price > 61000')]]);
    dir.cleanup();
  }, 60_000);
});

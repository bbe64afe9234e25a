import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/engine/store/open.js';
import { OUTBOX_STREAM } from '../../src/notify/outbox.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';

const CHILD = path.join(ROOT, 'test/alerts/outbox-child.ts');
const SECRET = 'whsec_crash_test_secret';
const tmp = tempDir('qtrade-outbox-crash-');
afterAll(() => tmp.cleanup());

function child(args: string[]): { proc: ChildProcess; stdout: () => string; stderr: () => string; line: (text: string, ms: number) => Promise<void>; exit: Promise<number | null> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exit,
    async line(text, ms) {
      const deadline = Date.now() + ms;
      while (!out.split('\n').includes(text)) {
        if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`child never printed "${text}"; stderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

describe('alert outbox across a kill -9', () => {
  it('a durable firing whose delivery kept failing is delivered by the restarted process, signed, with its id', async () => {
    const rx = await startWebhookReceiver({ secret: SECRET });
    const storeUrl = `sqlite:${path.join(tmp.dir, 'crash.db')}`;
    try {
      rx.respond(Array(1000).fill(500));
      const first = child(['fire', storeUrl, rx.url, SECRET]);
      try {
        await first.line('durable', 60_000);
        await rx.waitFor(2, 30_000); // it tried (and failed) at least twice before dying
      } finally {
        first.proc.kill('SIGKILL');
      }
      await first.exit;
      expect(first.proc.signalCode).toBe('SIGKILL');
      expect(rx.received.every((r) => r.status === 500 && r.headers['x-qtrade-delivery'] === 'a1.1')).toBe(true);
      const store = await openStore(storeUrl);
      try {
        expect(await store.readEvents(OUTBOX_STREAM)).toEqual([]); // nothing was recorded as delivered
      } finally {
        await store.close();
      }

      rx.respond([]); // the receiver is healthy again
      rx.received.length = 0;
      const second = child(['deliver', storeUrl, rx.url, SECRET]);
      expect(await second.exit).toBe(0);
      const ok = rx.received.filter((r) => r.status === 200);
      expect(ok.map((r) => [r.headers['x-qtrade-delivery'], r.verified, (r.json as { message: string }).message])).toEqual([['a1.1', true, 'BTCUSDT price > 61000: price 61000.01']]);
      expect(second.stderr()).not.toContain(SECRET);
      expect(first.stderr()).not.toContain(SECRET);
    } finally {
      await rx.close();
    }
  });
});

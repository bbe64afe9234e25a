import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, ROOT, tempDir } from './helpers/cli.js';

/**
 * Ctrl-C while a paper command holds the account's writer lock (here: waiting on a Binance that
 * accepts connections and never answers) releases the lock and exits 130.
 */
describe('qtrade order: Ctrl-C', () => {
  const cleanups: Array<() => void | Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('releases the account lock and exits 130', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          silent.close(() => resolve());
        }),
    );
    const { port } = silent.address() as net.AddressInfo;
    const { dir, cleanup } = tempDir('qtrade-signal-');
    cleanups.push(cleanup);
    const lockFile = path.join(dir, 'locks', 'default.lock');

    const child = spawn(process.execPath, [BIN, '--data-dir', dir, 'order', 'buy', 'BTCUSDT', '0.01'], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', HTTPS_PROXY: '', https_proxy: '', QTRADE_PROXY: '', QTRADE_BINANCE_REST_URL: `http://127.0.0.1:${port}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));

    // The lock is taken before Binance is asked; the request then hangs on the silent server.
    await expect.poll(() => existsSync(lockFile) && sockets.size > 0, { timeout: 10_000, interval: 20 }).toBe(true);
    child.kill('SIGINT');
    const r = await exited;
    expect(r).toEqual({ code: 130, signal: null });
    expect(existsSync(lockFile)).toBe(false);
  });
});

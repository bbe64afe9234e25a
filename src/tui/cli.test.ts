import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../../test/helpers/cli.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

function dataDir(): string {
  const t = tempDir('qtrade-tui-cli-');
  cleanup = t.cleanup;
  return t.dir;
}

// These run the built binary without a terminal (pipes), so they cover what happens before the
// dashboard opens; the dashboard itself is tested in-process with ink-testing-library.
describe('qtrade tui / demo (CLI)', () => {
  it('needs a terminal, and says so (exit 2)', async () => {
    const dir = dataDir();
    for (const args of [['tui'], ['demo'], ['tui', '--replay', 'fixtures/recordings/generated-btcusdt-aggtrades.jsonl.gz']]) {
      const r = await runCli(['--data-dir', dir, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('the TUI needs an interactive terminal');
    }
  });

  it('names a missing recording before anything else', async () => {
    const r = await runCli(['--data-dir', dataDir(), 'tui', '--replay', 'no-such-file.jsonl.gz']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no such recording: no-such-file.jsonl.gz');
    expect(r.stderr).toContain('qtrade demo');
  });

  it('refuses --speed without --replay', async () => {
    const r = await runCli(['--data-dir', dataDir(), 'tui', '--speed', '5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--speed and --loop apply to --replay FILE');
  });

  it('attaches to a running daemon or --connect URL, and still needs a terminal first (exit 2, nothing contacted)', async () => {
    const dir = dataDir();
    // This test process stands in for the daemon: daemon.json names a live pid.
    fs.writeFileSync(path.join(dir, 'daemon.json'), JSON.stringify({ pid: process.pid, url: 'http://127.0.0.1:1', host: '127.0.0.1', port: 1, startedAt: new Date(0).toISOString(), version: 'test', source: 'binance' }));
    for (const args of [['tui'], ['tui', '--connect', 'http://127.0.0.1:9']]) {
      const r = await runCli(['--data-dir', dir, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('the TUI needs an interactive terminal');
      expect(r.stderr).not.toContain('coming');
    }
  });

  it('without a terminal, bare `qtrade` still prints help (and lists tui and demo)', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/tui \[options\]/);
    expect(r.stdout + r.stderr).toMatch(/demo \[options\]/);
  });
});

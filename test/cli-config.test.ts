import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';

describe('qtrade config', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('lists every subcommand in --help', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['config', 'candles', 'history', 'record', 'replay', 'feed']) expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'));
  });

  it('resolves flags > QTRADE_* env > config file > defaults', async () => {
    const d = ['--data-dir', dir];
    expect((await runCli([...d, 'config', 'get', 'binance.restUrl'])).stdout.trim()).toBe('https://api.binance.com');
    expect((await runCli([...d, 'config', 'set', 'binance.restUrl', 'http://127.0.0.1:1111'])).code).toBe(0);
    expect((await runCli([...d, 'config', 'get', 'binance.restUrl', '--json'])).stdout).toContain('"source":"file"');
    const env = { QTRADE_BINANCE_REST_URL: 'http://127.0.0.1:2222' };
    const fromEnv = await runCli([...d, 'config', 'get', 'binance.restUrl', '--json'], { env });
    expect(JSON.parse(fromEnv.stdout)).toEqual({ key: 'binance.restUrl', value: 'http://127.0.0.1:2222', source: 'env' });
    await runCli([...d, 'config', 'set', 'proxy', 'http://127.0.0.1:4780']);
    const flag = await runCli([...d, '--proxy', 'http://127.0.0.1:9999', 'config', 'get', 'proxy', '--json'], { env: { QTRADE_PROXY: 'http://127.0.0.1:8888' } });
    expect(JSON.parse(flag.stdout)).toMatchObject({ value: 'http://127.0.0.1:9999', source: 'flag' });
    const list = JSON.parse((await runCli([...d, 'config', 'list', '--json'], { env })).stdout) as Array<{ key: string; source: string }>;
    expect(list.find((s) => s.key === 'binance.restUrl')?.source).toBe('env');
    expect(list.find((s) => s.key === 'symbols')?.source).toBe('default');
  });

  it('uses QTRADE_DATA_DIR and keeps the config file private', async () => {
    await runCli(['config', 'set', 'symbols', 'btcusdt,solusdt'], { env: { QTRADE_DATA_DIR: dir } });
    const p = (await runCli(['config', 'path'], { env: { QTRADE_DATA_DIR: dir } })).stdout.trim();
    expect(p).toBe(`${dir}/config.json`);
    expect(JSON.parse(readFileSync(p, 'utf8'))).toEqual({ symbols: 'btcusdt,solusdt' });
    expect(statSync(p).mode & 0o777).toBe(0o600);
  });

  it('rejects bad keys and values with exit 2 and leaves the file untouched', async () => {
    const d = ['--data-dir', dir];
    await runCli([...d, 'config', 'set', 'candles.graceMs', '250']);
    const before = readFileSync(`${dir}/config.json`, 'utf8');
    const badKey = await runCli([...d, 'config', 'set', 'binance.wsurl', 'ws://x']);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toContain('unknown setting "binance.wsurl"');
    expect(badKey.stderr).toContain('binance.wsUrl');
    const badUrl = await runCli([...d, 'config', 'set', 'binance.wsUrl', 'http://127.0.0.1']);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/must use ws: or wss:/);
    const badNum = await runCli([...d, 'config', 'set', 'candles.graceMs', 'soon']);
    expect(badNum.code).toBe(2);
    expect(readFileSync(`${dir}/config.json`, 'utf8')).toBe(before);
    const badEnv = await runCli([...d, 'config', 'get', 'binance.wsUrl'], { env: { QTRADE_BINANCE_WS_URL: 'nonsense' } });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain('"nonsense" is not a URL');
  });

  it('reports a corrupt config file instead of crashing', async () => {
    writeFileSync(`${dir}/config.json`, '{"symbols": 5');
    const r = await runCli(['--data-dir', dir, 'config', 'list']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/config file .* is invalid/);
    expect(r.stderr).toContain('hint:');
  });
});

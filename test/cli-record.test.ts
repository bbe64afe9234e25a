import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readRecording, type RecordingLine } from '../src/engine/market/replay/recording.js';
import { BIN, ROOT, runCli, tempDir, type CliResult } from './helpers/cli.js';
import { startFakeBinance, type FakeBinance } from './helpers/fake-binance.js';
import { createFakeRest } from './helpers/fake-binance-rest.js';

let fake: FakeBinance;
let tmp: { dir: string; cleanup: () => void };

beforeAll(async () => {
  const rest = createFakeRest();
  rest.state.depth.set('BTCUSDT', { lastUpdateId: 1000, bids: [['61837.63000000', '3.78826000']], asks: [['61837.64000000', '1.54698000']] });
  rest.state.depth.set('ETHUSDT', { lastUpdateId: 2000, bids: [['2683.80000000', '3.02920000']], asks: [['2683.81000000', '31.43950000']] });
  fake = await startFakeBinance({ rest: rest.handler });
  tmp = tempDir('qtrade-record-');
});
afterAll(async () => {
  await fake.close();
  tmp.cleanup();
});
afterEach(async () => {
  await fake.closeAll().catch(() => {});
});

const env = (): Record<string, string> => ({ QTRADE_BINANCE_WS_URL: fake.wsUrl, QTRADE_BINANCE_REST_URL: fake.restUrl });

const agg = (i: number): Record<string, unknown> => ({
  e: 'aggTrade',
  E: 1723161255343 + i,
  s: 'BTCUSDT',
  a: 100 + i,
  p: '61837.63000000',
  q: '0.02000000',
  f: 500 + i,
  l: 500 + i,
  T: 1723161255342 + i,
  m: i % 2 === 0,
  M: true,
});
const diff = { e: 'depthUpdate', E: 1723161255308, s: 'ETHUSDT', U: 1990, u: 2005, b: [['2683.80000000', '3.02920000']], a: [] };

async function lines(file: string): Promise<RecordingLine[]> {
  const all: RecordingLine[] = [];
  for await (const l of readRecording(file, { onWarning: (w) => all.push({ kind: 'rest', line: -1, r: 0, rest: `WARNING ${w}`, body: null }) })) all.push(l);
  return all;
}

/** Starts `qtrade record` and, once it subscribed, pushes frames on the fake server. */
async function recordWhileSending(args: string[], send: () => void): Promise<CliResult> {
  const run = runCli(['--data-dir', tmp.dir, 'record', ...args], { env: env(), timeoutMs: 20_000 });
  await fake.waitForSubscriber('btcusdt@aggTrade', 30_000);
  send();
  return run;
}

describe('qtrade record', () => {
  it('writes the sent frames, a header and depth snapshots to a .jsonl.gz, then a JSON summary', async () => {
    const out = path.join(tmp.dir, 'rec.jsonl.gz');
    const res = await recordWhileSending(['--symbols', 'btcusdt,ethusdt', '--channels', 'aggTrade,depth', '--duration', '2s', '--out', out, '--json'], () => {
      for (let i = 0; i < 5; i++) fake.send('btcusdt@aggTrade', agg(i));
      fake.send('ethusdt@depth@100ms', diff);
    });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      file: out,
      frames: 6,
      streams: { 'btcusdt@aggTrade': 5, 'ethusdt@depth@100ms': 1 },
      depthSnapshots: 2,
      stoppedBy: 'duration',
      reconnects: 0,
    });
    expect(summary.durationMs).toBeGreaterThanOrEqual(2000);

    const got = await lines(out);
    expect(got[0]).toMatchObject({ kind: 'header', header: { source: 'binance-spot', symbols: ['BTCUSDT', 'ETHUSDT'], channels: ['aggTrade', 'depth'] } });
    const frames = got.filter((l) => l.kind === 'frame');
    expect(frames.map((l) => l.kind === 'frame' && l.frame)).toEqual([
      ...[0, 1, 2, 3, 4].map((i) => ({ stream: 'btcusdt@aggTrade', data: agg(i) })),
      { stream: 'ethusdt@depth@100ms', data: diff },
    ]);
    const rs = frames.map((l) => (l.kind === 'frame' ? l.r : 0));
    expect(rs.every((r, i) => r > 1.6e12 && (i === 0 || r >= rs[i - 1]!))).toBe(true);
    const rest = got.filter((l) => l.kind === 'rest');
    expect(rest.map((l) => l.kind === 'rest' && l.rest).sort()).toEqual([
      '/api/v3/depth?symbol=BTCUSDT&limit=1000',
      '/api/v3/depth?symbol=ETHUSDT&limit=1000',
    ]);
    expect(rest.find((l) => l.kind === 'rest' && l.rest.includes('ETHUSDT'))).toMatchObject({ body: { lastUpdateId: 2000 } });
  });

  it('prints a human summary and records plain JSONL without depth snapshots when depth is not recorded', async () => {
    const out = path.join(tmp.dir, 'plain.jsonl');
    const res = await recordWhileSending(['--symbols', 'btcusdt', '--channels', 'aggTrade,bookTicker', '--duration', '2s', '--out', out], () => {
      fake.send('btcusdt@aggTrade', agg(7));
      fake.sendRaw('{"result":null,"id":99}');
    });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^recorded 1 frames in \d+\.\d s to .*plain\.jsonl/);
    expect(res.stdout).toMatch(/btcusdt@aggTrade\s+1\n/);
    expect(res.stdout).toMatch(/btcusdt@bookTicker\s+0\n/);
    const got = await lines(out);
    expect(got.map((l) => l.kind)).toEqual(['header', 'frame']);
  });

  it('closes the file cleanly on SIGTERM', async () => {
    const out = path.join(tmp.dir, 'term.jsonl.gz');
    const child = spawn(process.execPath, [BIN, '--data-dir', tmp.dir, 'record', '--symbols', 'btcusdt', '--channels', 'aggTrade', '--out', out, '--json'], {
      cwd: ROOT,
      env: { ...process.env, ...env(), HTTPS_PROXY: '', https_proxy: '', QTRADE_PROXY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await fake.waitForSubscriber('btcusdt@aggTrade', 30_000);
      for (let i = 0; i < 3; i++) fake.send('btcusdt@aggTrade', agg(i));
      await fake.waitFor(() => existsSync(out), 'the output file');
      // Give the recorder a moment to take the frames before the signal.
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(JSON.parse(stdout)).toMatchObject({ stoppedBy: 'SIGTERM', frames: 3 });
    const got = await lines(out);
    expect(got.map((l) => l.kind)).toEqual(['header', 'frame', 'frame', 'frame']);
  });

  it('refuses an unknown symbol with close matches, and bad flags, exit 2', async () => {
    const out = path.join(tmp.dir, 'never.jsonl');
    const [bad, ch, dur] = await Promise.all([
      runCli(['--data-dir', tmp.dir, 'record', '--symbols', 'btcusdtt', '--out', out, '--duration', '1s'], { env: env() }),
      runCli(['--data-dir', tmp.dir, 'record', '--symbols', 'btcusdt', '--channels', 'aggTrades', '--out', out], { env: env() }),
      runCli(['--data-dir', tmp.dir, 'record', '--symbols', 'btcusdt', '--duration', '10 minutes', '--out', out], { env: env() }),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown symbol "BTCUSDTT"/);
    expect(bad.stderr).toMatch(/did you mean BTCUSDT/);
    expect(existsSync(out)).toBe(false);

    expect(ch.code).toBe(2);
    expect(ch.stderr).toMatch(/unknown channel "aggTrades"/);

    expect(dur.code).toBe(2);
    expect(dur.stderr).toMatch(/--duration "10 minutes" is not a duration/);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../engine/errors.js';
import type { TradingNode } from '../engine/node.js';
import { ReplaySession } from './replay-session.js';
import { GENERATED } from './testing/sessions.js';

let tmpRoot: string | undefined;
let session: ReplaySession | undefined;
afterEach(async () => {
  await session?.close();
  session = undefined;
  if (tmpRoot) fs.rmSync(tmpRoot, { recursive: true, force: true });
  tmpRoot = undefined;
});

async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ReplaySession', () => {
  it('plays a recording into a real node with a throwaway paper account', async () => {
    tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'qtrade-tui-test-'));
    session = await ReplaySession.open({ file: GENERATED, speed: 'max', tmpRoot });
    const dirs = fs.readdirSync(tmpRoot);
    expect(dirs).toHaveLength(1);
    session.start();
    await session.done;
    const m = session.source.market('BTCUSDT')!;
    expect(m.trades.length).toBeGreaterThan(0);
    expect(session.source.feed().state).toMatchObject({ state: 'closed', reason: 'end of recording' });
    expect(session.source.balances()).toEqual([{ asset: 'USDT', free: 10_000n * 10n ** 16n, locked: 0n }]);
    await session.close();
    expect(fs.readdirSync(tmpRoot)).toEqual([]);
  });

  it('loops with a fresh node per pass, since the engine never goes back in time', async () => {
    tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'qtrade-tui-test-'));
    session = await ReplaySession.open({ file: GENERATED, speed: 'max', loop: true, tmpRoot });
    const s = session;
    const nodes: TradingNode[] = [s.node];
    const resets: string[] = [];
    const errors: string[] = [];
    let trades = 0;
    s.source.subscribe('source.reset', (r) => {
      resets.push(r.reason);
      nodes.push(s.node);
    });
    s.source.subscribe('feed.error', (e) => errors.push(e.message));
    s.source.subscribe('trade', () => trades++);
    s.start();
    await until(() => resets.length >= 2, 'two restarts');
    expect(new Set(nodes).size).toBe(nodes.length);
    expect(resets[0]).toBe('replay pass 2: the recording starts over with a fresh paper account');
    expect(errors).toEqual([]);
    // Each pass replays the same trades through its own engine; the first passes are complete.
    expect(trades).toBeGreaterThanOrEqual(2 * nodes[0]!.market.get('BTCUSDT')!.trades.length);
    // An order on the current pass works: the pass's node is live and its clock is its own.
    await until(() => s.source.market('BTCUSDT')?.lastTrade !== undefined, 'a trade in the current pass');
    const placed = await s.source.place({ symbol: 'BTCUSDT', side: 'BUY', qty: '0.001', limit: '40000' });
    expect(placed.order.status).toBe('NEW');
    await s.close();
    await s.done;
    expect(fs.readdirSync(tmpRoot)).toEqual([]);
  });

  it('refuses a missing recording with a hint', async () => {
    await expect(ReplaySession.open({ file: '/nonexistent/rec.jsonl.gz', speed: 1 })).rejects.toThrow(UsageError);
    await expect(ReplaySession.open({ file: '/nonexistent/rec.jsonl.gz', speed: 1 })).rejects.toMatchObject({ hint: expect.stringContaining('qtrade demo') });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedSource } from '../embedded-source.js';
import type { ReplaySession } from '../replay-session.js';
import { renderTui, until } from '../testing/harness.js';
import { GENERATED, replayed } from '../testing/sessions.js';
import { Header } from './Header.js';

const WALL = Date.UTC(2026, 0, 2, 12, 4, 31);
let session: ReplaySession;
beforeAll(async () => {
  session = await replayed(GENERATED);
});
afterAll(async () => {
  await session?.close();
});

describe('Header', () => {
  it('shows the venue, the feed state, risk, market time and the UTC clock', async () => {
    const r = renderTui(session.source, <Header width={160} />, { wallNow: () => WALL });
    const f = await until(r, (x) => x.includes('PAPER'), 'header');
    expect(f).toContain('replay generated-btcusdt-aggtrades.jsonl.gz max closed: end of recording');
    expect(f).toContain('risk ACTIVE');
    expect(f).toContain('12:04:31 UTC');
    // Market time: the exchange time of the last replayed event, from the node's SimClock.
    const mkt = new Date(session.node.clock.now()).toISOString().slice(11, 19);
    expect(f).toContain(`mkt ${mkt}`);
    r.unmount();
  });

  it('says "reconnecting (attempt n, next in s)" while the feed is down', async () => {
    // A source on the same node whose wall clock is pinned like the header's, for an exact countdown.
    const src = new EmbeddedSource(session.node, { info: session.source.info, wallNow: () => WALL });
    const r = renderTui(src, <Header width={160} />, { wallNow: () => WALL });
    session.node.bus.publish('feed.state', { state: 'reconnecting', attempt: 3, nextInMs: 4000, reason: 'socket closed' });
    await until(r, (x) => x.includes('reconnecting (attempt 3, next in 4s)'), 'reconnect text');
    session.node.bus.publish('feed.state', { state: 'open', attempt: 0 });
    await until(r, (x) => x.includes('● replay') && !x.includes('reconnecting'), 'open again');
    r.unmount();
    src.close();
  });

  it('follows the risk engine: HALTED with its reason, then ACTIVE', async () => {
    const r = renderTui(session.source, <Header width={160} />, { wallNow: () => WALL });
    const now = session.node.clock.now();
    await session.node.trading.halt('operator test', now);
    await until(r, (x) => x.includes('risk HALTED (operator test)'), 'halted');
    await session.node.trading.resume(now, 'back');
    await until(r, (x) => x.includes('risk ACTIVE'), 'active');
    r.unmount();
  });

  it('badges each venue distinctly', async () => {
    for (const [venue, label] of [
      ['testnet', 'TESTNET'],
      ['mainnet', 'LIVE'],
    ] as const) {
      const src = new EmbeddedSource(session.node, { info: { venue, feed: 'binance', replay: false } });
      const r = renderTui(src, <Header width={160} />, { wallNow: () => WALL });
      const f = await until(r, (x) => x.includes(label), label);
      expect(f).toContain('lag');
      r.unmount();
      src.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplaySession } from '../replay-session.js';
import { fmtPrice, fmtQty, hms } from '../format.js';
import { renderTui, until } from '../testing/harness.js';
import { GENERATED, replayed } from '../testing/sessions.js';
import { Trades } from './Trades.js';

let session: ReplaySession;
beforeAll(async () => {
  session = await replayed(GENERATED);
});
afterAll(async () => {
  await session?.close();
});

describe('Trades', () => {
  it("lists the symbol's latest trades newest first, with the taker's side", async () => {
    const r = renderTui(session.source, <Trades width={40} height={8} focused={false} symbol="BTCUSDT" />);
    const f = await until(r, (x) => x.includes('Trades BTCUSDT'), 'tape');
    const inst = session.source.instrument('BTCUSDT')!;
    const newest = session.node.market.get('BTCUSDT')!.trades.slice(-6).reverse();
    const rows = f.split('\n').slice(1, 7);
    expect(rows).toHaveLength(6);
    rows.forEach((row, i) => {
      const t = newest[i]!;
      expect(row).toContain(hms(t.time));
      expect(row).toContain(fmtPrice(t.price, inst));
      expect(row).toContain(fmtQty(t.qty, inst));
      expect(row).toMatch(t.buyerMaker ? / S\s*│$/ : / B\s*│$/);
    });
    r.unmount();
  });
});

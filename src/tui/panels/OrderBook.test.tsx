import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplaySession } from '../replay-session.js';
import { fmtPrice, fmtQty } from '../format.js';
import { renderTui, until } from '../testing/harness.js';
import { REAL, replayed } from '../testing/sessions.js';
import { OrderBook, sizeBar } from './OrderBook.js';

let session: ReplaySession;
beforeAll(async () => {
  session = await replayed(REAL);
}, 120_000);
afterAll(async () => {
  await session?.close();
});

describe('OrderBook', () => {
  it('shows the local depth book: asks above the spread, bids below, best levels nearest', async () => {
    const r = renderTui(session.source, <OrderBook width={40} height={13} focused={false} symbol="BTCUSDT" />);
    const f = await until(r, (x) => x.includes('spread'), 'book');
    const book = session.node.kernel.orderBook('BTCUSDT')!;
    expect(book.status).toBe('synced');
    const inst = session.source.instrument('BTCUSDT')!;
    const asks = book.levels('ask', 5);
    const bids = book.levels('bid', 5);
    const lines = f.split('\n').slice(1, 12);
    // Rows: asks worst to best, the spread line, bids best to worst.
    expect(lines.slice(0, 5).map((l) => l.match(/[\d,]+\.\d+/)![0])).toEqual([...asks].reverse().map((l) => fmtPrice(l.price, inst)));
    expect(lines[5]).toContain(`spread ${fmtPrice(asks[0]!.price - bids[0]!.price, inst)}`);
    expect(lines.slice(6, 11).map((l) => l.match(/[\d,]+\.\d+/)![0])).toEqual(bids.map((l) => fmtPrice(l.price, inst)));
    expect(lines[6]).toContain(fmtQty(bids[0]!.qty, inst));
    r.unmount();
  });

  it('follows the selected symbol', async () => {
    const r = renderTui(session.source, <OrderBook width={40} height={9} focused={false} symbol="ETHUSDT" />);
    const f = await until(r, (x) => x.includes('spread'), 'book');
    expect(f).toContain('Order book ETHUSDT');
    const best = session.node.kernel.orderBook('ETHUSDT')!.levels('bid', 1)[0]!;
    expect(f).toContain(fmtPrice(best.price, session.source.instrument('ETHUSDT')!));
    r.unmount();
  });

  it('draws size bars in eighths of a column', () => {
    expect(sizeBar(10, 10, 4)).toBe('████');
    expect(sizeBar(5, 10, 4)).toBe('██');
    expect(sizeBar(1, 10, 4)).toBe('▍');
    expect(sizeBar(1, 1000, 4)).toBe('▏');
  });
});

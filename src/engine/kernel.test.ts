import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Candle } from './candles/types.js';
import { SimClock } from './clock.js';
import { createKernel } from './kernel.js';
import { bundledInstruments } from './market/bundled-instruments.js';
import { ReplayVenue } from './market/replay/replay-venue.js';
import type { BookTop } from './market/types.js';

const DEMO = fileURLToPath(new URL('../../fixtures/recordings/binance-spot-2024-08-08.jsonl.gz', import.meta.url));

describe('kernel on the real 2024-08-08 recording', () => {
  it('builds gap-free candles and keeps both order books in sync with Binance’s own best bid/ask', async () => {
    const instruments = bundledInstruments();
    const venue = new ReplayVenue({ path: DEMO, instruments, speed: 'max' });
    const clock = new SimClock();
    const kernel = createKernel({ clock, venue, instruments });
    const closed: Candle[] = [];
    const tickers = new Map<string, BookTop[]>();
    let checked = 0;
    let disagreed = 0;
    const incomplete: Candle[] = [];
    kernel.bus.subscribe('candle.closed', (c) => closed.push(c));
    kernel.bus.subscribe('candle.incomplete', (c) => incomplete.push(c));
    kernel.bus.subscribe('book.top', (t) => {
      const list = tickers.get(t.symbol) ?? [];
      list.push(t);
      tickers.set(t.symbol, list);
    });
    kernel.bus.subscribe('book.update', ({ symbol, updateId }) => {
      // bookTicker `u` is an order-book update id: where one matches the book's, both must show the same top.
      const t = tickers.get(symbol)?.find((x) => x.updateId === updateId);
      if (!t) return;
      checked++;
      const top = kernel.orderBook(symbol)!.top()!;
      if (top.bid.price !== t.bid.price || top.bid.qty !== t.bid.qty || top.ask.price !== t.ask.price || top.ask.qty !== t.ask.qty) disagreed++;
    });

    const errors: string[] = [];
    kernel.bus.subscribe('feed.error', (e) => errors.push(e.message));
    await kernel.start(['BTCUSDT', 'ETHUSDT'], ['trade', 'bookTicker', 'depth']);
    await venue.done;
    await kernel.stop();

    const stats = kernel.stats();
    expect(stats.trades).toBe(19_904 + 14_515);
    expect(stats.gaps).toBe(0);
    expect(stats.duplicates).toBe(0);
    expect(stats.decodeErrors).toBe(0);
    // 23:54:14 → 00:05:04: 23:54 was joined part-way (incomplete), 23:55 … 00:04 close, 00:05 is still open.
    expect(incomplete.map((c) => `${c.symbol} ${new Date(c.openTime).toISOString().slice(11, 16)}`).sort()).toEqual(['BTCUSDT 23:54', 'ETHUSDT 23:54']);
    for (const sym of ['BTCUSDT', 'ETHUSDT']) {
      const mine = closed.filter((c) => c.symbol === sym);
      expect(mine.map((c) => new Date(c.openTime).toISOString().slice(11, 16))).toEqual([
        '23:55', '23:56', '23:57', '23:58', '23:59', '00:00', '00:01', '00:02', '00:03', '00:04',
      ]);
      expect(kernel.orderBook(sym)?.status).toBe('synced');
    }
    expect(clock.now()).toBeGreaterThan(Date.UTC(2024, 7, 9, 0, 5));
    expect(checked).toBeGreaterThan(1000);
    expect(disagreed).toBe(0);
    // Each book synced on the recorded snapshot delivered in stream order: never out of sync.
    expect(errors).toEqual([]);
  });
});

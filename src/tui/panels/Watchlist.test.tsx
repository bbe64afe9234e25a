import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplaySession } from '../replay-session.js';
import { fmtPrice } from '../format.js';
import { renderTui, until } from '../testing/harness.js';
import { GENERATED, replayed } from '../testing/sessions.js';
import { Watchlist } from './Watchlist.js';
import { WatchStrip } from './WatchStrip.js';

let session: ReplaySession;
beforeAll(async () => {
  session = await replayed(GENERATED);
});
afterAll(async () => {
  await session?.close();
});

const btc = () => session.source.instrument('BTCUSDT')!;
const watch = (symbol = 'BTCUSDT') => <Watchlist width={50} height={6} focused={false} symbol={symbol} onMove={() => {}} />;

describe('Watchlist', () => {
  it("shows each symbol's last trade price, exact at its tick", async () => {
    const last = session.node.market.get('BTCUSDT')!.lastTrade!;
    const r = renderTui(session.source, watch());
    const f = await until(r, (x) => x.includes('▸BTCUSDT'), 'row');
    expect(f).toContain(fmtPrice(last.price, btc()));
    // The recording carries no miniTicker: no 24h change rather than an invented one.
    expect(f).toMatch(/▸BTCUSDT\s+[\d,.]+\s+—/);
    r.unmount();
  });

  it('shows 24h change and volume from the miniTicker', async () => {
    const r = renderTui(session.source, watch());
    await until(r, (x) => x.includes('▸BTCUSDT'), 'row');
    const last = session.node.market.get('BTCUSDT')!.lastTrade!;
    // 24h open 1.8 % below the last price; volume 12,345.678 BTC.
    session.node.bus.publish('ticker', {
      symbol: 'BTCUSDT',
      time: last.time,
      open: Math.round(last.price / 1.018),
      high: last.price,
      low: Math.round(last.price / 1.018),
      close: last.price,
      volume: 1_234_567_800_000n,
      quoteVolume: 0n,
    });
    const f = await until(r, (x) => x.includes('%'), 'change');
    expect(f).toContain('+1.80%');
    expect(f).toContain('12.3K');
    r.unmount();
  });

  it('marks up and down ticks with ▲/▼ when there is no colour', async () => {
    const r = renderTui(session.source, watch());
    await until(r, (x) => x.includes('▸BTCUSDT'), 'row');
    const last = session.node.market.get('BTCUSDT')!.lastTrade!;
    session.node.bus.publish('trade', { ...last, id: last.id + 1, firstId: last.lastId + 1, lastId: last.lastId + 1, price: last.price + 150, time: last.time + 10 });
    let f = await until(r, (x) => x.includes('▲'), 'up mark');
    expect(f).toContain(fmtPrice(last.price + 150, btc()));
    session.node.bus.publish('trade', { ...last, id: last.id + 2, firstId: last.lastId + 2, lastId: last.lastId + 2, price: last.price - 20, time: last.time + 20 });
    f = await until(r, (x) => x.includes('▼'), 'down mark');
    expect(f).toContain(fmtPrice(last.price - 20, btc()));
    r.unmount();
  });

  it('has a one-line form for the compact layout', async () => {
    const r = renderTui(session.source, <WatchStrip width={80} focused={false} symbol="BTCUSDT" onMove={() => {}} />);
    const f = await until(r, (x) => x.includes('▸BTCUSDT'), 'strip');
    expect(f.split('\n')).toHaveLength(1);
    r.unmount();
  });
});

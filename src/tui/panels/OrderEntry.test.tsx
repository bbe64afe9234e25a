import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplaySession } from '../replay-session.js';
import { useKeyState } from '../keys.js';
import { KEYS, PanelHost, renderTui, tick, until } from '../testing/harness.js';
import { GENERATED, replayed } from '../testing/sessions.js';
import type { VenueName } from '../source.js';
import { EMPTY_DRAFT, OrderEntry, fieldsOf, ticketOf, type OrderDraft } from './OrderEntry.js';

let session: ReplaySession;
beforeAll(async () => {
  session = await replayed(GENERATED);
}, 120_000);
afterAll(async () => {
  await session?.close();
});

/** The form with its draft kept as the app keeps it. */
function Form({ initial, venue }: { initial: OrderDraft; venue?: VenueName }) {
  const [draft, setDraft, ref] = useKeyState(initial);
  return (
    <PanelHost focus="entry">
      <OrderEntry width={60} height={10} focused symbol="BTCUSDT" draft={draft} draftRef={ref} onDraft={setDraft} venue={venue} />
    </PanelHost>
  );
}

describe('OrderEntry', () => {
  it('turns the draft into the engine order text', () => {
    expect(ticketOf({ side: 'SELL', type: 'LIMIT', qty: '0.5', price: '3000', tif: 'IOC' }, 'ETHUSDT')).toEqual({ symbol: 'ETHUSDT', side: 'SELL', type: 'LIMIT', qty: '0.5', limit: '3000', tif: 'IOC' });
    expect(ticketOf({ ...EMPTY_DRAFT, type: 'MARKET', qty: '1', price: '5' }, 'ETHUSDT')).toEqual({ symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', qty: '1' });
    expect(fieldsOf({ ...EMPTY_DRAFT, type: 'MARKET' })).toEqual(['side', 'type', 'qty']);
  });

  it('places on paper at once and shows the accepted order', async () => {
    const r = renderTui(session.source, <Form initial={{ ...EMPTY_DRAFT, qty: '0.001', price: '50000' }} />);
    await until(r, (f) => f.includes('≈ 50.00 USDT'), 'form with estimate');
    r.write(KEYS.enter);
    const f = await until(r, (x) => x.includes('✓ order'), 'placed');
    expect(f).toMatch(/✓ order \d+ BUY 0\.00100 BTCUSDT LIMIT @ 50,000\.00 NEW/);
    await session.source.cancelAll();
    r.unmount();
  });

  it('asks for a review naming the venue before a testnet or mainnet order', async () => {
    for (const [venue, label] of [
      ['testnet', 'TESTNET'],
      ['mainnet', 'LIVE'],
    ] as const) {
      const r = renderTui(session.source, <Form initial={{ ...EMPTY_DRAFT, qty: '0.001', price: '50000' }} venue={venue} />);
      await until(r, (f) => f.includes(`on ${label}`), 'form');
      r.write(KEYS.enter);
      const f = await until(r, (x) => x.includes('Review'), 'review step');
      expect(f).toContain(`Review, sending to ${label}:`);
      expect(f).toContain('BUY 0.001 BTCUSDT LIMIT @ 50000 GTC');
      expect(f).toContain(`[y] send to ${label} [n] back`);
      // Nothing is sent until the trader confirms; n goes back to the form.
      expect(session.source.openOrders()).toHaveLength(0);
      r.write('n');
      await until(r, (x) => !x.includes('Review') && x.includes('qty'), 'back to the form');
      await tick();
      expect(session.source.openOrders()).toHaveLength(0);
      r.unmount();
    }
  });

  it('edits fields from the keyboard: side, type, time in force, quantity', async () => {
    const r = renderTui(session.source, <Form initial={EMPTY_DRAFT} />);
    await until(r, (f) => f.includes('BUY  LIMIT GTC'), 'form');
    r.write('s');
    await until(r, (f) => f.includes('SELL LIMIT GTC'), 'sell');
    for (const k of [KEYS.up, KEYS.up, KEYS.up, KEYS.right]) r.write(k); // qty → type → side → tif (wraps): IOC
    await until(r, (f) => f.includes('SELL LIMIT IOC'), 'tif');
    for (const k of [KEYS.down, KEYS.down, KEYS.right]) r.write(k); // tif → side → type: MARKET
    await until(r, (f) => f.includes('SELL MARKET'), 'market');
    expect(r.lastFrame()).toContain('price market');
    r.write('0.5');
    await until(r, (f) => f.includes('qty   0.5'), 'qty typed into the quantity');
    r.write(KEYS.backspace);
    await until(r, (f) => f.includes('qty   0.'), 'backspace');
    r.unmount();
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ReplaySession } from '../replay-session.js';
import { fmtPnl } from '../format.js';
import { KEYS, PanelHost, renderTui, tick, until } from '../testing/harness.js';
import { GENERATED } from '../testing/sessions.js';
import { Strategies } from './Strategies.js';

let session: ReplaySession | undefined;
afterEach(async () => {
  await session?.close();
  session = undefined;
});

function panel(width = 80, height = 9) {
  return (
    <PanelHost focus="strategies">
      <Strategies width={width} height={height} focused symbol="BTCUSDT" />
    </PanelHost>
  );
}

/** A replay with a grid started before it ran: the strategy traded the whole recording. */
async function traded(): Promise<ReplaySession> {
  const s = await ReplaySession.open({ file: GENERATED, speed: 'max' });
  await s.source.strategies.start({ strategy: 'grid', symbol: 'BTCUSDT', params: { spacing: '0.03' } });
  s.start();
  await s.done;
  await s.node.kernel.settled();
  return s;
}

describe('Strategies panel', () => {
  it('lists a live strategy with its params, status, fills and its own PnL from the engine', async () => {
    session = await traded();
    const [g] = session.source.strategies.list();
    const realized = fmtPnl(g!.position.realizedPnl);
    const unrealized = fmtPnl(g!.position.unrealizedPnl!);
    expect(g!.fills).toBeGreaterThan(0);
    expect(g!.position.realizedPnl).not.toBe(0n);

    const r = renderTui(session.source, panel(80, 9));
    const f = await until(r, (x) => x.includes('grid'), 'the strategy row');
    expect(f).toContain('Strategies (1 live)');
    const row = f.split('\n').find((l) => l.includes('▸grid'))!;
    expect(row).toMatch(new RegExp(`▸grid\\s+BTCUSDT\\s+levels=5 spacing=0…\\s+running\\s+${g!.fills}\\s+${realized.replace('+', '\\+')}\\s+${unrealized.replace('+', '\\+')}`));
    // The detail line of the selected strategy: its id, position and orders.
    expect(f).toMatch(new RegExp(`grid-btcusdt 1m · \\+0\\.\\d+ BTC avg [\\d,.]+ · mark 61,598\\.52 · ${g!.orders} orders`));
    r.unmount();

    // Wide: the id and position columns too.
    const wide = renderTui(session.source, panel(150, 9));
    const wf = await until(wide, (x) => x.includes('grid-btcusdt'), 'wide row');
    expect(wf).toMatch(/ id\s+strategy\s+symbol\s+params\s+status\s+fills\s+position\s+realized\s+unrealized/);
    expect(wf).toMatch(/▸grid-btcusdt\s+grid\s+BTCUSDT\s+levels=5 spacing=0\.03 orderQuote=100\s+running/);
    wide.unmount();
  }, 60_000);

  it('starts a built-in from the form with typed params, and shows a refusal inline', async () => {
    session = await ReplaySession.open({ file: GENERATED, speed: 'max' });
    const r = renderTui(session.source, panel(80, 10));
    await until(r, (f) => f.includes('no strategies'), 'empty list');
    r.write('n');
    await until(r, (f) => f.includes('new ‹sma-cross›'), 'the form');
    expect(r.lastFrame()).toContain('fast=10 slow=30 size=0.95');
    // fast: ↓ symbol, ↓ interval, ↓ fast; its 10 becomes 40 (above slow: refused).
    for (const k of [KEYS.down, KEYS.down, KEYS.down, KEYS.backspace, KEYS.backspace]) r.write(k);
    r.write('40');
    await until(r, (f) => f.includes('‹40›'), 'fast typed');
    r.write(KEYS.enter);
    const refused = await until(r, (f) => f.includes('✗'), 'refusal');
    expect(refused).toContain('✗ start sma-cross: strategy sma-cross: fast (40) must be below slow (30)');
    expect(session.source.strategies.list()).toEqual([]);

    // Again: ←→ on the strategy picks another built-in with its own params; → on the interval steps it.
    r.write('n');
    await until(r, (f) => f.includes('new ‹sma-cross›'), 'the form again');
    for (let i = 0; i < 4; i++) r.write(KEYS.right);
    await until(r, (f) => f.includes('‹grid›'), 'grid chosen');
    expect(r.lastFrame()).toContain('levels=5 spacing=0.2 orderQuote=100');
    for (const k of [KEYS.down, KEYS.down, KEYS.right]) r.write(k);
    await until(r, (f) => f.includes('‹5m›'), 'interval 5m');
    for (const k of [KEYS.down, KEYS.down, KEYS.left]) r.write(k); // spacing 0.2 → 0.1
    await until(r, (f) => f.includes('‹0.1›'), 'spacing stepped');
    r.write(KEYS.enter);
    const started = await until(r, (f) => f.includes('✓ strategy'), 'started');
    expect(started).toContain('✓ strategy grid-btcusdt started: grid on BTCUSDT 5m (levels=5 spacing=0.1');
    expect(r.ctx.log.last()?.text).toBe('✓ strategy grid-btcusdt started: grid on BTCUSDT 5m (levels=5 spacing=0.1 orderQuote=100)');
    expect(started).toMatch(/▸grid\s+BTCUSDT\s+levels=5 spacing=0…\s+running\s+0\s+\+0\.00\s+\+0\.00/);
    expect(session.source.strategies.list()[0]).toMatchObject({ id: 'grid-btcusdt', interval: '5m', params: { spacing: 0.1 }, status: 'running' });

    // Esc closes the form without starting anything.
    r.write('n');
    await until(r, (f) => f.includes('new ‹'), 'form');
    r.write(KEYS.escape);
    await until(r, (f) => !f.includes('new ‹'), 'form closed');
    await tick();
    expect(session.source.strategies.list()).toHaveLength(1);
    r.unmount();
  }, 60_000);

  it('shows a strategy the engine paused after it threw, with the error, and resumes it with r', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qtrade-strategy-'));
    try {
      const file = path.join(dir, 'boom.mjs');
      fs.writeFileSync(file, "export default { name: 'boom', params: {}, onCandle() { throw new Error('no signal here'); } };\n");
      session = await ReplaySession.open({ file: GENERATED, speed: 'max' });
      await session.source.strategies.start({ strategy: file, symbol: 'BTCUSDT' });
      session.start();
      await session.done;
      const r = renderTui(session.source, panel(100, 9));
      const f = await until(r, (x) => x.includes('paused'), 'paused');
      expect(f).toMatch(/▸boom\s+BTCUSDT\s+–\s+paused/);
      expect(f).toContain('boom-btcusdt paused after it threw in onCandle: no signal here · 1m · +0.00000 BTC');
      r.write('r');
      await until(r, (x) => x.includes('✓ strategy boom-btcusdt running'), 'resumed');
      expect(session.source.strategies.list()[0]!.status).toBe('running');
      r.unmount();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('stops the selected strategy after asking, and keeps it listed as stopped', async () => {
    session = await ReplaySession.open({ file: GENERATED, speed: 'max' });
    await session.source.strategies.start({ strategy: 'dca', symbol: 'BTCUSDT' });
    await session.source.strategies.start({ strategy: 'grid', symbol: 'BTCUSDT' });
    const r = renderTui(session.source, panel(80, 10));
    await until(r, (f) => f.includes('Strategies (2 live)'), 'two strategies');
    r.write(KEYS.down);
    await until(r, (f) => /▸grid/.test(f), 'grid selected');
    r.write('x');
    await until(r, (f) => f.includes('stop grid-btcusdt?'), 'asks first');
    r.write('n'); // any other key keeps it
    await until(r, (f) => !f.includes('stop grid-btcusdt?'), 'kept');
    expect(session.source.strategies.list().map((s) => s.status)).toEqual(['running', 'running']);
    r.write('x');
    await until(r, (f) => f.includes('stop grid-btcusdt?'), 'asks again');
    r.write('y');
    const f = await until(r, (x) => x.includes('✓ strategy grid-btcusdt stopped'), 'stopped');
    expect(f).toContain('Strategies (1 live)');
    expect(f).toMatch(/▸grid\s+BTCUSDT.*stopped/);
    // A stopped one neither stops again nor resumes.
    r.write('r');
    await until(r, (x) => x.includes('grid-btcusdt is stopped; only a paused strategy resumes'), 'resume refused');
    r.unmount();
  }, 60_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplaySession } from '../replay-session.js';
import { group, hms } from '../format.js';
import { renderTui, until } from '../testing/harness.js';
import { GENERATED, replayed } from '../testing/sessions.js';
import { SystemPanel, overallHealth, uptimeText } from './System.js';

let session: ReplaySession;
beforeAll(async () => {
  session = await replayed(GENERATED);
  await session.source.strategies.start({ strategy: 'dca', symbol: 'BTCUSDT' });
}, 120_000);
afterAll(async () => {
  await session?.close();
});

describe('System panel', () => {
  it('shows the modules, store, streams, counters and engine log of the real engine', async () => {
    const k = session.node.kernel.stats();
    const last = session.node.market.get('BTCUSDT')!.lastTrade!.time;
    const r = renderTui(session.source, <SystemPanel width={90} height={30} focused={false} />);
    const f = await until(r, (x) => x.includes('engine log'), 'the panel');
    expect(f).toMatch(/✓ health OK · engine in this process · up \d+s · memory \d+ MB rss/);
    // The replay ended: its feed is off, not a problem.
    expect(f).toContain('– feed          closed: end of recording · 1 symbol · replay generated-btcusdt-aggtrade…');
    expect(f).toContain(`✓ kernel        ${group(String(k.trades))} trades · ${k.candlesClosed} candles closed`);
    expect(f).toContain('✓ paper account default · 0 open orders · 0 fills');
    expect(f).toContain('✓ risk          ACTIVE');
    expect(f).toContain('✓ strategies    1 running');
    expect(f).toMatch(/✓ store {9}sqlite \/\S+\/pass-1\.db/);
    expect(f).toContain('– bus, daemon   no Redis bus · no daemon: this TUI runs its own engine');
    expect(f).toMatch(new RegExp(`BTCUSDT +last trade ${hms(last)} · book none`));
    expect(f).toContain(`frames ${group(String(k.frames))}`);
    // A minute without trades is a problem counter: listed first, marked without colour.
    expect(k.candlesIncomplete).toBeGreaterThan(0);
    expect(f).toContain(`counters candles incomplete ${k.candlesIncomplete} (!) · frames`);
    expect(f).toMatch(/\d\d:\d\d:\d\d strategy dca-btcusdt started: dca on BTCUSDT 1m/);
    r.unmount();
  });

  it('fits 80 columns and a short panel: the modules first, the log only when there is room', async () => {
    const r = renderTui(session.source, <SystemPanel width={80} height={14} focused={false} />);
    const f = await until(r, (x) => x.includes('health OK'), 'the panel');
    const lines = f.split('\n');
    expect(lines).toHaveLength(14);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    for (const m of ['feed', 'kernel', 'paper account', 'risk', 'strategies', 'store', 'bus, daemon', 'streams', 'counters']) expect(f).toContain(m);
    expect(f).not.toContain('engine log');
    r.unmount();
  });

  it('marks problem counters in text only without colour (NO_COLOR); with colour the colour says it', async () => {
    const r = renderTui(session.source, <SystemPanel width={90} height={30} focused={false} />, { theme: { color: true } });
    const f = await until(r, (x) => x.includes('health OK'), 'the panel');
    expect(f).toContain('counters candles incomplete 1 · frames');
    expect(f).not.toContain('(!)');
    r.unmount();
  });

  it('rates the whole by the worst module and prints uptime short', () => {
    const v = session.source.system.status();
    expect(overallHealth(v)).toBe('ok');
    expect(overallHealth({ ...v, modules: [...v.modules, { name: 'x', health: 'warn', detail: '' }] })).toBe('warn');
    expect(overallHealth({ ...v, modules: [...v.modules, { name: 'x', health: 'down', detail: '' }, { name: 'y', health: 'warn', detail: '' }] })).toBe('down');
    expect(uptimeText(42_000)).toBe('42s');
    expect(uptimeText(3 * 60_000 + 12_000)).toBe('3m 12s');
    expect(uptimeText(26 * 3_600_000)).toBe('1d 2h');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { ReplaySession } from '../replay-session.js';
import { KEYS, PanelHost, renderTui, until, type Rendered } from '../testing/harness.js';
import { GENERATED } from '../testing/sessions.js';
import { Backtest, progressBar } from './Backtest.js';

let session: ReplaySession | undefined;
afterEach(async () => {
  await session?.close();
  session = undefined;
});

function panel(width: number, height: number) {
  return (
    <PanelHost focus="backtest">
      <Backtest width={width} height={height} focused symbol="BTCUSDT" />
    </PanelHost>
  );
}

/** Replaces the value of the current param field with `text`. */
function retype(r: Rendered, text: string): void {
  for (let i = 0; i < 6; i++) r.write(KEYS.backspace);
  r.write(text);
}

describe('Backtest panel', () => {
  it('draws progress as a bar', () => {
    expect(progressBar(0, 14)).toBe('░░░░░░░░░░ 0 %');
    expect(progressBar(0.42, 15)).toBe('████░░░░░░ 42 %');
    expect(progressBar(1, 16)).toBe('██████████ 100 %');
  });

  it('runs the form on the recording with a progress bar, then shows the metrics and the equity chart', async () => {
    session = await ReplaySession.open({ file: GENERATED, speed: 'max' });
    const r = renderTui(session.source, panel(80, 13));
    await until(r, (f) => f.includes('‹sma-cross›') && f.includes('data recording generated-btcusdt-aggtrades.jsonl.gz'), 'the form');
    expect(r.lastFrame()).toContain('range all fast=10 slow=30');
    // Fields: strategy, symbol, interval, data, range, fast, slow, size.
    for (let i = 0; i < 5; i++) r.write(KEYS.down);
    retype(r, '2');
    r.write(KEYS.down);
    retype(r, '3');
    await until(r, (f) => f.includes('fast=2 slow=‹3›'), 'params typed');
    r.write(KEYS.enter);
    await until(r, (f) => /sma-cross BTCUSDT 1m [█░]+ \d+ %/.test(f), 'the progress bar');
    const f = await until(r, (x) => x.includes('✓ done'), 'the result', 120_000);
    // As `qtrade backtest --strategy sma-cross --param fast=2 --param slow=3 --data <this recording>` reports it.
    expect(f).toContain('return -0.17 % · max dd');
    expect(f).toContain('trades 1 · fills 2 · fees');
    expect(f).toContain('equity 10,000.00 → 9,982.72 USDT');
    // The equity chart: asciichart rows with the axis in whole USDT.
    expect(f).toMatch(/10,000 ┼─+╮/);
    expect(f).toMatch(/9,983 ┤\s+╰─+/);
    expect(r.ctx.log.last()?.text).toBe('✓ backtest sma-cross BTCUSDT 1m: 1 trades, return -0.17 %');
    r.unmount();
  }, 120_000);

  it('shows why a run failed inline: no stored candles yet', async () => {
    session = await ReplaySession.open({ file: GENERATED, speed: 'max' });
    const r = renderTui(session.source, panel(80, 13));
    await until(r, (f) => f.includes('‹sma-cross›'), 'the form');
    for (let i = 0; i < 3; i++) r.write(KEYS.down);
    r.write(KEYS.right);
    await until(r, (f) => f.includes('data ‹store (1m candles)›'), 'store chosen');
    // Stored candles take a range: the latest 1000 bars by default.
    expect(r.lastFrame()).toContain('range 1000 bars');
    r.write(KEYS.enter);
    const f = await until(r, (x) => x.includes('✗'), 'the failure', 60_000);
    expect(f).toContain('✗ no BTCUSDT 1m candles in the store');
    r.unmount();
  }, 60_000);
});

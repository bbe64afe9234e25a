import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Candle } from '../../engine/candles/types.js';
import { bucketOpen } from '../../engine/candles/intervals.js';
import type { ReplaySession } from '../replay-session.js';
import { fmtPrice } from '../format.js';
import { renderTui, until } from '../testing/harness.js';
import { GENERATED, replayed } from '../testing/sessions.js';
import type { ChartInterval } from '../commands.js';
import { Chart, type ChartMode } from './Chart.js';

let session: ReplaySession;
beforeAll(async () => {
  session = await replayed(GENERATED);
});
afterAll(async () => {
  await session?.close();
});

const chart = (interval: ChartInterval, mode: ChartMode = 'candles') => (
  <Chart width={100} height={24} focused={false} symbol="BTCUSDT" interval={interval} mode={mode} onIntervalStep={() => {}} onToggleMode={() => {}} />
);

/** The engine's 1m candles (closed and open), the chart's only input. */
function minutes(): Candle[] {
  const m = session.node.market.get('BTCUSDT')!;
  return m.partial ? [...m.candles, m.partial] : [...m.candles];
}

function ohlc(open: number, high: number, low: number, close: number): string {
  const inst = session.source.instrument('BTCUSDT')!;
  return `O ${fmtPrice(open, inst)} H ${fmtPrice(high, inst)} L ${fmtPrice(low, inst)} C ${fmtPrice(close, inst)}`;
}

describe('Chart', () => {
  it('draws the 1m candles with a volume strip, axes and the last candle', async () => {
    const r = renderTui(session.source, chart('1m'));
    const f = await until(r, (x) => x.includes('BTCUSDT 1m'), 'chart');
    const last = minutes().at(-1)!;
    expect(f).toContain(ohlc(last.open, last.high, last.low, last.close));
    expect(f).toMatch(/[█░]/);
    expect(f).toMatch(/[▁▂▃▄▅▆▇█]\s.*vol/);
    expect(f).toContain(`◂${fmtPrice(last.close, session.source.instrument('BTCUSDT')!)}`);
    expect(f).toContain('[1m] 5m 15m 1h 4h 1d');
    r.unmount();
  });

  it('aggregates higher intervals exactly from the 1m candles', async () => {
    for (const interval of ['5m', '15m'] as const) {
      const r = renderTui(session.source, chart(interval));
      const f = await until(r, (x) => x.includes(`BTCUSDT ${interval}`), interval);
      // The newest bucket, computed here from the 1m candles that had trades.
      const all = minutes();
      const open = bucketOpen(all.at(-1)!.openTime, interval);
      const inBucket = all.filter((c) => c.openTime >= open && c.trades > 0);
      const expected = ohlc(inBucket[0]!.open, Math.max(...inBucket.map((c) => c.high)), Math.min(...inBucket.map((c) => c.low)), inBucket.at(-1)!.close);
      expect(f).toContain(expected);
      r.unmount();
    }
  });

  it('draws a line of the closes in line mode', async () => {
    const r = renderTui(session.source, chart('1m', 'line'));
    const f = await until(r, (x) => x.includes('· line'), 'line');
    expect(f).toMatch(/[┤┼]/);
    expect(f).toMatch(/[╭╮╯╰─]/);
    r.unmount();
  });
});

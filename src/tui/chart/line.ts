import asciichart from 'asciichart';
import { resample } from '../../commands/chart.js';
import type { Candle } from '../../engine/candles/types.js';
import { pow10 } from '../../engine/fixed.js';
import type { Line } from './candles.js';

/**
 * The close prices as an asciichart line, for when a trend matters more than the bars. The
 * numbers here only place the line on rows; the axis labels are the closes' own decimals rounded
 * to the symbol's tick, through `formatPrice`.
 */
export function lineChart(candles: readonly Candle[], opts: { width: number; height: number; formatPrice: (raw: number) => string }): Line[] {
  const H = Math.max(2, opts.height);
  if (candles.length === 0) return Array.from({ length: H }, () => [{ text: ''.padEnd(opts.width) }]);
  const scale = candles[0]!.priceScale;
  const closes = candles.map((c) => c.close);
  let labelW = 0;
  for (const c of closes) labelW = Math.max(labelW, opts.formatPrice(c).length);
  const plotW = Math.max(2, opts.width - labelW - 3);
  const series = resample(closes, plotW).map((raw) => raw / pow10(scale));
  const text = asciichart.plot(series, {
    height: H - 1,
    padding: ' '.repeat(labelW),
    format: (x) => opts.formatPrice(Math.round(x * pow10(scale))).padStart(labelW),
  });
  return text.split('\n').map((l) => [{ text: l.slice(0, opts.width).padEnd(opts.width) }]);
}

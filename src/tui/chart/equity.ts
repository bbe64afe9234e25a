import asciichart from 'asciichart';
import { resample } from '../../commands/chart.js';
import { amountToNumber } from '../../engine/strategy/metrics.js';
import type { Amount } from '../../engine/orders/types.js';
import { group } from '../format.js';

/**
 * A backtest's equity curve as asciichart text lines of exactly `width` columns. The floats only
 * place the line on rows and label the axis (whole quote units); the exact figures are printed
 * beside the chart by the panel.
 */
export function equityChart(curve: readonly Amount[], opts: { width: number; height: number }): string[] {
  const H = Math.max(2, opts.height);
  if (curve.length < 2 || opts.width < 12) return [];
  const values = curve.map(amountToNumber);
  const label = (x: number): string => group(x.toFixed(0));
  const labelW = Math.max(label(Math.min(...values)).length, label(Math.max(...values)).length) + 1;
  const plotW = Math.max(2, opts.width - labelW - 3);
  // A short run is stretched over the width (each mark holds for its share of the columns).
  const series = values.length >= plotW ? resample(values, plotW) : Array.from({ length: plotW }, (_, i) => values[Math.floor((i * values.length) / plotW)]!);
  const text = asciichart.plot(series, {
    height: H - 1,
    padding: ' '.repeat(labelW),
    format: (x) => label(x).padStart(labelW),
  });
  return text.split('\n').map((l) => l.slice(0, opts.width).padEnd(opts.width));
}

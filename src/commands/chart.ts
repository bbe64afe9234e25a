import asciichart from 'asciichart';

/** Terminal line charts (asciichart), sized to the terminal and coloured only on a colour TTY. */

export interface ChartOptions {
  /** Terminal columns; the series is resampled to fit. */
  columns: number;
  height?: number;
  /** ANSI colour of the line, or none. */
  color?: 'green' | 'red' | 'cyan';
  /** Axis label formatter. */
  format?: (x: number) => string;
  /** How each column sums up its points: its last one (a level) or its lowest (a drawdown). */
  pick?: 'last' | 'min';
}

/** Whether to colour: stdout is a terminal and NO_COLOR is unset (https://no-color.org). */
export function useColor(stream: { isTTY?: boolean } = process.stdout): boolean {
  return stream.isTTY === true && !process.env.NO_COLOR;
}

/**
 * At most `width` values, one per column: evenly spaced samples that keep the first and last
 * value ('last', for levels), or the lowest value of each column's slice ('min', for drawdowns).
 */
export function resample(values: readonly number[], width: number, pick: 'last' | 'min' = 'last'): number[] {
  const n = values.length;
  if (n <= width) return [...values];
  const out: number[] = [];
  for (let i = 0; i < width; i++) {
    if (pick === 'last') {
      out.push(values[Math.round((i * (n - 1)) / (width - 1))]!);
      continue;
    }
    const a = Math.floor((i * n) / width);
    const b = Math.max(a + 1, Math.floor(((i + 1) * n) / width));
    let v = values[a]!;
    for (let j = a + 1; j < b; j++) v = Math.min(v, values[j]!);
    out.push(v);
  }
  return out;
}

export function lineChart(values: readonly number[], opts: ChartOptions): string {
  if (values.length === 0) return '(no data)';
  const format = opts.format ?? ((x: number) => x.toFixed(2));
  const labelWidth = Math.max(...[Math.min(...values), Math.max(...values)].map((v) => format(v).length)) + 1;
  const width = Math.max(10, opts.columns - labelWidth - 3);
  const series = resample(values, width, opts.pick);
  return asciichart.plot(series, {
    height: opts.height ?? 10,
    padding: ' '.repeat(labelWidth),
    format: (x) => format(x).padStart(labelWidth),
    ...(opts.color ? { colors: [asciichart[opts.color]] } : {}),
  });
}

import type { Candle } from '../../engine/candles/types.js';

/**
 * Candlesticks drawn with Unicode block and box characters, one column per candle and a gap:
 * bodies at half-row resolution (█ ▀ ▄), wicks as │ ╵ ╷, a volume strip of ▁…█ under them and
 * a price axis on the right. Pure: candles and a size in, coloured text runs out. Prices are the
 * candles' raws; only the geometry (which row a price lands on) is arithmetic on them.
 */

export type RunTone = 'up' | 'down' | 'muted' | 'accent';

export interface Run {
  text: string;
  tone?: RunTone;
}

export type Line = Run[];

export interface CandleChartOptions {
  /** Columns, axis included. */
  width: number;
  /** Rows of the price area. */
  height: number;
  /** Colour draws up and down candles alike (the colour tells them apart); without it, down bodies are ░. */
  color: boolean;
  /** A price raw as axis text. */
  formatPrice: (raw: number) => string;
  /** A candle's open time as a time-axis label. */
  formatTime: (openTime: number) => string;
}

export interface CandleChart {
  lines: Line[];
  /** How many candles fit (the newest ones are drawn). */
  capacity: number;
}

const VOLUME = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** Appends a character, merging it into the last run when the tone is the same. */
function put(line: Line, ch: string, tone?: RunTone): void {
  const last = line[line.length - 1];
  if (last && last.tone === tone) last.text += ch;
  else line.push(tone === undefined ? { text: ch } : { text: ch, tone });
}

/** Columns the axis needs for these candles' prices. */
function axisWidth(candles: readonly Candle[], formatPrice: (raw: number) => string): number {
  let w = 3; // "vol"
  for (const c of candles) w = Math.max(w, formatPrice(c.high).length, formatPrice(c.low).length);
  return w + 2; // a gap and the last-price marker
}

export function candleChart(candles: readonly Candle[], opts: CandleChartOptions): CandleChart {
  const H = Math.max(2, opts.height);
  const probe = candles.slice(-Math.max(1, Math.floor(opts.width / 2)));
  const axisW = axisWidth(probe, opts.formatPrice);
  const plotW = Math.max(2, opts.width - axisW);
  const capacity = Math.max(1, Math.floor((plotW + 1) / 2));
  const shown = candles.slice(-capacity);

  let hi = -Infinity;
  let lo = Infinity;
  let maxVol = 0n;
  for (const c of shown) {
    if (c.high > hi) hi = c.high;
    if (c.low < lo) lo = c.low;
    if (c.volume > maxVol) maxVol = c.volume;
  }
  if (shown.length === 0) {
    hi = 1;
    lo = 0;
  }
  const span = Math.max(1, hi - lo);
  const halves = 2 * H - 1;
  const idx = (p: number): number => Math.round(((hi - p) * halves) / span);

  const geo = shown.map((c) => {
    const up = c.close >= c.open;
    return {
      tone: (up ? 'up' : 'down') as RunTone,
      up,
      wickTop: idx(c.high),
      wickBot: idx(c.low),
      bodyTop: idx(Math.max(c.open, c.close)),
      bodyBot: idx(Math.min(c.open, c.close)),
    };
  });

  const lastClose = shown.length > 0 ? shown[shown.length - 1]!.close : undefined;
  const lastRow = lastClose === undefined ? -1 : Math.floor(idx(lastClose) / 2);
  const labelRows = new Set([0, Math.round((H - 1) / 4), Math.round((H - 1) / 2), Math.round((3 * (H - 1)) / 4), H - 1]);

  const lines: Line[] = [];
  for (let r = 0; r < H; r++) {
    const line: Line = [];
    const a = 2 * r;
    const b = a + 1;
    for (let i = 0; i < capacity; i++) {
      const g = geo[i - (capacity - geo.length)];
      if (i > 0) put(line, ' ');
      if (!g) {
        put(line, ' ');
        continue;
      }
      const bodyA = a >= g.bodyTop && a <= g.bodyBot;
      const bodyB = b >= g.bodyTop && b <= g.bodyBot;
      const wickA = a >= g.wickTop && a <= g.wickBot;
      const wickB = b >= g.wickTop && b <= g.wickBot;
      let ch = ' ';
      if (!opts.color && (bodyA || bodyB)) ch = g.up ? '█' : '░';
      else if (bodyA && bodyB) ch = '█';
      else if (bodyA) ch = '▀';
      else if (bodyB) ch = '▄';
      else if (wickA && wickB) ch = '│';
      else if (wickA) ch = '╵';
      else if (wickB) ch = '╷';
      put(line, ch, ch === ' ' ? undefined : g.tone);
    }
    pad(line, plotW - (2 * capacity - 1));
    if (r === lastRow && lastClose !== undefined) {
      put(line, ' ');
      put(line, ('◂' + opts.formatPrice(lastClose)).padEnd(axisW - 1), 'accent');
    } else if (labelRows.has(r) && shown.length > 0) {
      const price = Math.round(hi - ((a + 0.5) * span) / halves);
      put(line, '  ');
      put(line, opts.formatPrice(price).padEnd(axisW - 2), 'muted');
    } else {
      pad(line, axisW);
    }
    lines.push(line);
  }

  const vol: Line = [];
  for (let i = 0; i < capacity; i++) {
    const g = geo[i - (capacity - geo.length)];
    const c = shown[i - (capacity - shown.length)];
    if (i > 0) put(vol, ' ');
    if (!g || !c || maxVol === 0n) {
      put(vol, ' ');
      continue;
    }
    let level = Number((c.volume * 8n + maxVol - 1n) / maxVol);
    if (c.volume > 0n && level === 0) level = 1;
    put(vol, VOLUME[level]!, level === 0 ? undefined : g.tone);
  }
  pad(vol, plotW - (2 * capacity - 1));
  put(vol, '  ');
  put(vol, 'vol'.padEnd(axisW - 2), 'muted');
  lines.push(vol);

  const axis: Line = [];
  let text = '';
  const total = plotW + axisW;
  for (let i = 0; i < shown.length; i++) {
    if (i % 6 !== 0 && i !== shown.length - 1) continue;
    const label = opts.formatTime(shown[i]!.openTime);
    // Under its candle, or as far right as the row allows (the axis column is free on this row).
    const col = Math.min(2 * (i + capacity - shown.length), total - label.length);
    if (col >= text.length + (text.length === 0 ? 0 : 2)) text = text.padEnd(col) + label;
  }
  put(axis, text.padEnd(total), 'muted');
  lines.push(axis);
  return { lines, capacity };
}

function pad(line: Line, n: number): void {
  if (n > 0) put(line, ' '.repeat(n));
}

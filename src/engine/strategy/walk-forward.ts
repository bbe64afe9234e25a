import { UsageError } from '../errors.js';
import { metricValue, rankResults, type DataSpan, type RankMetric, type SweepJobResult, type SweepPool } from './sweep.js';

export type WalkForwardUnit = 'm' | 'h' | 'd';
const UNIT_MS: Record<WalkForwardUnit, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
const UNIT_NAME: Record<WalkForwardUnit, string> = { m: 'minute', h: 'hour', d: 'day' };

export interface WalkForwardSpec {
  inSample: number;
  outOfSample: number;
  unit: WalkForwardUnit;
}

export function parseWfUnit(s: string | undefined): WalkForwardUnit {
  if (s === undefined) return 'd';
  const u = s.trim().toLowerCase();
  const m: Record<string, WalkForwardUnit> = { m: 'm', min: 'm', minute: 'm', minutes: 'm', h: 'h', hour: 'h', hours: 'h', d: 'd', day: 'd', days: 'd' };
  const unit = m[u];
  if (!unit) throw new UsageError(`--wf-unit "${s}" is not m, h or d`, { hint: 'e.g. --wf-unit h (windows in hours; the default is days)' });
  return unit;
}

/** `IS:OOS` (whole numbers of `unit`), e.g. `6:1`. */
export function parseWalkForward(s: string, unit: WalkForwardUnit = 'd'): WalkForwardSpec {
  const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(s);
  const is = m ? Number(m[1]) : NaN;
  const oos = m ? Number(m[2]) : NaN;
  if (!m || !(is >= 1) || !(oos >= 1) || !Number.isSafeInteger(is) || !Number.isSafeInteger(oos)) {
    throw new UsageError(`--walk-forward "${s}" is not IN:OUT (whole ${UNIT_NAME[unit]}s, both at least 1)`, {
      hint: 'e.g. --walk-forward 6:1 (6 days in-sample, then 1 out-of-sample, rolling by 1); --wf-unit h or m for shorter windows',
    });
  }
  return { inSample: is, outOfSample: oos, unit };
}

export interface WalkForwardWindow {
  index: number;
  isFrom: number;
  /** Exclusive; also the out-of-sample start. */
  isTo: number;
  oosTo: number;
}

/**
 * Consecutive windows over [first, last]: IS units in-sample then OOS units out-of-sample,
 * rolling forward by OOS, so the out-of-sample parts tile the data after the first in-sample
 * span without overlap. The last out-of-sample part may be cut short by the end of the data.
 */
export function walkForwardWindows(span: Pick<DataSpan, 'first' | 'last'>, spec: WalkForwardSpec): WalkForwardWindow[] {
  const u = UNIT_MS[spec.unit];
  const isMs = spec.inSample * u;
  const oosMs = spec.outOfSample * u;
  const out: WalkForwardWindow[] = [];
  for (let start = span.first; start + isMs <= span.last; start += oosMs) {
    out.push({ index: out.length, isFrom: start, isTo: start + isMs, oosTo: start + isMs + oosMs });
  }
  if (out.length === 0) {
    const have = (span.last - span.first) / u;
    throw new UsageError(`the data spans ${have.toFixed(1)} ${UNIT_NAME[spec.unit]}s, less than one ${spec.inSample}-${UNIT_NAME[spec.unit]} in-sample window`, {
      hint: `use shorter windows (--wf-unit ${spec.unit === 'd' ? 'h' : 'm'}) or more data`,
    });
  }
  return out;
}

export interface WalkForwardRow extends WalkForwardWindow {
  /** The best in-sample run (its params and metrics). */
  best: SweepJobResult | undefined;
  /** The rank metric in-sample and out-of-sample; null when undefined. */
  isValue: number | null;
  oos: SweepJobResult | undefined;
  oosValue: number | null;
}

export interface WalkForwardResult {
  metric: RankMetric;
  rows: WalkForwardRow[];
  /** Out-of-sample equity chained window after window (each window's return compounded on the last), starting at the first window's start equity. */
  equity: Array<{ time: number; equity: number }>;
  /** Compounded out-of-sample return over all windows. */
  oosReturn: number;
  /** Mean rank metric in-sample and out-of-sample over the windows that have one. */
  meanIs: number | null;
  meanOos: number | null;
}

const mean = (xs: Array<number | null>): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};

/**
 * For each window: sweep `combos` over the in-sample part on the pool, take the best by `metric`,
 * run it over the out-of-sample part. Each run starts fresh (flat, initial balances, indicators
 * warming up inside the window). All in-sample runs of all windows go to the pool at once.
 */
export async function runWalkForward(
  pool: SweepPool,
  combos: ReadonlyArray<Record<string, unknown>>,
  spec: WalkForwardSpec,
  metric: RankMetric,
  onProgress?: (done: number, total: number) => void,
): Promise<WalkForwardResult> {
  if (!pool.span) {
    throw new UsageError('walk-forward needs data it can cut by time: trades or klines files, or candles from the store', {
      hint: 'a recording is replayed whole; backtest a data.binance.vision file or the store instead',
    });
  }
  const windows = walkForwardWindows(pool.span, spec);
  const total = windows.length * combos.length + windows.length;
  const isJobs = windows.flatMap((w) => combos.map((params, i) => ({ id: w.index * combos.length + i, params, from: w.isFrom, to: w.isTo })));
  const isResults = await pool.run(isJobs, (done) => onProgress?.(done, total));
  const bests = windows.map((w) => {
    const mine = isResults.slice(w.index * combos.length, (w.index + 1) * combos.length).filter((r) => r.candles > 0);
    return rankResults(mine, metric)[0];
  });
  const oosJobs = windows.flatMap((w, i) => (bests[i] ? [{ id: i, params: bests[i].params, from: w.isTo, to: w.oosTo, equity: true }] : []));
  const oosResults = await pool.run(oosJobs, (done) => onProgress?.(isJobs.length + done, total));
  const oosById = new Map(oosResults.map((r) => [r.id, r]));
  const rows: WalkForwardRow[] = windows.map((w, i) => {
    const best = bests[i];
    const oos = oosById.get(i);
    return {
      ...w,
      best,
      isValue: best ? metricValue(best.metrics, metric) : null,
      oos: oos && oos.candles > 0 ? oos : undefined,
      oosValue: oos && oos.candles > 0 ? metricValue(oos.metrics, metric) : null,
    };
  });
  const equity: Array<{ time: number; equity: number }> = [];
  // Display figures (a ratio chain), not account money: each window really starts from the initial balances.
  for (const r of rows) {
    const pts = r.oos?.equity;
    if (!pts || pts.length === 0) continue;
    const base = pts[0]!.equity;
    const scale = equity.length === 0 ? 1 : equity[equity.length - 1]!.equity / base;
    for (const p of equity.length === 0 ? pts : pts.slice(1)) equity.push({ time: p.time, equity: p.equity * scale });
  }
  const oosReturn = equity.length > 1 ? equity[equity.length - 1]!.equity / equity[0]!.equity - 1 : 0;
  return { metric, rows, equity, oosReturn, meanIs: mean(rows.map((r) => r.isValue)), meanOos: mean(rows.map((r) => r.oosValue)) };
}

import type { ParamSpec } from '../engine/strategy/params.js';
import { CHART_INTERVALS } from './commands.js';
import type { BacktestDataChoice, StrategyTemplate } from './sources/strategies.js';

/**
 * The form behind "start a strategy" and "run a backtest": a built-in, a symbol, an interval and
 * the strategy's params (plus data and range for a backtest). Pure functions over a draft, so the
 * key handling is tested without a terminal. Values stay text as typed; the engine converts and
 * checks them (resolveParams) and says what is wrong.
 */

export const FORM_INTERVALS = CHART_INTERVALS;

/** Backtest ranges: the latest 1000 bars of stored candles, the last day/week/month of market time, or everything. */
export const STORE_RANGES = ['1000 bars', '24h', '7d', '30d', 'all'] as const;
export const FILE_RANGES = ['all'] as const;
export type RangeName = (typeof STORE_RANGES)[number];

export interface StrategyDraft {
  strategy: string;
  symbol: string;
  interval: string;
  /** Param values as typed, by name. */
  params: Record<string, string>;
  /** Backtest only: a BacktestDataChoice.data. */
  data: string;
  range: RangeName;
}

export type FieldKey = 'strategy' | 'symbol' | 'interval' | 'data' | 'range' | `p:${string}`;

export interface FormContext {
  templates: readonly StrategyTemplate[];
  symbols: readonly string[];
  /** Backtest data choices; empty for the start form. */
  data: readonly BacktestDataChoice[];
}

export function defaultParams(t: StrategyTemplate | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of t?.params ?? []) out[p.name] = String(p.spec.default);
  return out;
}

export function newDraft(ctx: FormContext, symbol: string, strategy?: string): StrategyDraft {
  const t = ctx.templates.find((x) => x.name === strategy) ?? ctx.templates[0];
  const data = ctx.data[0];
  return { strategy: t?.name ?? '', symbol, interval: '1m', params: defaultParams(t), data: data?.data ?? '', range: data?.kind === 'store' ? '1000 bars' : 'all' };
}

export function templateOf(ctx: FormContext, d: StrategyDraft): StrategyTemplate | undefined {
  return ctx.templates.find((t) => t.name === d.strategy);
}

export function rangesFor(ctx: FormContext, d: StrategyDraft): readonly RangeName[] {
  return ctx.data.find((c) => c.data === d.data)?.kind === 'store' ? STORE_RANGES : FILE_RANGES;
}

/** The fields in order: the backtest form adds data and range after the interval. */
export function formFields(ctx: FormContext, d: StrategyDraft, backtest: boolean): FieldKey[] {
  const params = (templateOf(ctx, d)?.params ?? []).map((p): FieldKey => `p:${p.name}`);
  return backtest ? ['strategy', 'symbol', 'interval', 'data', 'range', ...params] : ['strategy', 'symbol', 'interval', ...params];
}

function cycle<T>(list: readonly T[], v: T, by: number): T {
  if (list.length === 0) return v;
  const at = list.indexOf(v);
  return list[((at === -1 ? 0 : at + by) % list.length + list.length) % list.length]!;
}

const decimals = (s: string): number => {
  const dot = s.indexOf('.');
  return dot === -1 ? 0 : s.length - dot - 1;
};

/** One step of a numeric param: its declared step, else 1 (int) or one unit of the last decimal typed. */
export function stepParam(spec: ParamSpec, text: string, by: number): string {
  if (spec.type === 'boolean') return String(!(text === 'true'));
  if (spec.type === 'enum') return cycle(spec.values, text, by);
  const cur = Number(text);
  const base = Number.isFinite(cur) && text.trim() !== '' ? cur : spec.default;
  const dec = spec.type === 'int' ? 0 : Math.max(decimals(String(spec.step ?? '')), decimals(text.trim() === '' ? String(spec.default) : text));
  const step = spec.step ?? (spec.type === 'int' ? 1 : 10 ** -dec);
  let next = base + by * step;
  if (spec.min !== undefined) next = Math.max(spec.min, next);
  if (spec.max !== undefined) next = Math.min(spec.max, next);
  // Rounded to the decimals in play, so 0.2 + 0.1 shows 0.3.
  return spec.type === 'int' ? String(Math.round(next)) : String(Number(next.toFixed(dec)));
}

/** ←/→ on a field: the next choice, or a numeric step. */
export function stepField(ctx: FormContext, d: StrategyDraft, field: FieldKey, by: number): StrategyDraft {
  switch (field) {
    case 'strategy': {
      const names = ctx.templates.map((t) => t.name);
      const name = cycle(names, d.strategy, by);
      return { ...d, strategy: name, params: defaultParams(ctx.templates.find((t) => t.name === name)) };
    }
    case 'symbol':
      return { ...d, symbol: cycle(ctx.symbols, d.symbol, by) };
    case 'interval':
      return { ...d, interval: cycle(FORM_INTERVALS, d.interval as (typeof FORM_INTERVALS)[number], by) };
    case 'data': {
      const data = cycle(
        ctx.data.map((c) => c.data),
        d.data,
        by,
      );
      const next = { ...d, data };
      // Another kind of data starts at its own first range (stored candles: the latest 1000 bars).
      const kind = (x: string): string | undefined => ctx.data.find((c) => c.data === x)?.kind;
      return kind(data) === kind(d.data) ? next : { ...next, range: rangesFor(ctx, next)[0]! };
    }
    case 'range':
      return { ...d, range: cycle(rangesFor(ctx, d), d.range, by) };
    default: {
      const name = field.slice(2);
      const spec = templateOf(ctx, d)?.params.find((p) => p.name === name)?.spec;
      if (!spec) return d;
      return { ...d, params: { ...d.params, [name]: stepParam(spec, d.params[name] ?? '', by) } };
    }
  }
}

/** Typing into a param: digits, a dot and a minus sign for numbers; Backspace deletes. Other fields take no text. */
export function typeIntoField(ctx: FormContext, d: StrategyDraft, field: FieldKey, input: string, backspace: boolean): StrategyDraft {
  if (!field.startsWith('p:')) return d;
  const name = field.slice(2);
  const spec = templateOf(ctx, d)?.params.find((p) => p.name === name)?.spec;
  if (!spec || spec.type === 'boolean' || spec.type === 'enum') return d;
  const cur = d.params[name] ?? '';
  if (backspace) return { ...d, params: { ...d.params, [name]: cur.slice(0, -1) } };
  if (!/^[0-9.-]+$/.test(input)) return d;
  return { ...d, params: { ...d.params, [name]: cur + input } };
}

/** A field as shown: its label and value. */
export function fieldText(ctx: FormContext, d: StrategyDraft, field: FieldKey): { label: string; value: string } {
  switch (field) {
    case 'strategy':
      return { label: '', value: d.strategy };
    case 'symbol':
      return { label: '', value: d.symbol };
    case 'interval':
      return { label: '', value: d.interval };
    case 'data':
      return { label: 'data ', value: ctx.data.find((c) => c.data === d.data)?.label ?? 'none' };
    case 'range':
      return { label: 'range ', value: d.range };
    default:
      return { label: `${field.slice(2)}=`, value: d.params[field.slice(2)] ?? '' };
  }
}

/** The params to send: every param of the strategy, as typed (empty ones left to their default). */
export function draftParams(d: StrategyDraft): Record<string, string> {
  return Object.fromEntries(Object.entries(d.params).filter(([, v]) => v.trim() !== ''));
}

const HOUR = 3_600_000;
const RANGE_MS: Partial<Record<RangeName, number>> = { '24h': 24 * HOUR, '7d': 7 * 24 * HOUR, '30d': 30 * 24 * HOUR };

/**
 * The range as BacktestRequest bounds: the latest 1000 bars (limit), a span back from the market
 * time shown (from), or everything (from 0 on stored candles; a file is read whole).
 */
export function rangeBounds(range: RangeName, store: boolean, marketTime: number): { from?: number; limit?: number } {
  if (!store) return {};
  if (range === '1000 bars') return { limit: 1000 };
  if (range === 'all') return { from: 0 };
  const span = RANGE_MS[range]!;
  return marketTime > span ? { from: marketTime - span } : { from: 0 };
}

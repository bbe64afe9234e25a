import fs from 'node:fs';
import { INTERVALS, type Candle, type Interval } from '../candles/types.js';
import { UsageError } from '../errors.js';
import { defineStrategy, type StrategyContext, type StrategyDefinition } from '../strategy/api.js';
import { buyWithFraction, isLong, sellAll } from '../strategy/builtins/common.js';

/**
 * The declarative strategy a model may write: named indicators, entry and exit rules over them,
 * sizing, stop-loss and take-profit. It is data, validated field by field and compiled here into
 * a StrategyDefinition; nothing a model writes is ever run as code. Long only (spot).
 *
 * Semantics of the compiled strategy, per closed candle of its interval:
 *  - flat: the entry rules hold → buy (sizing), as a market order at the next price;
 *  - long: the candle's low reached the stop-loss level, or its high the take-profit level (both
 *    relative to the average entry price), or the exit rules hold → sell the whole position.
 * Stops are thus checked at candle closes and filled at the next price, like every signal.
 */

export const SPEC_VERSION = 1;
/** Marks a JSON file as a strategy spec (`qtrade backtest --strategy my.json`). */
export const SPEC_FILE_KIND = 'qtrade-strategy-spec';

export type IndicatorSpec =
  | { type: 'sma' | 'ema' | 'wma'; period: number }
  | { type: 'rsi' | 'atr'; period?: number }
  | { type: 'macd'; fast?: number; slow?: number; signal?: number }
  | { type: 'bollinger'; period?: number; k?: number }
  | { type: 'stochastic'; kPeriod?: number; kSmoothing?: number; dPeriod?: number }
  | { type: 'vwap' }
  | { type: 'obv' };

/** A number, a price field of the candle, or an indicator ("rsi", "bb.upper"). */
export type Operand = number | string;
export type Comparison = '>' | '<' | '>=' | '<=' | 'crossesAbove' | 'crossesBelow';

export interface Condition {
  left: Operand;
  op: Comparison;
  right: Operand;
}

/** `all` must all hold and at least one of `any` (when given). */
export interface RuleSet {
  all?: Condition[];
  any?: Condition[];
}

export type Sizing = { type: 'fraction'; value: number } | { type: 'quote'; value: number };

export interface StrategySpec {
  version: 1;
  name: string;
  description?: string;
  interval: Interval;
  indicators: Record<string, IndicatorSpec>;
  entry: RuleSet;
  exit?: RuleSet;
  sizing: Sizing;
  stopLossPct?: number;
  takeProfitPct?: number;
}

const FIELDS: Record<string, readonly string[]> = { macd: ['macd', 'signal', 'histogram'], bollinger: ['upper', 'middle', 'lower'], stochastic: ['k', 'd'] };
const CANDLE_FIELDS = ['open', 'high', 'low', 'close', 'volume'] as const;
const OPS: readonly Comparison[] = ['>', '<', '>=', '<=', 'crossesAbove', 'crossesBelow'];
const NAME = /^[a-z][a-z0-9-]{0,39}$/;
const IND_NAME = /^[A-Za-z][A-Za-z0-9_]{0,29}$/;
const OPTIONS: Record<IndicatorSpec['type'], Record<string, { min: number; max: number; int: boolean; required?: boolean }>> = {
  sma: { period: { min: 1, max: 1000, int: true, required: true } },
  ema: { period: { min: 1, max: 1000, int: true, required: true } },
  wma: { period: { min: 1, max: 1000, int: true, required: true } },
  rsi: { period: { min: 2, max: 500, int: true } },
  atr: { period: { min: 1, max: 500, int: true } },
  macd: { fast: { min: 1, max: 500, int: true }, slow: { min: 2, max: 1000, int: true }, signal: { min: 1, max: 500, int: true } },
  bollinger: { period: { min: 2, max: 1000, int: true }, k: { min: 0.1, max: 10, int: false } },
  stochastic: { kPeriod: { min: 1, max: 500, int: true }, kSmoothing: { min: 1, max: 100, int: true }, dPeriod: { min: 1, max: 100, int: true } },
  vwap: {},
  obv: {},
};
const MAX_CONDITIONS = 16;
const MAX_INDICATORS = 16;

const CONDITION_SCHEMA = {
  type: 'object',
  required: ['left', 'op', 'right'],
  properties: { left: { type: ['number', 'string'] }, op: { type: 'string', enum: [...OPS] }, right: { type: ['number', 'string'] } },
};
const RULES_SCHEMA = {
  type: 'object',
  description: 'all: every condition holds; any: at least one holds',
  properties: { all: { type: 'array', items: CONDITION_SCHEMA }, any: { type: 'array', items: CONDITION_SCHEMA } },
};

/** The JSON schema the model is given for `spec` (validateSpec is the authority). Self-contained: no $ref. */
export const STRATEGY_SPEC_SCHEMA: Record<string, unknown> = {
  type: 'object',
  description:
    'A declarative long-only spot strategy. Operands are numbers, candle fields (open, high, low, close, volume) or indicator names; ' +
    'macd, bollinger and stochastic need a field: "m.macd"/"m.signal"/"m.histogram", "bb.upper"/"bb.middle"/"bb.lower", "st.k"/"st.d".',
  required: ['name', 'interval', 'indicators', 'entry', 'sizing'],
  properties: {
    name: { type: 'string', description: 'lowercase letters, digits and "-", e.g. "rsi-dip"' },
    description: { type: 'string' },
    interval: { type: 'string', enum: [...INTERVALS] },
    indicators: {
      type: 'object',
      description: 'name → {type, options}: sma/ema/wma {period}, rsi/atr {period?}, macd {fast?, slow?, signal?}, bollinger {period?, k?}, stochastic {kPeriod?, kSmoothing?, dPeriod?}, vwap {}, obv {}',
      additionalProperties: { type: 'object', required: ['type'], properties: { type: { type: 'string', enum: Object.keys(OPTIONS) } } },
    },
    entry: RULES_SCHEMA,
    exit: RULES_SCHEMA,
    sizing: {
      type: 'object',
      required: ['type', 'value'],
      properties: { type: { type: 'string', enum: ['fraction', 'quote'], description: 'fraction of the free quote balance (0..1], or a quote amount' }, value: { type: 'number' } },
    },
    stopLossPct: { type: 'number', description: 'exit when the low falls this many % below the average entry' },
    takeProfitPct: { type: 'number', description: 'exit when the high rises this many % above the average entry' },
  },
};

// ---------------------------------------------------------------------------------------------
// Validation

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

class Problems {
  readonly list: string[] = [];
  add(path: string, msg: string): void {
    if (this.list.length < 12) this.list.push(`${path}: ${msg}`);
  }
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], path: string, p: Problems): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) p.add(`${path}.${k}`, `unknown field (fields: ${allowed.join(', ')})`);
}

function numberIn(v: unknown, path: string, p: Problems, o: { min: number; max: number; int: boolean }): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    p.add(path, `must be a number, got ${JSON.stringify(v)}`);
    return undefined;
  }
  if (o.int && !Number.isInteger(v)) p.add(path, `must be a whole number, got ${v}`);
  else if (v < o.min || v > o.max) p.add(path, `must be from ${o.min} to ${o.max}, got ${v}`);
  else return v;
  return undefined;
}

function checkIndicator(name: string, x: unknown, p: Problems): IndicatorSpec | undefined {
  const path = `spec.indicators.${name}`;
  if (!IND_NAME.test(name)) p.add(path, 'an indicator name is a letter followed by letters, digits or "_" (at most 30)');
  if ((CANDLE_FIELDS as readonly string[]).includes(name)) p.add(path, `"${name}" is a candle field; name the indicator differently`);
  if (!isObject(x)) {
    p.add(path, 'must be an object such as {"type": "ema", "period": 20}');
    return undefined;
  }
  const type = x.type;
  if (typeof type !== 'string' || !(type in OPTIONS)) {
    p.add(`${path}.type`, `must be one of ${Object.keys(OPTIONS).join(', ')}, got ${JSON.stringify(type)}`);
    return undefined;
  }
  const opts = OPTIONS[type as IndicatorSpec['type']];
  onlyKeys(x, ['type', ...Object.keys(opts)], path, p);
  const out: Record<string, unknown> = { type };
  for (const [k, o] of Object.entries(opts)) {
    if (x[k] === undefined) {
      if (o.required) p.add(`${path}.${k}`, 'is required');
      continue;
    }
    const v = numberIn(x[k], `${path}.${k}`, p, o);
    if (v !== undefined) out[k] = v;
  }
  if (type === 'macd' && typeof out.fast === 'number' && typeof out.slow === 'number' && out.fast >= out.slow) p.add(`${path}.fast`, `must be below slow (${out.slow})`);
  return out as IndicatorSpec;
}

function checkOperand(v: unknown, path: string, indicators: Record<string, unknown>, p: Problems): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) p.add(path, 'must be a finite number');
    return;
  }
  if (typeof v !== 'string' || v === '') {
    p.add(path, `must be a number, a candle field or an indicator name, got ${JSON.stringify(v)}`);
    return;
  }
  if ((CANDLE_FIELDS as readonly string[]).includes(v)) return;
  const [name, field, extra] = v.split('.');
  const ind = indicators[name!];
  if (!isObject(ind) || extra !== undefined) {
    p.add(path, `"${v}" is neither a candle field (${CANDLE_FIELDS.join(', ')}) nor an indicator declared in spec.indicators`);
    return;
  }
  const fields = FIELDS[String(ind.type)];
  if (fields && field === undefined) p.add(path, `${name} (${String(ind.type)}) has several values: use ${fields.map((f) => `${name}.${f}`).join(', ')}`);
  else if (!fields && field !== undefined) p.add(path, `${name} (${String(ind.type)}) has one value: use "${name}"`);
  else if (fields && !fields.includes(field!)) p.add(path, `${name} has no field "${field}" (fields: ${fields.join(', ')})`);
}

function checkRules(x: unknown, path: string, indicators: Record<string, unknown>, p: Problems, required: boolean): RuleSet | undefined {
  if (x === undefined) {
    if (required) p.add(path, 'is required: {"all": [conditions]} and/or {"any": [conditions]}');
    return undefined;
  }
  if (!isObject(x)) {
    p.add(path, 'must be an object {"all": [...], "any": [...]}');
    return undefined;
  }
  onlyKeys(x, ['all', 'any'], path, p);
  let count = 0;
  for (const key of ['all', 'any'] as const) {
    const list = x[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      p.add(`${path}.${key}`, 'must be a list of conditions');
      continue;
    }
    if (list.length > MAX_CONDITIONS) p.add(`${path}.${key}`, `at most ${MAX_CONDITIONS} conditions`);
    list.forEach((c, i) => {
      const cp = `${path}.${key}[${i}]`;
      count++;
      if (!isObject(c)) {
        p.add(cp, 'must be {"left": ..., "op": ..., "right": ...}');
        return;
      }
      onlyKeys(c, ['left', 'op', 'right'], cp, p);
      for (const side of ['left', 'right'] as const) {
        if (c[side] === undefined) p.add(`${cp}.${side}`, 'is required');
        else checkOperand(c[side], `${cp}.${side}`, indicators, p);
      }
      if (!OPS.includes(c.op as Comparison)) p.add(`${cp}.op`, `must be one of ${OPS.join(', ')}, got ${JSON.stringify(c.op)}`);
    });
  }
  if (count === 0) p.add(path, 'needs at least one condition in "all" or "any"');
  return x as RuleSet;
}

/**
 * Checks a spec as the model or a file gave it; returns it normalised, or throws UsageError
 * naming every bad field (spec.entry.all[0].right: …).
 */
export function validateSpec(x: unknown): StrategySpec {
  const p = new Problems();
  if (!isObject(x)) throw new UsageError('the strategy spec must be a JSON object', { hint: 'see the spec schema: name, interval, indicators, entry, exit, sizing' });
  onlyKeys(x, ['version', 'kind', 'name', 'description', 'interval', 'indicators', 'entry', 'exit', 'sizing', 'stopLossPct', 'takeProfitPct'], 'spec', p);
  if (x.version !== undefined && x.version !== SPEC_VERSION) p.add('spec.version', `must be ${SPEC_VERSION}`);
  if (x.kind !== undefined && x.kind !== SPEC_FILE_KIND) p.add('spec.kind', `must be "${SPEC_FILE_KIND}"`);
  if (x.name === undefined) p.add('spec.name', 'is required');
  else if (typeof x.name !== 'string' || !NAME.test(x.name)) p.add('spec.name', `must be lowercase letters, digits and "-", starting with a letter, at most 40 (got ${JSON.stringify(x.name)})`);
  if (x.description !== undefined && (typeof x.description !== 'string' || x.description.length > 500)) p.add('spec.description', 'must be a string of at most 500 characters');
  if (x.interval === undefined) p.add('spec.interval', `is required (${INTERVALS.join(', ')})`);
  else if (!(INTERVALS as readonly unknown[]).includes(x.interval)) p.add('spec.interval', `must be one of ${INTERVALS.join(', ')}, got ${JSON.stringify(x.interval)}`);
  const indicators: Record<string, IndicatorSpec> = {};
  if (x.indicators === undefined) p.add('spec.indicators', 'is required (use {} for none)');
  else if (!isObject(x.indicators)) p.add('spec.indicators', 'must be an object of name → indicator');
  else {
    const entries = Object.entries(x.indicators);
    if (entries.length > MAX_INDICATORS) p.add('spec.indicators', `at most ${MAX_INDICATORS} indicators`);
    for (const [name, ind] of entries) {
      const v = checkIndicator(name, ind, p);
      if (v) indicators[name] = v;
    }
  }
  const declared = isObject(x.indicators) ? x.indicators : {};
  checkRules(x.entry, 'spec.entry', declared, p, true);
  checkRules(x.exit, 'spec.exit', declared, p, false);
  if (x.sizing === undefined) p.add('spec.sizing', 'is required: {"type": "fraction", "value": 0.5} or {"type": "quote", "value": 1000}');
  else if (!isObject(x.sizing)) p.add('spec.sizing', 'must be an object {"type", "value"}');
  else {
    onlyKeys(x.sizing, ['type', 'value'], 'spec.sizing', p);
    if (x.sizing.type === 'fraction') numberIn(x.sizing.value, 'spec.sizing.value', p, { min: 0.01, max: 1, int: false });
    else if (x.sizing.type === 'quote') numberIn(x.sizing.value, 'spec.sizing.value', p, { min: 10, max: 1e12, int: false });
    else p.add('spec.sizing.type', `must be "fraction" or "quote", got ${JSON.stringify(x.sizing.type)}`);
  }
  for (const k of ['stopLossPct', 'takeProfitPct'] as const) {
    if (x[k] !== undefined) numberIn(x[k], `spec.${k}`, p, { min: 0.01, max: k === 'stopLossPct' ? 99 : 10_000, int: false });
  }
  if (p.list.length > 0) {
    throw new UsageError(`the strategy spec is invalid: ${p.list.join('; ')}`, { hint: 'fix the fields named and try again; every field is described in the spec schema' });
  }
  const spec: StrategySpec = {
    version: SPEC_VERSION,
    name: x.name as string,
    ...(x.description !== undefined ? { description: x.description as string } : {}),
    interval: x.interval as Interval,
    indicators,
    entry: x.entry as RuleSet,
    ...(x.exit !== undefined ? { exit: x.exit as RuleSet } : {}),
    sizing: x.sizing as Sizing,
    ...(x.stopLossPct !== undefined ? { stopLossPct: x.stopLossPct as number } : {}),
    ...(x.takeProfitPct !== undefined ? { takeProfitPct: x.takeProfitPct as number } : {}),
  };
  return JSON.parse(JSON.stringify(spec)) as StrategySpec;
}

// ---------------------------------------------------------------------------------------------
// Compilation

type Ctx = StrategyContext<Record<string, never>>;
type Reader = (ctx: Ctx, candle: Candle) => number | undefined;

function indicatorReader(name: string, spec: IndicatorSpec, field: string | undefined): Reader {
  const key = `spec:${name}`;
  switch (spec.type) {
    case 'sma':
    case 'ema':
    case 'wma': {
      const t = spec.type;
      const period = spec.period;
      return (ctx) => ctx.indicator[t](period, key).value;
    }
    case 'rsi':
      return (ctx) => ctx.indicator.rsi(spec.period ?? 14, key).value;
    case 'atr':
      return (ctx) => ctx.indicator.atr(spec.period ?? 14, key).value;
    case 'macd': {
      const o = { ...(spec.fast ? { fast: spec.fast } : {}), ...(spec.slow ? { slow: spec.slow } : {}), ...(spec.signal ? { signal: spec.signal } : {}) };
      const f = field as 'macd' | 'signal' | 'histogram';
      return (ctx) => ctx.indicator.macd(o, key).value?.[f];
    }
    case 'bollinger': {
      const o = { ...(spec.period ? { period: spec.period } : {}), ...(spec.k ? { k: spec.k } : {}) };
      const f = field as 'upper' | 'middle' | 'lower';
      return (ctx) => ctx.indicator.bollinger(o, key).value?.[f];
    }
    case 'stochastic': {
      const o = { ...(spec.kPeriod ? { kPeriod: spec.kPeriod } : {}), ...(spec.kSmoothing ? { kSmoothing: spec.kSmoothing } : {}), ...(spec.dPeriod ? { dPeriod: spec.dPeriod } : {}) };
      const f = field as 'k' | 'd';
      return (ctx) => ctx.indicator.stochastic(o, key).value?.[f];
    }
    case 'vwap':
      return (ctx) => ctx.indicator.vwap({}, key).value;
    case 'obv':
      return (ctx) => ctx.indicator.obv(key).value;
  }
}

function operandReader(op: Operand, spec: StrategySpec): Reader {
  if (typeof op === 'number') return () => op;
  if ((CANDLE_FIELDS as readonly string[]).includes(op)) {
    const f = op as (typeof CANDLE_FIELDS)[number];
    if (f === 'volume') return (_ctx, c) => Number(c.volume) / 10 ** c.qtyScale;
    return (_ctx, c) => c[f] / 10 ** c.priceScale;
  }
  const [name, field] = op.split('.');
  return indicatorReader(name!, spec.indicators[name!]!, field);
}

interface CompiledCondition {
  left: Reader;
  right: Reader;
  op: Comparison;
  id: string;
}

function compileRules(rules: RuleSet | undefined, spec: StrategySpec, prefix: string): { all: CompiledCondition[]; any: CompiledCondition[] } {
  const one = (c: Condition, id: string): CompiledCondition => ({ left: operandReader(c.left, spec), right: operandReader(c.right, spec), op: c.op, id });
  return {
    all: (rules?.all ?? []).map((c, i) => one(c, `${prefix}a${i}`)),
    any: (rules?.any ?? []).map((c, i) => one(c, `${prefix}o${i}`)),
  };
}

/**
 * Evaluates a rule set on this candle; a condition whose values are not ready yet is false.
 * Crossings compare with the previous candle's values, kept in ctx.state.prev.
 */
function holds(rules: { all: CompiledCondition[]; any: CompiledCondition[] }, ctx: Ctx, c: Candle, prev: Record<string, [number, number]>, next: Record<string, [number, number]>): boolean {
  const test = (k: CompiledCondition): boolean => {
    const l = k.left(ctx, c);
    const r = k.right(ctx, c);
    if (l === undefined || r === undefined || !Number.isFinite(l) || !Number.isFinite(r)) return false;
    next[k.id] = [l, r];
    const before = prev[k.id];
    switch (k.op) {
      case '>':
        return l > r;
      case '<':
        return l < r;
      case '>=':
        return l >= r;
      case '<=':
        return l <= r;
      case 'crossesAbove':
        return before !== undefined && before[0] <= before[1] && l > r;
      case 'crossesBelow':
        return before !== undefined && before[0] >= before[1] && l < r;
    }
  };
  // Every condition is evaluated (no short-circuit) so each one's previous values stay current.
  const all = rules.all.map(test);
  const any = rules.any.map(test);
  if (rules.all.length === 0 && rules.any.length === 0) return false;
  return all.every(Boolean) && (any.length === 0 || any.some(Boolean));
}

/** A StrategyDefinition running the spec (params: none; the spec is the parameter set). */
export function compileSpec(input: StrategySpec | unknown): StrategyDefinition<Record<string, never>> {
  const spec = validateSpec(input);
  const entry = compileRules(spec.entry, spec, 'e');
  const exit = compileRules(spec.exit, spec, 'x');
  const indicatorNames = Object.keys(spec.indicators);
  const sl = spec.stopLossPct;
  const tp = spec.takeProfitPct;
  return defineStrategy({
    name: spec.name,
    description: spec.description ?? `declarative strategy spec (${indicatorNames.join(', ') || 'no indicators'})`,
    params: {},
    onStart(ctx) {
      // Indicators are made up front so each is fed from the first candle on.
      for (const n of indicatorNames) indicatorReader(n, spec.indicators[n]!, FIELDS[spec.indicators[n]!.type]?.[0])(ctx, undefined as never);
    },
    onCandle(ctx, candle) {
      const prev = (ctx.state.prev ?? {}) as Record<string, [number, number]>;
      const next: Record<string, [number, number]> = {};
      const long = isLong(ctx);
      const enter = holds(entry, ctx, candle, prev, next);
      const leave = holds(exit, ctx, candle, prev, next);
      ctx.state.prev = next;
      if (long) {
        const avg = ctx.position().avgEntry;
        const low = candle.low / 10 ** candle.priceScale;
        const high = candle.high / 10 ** candle.priceScale;
        let why: string | undefined;
        if (sl !== undefined && avg > 0 && low <= avg * (1 - sl / 100)) why = 'stop-loss';
        else if (tp !== undefined && avg > 0 && high >= avg * (1 + tp / 100)) why = 'take-profit';
        else if (leave) why = 'exit rules';
        if (why) {
          ctx.log.info(`exit: ${why}`);
          sellAll(ctx);
        }
        return;
      }
      if (!enter) return;
      if (spec.sizing.type === 'fraction') buyWithFraction(ctx, spec.sizing.value);
      else {
        const free = ctx.balance(ctx.instrument.quoteAsset).free;
        const spend = Math.min(spec.sizing.value, free);
        if (spend >= 10) ctx.buy({ quoteQty: spend });
      }
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Files

/** The JSON text of a strategy file holding `spec` (`qtrade backtest --strategy FILE.json` runs it). */
export function specFileText(spec: StrategySpec): string {
  const { version, ...rest } = validateSpec(spec);
  return JSON.stringify({ kind: SPEC_FILE_KIND, version, ...rest }, null, 2) + '\n';
}

/** Writes a spec file; refuses to overwrite unless `overwrite`. */
export function saveSpecFile(file: string, spec: StrategySpec, opts: { overwrite?: boolean } = {}): void {
  try {
    fs.writeFileSync(file, specFileText(spec), { flag: opts.overwrite ? 'w' : 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new UsageError(`${file} exists already`, { hint: 'choose another file name, or remove it first' });
    throw new UsageError(`cannot write ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads a spec file (see specFileText) and compiles it. */
export function loadSpecFile(file: string): StrategyDefinition<Record<string, never>> {
  let x: unknown;
  try {
    x = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read strategy spec ${file}: ${(err as Error).message.split('\n')[0]}`, { hint: 'a spec file is JSON written by `qtrade ask --save-strategy` or `/save` in `qtrade chat`', cause: err });
  }
  if (!isObject(x) || x.kind !== SPEC_FILE_KIND) {
    throw new UsageError(`${file} is not a qtrade strategy spec (its "kind" is not "${SPEC_FILE_KIND}")`, { hint: 'a spec file is JSON written by `qtrade ask --save-strategy` or `/save` in `qtrade chat`' });
  }
  try {
    return compileSpec(x);
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`${file}: ${err.message}`, { hint: err.hint });
    throw err;
  }
}

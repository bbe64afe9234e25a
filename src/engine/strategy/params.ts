import { UsageError } from '../errors.js';
import { closeMatches } from '../market/instruments.js';

/**
 * Strategy parameter schemas: each parameter has a type, a default and (for numbers) a range.
 * The ranges are what `--param` values are checked against and what a sweep iterates over.
 */
export interface NumberParam {
  type: 'number';
  default: number;
  min?: number;
  max?: number;
  /** Sweep step hint; not enforced. */
  step?: number;
  description?: string;
}

export interface IntParam {
  type: 'int';
  default: number;
  min?: number;
  max?: number;
  step?: number;
  description?: string;
}

export interface EnumParam<V extends string = string> {
  type: 'enum';
  default: V;
  values: readonly V[];
  description?: string;
}

export interface BooleanParam {
  type: 'boolean';
  default: boolean;
  description?: string;
}

export type ParamSpec = NumberParam | IntParam | EnumParam | BooleanParam;
export type ParamSchema = Record<string, ParamSpec>;

/** The resolved values of a schema: numbers, enum strings, booleans. */
export type ParamValues<S extends ParamSchema> = {
  readonly [K in keyof S]: S[K] extends EnumParam<infer V> ? V : S[K] extends BooleanParam ? boolean : number;
};

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;

function rangeText(spec: NumberParam | IntParam): string {
  const kind = spec.type === 'int' ? 'an integer' : 'a number';
  if (spec.min !== undefined && spec.max !== undefined) return `${kind} from ${spec.min} to ${spec.max}`;
  if (spec.min !== undefined) return `${kind} ≥ ${spec.min}`;
  if (spec.max !== undefined) return `${kind} ≤ ${spec.max}`;
  return kind;
}

/** Checks a schema itself (at defineStrategy time): names, bounds, defaults inside them. */
export function checkSchema(strategy: string, schema: ParamSchema): void {
  for (const [name, spec] of Object.entries(schema)) {
    const where = `strategy ${strategy}: param "${name}"`;
    if (!NAME.test(name)) throw new UsageError(`${where}: name must be a letter followed by letters, digits or "_"`);
    if (spec.type === 'number' || spec.type === 'int') {
      for (const [k, v] of [['min', spec.min], ['max', spec.max]] as const) {
        if (v !== undefined && !Number.isFinite(v)) throw new UsageError(`${where}: ${k} must be a finite number, got ${String(v)}`);
      }
      if (spec.min !== undefined && spec.max !== undefined && spec.min > spec.max) {
        throw new UsageError(`${where}: min ${spec.min} is above max ${spec.max}`);
      }
      checkValue(strategy, name, spec, spec.default, 'its default is');
    } else if (spec.type === 'enum') {
      if (!Array.isArray(spec.values) || spec.values.length === 0) throw new UsageError(`${where}: an enum needs a non-empty values list`);
      if (!spec.values.includes(spec.default)) {
        throw new UsageError(`${where}: default "${spec.default}" is not one of ${spec.values.join(', ')}`);
      }
    } else if (spec.type === 'boolean') {
      if (typeof spec.default !== 'boolean') throw new UsageError(`${where}: default must be true or false`);
    } else {
      throw new UsageError(`${where}: unknown type "${(spec as { type: unknown }).type as string}"`, { hint: 'use number, int, enum or boolean' });
    }
  }
}

function checkValue(strategy: string, name: string, spec: NumberParam | IntParam, v: number, what = 'got'): number {
  const bad = (): UsageError =>
    new UsageError(`strategy ${strategy}: param "${name}" must be ${rangeText(spec)}, ${what} ${String(v)}`, {
      hint: `e.g. --param ${name}=${spec.default}`,
    });
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad();
  if (spec.type === 'int' && !Number.isInteger(v)) throw bad();
  if (spec.min !== undefined && v < spec.min) throw bad();
  if (spec.max !== undefined && v > spec.max) throw bad();
  return v;
}

/**
 * Resolves user values against a schema: defaults for what is missing, strings ("20", "true",
 * from `--param k=v`) converted, every value checked. Unknown names are refused with the nearest
 * known ones.
 */
export function resolveParams<S extends ParamSchema>(strategy: string, schema: S, input: Record<string, unknown> = {}): ParamValues<S> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(schema, key)) {
      const near = closeMatches(key, Object.keys(schema));
      const known = Object.keys(schema);
      throw new UsageError(`strategy ${strategy} has no param "${key}"`, {
        hint: near.length ? `did you mean ${near.join(', ')}?` : known.length ? `its params: ${known.join(', ')}` : 'it takes no params',
      });
    }
  }
  for (const [name, spec] of Object.entries(schema)) {
    const raw = input[name];
    if (raw === undefined) {
      out[name] = spec.default;
      continue;
    }
    if (spec.type === 'enum') {
      if (typeof raw !== 'string' || !spec.values.includes(raw)) {
        throw new UsageError(`strategy ${strategy}: param "${name}" must be one of ${spec.values.join(', ')}, got ${JSON.stringify(raw)}`);
      }
      out[name] = raw;
    } else if (spec.type === 'boolean') {
      if (typeof raw === 'boolean') out[name] = raw;
      else if (raw === 'true' || raw === '1') out[name] = true;
      else if (raw === 'false' || raw === '0') out[name] = false;
      else throw new UsageError(`strategy ${strategy}: param "${name}" must be true or false, got ${JSON.stringify(raw)}`);
    } else {
      const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      out[name] = checkValue(strategy, name, spec, v as number, 'got');
    }
  }
  return out as ParamValues<S>;
}

/** `["fast=10", "slow=50"]` (the CLI's repeated --param) → `{ fast: "10", slow: "50" }`. */
export function parseParamAssignments(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param "${item}" is not NAME=VALUE`, { hint: 'e.g. --param fast=10' });
    out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return out;
}

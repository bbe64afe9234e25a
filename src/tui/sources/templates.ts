import { BUILTIN_STRATEGIES } from '../../engine/strategy/builtins/index.js';
import type { ParamSpec } from '../../engine/strategy/params.js';
import type { StrategyTemplate } from './strategies.js';

/** The built-in strategies with their parameter schemas, for the start and backtest forms. */
export function builtinTemplates(): StrategyTemplate[] {
  return [...BUILTIN_STRATEGIES.values()].map((s) => ({
    name: s.name,
    description: s.description ?? '',
    params: (Object.entries(s.params) as Array<[string, ParamSpec]>).map(([name, spec]) => ({ name, spec })),
  }));
}

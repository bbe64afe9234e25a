import type { Command } from 'commander';
import type { ParamSpec } from '../engine/strategy/params.js';
import { BUILTIN_STRATEGIES } from '../engine/strategy/builtins/index.js';
import { action, out } from './context.js';

interface ListOptions {
  json?: boolean;
}

function rangeOf(p: ParamSpec): string {
  if (p.type === 'enum') return p.values.join(' | ');
  if (p.type === 'boolean') return 'true | false';
  if (p.min !== undefined && p.max !== undefined) return `${p.min} .. ${p.max}`;
  if (p.min !== undefined) return `≥ ${p.min}`;
  if (p.max !== undefined) return `≤ ${p.max}`;
  return 'any';
}

function paramJson(name: string, p: ParamSpec): Record<string, unknown> {
  const base = { name, type: p.type, default: p.default, ...(p.description ? { description: p.description } : {}) };
  if (p.type === 'enum') return { ...base, values: p.values };
  if (p.type === 'boolean') return base;
  return { ...base, ...(p.min !== undefined ? { min: p.min } : {}), ...(p.max !== undefined ? { max: p.max } : {}), ...(p.step !== undefined ? { step: p.step } : {}) };
}

export function register(program: Command): void {
  const strategy = program.command('strategy').description('trading strategies: the built-ins and their parameters');
  strategy
    .command('list')
    .description('list the built-in strategies with their parameters (type, default, range)')
    .option('--json', 'one JSON array')
    .action(
      action((opts: ListOptions) => {
        const list = [...BUILTIN_STRATEGIES.values()];
        if (opts.json) {
          out.json(list.map((s) => ({ name: s.name, description: s.description ?? '', params: (Object.entries(s.params) as Array<[string, ParamSpec]>).map(([n, p]) => paramJson(n, p)) })));
          return;
        }
        for (const [i, s] of list.entries()) {
          if (i > 0) out.line();
          out.line(`${s.name}${s.description ? ` — ${s.description}` : ''}`);
          const rows = (Object.entries(s.params) as Array<[string, ParamSpec]>).map(([n, p]) => [n, p.type, String(p.default), rangeOf(p), p.description ?? '']);
          if (rows.length === 0) {
            out.line('  (no params)');
            continue;
          }
          const head = ['param', 'type', 'default', 'range', ''];
          const all = [head, ...rows];
          const widths = head.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
          for (const r of all) out.line(`  ${r.map((v, c) => v.padEnd(widths[c]!)).join('  ').trimEnd()}`);
        }
        out.line();
        out.line('run one: qtrade backtest --strategy NAME --symbol BTCUSDT --param name=value ...; or write your own .ts file (see README)');
      }),
    );
}

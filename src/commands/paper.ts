import type { Command } from 'commander';
import { UsageError } from '../engine/errors.js';
import { formatAmount } from '../engine/orders/amounts.js';
import { parseBalanceSpec } from '../engine/orders/service.js';
import type { Amount } from '../engine/orders/types.js';
import { DEFAULT_PAPER_BALANCES } from '../engine/trading.js';
import { action, out } from './context.js';
import { withTrading } from './trading-api.js';
import { balanceTable, balancesJson } from './trading-output.js';

interface ResetOptions {
  balance?: string[];
  json?: boolean;
}

const collect = (v: string, acc: string[] | undefined): string[] => [...(acc ?? []), v];

export function register(program: Command): void {
  const paper = program.command('paper').description('the paper trading account');
  paper
    .command('reset')
    .description('start the paper account afresh (no orders, fills or positions; the old history stays in the store)')
    .option('--balance <amountAsset>', 'a starting balance such as 10000USDT or 0.5BTC; repeat for more assets (default: 10000USDT)', collect)
    .option('--json', 'print the new balances')
    .action(
      action((opts: ResetOptions, cmd: Command) => {
        const balances: Record<string, Amount> = {};
        const specs = opts.balance ?? [];
        for (const spec of specs) {
          const { asset, amount } = parseBalanceSpec(spec);
          if (asset in balances) throw new UsageError(`--balance names ${asset} twice`, { hint: 'give each asset once' });
          balances[asset] = amount;
        }
        const start = specs.length > 0 ? balances : { ...DEFAULT_PAPER_BALANCES };
        return withTrading(cmd, { write: true, market: 'offline' }, async (api) => {
          const list = await api.resetPaper(start);
          if (opts.json) {
            out.json(balancesJson(list));
            return;
          }
          out.err(`paper account reset: ${Object.entries(start).map(([a, v]) => `${formatAmount(v)} ${a}`).join(', ')}`);
          for (const l of balanceTable(list)) out.line(l);
        });
      }),
    );
}

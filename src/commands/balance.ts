import type { Command } from 'commander';
import { action, out } from './context.js';
import { withTrading } from './trading-api.js';
import { openLive, parseVenue } from './trading-context.js';
import { balanceTable, balancesJson } from './trading-output.js';

interface BalanceOptions {
  venue?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('balance')
    .description('free and locked balance per asset (paper account, or a live venue with --venue)')
    .option('--venue <venue>', 'paper (default), testnet or mainnet')
    .option('--json', "print {balances: [{asset, free, locked}]} as Binance's account endpoint does")
    .action(
      action(async (opts: BalanceOptions, cmd: Command) => {
        const venue = parseVenue(opts.venue);
        const list =
          venue === 'paper'
            ? await withTrading(cmd, { write: false, market: 'offline' }, (api) => api.balances())
            : await (await openLive(cmd, venue)).router.account();
        if (opts.json) out.json(balancesJson(list));
        else for (const l of balanceTable(list)) out.line(l);
      }),
    );
}

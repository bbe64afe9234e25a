import type { Command } from 'commander';
import { parseLimit } from './args.js';
import { action, out } from './context.js';
import { withTrading } from './trading-api.js';
import { fillJson, fillTable } from './trading-output.js';

interface FillsOptions {
  symbol?: string;
  limit?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('fills')
    .description("the paper account's fills (trades), oldest first, with fees")
    .option('--symbol <symbol>', 'only this symbol')
    .option('--limit <n>', 'at most the last N fills (default 500)')
    .option('--json', "print Binance's myTrades shape")
    .action(
      action((opts: FillsOptions, cmd: Command) =>
        withTrading(cmd, { write: false, market: 'offline' }, async (api) => {
          const list = await api.fills({ symbol: opts.symbol, limit: parseLimit(opts.limit) ?? 500 });
          const inst = (s: string) => api.instrument(s);
          if (opts.json) out.json(list.map((f) => fillJson(f, inst(f.symbol))));
          else if (list.length === 0) out.err('no fills');
          else for (const l of fillTable(list, inst)) out.line(l);
        }),
      ),
    );
}

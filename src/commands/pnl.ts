import type { Command } from 'commander';
import type { Amount } from '../engine/orders/types.js';
import { action, out } from './context.js';
import { withTrading } from './trading-api.js';
import { humanAmount, pnlJson, table } from './trading-output.js';

interface PnlOptions {
  json?: boolean;
}

const amt = (a: Amount | undefined, asset: string): string => (a === undefined ? '-' : `${humanAmount(a)} ${asset}`);

export function register(program: Command): void {
  program
    .command('pnl')
    .description('realized and unrealized PnL (net of fees) per symbol, and totals per quote asset')
    .option('--json', 'print JSON with exact decimal strings (null where no last trade is known)')
    .action(
      action((opts: PnlOptions, cmd: Command) =>
        withTrading(cmd, { write: false, market: 'offline' }, async (api) => {
          const { positions: list, totals } = await api.pnl();
          if (opts.json) {
            out.json(pnlJson(list, totals));
            return;
          }
          if (list.length === 0) {
            out.err('no trades yet');
            return;
          }
          const rows = list.map((p) => [
            p.symbol,
            amt(p.realizedPnl, p.quoteAsset),
            amt(p.unrealizedPnl, p.quoteAsset),
            amt(p.unrealizedPnl === undefined ? undefined : p.realizedPnl + p.unrealizedPnl, p.quoteAsset),
          ]);
          for (const t of totals) rows.push([`total ${t.quoteAsset}`, amt(t.realizedPnl, t.quoteAsset), amt(t.unrealizedPnl, t.quoteAsset), amt(t.totalPnl, t.quoteAsset)]);
          for (const l of table(['symbol', 'realized', 'unrealized', 'total'], rows, new Set([1, 2, 3]))) out.line(l);
        }),
      ),
    );
}

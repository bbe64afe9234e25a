import type { Command } from 'commander';
import { action, out } from './context.js';
import { withTrading } from './trading-api.js';
import { humanAmount, positionJson, roundedAmount, table } from './trading-output.js';
import { formatFixed } from '../engine/fixed.js';

interface PositionsOptions {
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('positions')
    .description("the paper account's open positions: quantity, average entry, unrealized PnL marked to Binance's last trade")
    .option('--json', 'print JSON with exact decimal strings (null where no last trade is known)')
    .action(
      action((opts: PositionsOptions, cmd: Command) =>
        withTrading(cmd, { write: false, market: 'offline' }, async (api) => {
          const list = (await api.positions()).filter((p) => p.qty !== 0n);
          if (opts.json) {
            out.json(list.map(positionJson));
            return;
          }
          if (list.length === 0) {
            out.err('no open positions');
            return;
          }
          const rows = list.map((p) => [
            p.symbol,
            `${humanAmount(p.qty)} ${p.baseAsset}`,
            roundedAmount(p.avgEntry, p.priceScale + 2),
            p.mark === undefined ? '-' : formatFixed(p.mark, p.priceScale),
            p.unrealizedPnl === undefined ? '-' : `${humanAmount(p.unrealizedPnl)} ${p.quoteAsset}`,
          ]);
          for (const l of table(['symbol', 'qty', 'avg entry', 'last', 'unrealized PnL'], rows, new Set([1, 2, 3, 4]))) out.line(l);
        }),
      ),
    );
}

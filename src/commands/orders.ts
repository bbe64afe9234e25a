import type { Command } from 'commander';
import { UsageError } from '../engine/errors.js';
import { parseLimit } from './args.js';
import { action, out } from './context.js';
import { withTrading } from './trading-api.js';
import { openLive, parseVenue } from './trading-context.js';
import { orderJson, orderTable } from './trading-output.js';

interface OrdersOptions {
  open?: boolean;
  symbol?: string;
  limit?: string;
  venue?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('orders')
    .description("list the paper account's orders, oldest first (or a live venue's open orders)")
    .option('--open', 'only open orders (resting limits and stops waiting for their trigger)')
    .option('--symbol <symbol>', 'only this symbol')
    .option('--limit <n>', 'at most the last N orders (default 500)')
    .option('--venue <venue>', 'paper (default), testnet or mainnet (live venues: --open only)')
    .option('--json', "print Binance's order query shapes")
    .action(action((opts: OrdersOptions, cmd: Command) => orders(opts, cmd)));
}

async function orders(opts: OrdersOptions, cmd: Command): Promise<void> {
  const limit = parseLimit(opts.limit) ?? 500;
  const venue = parseVenue(opts.venue);
  if (venue !== 'paper') {
    if (!opts.open) throw new UsageError(`on ${venue} only open orders can be listed`, { hint: `qtrade orders --open --venue ${venue}` });
    const live = await openLive(cmd, venue);
    const list = (await live.router.openOrders(opts.symbol)).slice(-limit);
    const inst = (s: string) => live.instruments.get(s);
    if (opts.json) out.json(list.map((o) => orderJson(o, inst(o.symbol))));
    else for (const l of orderTable(list, inst)) out.line(l);
    return;
  }
  await withTrading(cmd, { write: false, market: 'offline' }, async (api) => {
    const q = { symbol: opts.symbol, limit };
    const list = opts.open ? await api.openOrders(q) : await api.orders(q);
    const inst = (s: string) => api.instrument(s);
    if (opts.json) {
      out.json(list.map((o) => orderJson(o, inst(o.symbol))));
      return;
    }
    if (list.length === 0) {
      out.err(opts.open ? 'no open orders' : 'no orders');
      return;
    }
    for (const l of orderTable(list, inst)) out.line(l);
  });
}

import type { Command } from 'commander';
import { UsageError } from '../engine/errors.js';
import type { Instrument } from '../engine/market/types.js';
import type { OrderRef } from '../engine/orders/paper-engine.js';
import type { Order } from '../engine/orders/types.js';
import { action, out } from './context.js';
import { withTrading } from './trading-api.js';
import { jsonRejections, openLive, parseVenue } from './trading-context.js';
import { cancelJson, orderTable } from './trading-output.js';

interface CancelOptions {
  all?: boolean;
  symbol?: string;
  clientId?: string;
  venue?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('cancel')
    .description('cancel an open order by id or --client-id, or every open order with --all')
    .argument('[orderId]', 'the order id (see `qtrade orders --open`)')
    .option('--all', 'cancel every open order (of --symbol when given)')
    .option('--symbol <symbol>', 'the order\'s symbol (required on live venues)')
    .option('--client-id <id>', 'cancel the order with this client order id')
    .option('--venue <venue>', 'paper (default), testnet or mainnet')
    .option('--json', "print Binance's cancel response (or {code, msg} when refused)")
    .action(action((id: string | undefined, opts: CancelOptions, cmd: Command) => cancel(id, opts, cmd)));
}

function refOf(id: string | undefined, clientId: string | undefined): OrderRef {
  if (id !== undefined && !/^\d{1,15}$/.test(id)) throw new UsageError(`order id "${id}" is not a number`, { hint: 'use the orderId from `qtrade orders --open`, or --client-id' });
  return id !== undefined ? { orderId: Number(id), ...(clientId === undefined ? {} : { clientOrderId: clientId }) } : { clientOrderId: clientId! };
}

async function cancel(id: string | undefined, opts: CancelOptions, cmd: Command): Promise<void> {
  if (opts.all ? id !== undefined || opts.clientId !== undefined : id === undefined && opts.clientId === undefined) {
    throw new UsageError('name one order (ORDERID or --client-id) or use --all', { hint: 'qtrade cancel 12, qtrade cancel --client-id my-order-1, qtrade cancel --all' });
  }
  const venue = parseVenue(opts.venue);
  if (venue !== 'paper') {
    const live = await openLive(cmd, venue);
    const inst = (s: string) => live.instruments.get(s);
    await jsonRejections(opts.json, async () => {
      if (opts.all) {
        const symbols = opts.symbol !== undefined ? [inst(opts.symbol).symbol] : [...new Set((await live.router.openOrders()).map((o) => o.symbol))];
        const done: Order[] = [];
        for (const s of symbols) done.push(...(await live.router.cancelAll(s)));
        printMany(done, inst, opts.json);
        return;
      }
      if (opts.symbol === undefined) throw new UsageError(`--symbol is required to cancel one order on ${venue}`, { hint: `qtrade cancel ${id ?? `--client-id ${opts.clientId}`} --symbol BTCUSDT --venue ${venue}` });
      const o = await live.router.cancel(opts.symbol, refOf(id, opts.clientId));
      printOne(o, inst(o.symbol), opts.json);
    });
    return;
  }
  await withTrading(cmd, { write: true, market: 'offline' }, (api) =>
    jsonRejections(opts.json, async () => {
      const inst = (s: string) => api.instrument(s);
      if (opts.all) {
        printMany(await api.cancelAll(opts.symbol), inst, opts.json);
        return;
      }
      const o = await api.cancel(refOf(id, opts.clientId), opts.symbol);
      printOne(o, inst(o.symbol), opts.json);
    }),
  );
}

function printOne(o: Order, inst: Instrument, json: boolean | undefined): void {
  if (json) out.json(cancelJson(o, inst));
  else for (const l of orderTable([o], () => inst)) out.line(l);
}

function printMany(list: readonly Order[], inst: (s: string) => Instrument, json: boolean | undefined): void {
  if (json) {
    out.json(list.map((o) => cancelJson(o, inst(o.symbol))));
    return;
  }
  out.err(`canceled ${list.length} open order${list.length === 1 ? '' : 's'}`);
  if (list.length > 0) for (const l of orderTable(list, inst)) out.line(l);
}

import type { Command } from 'commander';
import { UsageError } from '../engine/errors.js';
import type { Instrument } from '../engine/market/types.js';
import type { Fill, Order } from '../engine/orders/types.js';
import { liveRiskGate, orderRequestFromText } from '../engine/trading.js';
import { action, out } from './context.js';
import { withTrading } from './trading-api.js';
import { jsonRejections, openLive, parseVenue, withStore } from './trading-context.js';
import { fillTable, orderResponseJson, orderTable } from './trading-output.js';

interface OrderOptions {
  limit?: string;
  stop?: string;
  type?: string;
  tif?: string;
  quoteQty?: string;
  clientId?: string;
  venue?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('order')
    .description('place an order: paper (default, against the live Binance book) or on Binance testnet/mainnet')
    .argument('<side>', 'buy or sell')
    .argument('<symbol>', 'e.g. BTCUSDT')
    .argument('[qty]', 'base quantity, an exact decimal (omit with --quote-qty)')
    .option('--limit <price>', 'limit price (LIMIT, or STOP_LOSS_LIMIT with --stop)')
    .option('--stop <price>', 'stop (trigger) price (STOP_LOSS, or STOP_LOSS_LIMIT with --limit)')
    .option('--type <type>', 'MARKET, LIMIT, LIMIT_MAKER, STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT or TAKE_PROFIT_LIMIT (default: from --limit/--stop)')
    .option('--tif <tif>', 'time in force GTC, IOC or FOK (default GTC where the type needs one)')
    .option('--quote-qty <amount>', 'MARKET only: quote amount to spend (buy) or receive (sell) instead of QTY')
    .option('--client-id <id>', 'client order id; resubmitting the same id returns the existing order')
    .option('--venue <venue>', 'paper (default), testnet or mainnet (needs live.mainnetConfirmed)')
    .option('--json', "print Binance's order response (or {code, msg} when refused)")
    .addHelpText(
      'after',
      `
The paper account starts with 10000 USDT (\`qtrade paper reset --balance ...\` sets others).
Paper orders fill against Binance's live market, fetched at order time: a market order walks the
depth snapshot (slippage is real), its time is the last Binance trade's. Orders that rest (limits,
stops) fill only while a feed drives the account: run \`qtrade daemon\` (this command then goes
through it, trading against its live book) or \`qtrade feed --paper\`.
Exit codes: 0 placed, 2 bad usage (or the account is in use by another process), 3 refused by
risk or exchange filters (reason on stderr), 4 Binance unreachable.`,
    )
    .action(action((side: string, symbol: string, qty: string | undefined, opts: OrderOptions, cmd: Command) => order(side, symbol, qty, opts, cmd)));
}

function parseSide(s: string): 'BUY' | 'SELL' {
  const up = s.toUpperCase();
  if (up !== 'BUY' && up !== 'SELL') throw new UsageError(`side "${s}" is neither buy nor sell`, { hint: 'qtrade order buy BTCUSDT 0.01' });
  return up;
}

async function order(sideText: string, symbol: string, qty: string | undefined, opts: OrderOptions, cmd: Command): Promise<void> {
  const side = parseSide(sideText);
  if ((qty === undefined) === (opts.quoteQty === undefined)) {
    throw new UsageError(qty === undefined ? 'give a quantity or --quote-qty' : 'give a quantity or --quote-qty, not both', { hint: 'qtrade order buy BTCUSDT 0.01, or qtrade order buy BTCUSDT --quote-qty 100' });
  }
  const text = { side, qty, quoteQty: opts.quoteQty, limit: opts.limit, stop: opts.stop, type: opts.type, tif: opts.tif, clientId: opts.clientId };
  const venue = parseVenue(opts.venue);
  if (venue === 'paper') {
    await withTrading(cmd, { write: true, market: 'fresh' }, (api) =>
      jsonRejections(opts.json, async () => {
        const placed = await api.place({ symbol, ...text });
        if (placed.duplicate) out.err(`client order id ${placed.order.clientOrderId} already names order ${placed.order.orderId}: nothing new was placed`);
        print(placed.order, placed.fills, api.instrument(placed.order.symbol), opts.json);
      }),
    );
    return;
  }
  const live = await openLive(cmd, venue);
  await jsonRejections(opts.json, async () => {
    const halted = await withStore(cmd, (store) => liveRiskGate(store, symbol));
    if (halted) throw halted;
    const inst = live.instruments.get(symbol);
    const r = await live.router.submit(orderRequestFromText(inst, text));
    if (r.duplicate) out.err(`client order id ${r.order.clientOrderId} already names open order ${r.order.orderId} on ${venue}: nothing new was placed`);
    print(r.order, r.fills, inst, opts.json);
  });
}

function print(o: Order, fills: readonly Fill[], inst: Instrument, json: boolean | undefined): void {
  if (json) {
    out.json(orderResponseJson(o, inst, fills));
    return;
  }
  for (const l of orderTable([o], () => inst)) out.line(l);
  if (fills.length > 0) {
    out.line();
    for (const l of fillTable(fills, () => inst)) out.line(l);
  }
}

import { UsageError } from '../engine/errors.js';
import { ALERT_COMMAND_HELP, parseAlertCommand, type AlertCommand } from './alert-commands.js';
import { LAYOUTS } from './layout.js';
import type { OrderTicket } from './source.js';
import { parseStrategyCommand, STRATEGY_COMMAND_HELP, type StrategyCommand } from './strategy-commands.js';

/**
 * The `/` command line: `buy 0.01 btcusdt limit 60000`, `sell 0.5 ethusdt`, `cancel all`,
 * `cancel 12`, `interval 5m`, `symbol ethusdt`, `layout 2`, `help`, `quit`. Parsing only; the
 * engine validates the order itself (filters, risk) when it is placed.
 */

export const CHART_INTERVALS = ['1m', '5m', '15m', '1h', '4h', '1d'] as const;
export type ChartInterval = (typeof CHART_INTERVALS)[number];

export type TuiCommand =
  | { kind: 'order'; ticket: OrderTicket }
  | { kind: 'cancel'; orderId: number }
  | { kind: 'cancelAll'; symbol: string | undefined }
  | { kind: 'interval'; interval: ChartInterval }
  | { kind: 'symbol'; symbol: string }
  | { kind: 'layout'; layout: number }
  | { kind: 'help' }
  | { kind: 'quit' }
  | StrategyCommand
  | AlertCommand
  | { kind: 'ask'; prompt: string };

/** One line each where it can be (the help overlay wraps the longer ones at 80 columns). */
export const COMMAND_HELP = [
  'buy|sell QTY [SYMBOL] [PRICE|market] [stop PRICE] [gtc|ioc|fok] [maker]',
  'cancel ID · cancel all [SYMBOL] · symbol SYMBOL · layout N · help · quit',
  'interval 1m|5m|15m|1h|4h|1d · ask QUESTION (the AI panel, key 7)',
  ...STRATEGY_COMMAND_HELP,
  ...ALERT_COMMAND_HELP,
];

const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;
const SYMBOL = /^[a-z0-9]{3,20}$/i;
const TIFS = new Set(['gtc', 'ioc', 'fok']);

function order(side: 'BUY' | 'SELL', args: string[], defaultSymbol: string | undefined): TuiCommand {
  const hint = `e.g. ${side.toLowerCase()} 0.01 btcusdt limit 60000, or ${side.toLowerCase()} 0.5 ethusdt for a market order`;
  const qty = args.shift();
  if (qty === undefined || !DECIMAL.test(qty)) throw new UsageError(`${side.toLowerCase()} needs a quantity first${qty ? `, not "${qty}"` : ''}`, { hint });
  const ticket: OrderTicket = { symbol: defaultSymbol ?? '', side, qty };
  let symbolGiven = false;
  let market = false;
  let maker = false;
  while (args.length > 0) {
    const a = args.shift()!;
    const low = a.toLowerCase();
    if (low === 'limit' || low === 'at' || low === '@') {
      const p = args.shift();
      if (p === undefined || !DECIMAL.test(p)) throw new UsageError(`"${a}" needs a price after it`, { hint });
      ticket.limit = p;
    } else if (low.startsWith('@') && DECIMAL.test(low.slice(1))) {
      ticket.limit = low.slice(1);
    } else if (low === 'stop') {
      const p = args.shift();
      if (p === undefined || !DECIMAL.test(p)) throw new UsageError('"stop" needs a trigger price after it', { hint });
      ticket.stop = p;
    } else if (low === 'market') {
      market = true;
    } else if (low === 'maker') {
      maker = true;
    } else if (TIFS.has(low)) {
      ticket.tif = low.toUpperCase();
    } else if (DECIMAL.test(a)) {
      if (ticket.limit !== undefined) throw new UsageError(`two prices given ("${ticket.limit}" and "${a}")`, { hint });
      ticket.limit = a;
    } else if (SYMBOL.test(a) && !symbolGiven) {
      ticket.symbol = a.toUpperCase();
      symbolGiven = true;
    } else {
      throw new UsageError(`cannot read "${a}" in the order`, { hint });
    }
  }
  if (market && ticket.limit !== undefined) throw new UsageError('a market order takes no price', { hint });
  if (maker) {
    if (ticket.limit === undefined) throw new UsageError('"maker" (LIMIT_MAKER) needs a price', { hint });
    ticket.type = 'LIMIT_MAKER';
  }
  if (!ticket.symbol) throw new UsageError('which symbol?', { hint });
  return { kind: 'order', ticket };
}

/** Parses one command line; `symbol` is the selected symbol, used when an order names none. */
export function parseCommand(text: string, ctx: { symbol?: string } = {}): TuiCommand {
  const words = text.trim().replace(/^\//, '').split(/\s+/).filter(Boolean);
  const verb = words.shift()?.toLowerCase();
  switch (verb) {
    case 'buy':
    case 'b':
      return order('BUY', words, ctx.symbol);
    case 'sell':
    case 's':
      return order('SELL', words, ctx.symbol);
    case 'cancel':
    case 'c': {
      const what = words[0]?.toLowerCase();
      if (what === 'all') {
        const sym = words[1];
        if (sym !== undefined && !SYMBOL.test(sym)) throw new UsageError(`"${sym}" is not a symbol`);
        return { kind: 'cancelAll', symbol: sym?.toUpperCase() };
      }
      if (what !== undefined && /^\d+$/.test(what) && words.length === 1) return { kind: 'cancel', orderId: Number(what) };
      throw new UsageError('cancel what?', { hint: 'cancel ORDER_ID (the number in Open orders), or cancel all [SYMBOL]' });
    }
    case 'interval':
    case 'i': {
      const iv = words[0]?.toLowerCase();
      if (words.length !== 1 || !(CHART_INTERVALS as readonly string[]).includes(iv!)) {
        throw new UsageError(`interval must be one of ${CHART_INTERVALS.join(' ')}`, { hint: 'e.g. interval 5m' });
      }
      return { kind: 'interval', interval: iv as ChartInterval };
    }
    case 'symbol':
    case 'sym': {
      const sym = words[0];
      if (words.length !== 1 || !SYMBOL.test(sym!)) throw new UsageError('symbol needs one symbol name', { hint: 'e.g. symbol ethusdt' });
      return { kind: 'symbol', symbol: sym!.toUpperCase() };
    }
    case 'layout': {
      const n = Number(words[0]);
      if (words.length !== 1 || !LAYOUTS.includes(n)) throw new UsageError(`layout must be one of ${LAYOUTS.join(', ')}`);
      return { kind: 'layout', layout: n };
    }
    case 'strategy':
    case 'strategies':
      return parseStrategyCommand('strategy', verb === 'strategies' ? [] : words, ctx.symbol);
    case 'backtest':
    case 'bt':
      return parseStrategyCommand('backtest', words, ctx.symbol);
    case 'alert':
    case 'alerts':
      return parseAlertCommand(words);
    case 'ask':
    case 'ai': {
      // The question as typed, spaces and case kept.
      const prompt = text.trim().replace(/^\/?\S+\s*/, '');
      if (!prompt) throw new UsageError('ask what?', { hint: 'e.g. ask is BTC overextended on 5m?' });
      return { kind: 'ask', prompt };
    }
    case 'help':
    case '?':
      return { kind: 'help' };
    case 'quit':
    case 'q':
    case 'exit':
      return { kind: 'quit' };
    case undefined:
      throw new UsageError('empty command', { hint: COMMAND_HELP[0] });
    default:
      throw new UsageError(`unknown command "${verb}"`, { hint: 'buy, sell, cancel, interval, symbol, layout, strategy, backtest, alert, ask, help or quit' });
  }
}

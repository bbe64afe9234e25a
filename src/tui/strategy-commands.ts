import { parseInterval } from '../engine/candles/intervals.js';
import { UsageError } from '../engine/errors.js';
import { parseLimit, parseTime } from '../commands/args.js';
import { backtestRuns } from './backtest-runs.js';
import type { EventLog } from './event-log.js';
import { describeError } from './format.js';
import type { BacktestRequest, StartStrategyOptions, StrategiesSource, StrategyView } from './sources/strategies.js';

/**
 * The command-line words for strategies and backtests:
 *   strategy start NAME [SYMBOL] [INTERVAL] [param=value …] · strategy stop ID · strategy resume ID
 *   backtest NAME [SYMBOL] [INTERVAL] [param=value …] [data store|FILE] [limit N] [from TIME] [to TIME]
 * Parsing only; the engine checks names, params and data when it runs them.
 */

export type StrategyCommand =
  | { kind: 'strategyStart'; spec: StartStrategyOptions }
  | { kind: 'strategyStop'; id: string }
  | { kind: 'strategyResume'; id: string }
  | { kind: 'strategies' }
  | { kind: 'backtest'; request: BacktestRequest };

export const STRATEGY_COMMAND_HELP = [
  'strategy start NAME [SYMBOL] [INTERVAL] [k=v …] · strategy stop|resume ID',
  'backtest NAME [SYMBOL] [1m…] [k=v …] [data store|FILE] [limit N|from T to T]',
];

const SYMBOL = /^[a-z0-9]{3,20}$/i;
const INTERVAL = /^\d+[smhdwM]$/;
const PARAM = /^([A-Za-z][A-Za-z0-9_]{0,39})=(.+)$/;

interface Common {
  strategy: string;
  symbol: string | undefined;
  interval: string | undefined;
  params: Record<string, string>;
}

/** NAME, then symbol, interval and params in any order; `keyword value` pairs go to `onKeyword`. */
function common(words: string[], hint: string, onKeyword?: (word: string, value: string | undefined) => boolean): Common {
  const strategy = words.shift();
  if (strategy === undefined || strategy.includes('=')) throw new UsageError('which strategy?', { hint });
  const out: Common = { strategy, symbol: undefined, interval: undefined, params: {} };
  while (words.length > 0) {
    const w = words.shift()!;
    const param = PARAM.exec(w);
    if (param) {
      if (param[1]! in out.params) throw new UsageError(`param ${param[1]} given twice`, { hint });
      out.params[param[1]!] = param[2]!;
    } else if (onKeyword?.(w.toLowerCase(), words[0])) {
      words.shift();
    } else if (INTERVAL.test(w) && out.interval === undefined) {
      out.interval = parseInterval(w);
    } else if (SYMBOL.test(w) && out.symbol === undefined) {
      out.symbol = w.toUpperCase();
    } else {
      throw new UsageError(`cannot read "${w}"`, { hint });
    }
  }
  return out;
}

function strategyCommand(words: string[], defaultSymbol: string | undefined): StrategyCommand {
  const verb = words.shift()?.toLowerCase();
  const hint = 'e.g. strategy start sma-cross btcusdt fast=5 slow=20, strategy stop sma-cross-BTCUSDT';
  if (verb === undefined || verb === 'list') return { kind: 'strategies' };
  if (verb === 'stop' || verb === 'resume') {
    const id = words[0];
    if (words.length !== 1 || !/^[A-Za-z0-9-]{1,25}$/.test(id!)) throw new UsageError(`strategy ${verb} needs one strategy id`, { hint: 'the id is the first column of the Strategies panel' });
    return verb === 'stop' ? { kind: 'strategyStop', id: id! } : { kind: 'strategyResume', id: id! };
  }
  if (verb !== 'start') throw new UsageError(`strategy ${verb}?`, { hint: 'strategy start, stop, resume or list' });
  const c = common(words, hint);
  const symbol = c.symbol ?? defaultSymbol;
  if (symbol === undefined) throw new UsageError('which symbol?', { hint });
  return { kind: 'strategyStart', spec: { strategy: c.strategy, symbol, ...(c.interval ? { interval: c.interval } : {}), params: c.params } };
}

function backtestCommand(words: string[], defaultSymbol: string | undefined): StrategyCommand {
  const hint = 'e.g. backtest sma-cross btcusdt fast=5 slow=20 limit 500, or backtest dca data ./rec.jsonl.gz';
  const extra: { data?: string; limit?: number; from?: number; to?: number } = {};
  const c = common(words, hint, (word, value) => {
    if (word !== 'data' && word !== 'limit' && word !== 'from' && word !== 'to') return false;
    if (value === undefined) throw new UsageError(`"${word}" needs a value after it`, { hint });
    if (word === 'data') extra.data = value;
    else if (word === 'limit') extra.limit = parseLimit(value, 'limit');
    else extra[word] = parseTime(value, word);
    return true;
  });
  if (extra.from !== undefined && extra.to !== undefined && extra.from > extra.to) throw new UsageError('from is after to', { hint: 'swap them' });
  const data = extra.data ?? 'store';
  // The selected symbol unless one is named (a data file of another symbol says so when it runs).
  const symbol = c.symbol ?? defaultSymbol;
  if (data === 'store' && symbol === undefined) throw new UsageError('which symbol?', { hint });
  const request: BacktestRequest = {
    strategy: c.strategy,
    ...(symbol ? { symbol } : {}),
    ...(c.interval ? { interval: c.interval } : {}),
    params: c.params,
    data,
    ...(extra.limit === undefined ? {} : { limit: extra.limit }),
    ...(extra.from === undefined ? {} : { from: extra.from }),
    ...(extra.to === undefined ? {} : { to: extra.to }),
  };
  return { kind: 'backtest', request };
}

/** Parses the words after `strategy`/`strategies` or `backtest`. */
export function parseStrategyCommand(verb: 'strategy' | 'backtest', words: string[], defaultSymbol: string | undefined): StrategyCommand {
  return verb === 'strategy' ? strategyCommand([...words], defaultSymbol) : backtestCommand([...words], defaultSymbol);
}

/** "fast=10 slow=30": params as the command line takes them. */
export const paramsText = (p: Record<string, unknown>): string => Object.entries(p).map(([k, v]) => `${k}=${String(v)}`).join(' ');

export function startedText(s: StrategyView): string {
  const params = paramsText(s.params);
  return `✓ strategy ${s.id} started: ${s.strategy} on ${s.symbol} ${s.interval}${params ? ` (${params})` : ''}`;
}

export function stoppedText(s: StrategyView): string {
  const open = s.openOrders > 0 ? `; ${s.openOrders} of its orders stay open` : '';
  return `✓ strategy ${s.id} stopped after ${s.fills} fill${s.fills === 1 ? '' : 's'}${open}`;
}

/** Runs a strategy command; the outcome goes into the event log. */
export function runStrategyCommand(c: StrategyCommand, ctx: { strategies: StrategiesSource; log: EventLog }): void {
  const { strategies, log } = ctx;
  const fail = (what: string) => (err: unknown) => log.add('error', `✗ ${what}: ${describeError(err).text}`);
  switch (c.kind) {
    case 'strategyStart':
      strategies.start(c.spec).then((s) => log.add('good', startedText(s)), fail(`strategy ${c.spec.strategy}`));
      return;
    case 'strategyStop':
      strategies.stop(c.id).then((s) => log.add('good', stoppedText(s)), fail(`stop ${c.id}`));
      return;
    case 'strategyResume':
      strategies.resume(c.id).then((s) => log.add('good', `✓ strategy ${s.id} ${s.status}`), fail(`resume ${c.id}`));
      return;
    case 'backtest':
      backtestRuns(strategies).run(c.request, log);
      return;
    case 'strategies':
      return;
  }
}

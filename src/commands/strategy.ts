import path from 'node:path';
import type { Command } from 'commander';
import { connectDaemon, DaemonRequestError, type DaemonClient } from '../client/daemon-client.js';
import { UsageError } from '../engine/errors.js';
import { parseAmount, formatAmount } from '../engine/orders/amounts.js';
import { BUILTIN_STRATEGIES } from '../engine/strategy/builtins/index.js';
import { isStrategyFile } from '../engine/strategy/load.js';
import { parseParamAssignments, type ParamSpec } from '../engine/strategy/params.js';
import { action, out, settingsFor } from './context.js';
import { utcTime } from './format.js';

interface ListOptions {
  json?: boolean;
}

interface StartOptions {
  symbol: string;
  interval?: string;
  param?: string[];
  id?: string;
  json?: boolean;
}

/** A live strategy as GET /api/qtrade/strategies answers (routes/qtrade-strategies.ts). */
interface LiveStrategyWire {
  id: string;
  strategy: string;
  source: string;
  symbol: string;
  interval: string;
  params: Record<string, unknown>;
  status: 'running' | 'paused' | 'stopped';
  error: { message: string; callback: string; time: number } | null;
  state: Record<string, unknown>;
  nextOrder: number;
  orders: number;
  openOrders: number;
  fills: number;
  position: {
    baseAsset: string;
    quoteAsset: string;
    qty: string;
    avgEntry: string;
    realizedPnl: string;
    unrealizedPnl: string | null;
    fees: string;
    mark: string | null;
  };
}

const collect = (v: string, acc: string[] | undefined): string[] => [...(acc ?? []), v];

function rangeOf(p: ParamSpec): string {
  if (p.type === 'enum') return p.values.join(' | ');
  if (p.type === 'boolean') return 'true | false';
  if (p.min !== undefined && p.max !== undefined) return `${p.min} .. ${p.max}`;
  if (p.min !== undefined) return `≥ ${p.min}`;
  if (p.max !== undefined) return `≤ ${p.max}`;
  return 'any';
}

function paramJson(name: string, p: ParamSpec): Record<string, unknown> {
  const base = { name, type: p.type, default: p.default, ...(p.description ? { description: p.description } : {}) };
  if (p.type === 'enum') return { ...base, values: p.values };
  if (p.type === 'boolean') return base;
  return { ...base, ...(p.min !== undefined ? { min: p.min } : {}), ...(p.max !== undefined ? { max: p.max } : {}), ...(p.step !== undefined ? { step: p.step } : {}) };
}

const NO_DAEMON_HINT = 'start one with `qtrade daemon` (live strategies run inside it, so they keep running after this terminal closes), or point at one with --connect URL';

/** The running daemon, or exit 2 explaining why one is needed. */
function requireDaemon(cmd: Command): DaemonClient {
  const settings = settingsFor(cmd);
  const daemon = connectDaemon(settings);
  if (!daemon) throw new UsageError(`live strategies run in the qtrade daemon, and none is running for ${settings.dataDir}`, { hint: NO_DAEMON_HINT });
  return daemon;
}

/** The daemon's refusals of bad input (unknown strategy, param, id) are usage errors here too. */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof DaemonRequestError && (err.status === 400 || err.status === 404)) throw new UsageError(err.msg, { cause: err });
    throw err;
  }
}

/** A decimal string without trailing zeros beyond `min` decimals. */
function trim(s: string, min: number): string {
  const dot = s.indexOf('.');
  if (dot === -1) return min > 0 ? `${s}.${'0'.repeat(min)}` : s;
  let end = s.length;
  while (end > dot + 1 + min && s[end - 1] === '0') end--;
  return s.slice(0, end === dot + 1 ? dot : end);
}

/** A quote amount to cents (exact, truncated toward zero). */
function cents(s: string): string {
  const neg = s.startsWith('-');
  const a = parseAmount(neg ? s.slice(1) : s);
  const t = a - (a % 10n ** 14n);
  return `${neg && t !== 0n ? '-' : ''}${formatAmount(t, 2)}`;
}

function paramsText(p: Record<string, unknown>): string {
  return Object.entries(p).map(([k, v]) => `${k}=${String(v)}`).join(' ') || '(no params)';
}

function liveTable(list: readonly LiveStrategyWire[]): string[] {
  const head = ['id', 'strategy', 'symbol', 'interval', 'status', 'orders', 'fills', 'position', 'realized', 'unrealized'];
  const rows = list.map((s) => {
    const p = s.position;
    return [
      s.id,
      s.strategy,
      s.symbol,
      s.interval,
      s.status,
      String(s.orders),
      String(s.fills),
      `${trim(p.qty, 0)} ${p.baseAsset}`,
      `${cents(p.realizedPnl)} ${p.quoteAsset}`,
      p.unrealizedPnl === null ? 'n/a' : `${cents(p.unrealizedPnl)} ${p.quoteAsset}`,
    ];
  });
  const all = [head, ...rows];
  const right = new Set([5, 6]);
  const widths = head.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const lines = all.map((r) => r.map((v, c) => (right.has(c) ? v.padStart(widths[c]!) : v.padEnd(widths[c]!))).join('  ').trimEnd());
  for (const s of list) {
    if (s.error) lines.push(`${s.id}: ${s.status} after it threw in ${s.error.callback}${s.error.time > 0 ? ` at ${utcTime(s.error.time)} UTC` : ''}: ${s.error.message}`);
  }
  return lines;
}

export function register(program: Command): void {
  const strategy = program.command('strategy').description('trading strategies: the built-ins, and live ones in the daemon');
  strategy
    .command('list')
    .description('list the built-in strategies with their parameters (type, default, range), and the live ones when a daemon runs')
    .option('--json', 'one JSON array of the built-ins (live strategies: `qtrade strategy status --json`)')
    .action(
      action(async (opts: ListOptions, cmd: Command) => {
        const list = [...BUILTIN_STRATEGIES.values()];
        if (opts.json) {
          out.json(list.map((s) => ({ name: s.name, description: s.description ?? '', params: (Object.entries(s.params) as Array<[string, ParamSpec]>).map(([n, p]) => paramJson(n, p)) })));
          return;
        }
        for (const [i, s] of list.entries()) {
          if (i > 0) out.line();
          out.line(`${s.name}${s.description ? ` — ${s.description}` : ''}`);
          const rows = (Object.entries(s.params) as Array<[string, ParamSpec]>).map(([n, p]) => [n, p.type, String(p.default), rangeOf(p), p.description ?? '']);
          if (rows.length === 0) {
            out.line('  (no params)');
            continue;
          }
          const head = ['param', 'type', 'default', 'range', ''];
          const all = [head, ...rows];
          const widths = head.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
          for (const r of all) out.line(`  ${r.map((v, c) => v.padEnd(widths[c]!)).join('  ').trimEnd()}`);
        }
        out.line();
        out.line('run one: qtrade backtest --strategy NAME --symbol BTCUSDT --param name=value ...; or write your own .ts file (see README)');
        const daemon = connectDaemon(settingsFor(cmd));
        if (!daemon) {
          out.line('run one live: qtrade strategy start NAME --symbol BTCUSDT (in the daemon: start it with `qtrade daemon`)');
          return;
        }
        let live: LiveStrategyWire[];
        try {
          live = await daemon.get<LiveStrategyWire[]>('/api/qtrade/strategies');
        } catch (err) {
          out.err(`warning: could not list the live strategies of the daemon at ${daemon.url}: ${(err as Error).message}`);
          return;
        }
        out.line();
        if (live.length === 0) {
          out.line(`no live strategies in the daemon at ${daemon.url}; start one: qtrade strategy start NAME --symbol BTCUSDT`);
          return;
        }
        out.line(`live strategies in the daemon at ${daemon.url}`);
        for (const l of liveTable(live)) out.line(`  ${l}`);
      }),
    );

  strategy
    .command('status')
    .description("the daemon's live strategies: status, orders, fills, own position and PnL")
    .argument('[id]', 'only this strategy')
    .option('--json', 'JSON: an array (one object with an id)')
    .action(
      action(async (id: string | undefined, opts: ListOptions, cmd: Command) => {
        const daemon = requireDaemon(cmd);
        const list = id === undefined ? await daemon.get<LiveStrategyWire[]>('/api/qtrade/strategies') : [await call(() => daemon.get<LiveStrategyWire>('/api/qtrade/strategies', { id }))];
        if (opts.json) {
          out.json(id === undefined ? list : list[0]);
          return;
        }
        if (list.length === 0) {
          out.line(`no live strategies in the daemon at ${daemon.url}; start one: qtrade strategy start NAME --symbol BTCUSDT`);
          return;
        }
        for (const l of liveTable(list)) out.line(l);
      }),
    );

  strategy
    .command('start')
    .description('start a strategy live on the paper account, in the running daemon (it keeps running after this terminal closes, and across daemon restarts)')
    .argument('<strategy>', 'a built-in (see `qtrade strategy list`) or a .ts/.js file that default-exports defineStrategy(...)')
    .requiredOption('--symbol <symbol>', 'symbol to trade, e.g. BTCUSDT (the daemon subscribes it)')
    .option('--interval <interval>', "the strategy's candle interval (1m, 5m, 1h, ...)", '1m')
    .option('--param <name=value>', 'a strategy parameter; repeat for more', collect)
    .option('--id <id>', 'the strategy id, prefix of its clientOrderIds (default NAME-symbol)')
    .option('--json', 'the started strategy as JSON')
    .action(
      action(async (spec: string, opts: StartOptions, cmd: Command) => {
        const params = parseParamAssignments(opts.param ?? []);
        const daemon = requireDaemon(cmd);
        // The daemon loads the file: send a path it can open whatever its working directory.
        const strategyRef = isStrategyFile(spec) ? path.resolve(spec) : spec;
        const s = await call(() =>
          daemon.post<LiveStrategyWire>('/api/qtrade/strategies', {
            strategy: strategyRef,
            symbol: opts.symbol,
            interval: opts.interval,
            params,
            ...(opts.id !== undefined ? { id: opts.id } : {}),
          }),
        );
        if (opts.json) {
          out.json(s);
          return;
        }
        out.line(`started ${s.id}: ${s.strategy} on ${s.symbol} ${s.interval} (${paramsText(s.params)}) in the daemon at ${daemon.url}`);
        out.line(`it runs in the daemon, not this terminal; see it with \`qtrade strategy status\`, stop it with \`qtrade strategy stop ${s.id}\``);
      }),
    );

  strategy
    .command('stop')
    .description("stop a live strategy: its onStop runs, its open orders stay on the book, its saved state is dropped")
    .argument('<id>', 'the strategy id (see `qtrade strategy status`)')
    .option('--json', 'the stopped strategy as JSON')
    .action(
      action(async (id: string, opts: ListOptions, cmd: Command) => {
        const daemon = requireDaemon(cmd);
        const s = await call(() => daemon.delete<LiveStrategyWire>('/api/qtrade/strategies', { id }));
        if (opts.json) {
          out.json(s);
          return;
        }
        const p = s.position;
        out.line(`stopped ${s.id}: ${s.orders} order${s.orders === 1 ? '' : 's'}, ${s.fills} fill${s.fills === 1 ? '' : 's'}, position ${trim(p.qty, 0)} ${p.baseAsset}, realized ${cents(p.realizedPnl)} ${p.quoteAsset}`);
        if (s.openOrders > 0) out.line(`${s.openOrders} of its orders are still open: qtrade orders --open, qtrade cancel ...`);
      }),
    );

  strategy
    .command('resume')
    .description('resume a paused strategy with its state (after fixing what made it throw)')
    .argument('<id>', 'the strategy id')
    .option('--json', 'the strategy as JSON')
    .action(
      action(async (id: string, opts: ListOptions, cmd: Command) => {
        const daemon = requireDaemon(cmd);
        const s = await call(() => daemon.post<LiveStrategyWire>('/api/qtrade/strategies/resume', undefined, { id }));
        if (opts.json) out.json(s);
        else out.line(`resumed ${s.id}: ${s.status}`);
      }),
    );
}

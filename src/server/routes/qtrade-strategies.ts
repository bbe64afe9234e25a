import { formatFixed } from '../../engine/fixed.js';
import { formatAmount } from '../../engine/orders/amounts.js';
import type { LiveStrategy, StrategyManager } from '../../engine/strategy/manager.js';
import type { BacktestJob, BacktestJobs, BacktestRequest } from '../backtest-jobs.js';
import { optionalParam, requiredParam } from '../http.js';
import { ApiError, ApiErrors, type ApiRequest, type DaemonContext, type Route } from '../types.js';

/**
 * Live strategies and backtest jobs under /api/qtrade/. Starting and stopping strategies is
 * `admin` (it trades the account unattended, and a file strategy runs code from the daemon
 * host); reading them is `read`.
 */

const MAX_TEXT = 1000;
const MAX_PARAMS = 64;

/** A live strategy as JSON: exact amounts as decimal strings, the mark at the symbol's price scale. */
export function liveStrategyJson(s: LiveStrategy): Record<string, unknown> {
  const p = s.position;
  return {
    id: s.id,
    strategy: s.strategy,
    source: s.source,
    symbol: s.symbol,
    interval: s.interval,
    params: s.params,
    status: s.status,
    error: s.error ?? null,
    state: s.state,
    nextOrder: s.nextOrder,
    orders: s.orders,
    openOrders: s.openOrders,
    fills: s.fills,
    candles: s.candles,
    position: {
      baseAsset: p.baseAsset,
      quoteAsset: p.quoteAsset,
      qty: formatAmount(p.qty),
      cost: formatAmount(p.cost),
      avgEntry: formatAmount(p.avgEntry),
      realizedPnl: formatAmount(p.realizedPnl),
      unrealizedPnl: p.unrealizedPnl === undefined ? null : formatAmount(p.unrealizedPnl),
      fees: formatAmount(p.fees),
      mark: p.mark === undefined ? null : formatFixed(p.mark, p.priceScale),
    },
    logs: s.logs,
  };
}

/** A job without its equity curve, for the list. */
function jobSummary(j: BacktestJob): Record<string, unknown> {
  const { result, ...rest } = j;
  if (!result) return rest;
  const m = result.metrics;
  return { ...rest, summary: { totalReturn: m.totalReturn, sharpe: m.sharpe, maxDrawdown: m.maxDrawdown, trades: result.trades, fills: result.fills, endEquity: result.equity.end } };
}

function body(req: ApiRequest): Record<string, unknown> {
  const b = req.json;
  if (b === undefined) throw new ApiError(400, -1102, 'Send a JSON object body (Content-Type: application/json).');
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw ApiErrors.badParam('body', 'expected a JSON object');
  return b as Record<string, unknown>;
}

function onlyKeys(b: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(b)) {
    if (!allowed.includes(k)) throw ApiErrors.badParam(k, `not a field of this request (fields: ${allowed.join(', ')})`);
  }
}

function text(b: Record<string, unknown>, name: string, required: true): string;
function text(b: Record<string, unknown>, name: string, required?: false): string | undefined;
function text(b: Record<string, unknown>, name: string, required = false): string | undefined {
  const v = b[name];
  if (v === undefined || v === null || v === '') {
    if (required) throw ApiErrors.mandatory(name);
    return undefined;
  }
  if (typeof v !== 'string' || v.length > MAX_TEXT) throw ApiErrors.badParam(name, `expected a string of at most ${MAX_TEXT} characters`);
  return v;
}

function paramsField(b: Record<string, unknown>): Record<string, unknown> | undefined {
  const v = b.params;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw ApiErrors.badParam('params', 'expected an object of name: value');
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > MAX_PARAMS) throw ApiErrors.badParam('params', `at most ${MAX_PARAMS} entries`);
  for (const [k, x] of entries) {
    const t = typeof x;
    if (t !== 'string' && t !== 'number' && t !== 'boolean') throw ApiErrors.badParam(`params.${k}`, 'expected a string, number or boolean');
    if (t === 'string' && (x as string).length > 100) throw ApiErrors.badParam(`params.${k}`, 'at most 100 characters');
  }
  return v as Record<string, unknown>;
}

/** Epoch ms (number or digits) or an ISO date / date-time (UTC unless zoned). */
function timeField(b: Record<string, unknown>, name: string): number | undefined {
  const v = b[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === 'string') {
    const s = v.trim();
    if (/^\d{1,16}$/.test(s)) return Number(s);
    if (/^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/.test(s)) {
      const iso = s.length === 10 ? `${s}T00:00Z` : /(?:Z|[+-]\d{2}:\d{2})$/.test(s) ? s.replace(' ', 'T') : `${s.replace(' ', 'T')}Z`;
      const ms = Date.parse(iso);
      if (!Number.isNaN(ms) && new Date(Date.parse(`${s.slice(0, 10)}T00:00Z`)).toISOString().slice(0, 10) === s.slice(0, 10)) return ms;
    }
  }
  throw ApiErrors.badParam(name, 'expected epoch milliseconds or an ISO date/date-time such as 2024-08-08T12:00Z');
}

function intField(b: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const v = b[name];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'string' && /^\d{1,16}$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) throw ApiErrors.badParam(name, `expected a whole number from ${min} to ${max}`);
  return n;
}

function balancesField(b: Record<string, unknown>): string[] | undefined {
  const v = b.balances;
  if (v === undefined || v === null) return undefined;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length > 20 || list.some((x) => typeof x !== 'string' || x.length > 60)) {
    throw ApiErrors.badParam('balances', 'expected a list of balances such as "10000USDT"');
  }
  return list as string[];
}

export function qtradeStrategyRoutes(ctx: DaemonContext): Route[] {
  const manager = (): StrategyManager => {
    if (!ctx.strategies) throw ApiErrors.unavailable('this daemon runs no strategy manager');
    return ctx.strategies;
  };
  const jobs = (): BacktestJobs => {
    if (!ctx.backtests) throw ApiErrors.unavailable('this daemon runs no backtest jobs');
    return ctx.backtests;
  };
  const known = (id: string): void => {
    const s = manager().get(id);
    if (!s || s.status === 'stopped') throw new ApiError(404, -1000, `No live strategy with id "${id}" (GET /api/qtrade/strategies lists them).`);
  };

  return [
    {
      method: 'GET',
      path: '/api/qtrade/strategies',
      scope: 'read',
      summary: 'Live strategies: status (running/paused/stopped with the error), orders, fills, own position and PnL, state',
      params: { id: 'only this strategy' },
      handle: (req) => {
        const id = optionalParam(req, 'id');
        if (id === undefined) return { body: manager().list().map(liveStrategyJson) };
        const s = manager().get(id);
        if (!s) throw new ApiError(404, -1000, `No live strategy with id "${id}" (GET /api/qtrade/strategies lists them).`);
        return { body: liveStrategyJson(s) };
      },
    },
    {
      method: 'POST',
      path: '/api/qtrade/strategies',
      scope: 'admin',
      summary: 'Start a live strategy on the paper account (JSON {strategy: built-in or file path on the daemon host, symbol, interval?, params?, id?})',
      handle: async (req) => {
        const b = body(req);
        onlyKeys(b, ['strategy', 'symbol', 'interval', 'params', 'id']);
        const strategy = text(b, 'strategy', true);
        const symbol = text(b, 'symbol', true);
        const interval = text(b, 'interval');
        const id = text(b, 'id');
        const params = paramsField(b);
        const s = await manager().start({ strategy, symbol, ...(interval ? { interval } : {}), ...(params ? { params } : {}), ...(id ? { id } : {}) });
        ctx.log.info({ strategy: s.strategy, id: s.id, symbol: s.symbol, interval: s.interval, params: s.params }, `strategy ${s.id} started`);
        return { body: liveStrategyJson(s) };
      },
    },
    {
      method: 'DELETE',
      path: '/api/qtrade/strategies',
      scope: 'admin',
      summary: 'Stop a live strategy (its onStop runs; open orders stay) and forget its persisted state',
      params: { id: 'the strategy id (required)' },
      handle: async (req) => {
        const id = requiredParam(req, 'id');
        known(id);
        const s = await manager().stop(id);
        ctx.log.info({ id }, `strategy ${id} stopped`);
        return { body: liveStrategyJson(s) };
      },
    },
    {
      method: 'POST',
      path: '/api/qtrade/strategies/resume',
      scope: 'admin',
      summary: 'Resume a paused strategy with its state (after fixing what made it throw)',
      params: { id: 'the strategy id (required)' },
      handle: async (req) => {
        const id = requiredParam(req, 'id');
        known(id);
        const s = await manager().resume(id);
        ctx.log.info({ id }, `strategy ${id} resumed`);
        return { body: liveStrategyJson(s) };
      },
    },
    {
      // `trade`, not `read`: a job changes nothing in the account, but it occupies a core for as
      // long as the data lasts and reads files on the daemon host; read tokens go to dashboards
      // and watchers, which should not be able to do either. Not `admin`: it trades nothing and
      // controls nothing.
      method: 'POST',
      path: '/api/qtrade/backtests',
      scope: 'trade',
      summary:
        'Start a backtest job on a worker thread (JSON: qtrade backtest inputs {strategy, symbol, interval, params, data: "store" or a file path on the daemon host, from, to, limit, balances, fees, slippage}; spec: a declarative strategy spec instead of strategy); poll GET ?id=',
      handle: async (req) => {
        const b = body(req);
        onlyKeys(b, ['strategy', 'spec', 'symbol', 'interval', 'params', 'data', 'from', 'to', 'limit', 'balances', 'fees', 'slippage']);
        const hasSpec = b.spec !== undefined && b.spec !== null;
        const strategy = hasSpec ? text(b, 'strategy') : text(b, 'strategy', true);
        const r: BacktestRequest = { ...(strategy ? { strategy } : {}), ...(hasSpec ? { spec: b.spec } : {}) };
        const symbol = text(b, 'symbol');
        const interval = text(b, 'interval');
        const data = text(b, 'data');
        const fees = text(b, 'fees');
        const params = paramsField(b);
        const from = timeField(b, 'from');
        const to = timeField(b, 'to');
        const limit = intField(b, 'limit', 1, 10_000_000);
        const slippage = intField(b, 'slippage', 0, 10_000);
        const balances = balancesField(b);
        Object.assign(r, {
          ...(symbol ? { symbol } : {}),
          ...(interval ? { interval } : {}),
          ...(data ? { data } : {}),
          ...(fees ? { fees } : {}),
          ...(params ? { params } : {}),
          ...(from === undefined ? {} : { from }),
          ...(to === undefined ? {} : { to }),
          ...(limit === undefined ? {} : { limit }),
          ...(slippage === undefined ? {} : { slippage }),
          ...(balances ? { balances } : {}),
        });
        const job = await jobs().submit(r);
        return { status: 202, body: { id: job.id, status: job.status, progress: job.progress } };
      },
    },
    {
      method: 'GET',
      path: '/api/qtrade/backtests',
      scope: 'read',
      summary: 'One backtest job (status, progress 0..1, result when done, error when failed), or the recent jobs without their results',
      params: { id: 'the job id; without it, the list' },
      handle: (req) => {
        const id = optionalParam(req, 'id');
        if (id === undefined) return { body: jobs().list().map(jobSummary) };
        const job = jobs().get(id);
        if (!job) throw new ApiError(404, -1000, `No backtest job "${id}" (jobs live in the daemon's memory: the most recent ones of this run).`);
        return { body: job };
      },
    },
  ];
}

import { INTERVAL_MS } from '../candles/intervals.js';
import { INTERVALS, type Candle, type Interval } from '../candles/types.js';
import { QtradeError, UsageError } from '../errors.js';
import { formatFixed } from '../fixed.js';
import type { Instrument } from '../market/types.js';
import { formatAmount } from '../orders/amounts.js';
import { bundledMarket } from '../orders/bundled-filters.js';
import { checkFilters } from '../orders/filters.js';
import { OrderRejectedError } from '../orders/rejections.js';
import { parseBalanceSpec } from '../orders/service.js';
import type { Amount } from '../orders/types.js';
import type { StrategyDefinition } from '../strategy/api.js';
import { runBacktest } from '../strategy/backtest.js';
import { BUILTIN_STRATEGIES } from '../strategy/builtins/index.js';
import { ATR, Bollinger, EMA, MACD, RSI, SMA } from '../strategy/indicators/index.js';
import { resolveParams } from '../strategy/params.js';
import { DEFAULT_PAPER_BALANCES, orderRequestFromText } from '../trading.js';
import { backtestSummary, type BacktestSummary } from './backtest-report.js';
import type { ToolCall, ToolSpec } from './client.js';
import { describeOrder, type Proposal, type ProposalBook, type ProposedOrder } from './proposals.js';
import { assessRisk } from './risk.js';
import { STRATEGY_SPEC_SCHEMA, compileSpec, validateSpec, type StrategySpec } from './strategy-spec.js';
import type { EngineView } from './view.js';

/**
 * The functions the model may call. Each reads the engine through an EngineView, checks its
 * arguments by hand (a bad one is answered with an error naming it, for the model to correct)
 * and answers JSON with exact decimals as strings. There is no tool that places, cancels or
 * changes anything: propose_order only records a pending proposal a person must approve.
 */

export interface ToolContext {
  view: EngineView;
  /** Where proposals are recorded; absent: propose_order answers that proposing is unavailable. */
  proposals?: ProposalBook;
  /** Who asks ('ask', 'chat', 'daemon', 'tui'), stamped on proposals. */
  source: string;
  model?: string;
  /**
   * Time proposals are stamped with and expire by (ms). A proposal waits for a person, so its
   * window runs on the clock of whoever approves it: the caller's local clock, as cancels and
   * halts carry (default: the view's exchange time).
   */
  decisionClock?: () => number;
}

/** A strategy spec the model had backtested, with its result. */
export interface StrategyRecord {
  spec: StrategySpec;
  backtest: BacktestSummary;
}

export interface ToolOutcome {
  id: string;
  name: string;
  ok: boolean;
  /** What goes back to the model (JSON text). */
  content: string;
  /** A short human line for progress output. */
  summary: string;
  proposal?: Proposal;
  strategy?: StrategyRecord;
}

export interface ToolBox {
  specs(): ToolSpec[];
  execute(call: ToolCall): Promise<ToolOutcome>;
}

/** An argument the model got wrong; the message names the field. */
class ArgError extends Error {}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

class Args {
  constructor(
    private readonly o: Record<string, unknown>,
    allowed: readonly string[],
  ) {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new ArgError(`unexpected argument "${k}" (arguments: ${allowed.join(', ') || 'none'})`);
  }

  has(name: string): boolean {
    return this.o[name] !== undefined && this.o[name] !== null;
  }

  str(name: string, opts: { required: true; max?: number }): string;
  str(name: string, opts?: { required?: false; max?: number }): string | undefined;
  str(name: string, opts: { required?: boolean; max?: number } = {}): string | undefined {
    const v = this.o[name];
    if (v === undefined || v === null || v === '') {
      if (opts.required) throw new ArgError(`"${name}" is required`);
      return undefined;
    }
    if (typeof v !== 'string') throw new ArgError(`"${name}" must be a string, got ${JSON.stringify(v)}`);
    if (v.length > (opts.max ?? 100)) throw new ArgError(`"${name}" is longer than ${opts.max ?? 100} characters`);
    return v;
  }

  /** A decimal given as a string or a plain number, returned as the string the order parser takes. */
  decimal(name: string): string | undefined {
    const v = this.o[name];
    if (v === undefined || v === null || v === '') return undefined;
    const s = typeof v === 'number' && Number.isFinite(v) && v > 0 ? String(v) : v;
    if (typeof s !== 'string' || !/^\d+(\.\d+)?$/.test(s.trim())) throw new ArgError(`"${name}" must be a positive decimal such as "0.01", got ${JSON.stringify(v)}`);
    return s.trim();
  }

  int(name: string, min: number, max: number, fallback: number): number {
    const v = this.o[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ArgError(`"${name}" must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    return v;
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback?: T): T {
    const v = this.o[name];
    if (v === undefined || v === null) {
      if (fallback === undefined) throw new ArgError(`"${name}" is required (${values.join(', ')})`);
      return fallback;
    }
    const up = typeof v === 'string' ? (values.find((x) => x.toLowerCase() === v.toLowerCase()) as T | undefined) : undefined;
    if (up === undefined) throw new ArgError(`"${name}" must be one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
    return up;
  }

  raw(name: string): unknown {
    return this.o[name];
  }
}

interface ToolDef {
  spec: ToolSpec;
  run(a: Args, ctx: ToolContext): Promise<{ result: unknown; summary: string; proposal?: Proposal; strategy?: StrategyRecord }>;
}

const SYMBOL = { type: 'string', description: 'Binance spot symbol, e.g. BTCUSDT' };
const price = (raw: number | undefined, inst: Instrument): string | null => (raw === undefined ? null : formatFixed(raw, inst.priceScale));
const round = (x: number | undefined, d: number): number | null => (x === undefined || !Number.isFinite(x) ? null : Number(x.toFixed(d)));
const iso = (ms: number): string => new Date(ms).toISOString();

/** qtrade's own indicators over the candles, as the model's summary of them. */
function indicatorSummary(candles: readonly Candle[], inst: Instrument): Record<string, unknown> {
  const d = inst.priceScale + 2;
  const sma20 = new SMA(20);
  const sma50 = new SMA(50);
  const ema20 = new EMA(20);
  const rsi = new RSI(14);
  const macd = new MACD();
  const bb = new Bollinger();
  const atr = new ATR(14);
  for (const c of candles) {
    sma20.update(c);
    sma50.update(c);
    ema20.update(c);
    rsi.update(c);
    macd.update(c);
    bb.update(c);
    atr.update(c);
  }
  const m = macd.value;
  const b = bb.value;
  return {
    sma20: round(sma20.value, d),
    sma50: round(sma50.value, d),
    ema20: round(ema20.value, d),
    rsi14: round(rsi.value, 2),
    macd: m ? { macd: round(m.macd, d), signal: round(m.signal, d), histogram: round(m.histogram, d) } : null,
    bollinger20_2: b ? { upper: round(b.upper, d), middle: round(b.middle, d), lower: round(b.lower, d) } : null,
    atr14: round(atr.value, d),
    note: 'null: not enough candles for the indicator yet',
  };
}

function candleRow(c: Candle): Record<string, unknown> {
  return {
    open: iso(c.openTime),
    o: formatFixed(c.open, c.priceScale),
    h: formatFixed(c.high, c.priceScale),
    l: formatFixed(c.low, c.priceScale),
    c: formatFixed(c.close, c.priceScale),
    v: formatFixed(c.volume, c.qtyScale, 0),
    trades: c.trades,
  };
}

/** Largest backtest input: 1m candles (about five weeks). */
const MAX_BACKTEST_MINUTES = 50_000;

const TOOLS: ToolDef[] = [
  {
    spec: {
      name: 'get_ticker',
      description: 'Last trade price and time, best bid/ask, and the 24h ticker when known, of one symbol.',
      parameters: { type: 'object', properties: { symbol: SYMBOL }, required: ['symbol'], additionalProperties: false },
    },
    async run(a, { view }) {
      const inst = view.instrument(a.str('symbol', { required: true }));
      const t = await view.ticker(inst.symbol);
      const day = t.day;
      return {
        summary: `ticker ${inst.symbol}`,
        result: {
          symbol: inst.symbol,
          lastPrice: price(t.lastPrice, inst),
          lastTime: t.lastTime === undefined ? null : iso(t.lastTime),
          bid: price(t.bid, inst),
          ask: price(t.ask, inst),
          day: day
            ? { open: price(day.open, inst), high: price(day.high, inst), low: price(day.low, inst), close: price(day.close, inst), volume: formatFixed(day.volume, inst.qtyScale, 0), changePct: day.open > 0 ? (((day.close - day.open) / day.open) * 100).toFixed(2) : null }
            : null,
          source: t.source,
        },
      };
    },
  },
  {
    spec: {
      name: 'get_candles',
      description: "Closed candles of a symbol with qtrade's indicator summary (SMA 20/50, EMA 20, RSI 14, MACD 12/26/9, Bollinger 20/2, ATR 14) over them.",
      parameters: {
        type: 'object',
        properties: {
          symbol: SYMBOL,
          interval: { type: 'string', enum: [...INTERVALS], description: 'default 1h' },
          limit: { type: 'integer', minimum: 2, maximum: 1000, description: 'candles to compute over (default 200)' },
          show: { type: 'integer', minimum: 0, maximum: 100, description: 'latest candles to list in full (default 10)' },
        },
        required: ['symbol'],
        additionalProperties: false,
      },
    },
    async run(a, { view }) {
      const inst = view.instrument(a.str('symbol', { required: true }));
      const interval = a.oneOf<Interval>('interval', INTERVALS, '1h');
      const limit = a.int('limit', 2, 1000, 200);
      const show = a.int('show', 0, 100, 10);
      const set = await view.candles(inst.symbol, interval, limit);
      const cs = set.candles;
      if (cs.length === 0) throw new UsageError(`no ${inst.symbol} ${interval} candles are available (${set.source})`, { hint: 'the user can fetch history with `qtrade history download`' });
      const first = cs[0]!;
      const last = cs[cs.length - 1]!;
      const high = Math.max(...cs.map((c) => c.high));
      const low = Math.min(...cs.map((c) => c.low));
      return {
        summary: `candles ${inst.symbol} ${interval} ×${cs.length}`,
        result: {
          symbol: inst.symbol,
          interval,
          source: set.source,
          count: cs.length,
          from: iso(first.openTime),
          to: iso(last.closeTime + 1),
          firstOpen: formatFixed(first.open, inst.priceScale),
          lastClose: formatFixed(last.close, inst.priceScale),
          changePct: first.open > 0 ? (((last.close - first.open) / first.open) * 100).toFixed(2) : null,
          high: formatFixed(high, inst.priceScale),
          low: formatFixed(low, inst.priceScale),
          indicators: indicatorSummary(cs, inst),
          latest: cs.slice(-show).map(candleRow),
        },
      };
    },
  },
  {
    spec: {
      name: 'get_order_book',
      description: 'Top levels of the order book (price, quantity) of one symbol, with spread and mid.',
      parameters: { type: 'object', properties: { symbol: SYMBOL, depth: { type: 'integer', minimum: 1, maximum: 50, description: 'levels per side (default 10)' } }, required: ['symbol'], additionalProperties: false },
    },
    async run(a, { view }) {
      const inst = view.instrument(a.str('symbol', { required: true }));
      const depth = a.int('depth', 1, 50, 10);
      const b = await view.book(inst.symbol, depth);
      const level = (l: { price: number; qty: number }): [string, string] => [formatFixed(l.price, inst.priceScale), formatFixed(l.qty, inst.qtyScale)];
      const bid = b.bids[0];
      const ask = b.asks[0];
      return {
        summary: `order book ${inst.symbol}`,
        result: {
          symbol: inst.symbol,
          bids: b.bids.slice(0, depth).map(level),
          asks: b.asks.slice(0, depth).map(level),
          spread: bid && ask ? formatFixed(ask.price - bid.price, inst.priceScale) : null,
          mid: bid && ask ? formatFixed((bid.price + ask.price) * 5, inst.priceScale + 1, inst.priceScale) : null,
          source: b.source,
        },
      };
    },
  },
  {
    spec: { name: 'get_balances', description: 'Free and locked balance of every asset of the paper account.', parameters: { type: 'object', properties: {}, additionalProperties: false } },
    async run(_a, { view }) {
      const list = await view.balances();
      return { summary: 'balances', result: list.map((b) => ({ asset: b.asset, free: formatAmount(b.free), locked: formatAmount(b.locked) })) };
    },
  },
  {
    spec: { name: 'get_positions', description: 'Positions of the paper account per symbol: quantity, average entry, realized and unrealized PnL at the last price.', parameters: { type: 'object', properties: {}, additionalProperties: false } },
    async run(_a, { view }) {
      const list = await view.positions();
      return {
        summary: 'positions',
        result: list.map((p) => ({
          symbol: p.symbol,
          qty: formatAmount(p.qty, 0),
          avgEntry: formatAmount(p.avgEntry, 2),
          cost: formatAmount(p.cost, 2),
          realizedPnl: formatAmount(p.realizedPnl, 2),
          unrealizedPnl: p.unrealizedPnl === undefined ? null : formatAmount(p.unrealizedPnl, 2),
          mark: p.mark === undefined ? null : formatFixed(p.mark, p.priceScale),
          fees: formatAmount(p.fees, 2),
          quoteAsset: p.quoteAsset,
        })),
      };
    },
  },
  {
    spec: {
      name: 'get_open_orders',
      description: 'Open orders of the paper account (resting limits and untriggered stops).',
      parameters: { type: 'object', properties: { symbol: { ...SYMBOL, description: 'only this symbol (optional)' } }, additionalProperties: false },
    },
    async run(a, { view }) {
      const s = a.str('symbol');
      const list = await view.openOrders(s === undefined ? undefined : view.instrument(s).symbol);
      return {
        summary: 'open orders',
        result: list.map((o) => {
          const inst = view.instrument(o.symbol);
          return {
            orderId: o.orderId,
            clientOrderId: o.clientOrderId,
            symbol: o.symbol,
            side: o.side,
            type: o.type,
            price: o.price === 0 ? null : formatFixed(o.price, inst.priceScale),
            stopPrice: o.stopPrice === 0 ? null : formatFixed(o.stopPrice, inst.priceScale),
            qty: formatFixed(o.origQty, inst.qtyScale),
            executed: formatFixed(o.executedQty, inst.qtyScale),
            status: o.status,
            working: o.isWorking,
            time: iso(o.time),
          };
        }),
      };
    },
  },
  {
    spec: {
      name: 'list_strategies',
      description: "qtrade's built-in strategies with their parameters (name, type, default, range). A declarative spec can be backtested instead with run_backtest.spec.",
      parameters: { type: 'object', properties: {}, additionalProperties: false },
    },
    async run() {
      return {
        summary: 'strategies',
        result: [...BUILTIN_STRATEGIES.values()].map((s) => ({ name: s.name, description: s.description ?? '', params: s.params })),
      };
    },
  },
  {
    spec: {
      name: 'run_backtest',
      description:
        'Backtest a built-in strategy (strategy + params) or a declarative strategy spec (spec) on stored 1m candles of a symbol (or a qtrade recording), ' +
        'with the same engine and metrics as `qtrade backtest`. Candle backtests are an approximation (4 prints per candle). A spec is validated first; errors name the bad field.',
      parameters: {
        type: 'object',
        properties: {
          strategy: { type: 'string', description: 'a built-in name (list_strategies); omit when giving spec' },
          params: { type: 'object', description: 'built-in parameters, name → value' },
          spec: STRATEGY_SPEC_SCHEMA,
          symbol: SYMBOL,
          interval: { type: 'string', enum: [...INTERVALS], description: "strategy interval (default: the spec's, else 1m)" },
          bars: { type: 'integer', minimum: 10, maximum: MAX_BACKTEST_MINUTES, description: 'latest bars of the interval to run over (default 500; at most 50000 minutes of data)' },
          balance: { type: 'string', description: 'starting balance such as "10000USDT" (default 10000USDT)' },
          recording: { type: 'string', description: 'a qtrade recording file to replay instead of stored candles (where offered)' },
        },
        required: ['symbol'],
        additionalProperties: false,
      },
    },
    async run(a, { view }) {
      const hasSpec = a.has('spec');
      const name = a.str('strategy');
      if (hasSpec === (name !== undefined)) throw new ArgError('give either "strategy" (a built-in) or "spec" (a declarative spec), not both or neither');
      let spec: StrategySpec | undefined;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      let strategy: StrategyDefinition<any> | undefined;
      if (hasSpec) {
        spec = validateSpec(a.raw('spec'));
        strategy = compileSpec(spec);
      } else {
        strategy = BUILTIN_STRATEGIES.get(name!);
        if (!strategy) throw new ArgError(`"strategy": no built-in "${name}" (built-ins: ${[...BUILTIN_STRATEGIES.keys()].join(', ')})`);
      }
      const params = a.raw('params');
      if (params !== undefined && params !== null && (!isObject(params) || hasSpec)) throw new ArgError(hasSpec ? '"params" apply to built-ins; a spec carries its own settings' : '"params" must be an object of name → value');
      const resolved = resolveParams(strategy.name, strategy.params, (params ?? {}) as Record<string, unknown>);
      const bad = strategy.validate?.(resolved);
      if (bad) throw new ArgError(`params: ${bad}`);
      const market = bundledMarket();
      const inst = market.instruments.get(view.instrument(a.str('symbol', { required: true })).symbol);
      const interval = a.oneOf<Interval>('interval', INTERVALS, spec?.interval ?? '1m');
      const bars = a.int('bars', 10, MAX_BACKTEST_MINUTES, 500);
      const balanceText = a.str('balance', { max: 40 });
      let balances: Record<string, Amount> = { ...DEFAULT_PAPER_BALANCES };
      if (balanceText !== undefined) {
        const b = parseBalanceSpec(balanceText);
        balances = { [b.asset]: b.amount };
      }
      const recordingArg = a.str('recording', { max: 500 });
      let data: string;
      let input: { candles: Candle[] } | { recording: string };
      if (recordingArg !== undefined) {
        if (!view.recording) throw new ArgError('"recording": replaying files is not offered here; backtest on stored candles instead');
        const file = await view.recording(recordingArg);
        input = { recording: file };
        data = `recording ${file}`;
      } else {
        const minutes = bars * (INTERVAL_MS[interval] / 60_000);
        if (minutes > MAX_BACKTEST_MINUTES) throw new ArgError(`"bars": ${bars} ${interval} bars are ${minutes} minutes of data; at most ${MAX_BACKTEST_MINUTES} (lower bars or use a shorter interval)`);
        if (view.storedBacktest) {
          // A daemon's backtest job: on its store and a worker thread (the CLI attached, or the daemon's own assistant).
          const summary = await view.storedBacktest({
            strategy: strategy.name,
            ...(spec ? { spec } : {}),
            symbol: inst.symbol,
            interval,
            params: resolved as Record<string, unknown>,
            bars,
            ...(balanceText !== undefined ? { balance: balanceText } : {}),
          });
          return backtestOutcome(summary, spec);
        }
        const candles = await view.backtestCandles(inst.symbol, minutes);
        if (candles.length === 0) {
          throw new UsageError(`no ${inst.symbol} 1m candles in the store to backtest on`, { hint: `the user can fetch them with \`qtrade history download ${inst.symbol} --from 2024-01-01\`` });
        }
        input = { candles };
        data = `store: ${candles.length} 1m candles ${iso(candles[0]!.openTime)} → ${iso(candles[candles.length - 1]!.closeTime + 1)}`;
      }
      const result = await runBacktest({ strategy, params: resolved as Record<string, unknown>, symbol: inst.symbol, interval, ...input, initialBalances: balances, ...market });
      if (result.candles === 0) throw new UsageError(`no ${inst.symbol} ${interval} candle closed in the data (${data})`, { hint: 'use a shorter interval or more data' });
      return backtestOutcome(backtestSummary(result, inst, data), spec);
    },
  },
  {
    spec: {
      name: 'assess_risk',
      description:
        'Risk of the paper account computed by qtrade: holdings and concentration, volatility and historical VaR 95/99 from 1m and 1h candle returns, ' +
        'distance to open stops, and usage of the risk limits. Cite these numbers; do not compute your own.',
      parameters: { type: 'object', properties: { quote: { type: 'string', description: 'valuation asset (default USDT)' } }, additionalProperties: false },
    },
    async run(a, { view }) {
      const quote = a.str('quote', { max: 12 });
      const r = await assessRisk(view, quote ? { quote } : {});
      return { summary: `risk: equity ${r.equity} ${r.quote}`, result: r };
    },
  },
  {
    spec: {
      name: 'propose_order',
      description:
        'Propose a paper order for the user to approve. It is NOT placed: it is recorded as pending, and only the user can approve it ' +
        '(`qtrade proposals approve ID`). Give qty (base) or quoteQty (market orders), and limit/stop prices as decimal strings.',
      parameters: {
        type: 'object',
        properties: {
          symbol: SYMBOL,
          side: { type: 'string', enum: ['BUY', 'SELL'] },
          type: { type: 'string', enum: ['MARKET', 'LIMIT', 'LIMIT_MAKER', 'STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT'], description: 'default from limit/stop, else MARKET' },
          qty: { type: 'string', description: 'base quantity, e.g. "0.01"' },
          quoteQty: { type: 'string', description: 'MARKET only: quote amount, e.g. "100"' },
          limit: { type: 'string', description: 'limit price' },
          stop: { type: 'string', description: 'stop (trigger) price' },
          tif: { type: 'string', enum: ['GTC', 'IOC', 'FOK'] },
          rationale: { type: 'string', description: 'why, in one or two sentences, citing the numbers used' },
        },
        required: ['symbol', 'side', 'rationale'],
        additionalProperties: false,
      },
    },
    async run(a, ctx) {
      const inst = ctx.view.instrument(a.str('symbol', { required: true }));
      const side = a.oneOf('side', ['BUY', 'SELL'] as const);
      const rationale = a.str('rationale', { required: true, max: 1000 });
      const order: ProposedOrder = { symbol: inst.symbol, side };
      const type = a.str('type', { max: 20 });
      const tif = a.str('tif', { max: 3 });
      for (const k of ['qty', 'quoteQty', 'limit', 'stop'] as const) {
        const v = a.decimal(k);
        if (v !== undefined) order[k] = v;
      }
      if (type !== undefined) order.type = type.toUpperCase();
      if (tif !== undefined) order.tif = tif.toUpperCase();
      if ((order.qty === undefined) === (order.quoteQty === undefined)) throw new ArgError('give exactly one of "qty" and "quoteQty"');
      // The order parser of `qtrade order` and Binance's filters: a proposal that approval would
      // refuse for its form (precision, tick, lot size, notional) is refused now, to the model.
      const req = orderRequestFromText(inst, order);
      const filters = bundledMarket().filters.get(inst.symbol);
      if (filters) {
        const open = await ctx.view.openOrders(inst.symbol);
        const last = await ctx.view.ticker(inst.symbol).then((t) => t.lastPrice, () => undefined);
        const rejection = checkFilters(
          filters,
          inst,
          { side: req.side, type: req.type, qty: req.qty, quoteOrderQty: req.quoteOrderQty, price: req.price, stopPrice: req.stopPrice },
          { openOrders: open.length, openAlgoOrders: open.filter((o) => o.stopPrice !== 0).length, refPrice: () => (last === undefined ? undefined : { num: BigInt(last), den: 1n }) },
        );
        if (rejection) throw new OrderRejectedError(rejection);
      }
      if (!ctx.proposals) throw new UsageError('proposals cannot be recorded here', { hint: 'tell the user the order to place with `qtrade order`' });
      const proposal = await ctx.proposals.create({ order, rationale, source: ctx.source, ...(ctx.model ? { model: ctx.model } : {}) }, ctx.decisionClock ? ctx.decisionClock() : ctx.view.now());
      return {
        summary: `proposal ${proposal.id}: ${describeOrder(order)} (pending)`,
        proposal,
        result: {
          id: proposal.id,
          status: proposal.status,
          order: describeOrder(order),
          expiresAt: iso(proposal.expiresAt),
          placed: false,
          note: `Not placed. The user approves it with \`qtrade proposals approve ${proposal.id}\` or rejects it with \`qtrade proposals reject ${proposal.id}\`.`,
        },
      };
    },
  },
];

/** Largest tool answer sent back to the model, characters. */
const MAX_RESULT_CHARS = 60_000;

function errorContent(message: string, hint?: string): string {
  return JSON.stringify({ error: message, ...(hint ? { hint } : {}) });
}

/** The tools over one view; `execute` never throws: every failure is an error result for the model. */
/** run_backtest's answer: the summary for the model, a line for the user, the spec kept with its result. */
function backtestOutcome(summary: BacktestSummary, spec: StrategySpec | undefined): { result: BacktestSummary; summary: string; strategy?: StrategyRecord } {
  const m = summary.metrics;
  const ret = typeof m.totalReturn === 'number' ? (m.totalReturn * 100).toFixed(2) : 'n/a';
  return {
    summary: `backtest ${summary.strategy} ${summary.symbol} ${summary.interval}: return ${ret} %, ${String(m.trades)} trades`,
    result: summary,
    ...(spec ? { strategy: { spec, backtest: summary } } : {}),
  };
}

export function createToolBox(ctx: ToolContext): ToolBox {
  const byName = new Map(TOOLS.map((t) => [t.spec.name, t]));
  const names = [...byName.keys()];
  return {
    specs: () => TOOLS.map((t) => t.spec),
    async execute(call) {
      const base = { id: call.id, name: call.name };
      const tool = byName.get(call.name);
      if (!tool) {
        const orders = /order|trade|buy|sell|cancel/i.test(call.name);
        const msg = `unknown tool "${call.name.slice(0, 60)}"${orders ? ': no tool places, cancels or changes orders; use propose_order and the user decides' : ''}`;
        return { ...base, ok: false, content: errorContent(msg, `tools: ${names.join(', ')}`), summary: `refused unknown tool ${call.name.slice(0, 60)}` };
      }
      let parsed: unknown;
      try {
        parsed = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
      } catch (err) {
        const msg = `the arguments of ${call.name} are not valid JSON (${(err as Error).message})`;
        return { ...base, ok: false, content: errorContent(msg, 'send one JSON object matching the parameters'), summary: `${call.name}: invalid JSON arguments` };
      }
      if (!isObject(parsed)) {
        return { ...base, ok: false, content: errorContent(`the arguments of ${call.name} must be a JSON object`), summary: `${call.name}: arguments not an object` };
      }
      const props = Object.keys((tool.spec.parameters.properties ?? {}) as Record<string, unknown>);
      try {
        const r = await tool.run(new Args(parsed, props), ctx);
        let content = JSON.stringify(r.result, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
        if (content.length > MAX_RESULT_CHARS) content = errorContent(`the result of ${call.name} is too large (${content.length} characters)`, 'ask for fewer items (limit, show, depth)');
        return { ...base, ok: true, content, summary: r.summary, ...(r.proposal ? { proposal: r.proposal } : {}), ...(r.strategy ? { strategy: r.strategy } : {}) };
      } catch (err) {
        if (err instanceof ArgError) return { ...base, ok: false, content: errorContent(`${call.name}: ${err.message}`), summary: `${call.name}: ${err.message}` };
        if (err instanceof QtradeError) return { ...base, ok: false, content: errorContent(err.message, err.hint), summary: `${call.name}: ${err.message}` };
        const msg = err instanceof Error ? err.message : String(err);
        return { ...base, ok: false, content: errorContent(`${call.name} failed: ${msg}`), summary: `${call.name} failed: ${msg}` };
      }
    },
  };
}

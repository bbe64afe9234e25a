import { Bus } from '../bus.js';
import type { Candle, Interval } from '../candles/types.js';
import { INTERVAL_MS } from '../candles/intervals.js';
import { SimClock, type Clock } from '../clock.js';
import { UsageError } from '../errors.js';
import { parseFixed } from '../fixed.js';
import { createKernel } from '../kernel.js';
import type { Instruments } from '../market/instruments.js';
import { readRecordingHeader } from '../market/replay/recording.js';
import { ReplayVenue } from '../market/replay/replay-venue.js';
import type { Channel } from '../market/source.js';
import type { Instrument, Trade } from '../market/types.js';
import { scalesOf } from '../orders/amounts.js';
import { bundledMarket } from '../orders/bundled-filters.js';
import type { OrderEvent } from '../orders/events.js';
import type { FeeSchedule, FeeScheduleOptions } from '../orders/fees.js';
import type { FilterSet } from '../orders/filters.js';
import type { BookView } from '../orders/matching.js';
import { PaperEngine } from '../orders/paper-engine.js';
import type { Amount, Balance, Fill, Order } from '../orders/types.js';
import { riskPreTrade, type RiskEngine } from '../risk/index.js';
import type { LogEntry, StrategyDefinition } from './api.js';
import { SyntheticBook, candlePath, printQty, type SyntheticBookOptions } from './market-model.js';
import { EquityRecorder, type EquitySeries } from './equity.js';
import { computeMetrics, type Metrics } from './metrics.js';
import type { ParamSchema } from './params.js';
import { StrategyRunner, type RunnerError, type RunnerSnapshot, type RunnerStatus } from './runner.js';
import { withPreTrade, type OrderSink } from './sink.js';
import { TradeStreamVenue } from './trade-venue.js';

// ---------------------------------------------------------------------------------------------
// Wiring shared by every driver: backtests and paper trading call the same function.

export interface AttachOptions {
  bus: Bus;
  clock: Clock;
  orders: OrderSink;
  instrument: Instrument;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  strategy: StrategyDefinition<any>;
  params?: Record<string, unknown>;
  interval?: Interval;
  id?: string;
  /**
   * For feeds without depth: a SyntheticBook moved to every trade's price and handed to
   * `onBook` (PaperEngine.onBook, or `(b) => service.onBook(symbol, b)`), so market orders have
   * a book to walk. Leave unset when the feed carries depth.
   */
  syntheticBook?: { options: Omit<SyntheticBookOptions, 'instrument'>; onBook: (book: BookView) => void };
  /** Equity marks to make room for up front (a backtest over an array knows); the series grows past it. */
  expectedMarks?: number;
  restore?: Pick<RunnerSnapshot, 'state' | 'nextOrder'>;
  persist?: (s: RunnerSnapshot) => void;
  /** 'caller': the driver hands closed candles to `runner.candleClosed` instead of the bus (see StrategyRunnerOptions). */
  candles?: 'bus' | 'caller';
}

export interface AttachedStrategy {
  runner: StrategyRunner<ParamSchema>;
  recorder: EquityRecorder;
  /** The strategy symbol's fills as the bus delivered them. */
  fills: Fill[];
  detach(): void;
}

/**
 * Puts a strategy on a bus: the optional synthetic book (subscribed before the runner, so an
 * order flushed on a trade meets the book at that trade's price), the runner, and the equity
 * marks and fill list a report needs. The caller feeds the order engine each trade before the
 * bus publishes it (the kernel does this for an OrderService; runBacktest for a PaperEngine).
 */
export function attachStrategy(opts: AttachOptions): AttachedStrategy {
  const { bus, instrument: inst } = opts;
  const sym = inst.symbol;
  const unsubs: Array<() => void> = [];
  if (opts.syntheticBook) {
    const book = new SyntheticBook({ instrument: inst, ...opts.syntheticBook.options });
    const onBook = opts.syntheticBook.onBook;
    unsubs.push(
      bus.subscribe('trade', (t) => {
        if (t.symbol !== sym) return;
        book.set(t.price);
        onBook(book);
      }),
    );
  }
  const stepAmount = BigInt(parseFixed(inst.stepSize, inst.qtyScale) || 1) * scalesOf(inst).qtyMul;
  const flat = (q: Amount): boolean => (q < 0n ? -q : q) < stepAmount;
  const orders = opts.orders;
  const base = orders.positionQty ? (): Amount => orders.positionQty!(sym) : (): Amount => orders.position(sym)?.qty ?? 0n;
  const recorder = new EquityRecorder(orders, inst, base, flat, opts.expectedMarks);
  const fills: Fill[] = [];
  unsubs.push(
    bus.subscribe('fill', (f) => {
      if (f.symbol !== sym) return;
      fills.push(f);
      recorder.noteFill();
    }),
  );
  const series = recorder.series;
  const runner = new StrategyRunner({
    strategy: opts.strategy,
    symbol: sym,
    instrument: inst,
    bus,
    clock: opts.clock,
    orders: opts.orders,
    ...(opts.params ? { params: opts.params } : {}),
    ...(opts.interval ? { interval: opts.interval } : {}),
    ...(opts.id ? { id: opts.id } : {}),
    ...(opts.restore ? { restore: opts.restore } : {}),
    ...(opts.persist ? { persist: opts.persist } : {}),
    ...(opts.candles ? { candles: opts.candles } : {}),
    afterCandle: (c) => {
      if (series.length === 0) recorder.start(c.openTime, c.open);
      recorder.mark(c);
    },
  });
  runner.start();
  return {
    runner,
    recorder,
    fills,
    detach: () => {
      runner.stop();
      for (const u of unsubs.splice(0)) u();
    },
  };
}

/**
 * One candle with the microtask turns `for await (const c of [candle])` gives it (two ticks before
 * the candle, two after it: one await and this function's own promise), without the array and the
 * async-from-sync iterator that builds. The turn-depth test pins the ticks.
 */
async function turnAround(step: (c: Candle) => void, c: Candle): Promise<void> {
  await null;
  await null;
  step(c);
  await null;
}

/** The channels to replay a recording with: its trade channel, and depth when recorded. */
export async function recordingChannels(path: string): Promise<{ channels: Channel[]; depth: boolean }> {
  const header = await readRecordingHeader(path);
  const recorded = header?.channels ?? [];
  const trade: Channel = recorded.includes('aggTrade') || !recorded.includes('trade') ? 'aggTrade' : 'trade';
  const depth = recorded.includes('depth');
  return { channels: depth ? [trade, 'depth'] : [trade], depth };
}

// ---------------------------------------------------------------------------------------------

export interface BacktestOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  strategy: StrategyDefinition<any>;
  params?: Record<string, unknown>;
  symbol: string;
  /** Strategy interval; default 1m. Candle data must be of this interval or a shorter one dividing it. */
  interval?: Interval;
  /** Exactly one source. */
  candles?: AsyncIterable<Candle> | Iterable<Candle>;
  trades?: AsyncIterable<Trade> | Iterable<Trade>;
  recording?: string;
  /** Default: the bundled exchangeInfo snapshot. */
  instruments?: Instruments;
  filters?: FilterSet;
  fees?: FeeSchedule | FeeScheduleOptions;
  /** Ticks a taker pays beyond the print price, where the book is synthetic; default 0. */
  slippageTicks?: number;
  /** Synthetic book depth: levels per side and base qty per level; default one unlimited level. */
  book?: { levels?: number; levelQty?: string };
  initialBalances: Record<string, Amount>;
  /** Pre-trade risk, applied as OrderService applies it. */
  risk?: RiskEngine;
  queueModel?: boolean;
  /** Runner id (clientOrderId prefix). */
  id?: string;
}

export type BacktestSource = 'candles' | 'trades' | 'recording';

export interface BacktestResult {
  strategy: string;
  symbol: string;
  interval: Interval;
  params: Record<string, unknown>;
  source: BacktestSource;
  /** How fills were modelled: 'exact' for trades and recordings, 'candle-approximation' for candles. */
  model: 'exact' | 'candle-approximation';
  /** Whether taker orders walked a recorded depth book or the synthetic one. */
  book: 'recorded-depth' | 'synthetic';
  fills: Fill[];
  /**
   * The equity curve: the start point, then one mark per bar. Its values are a chart/statistics
   * series (Float64Array); `equity.exact(i)` gives any mark's exact bigint equity.
   */
  equity: EquitySeries;
  metrics: Metrics;
  status: RunnerStatus;
  error: RunnerError | undefined;
  logs: LogEntry[];
  candles: number;
  balances: Balance[];
  openOrders: Order[];
}

/**
 * A backtest: the same StrategyRunner and the same PaperEngine (behind the same pre-trade risk
 * hook) as paper trading, driven by a SimClock.
 *
 * - `recording`: the kernel with a ReplayVenue at full speed, literally the `qtrade replay` path.
 *   Fills are exact: resting orders fill on the recorded prints, taker orders walk the recorded
 *   depth book (or a synthetic book at each print's price when the recording has no depth).
 * - `trades`: the kernel with a TradeStreamVenue; exact like a recording, synthetic book.
 * - `candles`: an APPROXIMATION. Each candle becomes four prints (candlePrints: O→L→H→C for an up
 *   candle, O→H→L→C for a down one), and the synthetic book follows them. An order placed on a
 *   candle's close goes out at the next candle's open print: a market order fills at that open
 *   plus `slippageTicks`, a limit or stop on the later prints. Intra-candle order of events is a
 *   guess, so results differ from trade-level backtests wherever it matters.
 */
export async function runBacktest(opts: BacktestOptions): Promise<BacktestResult> {
  const sources = [opts.candles, opts.trades, opts.recording].filter((s) => s !== undefined).length;
  if (sources !== 1) throw new UsageError('a backtest needs exactly one data source: candles, trades or a recording');
  const market = opts.instruments ? { instruments: opts.instruments, filters: opts.filters } : bundledMarket();
  const instruments = market.instruments;
  const inst = instruments.get(opts.symbol);
  const interval = opts.interval ?? '1m';
  const bus = new Bus();
  const clock = new SimClock();
  const engine = new PaperEngine({
    instruments: instruments.all(),
    ...(opts.filters ?? market.filters ? { filters: (opts.filters ?? market.filters)! } : {}),
    ...(opts.fees ? { fees: opts.fees } : {}),
    initialBalances: opts.initialBalances,
    ...(opts.queueModel ? { queueModel: true } : {}),
  });
  const hook = opts.risk
    ? riskPreTrade(opts.risk, { clock, instrument: (s) => (instruments.has(s) ? instruments.get(s) : undefined) })
    : undefined;
  const publish = (events: readonly OrderEvent[]): void => {
    for (const ev of events) {
      bus.publish('order.event', ev);
      if (ev.kind === 'fill') {
        opts.risk?.onFill(ev.fill);
        bus.publish('fill', ev.fill);
      }
    }
  };
  // Every call's events reach the bus, as OrderService publishes them (synchronously here).
  const inner = withPreTrade(engine, hook);
  const sink: OrderSink = {
    order: (ref) => inner.order(ref),
    openOrders: (symbol) => inner.openOrders(symbol),
    balance: (asset) => inner.balance(asset),
    position: (symbol) => inner.position(symbol),
    lastPrice: (symbol) => inner.lastPrice(symbol),
    positionQty: (symbol) => engine.state.positions.get(symbol)?.qty ?? 0n,
    stateVersion: () => engine.state.seq,
    submit(req, now) {
      const r = inner.submit(req, now) as ReturnType<PaperEngine['submit']>;
      publish(r.events);
      return r;
    },
    cancel(symbol, ref, now) {
      const r = inner.cancel(symbol, ref, now) as ReturnType<PaperEngine['cancel']>;
      publish(r.events);
      return r;
    },
    cancelAll(symbol, now) {
      const r = inner.cancelAll(symbol, now) as ReturnType<PaperEngine['cancelAll']>;
      publish(r.events);
      return r;
    },
  };
  const bookOptions = { slippageTicks: opts.slippageTicks ?? 0, ...(opts.book ?? {}) };
  let source: BacktestSource;
  let depth = false;
  /** Closed candles of the symbol: counted by step for candle data, off the bus for trades. */
  let candles = 0;

  let attached: AttachedStrategy;
  if (opts.candles) {
    source = 'candles';
    const book = new SyntheticBook({ instrument: inst, ...bookOptions });
    const src = opts.candles;
    // One mark per strategy bar (plus the start) when the candles come as an array.
    const first = Array.isArray(src) ? (src as readonly Candle[])[0] : undefined;
    const expectedMarks = first && INTERVAL_MS[first.interval] ? Math.ceil(((src as readonly Candle[]).length * INTERVAL_MS[first.interval]) / INTERVAL_MS[interval]) + 1 : undefined;
    // The runner gets each closed candle by a direct call. Through the bus, every candle would pass
    // the dispatch loop that also carries this run's trades and order events: V8 then judges the
    // loop's handler call rare and inlines none of the strategy's per-candle work into this step
    // (5 % of the run, over alternating pairs of processes).
    attached = attachStrategy({ bus, clock, orders: sink, instrument: inst, strategy: opts.strategy, params: opts.params, interval, candles: 'caller', ...(opts.id ? { id: opts.id } : {}), ...(expectedMarks ? { expectedMarks } : {}) });
    const runner = attached.runner;
    const sym = inst.symbol;
    const prices: number[] = [0, 0, 0, 0];
    const times: number[] = [0, 0, 0, 0];
    let nextId = 1;
    const stratMs = INTERVAL_MS[interval];
    let checked: Interval | undefined; // the candle interval last found to fit the strategy's
    let bookSeq = -1; // engine.state.seq when the engine last had onBook(book)
    const step = (c: Candle): void => {
      if (c.symbol !== inst.symbol) return;
      if (c.interval !== checked) {
        if (INTERVAL_MS[c.interval] > stratMs || stratMs % INTERVAL_MS[c.interval] !== 0) {
          throw new UsageError(`cannot run a ${interval} strategy on ${c.interval} candles`, { hint: `use ${interval} candles or a shorter interval that divides it` });
        }
        checked = c.interval;
      }
      // candlePrints, step by step: a print that can change nothing but the reference price and
      // the book (no open order, nothing queued, no onTrade hook) is never built as a Trade.
      let n = candlePath(c, prices, times);
      const qty = n > 0 ? printQty(c) : 0;
      if (n > 0 && runner.tradesIdle && engine.onIdlePrints(sym, prices, times, n, qty)) {
        // Nothing can happen inside this candle: only the reference price, the book and the clock move.
        for (let i = 0; i < n; i++) book.set(prices[i]!);
        // The engine holds this book object and reads its price when an order comes. onBook also
        // forgets the liquidity fills took from it: needed only when the engine's state moved since.
        if (engine.state.seq !== bookSeq) {
          engine.onBook(book);
          bookSeq = engine.state.seq;
        }
        runner.skippedTrades(n);
        nextId += n;
        // The clock moves to the last print's time below: it is the candle's closeTime.
        n = 0;
      }
      let prev = c.open;
      for (let i = 0; i < n; i++) {
        const price = prices[i]!;
        const time = times[i]!;
        const id = nextId++;
        let t: Trade | undefined;
        clock.advance(time);
        if (!engine.onIdlePrint(sym, price, qty, time)) {
          t = { symbol: c.symbol, id, price, qty, firstId: id, lastId: id, time, buyerMaker: price < prev };
          const evs = engine.onTrade(t);
          if (evs.length > 0) publish(evs);
        }
        book.set(price);
        engine.onBook(book);
        bookSeq = engine.state.seq;
        if (runner.tradesIdle) runner.skippedTrades(1);
        else bus.publish('trade', t ?? { symbol: c.symbol, id, price, qty, firstId: id, lastId: id, time, buyerMaker: price < prev });
        prev = price;
      }
      clock.advance(c.closeTime);
      candles++;
      const closed = c.closed ? c : { ...c, closed: true };
      if (bus.hasSubscribers('candle.closed')) bus.publish('candle.closed', closed);
      runner.candleClosed(closed);
    };
    // An async strategy needs a turn per candle, so its rejection pauses the runner before the
    // next candle as it would live: for await, also on arrays. A synchronous one has nothing to
    // wait for, so a synchronous source runs without the turns until a callback returns a promise;
    // after a candle in which order calls settled, the next candle still comes after a turn (as
    // for await gives it) so ticket callbacks run first.
    const it = Array.isArray(src) || Symbol.asyncIterator in src ? undefined : (src as Iterable<Candle>)[Symbol.iterator]();
    if (Array.isArray(src)) {
      const arr = src as readonly Candle[];
      for (let i = 0; i < arr.length; i++) {
        if (runner.asyncSeen) {
          for await (const c of arr.slice(i)) step(c);
          break;
        }
        if (runner.takeTurn()) await turnAround(step, arr[i]!);
        else step(arr[i]!);
      }
    } else if (it) {
      for (;;) {
        if (runner.asyncSeen) {
          for await (const c of { [Symbol.iterator]: () => it }) step(c);
          break;
        }
        const r = it.next();
        if (r.done) break;
        if (runner.takeTurn()) await turnAround(step, r.value);
        else step(r.value);
      }
    } else for await (const c of src as AsyncIterable<Candle>) step(c);
  } else {
    const path = opts.recording;
    let channels: Channel[] = ['aggTrade'];
    if (path !== undefined) {
      source = 'recording';
      ({ channels, depth } = await recordingChannels(path));
    } else source = 'trades';
    const venue = path !== undefined ? new ReplayVenue({ path, instruments, speed: 'max' }) : new TradeStreamVenue(opts.trades!);
    bus.subscribe('candle.closed', (c) => {
      if (c.symbol === inst.symbol) candles++;
    });
    const kernel = createKernel({ clock, venue, instruments, bus });
    // The engine sees each trade before anything subscribed after it, as the kernel's own order feed does.
    bus.subscribe('trade', (t) => {
      if (t.symbol === inst.symbol) publish(engine.onTrade(t));
    });
    if (depth) {
      bus.subscribe('book.update', ({ symbol }) => {
        const b = symbol === inst.symbol ? kernel.orderBook(symbol) : undefined;
        if (b) engine.onBook(b);
      });
    }
    attached = attachStrategy({
      bus,
      clock,
      orders: sink,
      instrument: inst,
      strategy: opts.strategy,
      params: opts.params,
      interval,
      ...(opts.id ? { id: opts.id } : {}),
      ...(depth ? {} : { syntheticBook: { options: bookOptions, onBook: (b: BookView) => engine.onBook(b) } }),
    });
    try {
      await kernel.start([inst.symbol], channels);
      await venue.done;
    } finally {
      await kernel.stop();
    }
  }
  const { runner, recorder, fills } = attached;
  const status = runner.status;
  attached.detach();
  const metrics = computeMetrics({ equity: recorder.series, fills, instrument: inst, barMs: INTERVAL_MS[interval] });
  return {
    strategy: opts.strategy.name,
    symbol: inst.symbol,
    interval,
    params: { ...runner.params },
    source,
    model: source === 'candles' ? 'candle-approximation' : 'exact',
    book: depth ? 'recorded-depth' : 'synthetic',
    fills,
    equity: recorder.series,
    metrics,
    status,
    error: runner.error,
    logs: runner.logs,
    candles,
    balances: engine.balances(),
    openOrders: engine.openOrders(inst.symbol),
  };
}

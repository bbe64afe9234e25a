import { describe, expect, it } from 'vitest';
import { Bus } from '../bus.js';
import { SimClock } from '../clock.js';
import { parseAmount } from '../orders/amounts.js';
import { bundledMarket } from '../orders/bundled-filters.js';
import { PaperEngine } from '../orders/paper-engine.js';
import { defineStrategy } from './api.js';
import { runBacktest } from './backtest.js';
import { SyntheticBook, candlePrints } from './market-model.js';
import { StrategyRunner } from './runner.js';
import { candlesOf, generatedTrades } from './test-data.js';

const { instruments, filters } = bundledMarket();
const inst = instruments.get('BTCUSDT');
const trades = generatedTrades(inst, { seed: 'runner', count: 4000 });
const candles = candlesOf(inst, trades);
const balances = { USDT: parseAmount('10000') };

/** Buys at market on the 5th candle and remembers that candle. */
const buyOnce = defineStrategy({
  name: 'buy-once',
  params: {},
  onCandle(ctx, c) {
    const n = ((ctx.state.n as number) ?? 0) + 1;
    ctx.state.n = n;
    if (n === 5) {
      ctx.state.signal = { openTime: c.openTime, closeTime: c.closeTime };
      ctx.buy({ quoteQty: 1000 });
      ctx.buy({ qty: 0.001, limit: (c.close / 100) * 1.01 });
    }
  },
});

describe('no look-ahead', () => {
  it('candle backtest: an order from a candle fills at the next candle open (+ slippage), never inside its candle', async () => {
    const r = await runBacktest({ strategy: buyOnce, symbol: 'BTCUSDT', candles, initialBalances: balances, slippageTicks: 3, fees: { taker: '0', maker: '0' } });
    expect(r.status).toBe('running');
    const i = 4;
    const signal = candles[i]!;
    const next = candles[i + 1]!;
    expect(r.fills.length).toBeGreaterThanOrEqual(2);
    for (const f of r.fills) expect(f.time).toBeGreaterThan(signal.closeTime);
    // The market order walked the synthetic book at the next open plus 3 ticks.
    expect(r.fills[0]).toMatchObject({ price: next.open + 3, time: next.openTime, isMaker: false });
  });

  it('trade backtest: fills only from trades after the signal candle closed', async () => {
    const r = await runBacktest({ strategy: buyOnce, symbol: 'BTCUSDT', trades, initialBalances: balances });
    expect(r.fills.length).toBeGreaterThanOrEqual(2);
    const firstAfter = trades.find((t) => t.time > candles[5]!.closeTime)!;
    // The first candle is incomplete (the feed started in it), so the 5th closed candle is candles[5].
    for (const f of r.fills) expect(f.time).toBeGreaterThanOrEqual(firstAfter.time);
    expect(r.fills[0]).toMatchObject({ price: firstAfter.price, time: firstAfter.time });
  });
});

describe('a throwing strategy', () => {
  it('is paused with its error; the engine and the other runners keep going', () => {
    const bus = new Bus();
    const clock = new SimClock();
    const engine = new PaperEngine({ instruments: instruments.all(), filters, initialBalances: { USDT: parseAmount('100000') } });
    const book = new SyntheticBook({ instrument: inst });
    const bad = defineStrategy({
      name: 'bad',
      params: {},
      onCandle(ctx) {
        ctx.state.n = ((ctx.state.n as number) ?? 0) + 1;
        if (ctx.state.n === 3) {
          ctx.buy({ quoteQty: 100 });
          throw new Error('boom at 3');
        }
      },
    });
    const good = defineStrategy({
      name: 'good',
      params: {},
      onCandle(ctx) {
        ctx.state.n = ((ctx.state.n as number) ?? 0) + 1;
        if ((ctx.state.n as number) % 4 === 0) ctx.buy({ quoteQty: 50 });
      },
    });
    const mk = (strategy: typeof bad | typeof good) =>
      new StrategyRunner({ strategy, symbol: 'BTCUSDT', instrument: inst, bus, clock, orders: engine });
    const a = mk(bad);
    const b = mk(good);
    a.start();
    b.start();
    let id = 1;
    for (const c of candles.slice(0, 20)) {
      for (const t of candlePrints(c, id)) {
        id = t.id + 1;
        clock.advance(t.time);
        engine.onTrade(t);
        book.set(t.price);
        engine.onBook(book);
        bus.publish('trade', t);
      }
      clock.advance(c.closeTime);
      bus.publish('candle.closed', c);
    }
    expect(a.status).toBe('paused');
    expect(a.error).toMatchObject({ message: 'boom at 3', callback: 'onCandle', time: candles[2]!.closeTime });
    expect(a.state.n).toBe(3);
    // The order the failing callback placed was dropped with it.
    expect(engine.order({ clientOrderId: `${a.id}_1` })).toBeUndefined();
    expect(b.status).toBe('running');
    expect(b.state.n).toBe(20);
    expect(b.stats.orders).toBe(4);
    expect(engine.position('BTCUSDT')!.qty).toBeGreaterThan(0n);
  });

  it('a rejected promise and non-JSON state pause too', async () => {
    const asyncBad = defineStrategy({ name: 'async-bad', params: {}, onCandle: async () => Promise.reject(new Error('later')) });
    const r1 = await runBacktest({ strategy: asyncBad, symbol: 'BTCUSDT', candles: candles.slice(0, 5), initialBalances: balances });
    expect(r1.status).toBe('paused');
    expect(r1.error?.message).toBe('later');
    const bigintState = defineStrategy({ name: 'bigint-state', params: {}, onCandle: (ctx) => void (ctx.state.x = 1n as never) });
    const r2 = await runBacktest({ strategy: bigintState, symbol: 'BTCUSDT', candles: candles.slice(0, 5), initialBalances: balances });
    expect(r2.status).toBe('paused');
    expect(r2.error?.callback).toBe('state');
  });
});

describe('order calls that fail', () => {
  /** A runner on `sink`, fed one closed candle and then one trade (which sends the queued orders). */
  async function oneOrder(submit: () => unknown, onTicket?: (t: Promise<unknown>) => void) {
    const bus = new Bus();
    const clock = new SimClock();
    const engine = new PaperEngine({ instruments: instruments.all(), filters, initialBalances: balances });
    const sink = Object.assign(Object.create(engine) as PaperEngine, { submit });
    const strategy = defineStrategy({
      name: 'one-order',
      params: {},
      onCandle(ctx) {
        const t = ctx.buy({ quoteQty: 100 });
        onTicket?.(t);
      },
    });
    const runner = new StrategyRunner({ strategy, symbol: 'BTCUSDT', instrument: inst, bus, clock, orders: sink });
    runner.start();
    bus.publish('candle.closed', candles[0]!);
    bus.publish('trade', { ...trades[0]!, time: candles[0]!.closeTime + 1 });
    await new Promise((r) => setTimeout(r, 5));
    return runner;
  }

  it('a sink that throws, or answers a rejected promise: the ticket rejects, the runner logs it, nothing is left unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      for (const submit of [
        () => {
          throw new Error('sink down');
        },
        () => Promise.reject(new Error('sink down')),
      ]) {
        let seen: unknown;
        const handled = await oneOrder(submit, (t) => t.catch((e: unknown) => (seen = e)));
        expect((seen as Error).message).toBe('sink down');
        expect(handled.stats.orderErrors).toBe(1);
        expect(handled.logs.map((l) => l.msg)).toContain('order call failed: sink down');
        // A strategy that ignores its ticket.
        const ignored = await oneOrder(submit);
        expect(ignored.stats.orderErrors).toBe(1);
      }
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a plain answer resolves the ticket with it', async () => {
    const answer = { ok: false, rejection: { code: -1013, msg: 'no' }, duplicate: false, fills: [], events: [] };
    let got: unknown;
    const runner = await oneOrder(() => answer, (t) => void t.then((r) => (got = r)));
    expect(got).toBe(answer);
    expect(runner.stats).toMatchObject({ orders: 1, orderErrors: 0 });
  });
});

describe("candles: 'caller'", () => {
  const counting = defineStrategy({
    name: 'counting',
    params: {},
    onCandle(ctx, c) {
      ctx.state.n = ((ctx.state.n as number) ?? 0) + 1;
      ctx.state.last = c.openTime;
    },
  });
  const run = (mode: 'bus' | 'caller', interval: '1m' | '5m') => {
    const bus = new Bus();
    const engine = new PaperEngine({ instruments: instruments.all(), filters, initialBalances: balances });
    const r = new StrategyRunner({ strategy: counting, symbol: 'BTCUSDT', instrument: inst, bus, clock: new SimClock(), orders: engine, interval, candles: mode });
    r.start();
    const other = { ...candles[0]!, symbol: 'ETHUSDT' };
    for (const c of [...candles.slice(0, 12), other]) {
      bus.publish('candle.closed', c);
      if (mode === 'caller') r.candleClosed(c);
    }
    return r.state;
  };

  it('takes candles only from candleClosed, as the bus would hand them (symbol filter, aggregation)', () => {
    for (const interval of ['1m', '5m'] as const) {
      const viaCaller = run('caller', interval);
      expect(viaCaller).toEqual(run('bus', interval));
      expect(viaCaller.n).toBe(interval === '1m' ? 12 : 2);
    }
  });
});

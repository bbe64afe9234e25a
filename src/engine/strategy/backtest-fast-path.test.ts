import { describe, expect, it } from 'vitest';
import { parseAmount } from '../orders/amounts.js';
import { bundledMarket } from '../orders/bundled-filters.js';
import { ReferencePrice } from '../orders/reference-price.js';
import type { Trade } from '../market/types.js';
import { defineStrategy, type StrategyDefinition } from './api.js';
import { runBacktest } from './backtest.js';
import { BUILTIN_STRATEGIES } from './builtins/index.js';
import type { Candle } from '../candles/types.js';

const { instruments } = bundledMarket();
const inst = instruments.get('BTCUSDT');
/** 1m candles of a deterministic walk (some flat, some without trades), enough for many crosses. */
function walk(n: number): Candle[] {
  const out: Candle[] = [];
  let price = 6_000_000;
  let x = 12345;
  const rnd = (): number => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < n; i++) {
    const open = price;
    const empty = i % 97 === 50;
    const close = empty ? open : Math.max(100, open + Math.round((rnd() - 0.5) * 6000));
    const high = Math.max(open, close) + (i % 5 === 0 ? 0 : Math.round(rnd() * 1500));
    const low = Math.min(open, close) - (i % 7 === 0 ? 0 : Math.round(rnd() * 1500));
    const volume = empty ? 0n : BigInt(1 + Math.floor(rnd() * 300_000));
    const openTime = 1_723_075_200_000 + i * 60_000;
    out.push({
      symbol: 'BTCUSDT', interval: '1m', priceScale: inst.priceScale, qtyScale: inst.qtyScale, openTime, closeTime: openTime + 59_999,
      open, high, low, close, volume, quoteVolume: volume * BigInt(close), trades: empty ? 0 : 10, takerBuyVolume: volume / 2n,
      takerBuyQuoteVolume: (volume / 2n) * BigInt(close), firstTradeId: empty ? -1 : i * 10, lastTradeId: empty ? -1 : i * 10 + 9, closed: true,
    });
    price = close;
  }
  return out;
}
const candles = walk(3000);
const balances = { USDT: parseAmount('10000'), BTC: parseAmount('0.05') };
const text = (x: unknown): string => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

/** The same strategy with a no-op onTrade: the runner then needs every print, so none is skipped. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function everyPrint(s: StrategyDefinition<any>): StrategyDefinition<any> {
  return defineStrategy({ ...s, onTrade: () => {} });
}

/** Logs what the engine shows it on every candle (last price, position, balance) and trades now and then. */
const probe = defineStrategy({
  name: 'probe',
  params: {},
  onCandle(ctx) {
    const n = ((ctx.state.n as number) ?? 0) + 1;
    ctx.state.n = n;
    ctx.log.info('seen', { last: ctx.lastPrice(), pos: ctx.position().qty, usdt: ctx.balance('USDT').free, open: ctx.openOrders().length });
    if (n % 17 === 0) ctx.buy({ quoteQty: 50 });
    if (n % 29 === 0 && ctx.position().qty > 0.0002) ctx.sell({ qty: 0.0002, limit: (ctx.lastPrice() ?? 0) * 1.001 });
  },
});

describe('candle backtest fast path', () => {
  it('skipping idle prints changes nothing: same fills, equity, metrics and balances as publishing every print', async () => {
    expect(candles.length).toBeGreaterThan(100);
    for (const name of ['probe', 'sma-cross', 'grid', 'bollinger-breakout']) {
      const strategy = name === 'probe' ? probe : BUILTIN_STRATEGIES.get(name)!;
      const opts = { symbol: 'BTCUSDT', candles, initialBalances: balances, slippageTicks: 2 };
      const fast = await runBacktest({ ...opts, strategy });
      const full = await runBacktest({ ...opts, strategy: everyPrint(strategy) });
      expect(fast.fills.length, name).toBeGreaterThan(0);
      expect(text(fast.fills), name).toBe(text(full.fills));
      expect(text(fast.equity.toPoints()), name).toBe(text(full.equity.toPoints()));
      expect(text(fast.metrics), name).toBe(text(full.metrics));
      expect(text(fast.balances), name).toBe(text(full.balances));
      expect(text(fast.openOrders), name).toBe(text(full.openOrders));
      expect(text(fast.logs), name).toBe(text(full.logs));
    }
  });
});

describe('candle backtest turns', () => {
  it('a synchronous strategy sees its ticket callbacks before the next candle, as with a turn per candle', async () => {
    const seen: Array<number | undefined> = [];
    const ticket = defineStrategy({
      name: 'ticket',
      params: {},
      onCandle(ctx) {
        const n = ((ctx.state.n as number) ?? 0) + 1;
        ctx.state.n = n;
        if (n % 10 === 3) {
          void ctx.buy({ quoteQty: 50 }).then((r) => {
            ctx.state.filled = r.ok ? n : -n;
          });
        }
        if (n % 10 === 5) seen.push(ctx.state.filled as number | undefined);
      },
    });
    const r = await runBacktest({ strategy: ticket, symbol: 'BTCUSDT', candles: candles.slice(0, 100), initialBalances: balances });
    expect(r.fills.length).toBe(10);
    expect(seen).toEqual([3, 13, 23, 33, 43, 53, 63, 73, 83, 93]);
  });
});

describe('candle backtest turn depth', () => {
  /**
   * How deep a chain of callbacks on a ticket gets before each later candle. A driver that gives a
   * turn only after candles in which order calls settled must give the same microtask ticks as
   * `for await` over each candle: these depths were recorded from that driver.
   */
  const chain = defineStrategy({
    name: 'chain',
    params: {},
    onCandle(ctx) {
      const n = ((ctx.state.n as number) ?? 0) + 1;
      ctx.state.n = n;
      if (n % 10 === 3) {
        ctx.state.depth = 0;
        let p: Promise<unknown> = ctx.buy({ quoteQty: 50 });
        for (let level = 1; level <= 8; level++) {
          p = p.then(() => {
            ctx.state.depth = level;
          });
        }
        queueMicrotask(function tick(this: unknown, k = 1): void {
          ctx.state.ticks = k;
          if (k < 12) queueMicrotask(() => tick(k + 1));
        });
      }
      if (n % 10 >= 4 && n % 10 <= 6) ctx.log.info('depth', { n, depth: ctx.state.depth, ticks: ctx.state.ticks });
    },
  });
  const seen = (logs: ReadonlyArray<{ data?: unknown }>): unknown[] => logs.slice(0, 9).map((l) => l.data);

  it('on an array and on an iterator', async () => {
    // The buy is placed on candle b (3, 13, 23); the chain started with it waits for turns.
    const expected = [3, 13, 23].flatMap((b) => [
      // No turn after b: the order goes out on b + 1's open print.
      { n: b + 1, depth: 0, ticks: b === 3 ? undefined : 4 },
      // The turn before b + 2 ran two ticks: the ticket's first callback, not its second.
      { n: b + 2, depth: 1, ticks: 2 },
      // The turn wraps the candle: two more ticks after b + 2, none before b + 3.
      { n: b + 3, depth: 3, ticks: 4 },
    ]);
    const onArray = await runBacktest({ strategy: chain, symbol: 'BTCUSDT', candles: candles.slice(0, 40), initialBalances: balances });
    const onIterator = await runBacktest({ strategy: chain, symbol: 'BTCUSDT', candles: candles.slice(0, 40).values(), initialBalances: balances });
    expect(seen(onArray.logs)).toEqual(expected);
    expect(seen(onIterator.logs)).toEqual(expected);
  });
});

describe('ReferencePrice window', () => {
  it('takes a run of prints at once (onPrints) exactly as one by one', () => {
    const one = new ReferencePrice();
    const many = new ReferencePrice();
    let time = 1_700_000_000_000;
    let x = 99;
    const rnd = (): number => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let c = 0; c < 2000; c++) {
      // Now and then prices so large that their sum passes 2^53 (it must then be split).
      const huge = c % 97 === 0;
      const n = huge ? 3 : 1 + Math.floor(rnd() * 4);
      const prices: number[] = [];
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        time += huge ? 1 : Math.floor(rnd() * 40_000); // some runs cross a minute, some minutes are skipped
        prices.push(huge ? 2 ** 52 + 1 : 1_000_000 + Math.floor(rnd() * 5000));
        times.push(time);
      }
      const qty = 1 + Math.floor(rnd() * 1e6);
      for (let i = 0; i < n; i++) one.onPrint(prices[i]!, qty, times[i]!);
      many.onPrints(prices, times, n, qty);
      for (const mins of [0, 1, 5, 60]) expect(many.get(mins)).toEqual(one.get(mins));
      expect(many.last).toBe(one.last);
      expect(many.lastTime).toBe(one.lastTime);
    }
  });

  it('averages the last N minutes like a plain list of minute buckets, over more minutes than it keeps', () => {
    const ref = new ReferencePrice();
    const naive: Array<{ minute: number; num: bigint; den: bigint }> = [];
    let time = 1_700_000_000_000;
    let lastTime = 0;
    for (let i = 0; i < 3000; i++) {
      time += (i * 7919) % 47_000; // several prints a minute, some minutes without any
      const late = i % 13 === 0 ? time - 120_000 : time; // late prints count in the newest minute
      const t = { symbol: 'X', id: i, price: 1000 + ((i * 31) % 97), qty: 1 + (i % 5), firstId: i, lastId: i, time: late, buyerMaker: false } as Trade;
      ref.onTrade(t);
      lastTime = Math.max(lastTime, late);
      const minute = Math.floor(late / 60_000);
      const last = naive[naive.length - 1];
      if (!last || last.minute < minute) naive.push({ minute, num: 0n, den: 0n });
      const b = naive[naive.length - 1]!;
      b.num += BigInt(t.price * t.qty);
      b.den += BigInt(t.qty);
      for (const mins of [0, 1, 5, 60]) {
        const from = Math.floor(lastTime / 60_000) - mins + 1;
        let num = 0n;
        let den = 0n;
        for (let k = naive.length - 1; k >= 0 && k >= naive.length - 60 && mins > 0; k--) {
          if (naive[k]!.minute < from) break;
          num += naive[k]!.num;
          den += naive[k]!.den;
        }
        const want = den > 0n ? { num, den } : { num: BigInt(t.price), den: 1n };
        expect(ref.get(mins)).toEqual(want);
      }
    }
  });
});

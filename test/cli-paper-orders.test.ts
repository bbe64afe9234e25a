import { describe, expect, it } from 'vitest';
import { T, json, usePaperCli, type Row } from './helpers/paper-cli.js';

/** Paper orders as real `qtrade` processes against a fake Binance: matching, filters, risk, halt. */

const cli = usePaperCli();

describe('paper orders', () => {
  it('a market buy walks the book: balances, positions, fills and PnL change exactly', async () => {
    const r = await cli.qt(['order', 'buy', 'btcusdt', '0.01', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const o = json(r.stdout);
    expect(o).toMatchObject({
      symbol: 'BTCUSDT',
      orderId: 1,
      clientOrderId: 'paper_1',
      transactTime: T,
      type: 'MARKET',
      side: 'BUY',
      status: 'FILLED',
      origQty: '0.01000000',
      executedQty: '0.01000000',
      cummulativeQuoteQty: '600.05000000',
      fills: [
        { price: '60000.00000000', qty: '0.00500000', commission: '0.00000500', commissionAsset: 'BTC', tradeId: 1 },
        { price: '60010.00000000', qty: '0.00500000', commission: '0.00000500', commissionAsset: 'BTC', tradeId: 2 },
      ],
    });

    const bal = json<{ balances: Row[] }>((await cli.qt(['balance', '--json'])).stdout);
    expect(bal.balances).toEqual([
      { asset: 'BTC', free: '0.00999000', locked: '0.00000000' },
      { asset: 'USDT', free: '9399.95000000', locked: '0.00000000' },
    ]);
    const human = await cli.qt(['balance']);
    expect(human.stdout.split('\n')[0]).toMatch(/^asset\s+free\s+locked\s+total$/);
    expect(human.stdout).toMatch(/^USDT\s+9399\.95000000\s+0\.00000000\s+9399\.95000000$/m);

    const fills = json<Row[]>((await cli.qt(['fills', '--json'])).stdout);
    expect(fills.map((f) => [f.id, f.price, f.qty, f.quoteQty, f.isBuyer, f.isMaker, f.time])).toEqual([
      [1, '60000.00000000', '0.00500000', '300.00000000', true, false, T],
      [2, '60010.00000000', '0.00500000', '300.05000000', true, false, T],
    ]);

    // Marked to the last Binance trade, 59995: 0.00999 × 59995 − 600.05 = −0.69995.
    const pos = json<Row[]>((await cli.qt(['positions', '--json'])).stdout);
    expect(pos).toEqual([
      expect.objectContaining({ symbol: 'BTCUSDT', qty: '0.00999000', cost: '600.05000000', markPrice: '59995.00000000', unrealizedPnl: '-0.69995000', realizedPnl: '0.00000000' }),
    ]);
    const pnl = json<{ symbols: Row[]; totals: Row[] }>((await cli.qt(['pnl', '--json'])).stdout);
    expect(pnl.totals).toEqual([{ quoteAsset: 'USDT', realizedPnl: '0.00000000', unrealizedPnl: '-0.69995000', totalPnl: '-0.69995000' }]);
    const pnlHuman = await cli.qt(['pnl']);
    expect(pnlHuman.stdout).toMatch(/^total USDT\s+0\.00000000 USDT\s+-0\.69995000 USDT\s+-0\.69995000 USDT$/m);
  });

  it('charges the configured taker fee, per symbol where set', async () => {
    expect((await cli.qt(['config', 'set', 'fees.taker', '0.0005'])).code).toBe(0);
    const a = json<{ fills: Row[] }>((await cli.qt(['order', 'buy', 'btcusdt', '0.01', '--json'])).stdout);
    expect(a.fills.map((f) => f.commission)).toEqual(['0.00000250', '0.00000250']);
    expect((await cli.qt(['config', 'set', 'fees.symbols', 'BTCUSDT=0/0.00075'])).code).toBe(0);
    const b = json<{ fills: Row[] }>((await cli.qt(['order', 'buy', 'btcusdt', '0.001', '--json'])).stdout);
    expect(b.fills.map((f) => f.commission)).toEqual(['0.00000075']);
    const bad = await cli.qt(['config', 'set', 'fees.symbols', 'BTCUSDT=0.1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('is not SYMBOL=MAKER/TAKER');
  });

  it('a limit below the market rests, shows in `orders --open`, and `cancel` returns its locked funds', async () => {
    const r = await cli.qt(['order', 'buy', 'BTCUSDT', '0.01', '--limit', '59000']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\s*1\s+2024-08-08 12:00\s+BTCUSDT\s+BUY\s+LIMIT\s+59000\.00\s+-\s+0\.01000\s+0\.00000\s+NEW\s+paper_1$/m);
    const locked = json<{ balances: Row[] }>((await cli.qt(['balance', '--json'])).stdout).balances;
    expect(locked).toEqual([{ asset: 'USDT', free: '9410.00000000', locked: '590.00000000' }]);

    const open = json<Row[]>((await cli.qt(['orders', '--open', '--json'])).stdout);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ orderId: 1, status: 'NEW', price: '59000.00000000', timeInForce: 'GTC', isWorking: true });

    const c = await cli.qt(['cancel', '1', '--json']);
    expect(c.code).toBe(0);
    expect(json(c.stdout)).toMatchObject({ orderId: 1, origClientOrderId: 'paper_1', status: 'CANCELED' });
    expect(json<Row[]>((await cli.qt(['orders', '--open', '--json'])).stdout)).toEqual([]);
    expect(json<{ balances: Row[] }>((await cli.qt(['balance', '--json'])).stdout).balances).toEqual([{ asset: 'USDT', free: '10000.00000000', locked: '0.00000000' }]);

    const again = await cli.qt(['cancel', '1', '--json']);
    expect(again.code).toBe(3);
    expect(json(again.stdout)).toEqual({ code: -2011, msg: 'Unknown order sent.' });
  });

  it("refuses what Binance's filters and precision refuse, with Binance's code and message (exit 3)", async () => {
    const lot = await cli.qt(['order', 'buy', 'BTCUSDT', '0.000001', '--limit', '59000', '--json']);
    expect(lot.code).toBe(3);
    expect(json(lot.stdout)).toEqual({ code: -1013, msg: 'Filter failure: LOT_SIZE' });
    expect(lot.stderr).toContain('error: Filter failure: LOT_SIZE');

    const precision = await cli.qt(['order', 'buy', 'BTCUSDT', '0.000000001', '--json']);
    expect(precision.code).toBe(3);
    expect(json(precision.stdout)).toEqual({ code: -1111, msg: "Parameter 'quantity' has too much precision." });

    const tick = await cli.qt(['order', 'sell', 'BTCUSDT', '0.01', '--limit', '60000.001']);
    expect(tick.code).toBe(3);
    expect(tick.stderr).toContain('error: Filter failure: PRICE_FILTER');

    const notional = await cli.qt(['order', 'buy', 'BTCUSDT', '0.00001', '--limit', '59000', '--json']);
    expect(notional.code).toBe(3);
    expect(json(notional.stdout)).toEqual({ code: -1013, msg: 'Filter failure: NOTIONAL' });

    const funds = await cli.qt(['order', 'buy', 'BTCUSDT', '1', '--limit', '59000', '--json']);
    expect(funds.code).toBe(3);
    expect(json(funds.stdout)).toEqual({ code: -2010, msg: 'Account has insufficient balance for requested action.' });

    const usage = await cli.qt(['order', 'hold', 'BTCUSDT', '1']);
    expect(usage.code).toBe(2);
    expect(json<Row[]>((await cli.qt(['orders', '--json'])).stdout)).toEqual([]);
  });

  it('a risk rejection names the rule and the numbers (exit 3)', async () => {
    const set = await cli.qt(['risk', 'set', 'maxOrderNotional', '500']);
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/^global\s+maxOrderNotional\s+500$/m);
    const r = await cli.qt(['order', 'buy', 'BTCUSDT', '0.01', '--limit', '59000']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('error: order notional 590.00 USDT exceeds max 500.00 USDT (rule maxOrderNotional, global)');
    expect(r.stderr).toContain('hint: split the order');
    const j = await cli.qt(['order', 'buy', 'BTCUSDT', '0.01', '--limit', '59000', '--json']);
    expect(json(j.stdout)).toEqual({ code: -31007, msg: 'order notional 590.00 USDT exceeds max 500.00 USDT (rule maxOrderNotional, global)' });
    expect((await cli.qt(['order', 'buy', 'BTCUSDT', '0.008', '--limit', '59000'])).code).toBe(0);
    const show = json<{ state: string; limits: Row[] }>((await cli.qt(['risk', 'show', '--json'])).stdout);
    expect(show).toMatchObject({ state: 'ACTIVE', limits: [{ scope: 'global', key: 'maxOrderNotional', value: '500' }] });
  });

  it('`risk halt` cancels open orders and blocks new ones until `risk resume`', async () => {
    expect((await cli.qt(['order', 'buy', 'BTCUSDT', '0.01', '--limit', '59000'])).code).toBe(0);
    expect((await cli.qt(['order', 'sell', 'BTCUSDT', '0.001', '--stop', '59000', '--limit', '58900'])).code).toBe(3); // no BTC to sell
    const halt = await cli.qt(['risk', 'halt', '--reason', 'desk closed']);
    expect(halt.code).toBe(0);
    expect(halt.stdout).toMatch(/^HALTED: desk closed; canceled 1 open order$/m);
    expect(halt.stdout).toMatch(/^\s*1\s.*CANCELED\s+paper_1$/m);
    expect(json<Row[]>((await cli.qt(['orders', '--open', '--json'])).stdout)).toEqual([]);

    const blocked = await cli.qt(['order', 'buy', 'BTCUSDT', '0.001', '--json']);
    expect(blocked.code).toBe(3);
    expect(json(blocked.stdout)).toEqual({ code: -31001, msg: 'trading halted: desk closed (rule halted)' });
    expect(json((await cli.qt(['risk', 'show', '--json'])).stdout)).toMatchObject({ state: 'HALTED', reason: 'desk closed' });

    const resume = await cli.qt(['risk', 'resume']);
    expect(resume.stdout.trim()).toBe('ACTIVE (was HALTED)');
    expect((await cli.qt(['order', 'buy', 'BTCUSDT', '0.001'])).code).toBe(0);
  });
});

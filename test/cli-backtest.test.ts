import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempDir } from './helpers/cli.js';

const RECORDING = path.join(ROOT, 'fixtures', 'recordings', 'generated-btcusdt-aggtrades.jsonl.gz');
const API = path.join(ROOT, 'dist', 'src', 'engine', 'strategy', 'api.js');
const { dir, cleanup } = tempDir('qtrade-cli-backtest-');
afterAll(cleanup);

const qtrade = (...args: string[]) => runCli(['--data-dir', dir, ...args], { cwd: dir });

/** 240 one-minute klines of a slow sine wave, in the data.binance.vision klines CSV format. */
function klinesCsv(): string {
  const t0 = Date.UTC(2024, 7, 8);
  const rows: string[] = [];
  let prev = 60000;
  for (let i = 0; i < 240; i++) {
    const close = Math.round((60000 + 800 * Math.sin(i / 15)) * 100) / 100;
    const high = Math.max(prev, close) + 12.5;
    const low = Math.min(prev, close) - 11.25;
    const f = (x: number): string => x.toFixed(8);
    rows.push([t0 + i * 60_000, f(prev), f(high), f(low), f(close), '1.50000000', t0 + i * 60_000 + 59_999, f(1.5 * close), 100, '0.70000000', f(0.7 * close), 0].join(','));
    prev = close;
  }
  return rows.join('\n') + '\n';
}

describe('qtrade backtest', () => {
  it('runs a built-in over a recording, exact and deterministic, as JSON', async () => {
    const args = ['backtest', '--strategy', 'sma-cross', '--data', RECORDING, '--param', 'fast=2', '--param', 'slow=5', '--slippage', '1', '--json'];
    const [a, b] = await Promise.all([qtrade(...args), qtrade(...args)]);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    const r = JSON.parse(a.stdout);
    expect(r).toMatchObject({ strategy: 'sma-cross', symbol: 'BTCUSDT', params: { fast: 2, slow: 5, size: 0.95 }, source: 'recording', model: 'exact', status: 'running', error: null });
    expect(r.metrics.trades).toBeGreaterThan(0);
    expect(r.fills.length).toBe(r.metrics.fills);
    expect(r.fills[0].price).toMatch(/^\d+\.\d{2}$/);
    expect(r.fills[0].quoteQty).toMatch(/^\d+\.\d+$/);
    expect(r.equity[0].equity).toBe('10000.00000000');
    expect(r.equity.length).toBe(r.metrics.bars + 1);
  });

  it('loads a user .ts strategy file and reports in human form', async () => {
    const file = path.join(dir, 'my-strategy.ts');
    writeFileSync(
      file,
      `import { defineStrategy } from ${JSON.stringify(API)};
export default defineStrategy({
  name: 'my-momentum',
  params: { n: { type: 'int', default: 2, min: 1, max: 10 } },
  onCandle(ctx, candle) {
    const closes: number[] = (ctx.state.closes as number[] | undefined) ?? [];
    closes.push(Number(candle.close));
    if (closes.length > ctx.params.n + 1) closes.shift();
    ctx.state.closes = closes;
    if (closes.length <= ctx.params.n) return;
    const up = closes.every((c, i) => i === 0 || c > closes[i - 1]!);
    const down = closes.every((c, i) => i === 0 || c < closes[i - 1]!);
    const held = ctx.position().qty > 0;
    if (up && !held) ctx.buy({ quoteQty: 1000 });
    else if (down && held) ctx.sell({ qty: ctx.position().qty.toFixed(5) });
  },
});
`,
    );
    const r = await qtrade('backtest', '--strategy', file, '--data', RECORDING);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('strategy  my-momentum on BTCUSDT 1m');
    expect(r.stdout).toContain('model     exact');
    expect(r.stdout).toMatch(/total return\s+[-+]?\d+\.\d{2} %/);
    expect(r.stdout).toContain('equity (USDT)');
    expect(r.stdout).toContain('drawdown (%)');
    expect(r.stdout).toMatch(/fills \(all \d+\)/);
    expect(r.stdout).not.toContain('\x1b['); // not a TTY: no colour
  });

  it('a strategy that throws is paused: the report says so, exit 0 with a warning', async () => {
    const file = path.join(dir, 'boom.mjs');
    writeFileSync(file, `export default { name: 'boom', params: {}, onCandle(ctx) { ctx.state.n = (ctx.state.n ?? 0) + 1; if (ctx.state.n === 5) throw new Error('kaboom'); } };\n`);
    const r = await qtrade('backtest', '--strategy', file, '--data', RECORDING);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/PAUSED\s+the strategy threw in onCandle at .*: kaboom/);
    expect(r.stderr).toMatch(/^warning: strategy boom threw in onCandle .* kaboom\n$/);
  });

  it('refuses bad strategy files, unknown strategies and bad params with exit 2', async () => {
    const bad = path.join(dir, 'bad.mjs');
    writeFileSync(bad, 'export default { name: "Bad Name", params: {}, onCandle() {} };\n');
    const syntax = path.join(dir, 'syntax.ts');
    writeFileSync(syntax, 'export default {{ nope\n');
    const [badFile, syntaxFile, unknown, range, name] = await Promise.all([
      qtrade('backtest', '--strategy', bad, '--data', RECORDING),
      qtrade('backtest', '--strategy', syntax, '--data', RECORDING),
      qtrade('backtest', '--strategy', 'sma-cros', '--data', RECORDING),
      qtrade('backtest', '--strategy', 'sma-cross', '--data', RECORDING, '--param', 'fast=1'),
      qtrade('backtest', '--strategy', 'sma-cross', '--data', RECORDING, '--param', 'fats=3'),
    ]);
    for (const r of [badFile, syntaxFile, unknown, range, name]) {
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack
    }
    expect(badFile.stderr).toContain('strategy name "Bad Name" is not allowed');
    expect(syntaxFile.stderr).toMatch(/cannot load strategy file .*syntax\.ts/);
    expect(unknown.stderr).toContain('unknown strategy "sma-cros"');
    expect(unknown.stderr).toContain('did you mean sma-cross');
    expect(range.stderr).toContain('param "fast" must be an integer from 2 to 500, got 1');
    expect(name.stderr).toContain('has no param "fats"');
    expect(name.stderr).toContain('did you mean fast?');
  });

  it('backtests store candles after `history import` and says it is a candle approximation', async () => {
    const file = path.join(dir, 'BTCUSDT-1m-2024-08-08.csv');
    writeFileSync(file, klinesCsv());
    const imp = await qtrade('history', 'import', file);
    expect(imp.code).toBe(0);
    const r = await qtrade('backtest', '--strategy', 'sma-cross', '--symbol', 'BTCUSDT', '--from', '2024-08-08', '--to', '2024-08-08T03:59', '--param', 'fast=5', '--param', 'slow=20', '--trades', '2');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('model     candle approximation');
    expect(r.stdout).toContain('240 1m candles');
    expect(r.stdout).toMatch(/fills \(last 2 of \d+\)/);
    const json = JSON.parse((await qtrade('backtest', '--strategy', 'sma-cross', '--symbol', 'BTCUSDT', '--param', 'fast=5', '--param', 'slow=20', '--json')).stdout);
    expect(json).toMatchObject({ model: 'candle-approximation', source: 'candles', candles: 240 });
    expect(json.metrics.trades).toBeGreaterThan(0);

    const empty = await qtrade('backtest', '--strategy', 'sma-cross', '--symbol', 'BTCUSDT', '--from', '2023-01-01', '--to', '2023-01-02');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('no BTCUSDT 1m candles in the store in that range');
    expect(empty.stderr).toContain('qtrade history download BTCUSDT');
  });
});

describe('qtrade strategy list', () => {
  it('lists the built-ins with their params, as text and JSON', async () => {
    const [text, json] = await Promise.all([qtrade('strategy', 'list'), qtrade('strategy', 'list', '--json')]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^sma-cross — fast\/slow simple moving average crossover/m);
    expect(text.stdout).toMatch(/^\s+fast\s+int\s+10\s+2 \.\. 500$/m);
    const list = JSON.parse(json.stdout) as Array<{ name: string; params: Array<Record<string, unknown>> }>;
    expect(list.map((s) => s.name).sort()).toEqual(['bollinger-breakout', 'dca', 'ema-cross', 'grid', 'rsi-reversion', 'sma-cross']);
    expect(list.find((s) => s.name === 'sma-cross')!.params[0]).toEqual({ name: 'fast', type: 'int', default: 10, min: 2, max: 500, step: 1 });
  });
});

import path from 'node:path';
import type { Command } from 'commander';
import { packageRoot } from '../engine/market/bundled-instruments.js';
import { parseSpeed } from './args.js';
import { action } from './context.js';
import { replayTui } from './tui.js';

/**
 * The longest real recording shipped in fixtures/ (see fixtures/README.md): Binance spot BTCUSDT and
 * ETHUSDT trades, best bid/ask and diff depth, 2024-08-08 23:54 to 00:05 UTC, about eleven minutes.
 */
export const DEMO_RECORDING = path.join('fixtures', 'recordings', 'binance-spot-2024-08-08.jsonl.gz');

export function register(program: Command): void {
  program
    .command('demo')
    .description('try the dashboard offline: a real Binance recording shipped with qtrade, looped, with a throwaway paper account')
    .option('--speed <x>', 'multiple of the recorded pace, or "max"', '1')
    .action(action((opts: { speed: string }, cmd: Command) => replayTui({ file: path.join(packageRoot(), DEMO_RECORDING), speed: parseSpeed(opts.speed), loop: true }, cmd)));
}

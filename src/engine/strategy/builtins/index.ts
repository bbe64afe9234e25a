import type { StrategyDefinition } from '../api.js';
import { bollingerBreakout } from './bollinger-breakout.js';
import { dca } from './dca.js';
import { grid } from './grid.js';
import { emaCross, smaCross } from './ma-cross.js';
import { rsiReversion } from './rsi-reversion.js';

export { bollingerBreakout, dca, emaCross, grid, rsiReversion, smaCross };

/** Built-in strategies by name (`--strategy sma-cross`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const BUILTIN_STRATEGIES: ReadonlyMap<string, StrategyDefinition<any>> = new Map(
  [smaCross, emaCross, rsiReversion, bollingerBreakout, grid, dca].map((s) => [s.name, s]),
);

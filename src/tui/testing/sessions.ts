import path from 'node:path';
import { packageRoot } from '../../engine/market/bundled-instruments.js';
import { ReplaySession } from '../replay-session.js';

/** Recordings shipped in fixtures/ (see fixtures/README.md). */
export const GENERATED = path.join(packageRoot(), 'fixtures', 'recordings', 'generated-btcusdt-aggtrades.jsonl.gz');
export const REAL = path.join(packageRoot(), 'fixtures', 'recordings', 'binance-spot-2024-08-08.jsonl.gz');

/** A real TradingNode that has replayed a whole recording (SimClock, temporary paper account). */
export async function replayed(file: string, opts: { symbols?: string[] } = {}): Promise<ReplaySession> {
  const session = await ReplaySession.open({ file, speed: 'max', ...opts });
  session.start();
  await session.done;
  await session.node.kernel.settled();
  return session;
}

/**
 * Shared setup of the trading CLI tests: a fake Binance on 127.0.0.1 whose REST serves a BTCUSDT
 * depth snapshot and a last aggTrade (paper orders match the one and take their time from the
 * other), a fresh data dir per test, and `qt` to run qtrade against both.
 */
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { runCli, tempDir, type CliResult } from './cli.js';
import { startFakeBinance, type FakeBinance } from './fake-binance.js';
import { createFakeRest, type FakeRestState, type RawAggTrade } from './fake-binance-rest.js';

/** The time of the fake's last BTCUSDT trade: every paper order placed in these tests carries it. */
export const T = Date.UTC(2024, 7, 8, 12, 0, 0);
export const LAST_TRADE: RawAggTrade = { a: 7, p: '59995.00000000', q: '0.01000000', f: 7, l: 7, T, m: false, M: true };

export type Row = Record<string, unknown>;
export const json = <R = Row>(s: string): R => JSON.parse(s) as R;

export interface PaperCli {
  readonly fake: FakeBinance;
  readonly state: FakeRestState;
  readonly dir: string;
  qt(args: string[], opts?: { env?: Record<string, string>; input?: string }): Promise<CliResult>;
}

/** Registers the hooks; the returned object's fields are valid inside tests. */
export function usePaperCli(): PaperCli {
  let fake: FakeBinance;
  let state: FakeRestState;
  let dir: string;
  let cleanup: () => void;
  beforeAll(async () => {
    const rest = createFakeRest();
    state = rest.state;
    fake = await startFakeBinance({ rest: rest.handler });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('qtrade-trading-'));
    state.depth.set('BTCUSDT', {
      lastUpdateId: 100,
      bids: [
        ['59990.00', '0.50000000'],
        ['59980.00', '1.00000000'],
      ],
      asks: [
        ['60000.00', '0.00500000'],
        ['60010.00', '0.20000000'],
        ['60020.00', '1.00000000'],
      ],
    });
    state.trades.set('BTCUSDT', [LAST_TRADE]);
  });
  afterEach(() => cleanup());
  return {
    get fake() {
      return fake;
    },
    get state() {
      return state;
    },
    get dir() {
      return dir;
    },
    qt: (args, opts = {}) =>
      runCli(['--data-dir', dir, ...args], { env: { QTRADE_BINANCE_REST_URL: fake.restUrl, QTRADE_BINANCE_WS_URL: fake.wsUrl, ...opts.env }, input: opts.input }),
  };
}

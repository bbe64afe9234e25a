/**
 * A fake live Binance venue for LiveRouter / SignedRest / user stream tests: the fake REST +
 * WebSocket server with one account, plus factories for clients pointed at it.
 */
import { readFileSync } from 'node:fs';
import { Secret } from '../../src/engine/market/binance/credentials.js';
import { SignedRest, type SignedRestOptions } from '../../src/engine/market/binance/signing.js';
import { Instruments, type ExchangeInfo } from '../../src/engine/market/instruments.js';
import { LiveRouter, type LiveRouterOptions } from '../../src/engine/orders/live-router.js';
import type { FakeAccount } from './fake-binance-account.js';
import { createFakeRest, type FakeRestState } from './fake-binance-rest.js';
import { startFakeBinance, type FakeBinance } from './fake-binance.js';

// Binance's documented example key pair (SIGNED endpoint examples), never a real account.
export const API_KEY = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
export const API_SECRET = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';

export const exchangeInfo = JSON.parse(readFileSync(new URL('../../fixtures/binance/exchangeInfo.json', import.meta.url), 'utf8')) as ExchangeInfo;
export const instruments = Instruments.fromExchangeInfo(exchangeInfo);

export interface LiveVenue {
  fake: FakeBinance;
  state: FakeRestState;
  account: FakeAccount;
  /** Server clock shift in ms (server time = Date.now() + skew). */
  skew: { ms: number };
  signed(opts?: Partial<SignedRestOptions>): SignedRest;
  router(opts?: Partial<LiveRouterOptions> & { rest?: SignedRest }): LiveRouter;
  close(): Promise<void>;
}

export async function startLiveVenue(
  opts: { balances?: Record<string, string>; marketPrices?: Record<string, string>; exchangeInfo?: FakeRestState['exchangeInfo']; retireListenKeys?: boolean } = {},
): Promise<LiveVenue> {
  const skew = { ms: 0 };
  const now = () => Date.now() + skew.ms;
  const { handler, state, user } = createFakeRest({
    now,
    exchangeInfo: opts.exchangeInfo,
    account: {
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      balances: opts.balances ?? { USDT: '10000', BTC: '1' },
      marketPrices: opts.marketPrices ?? { BTCUSDT: '60000.00' },
      retireListenKeys: opts.retireListenKeys,
    },
  });
  const fake = await startFakeBinance({ rest: handler, user, now });
  const signed = (o: Partial<SignedRestOptions> = {}) =>
    new SignedRest({ baseUrl: fake.restUrl, net: {}, credentials: { apiKey: API_KEY, apiSecret: new Secret(API_SECRET) }, timeoutMs: 2000, backoffMs: 5, ...o });
  return {
    fake,
    state,
    account: state.account!,
    skew,
    signed,
    router: (o = {}) => new LiveRouter({ rest: o.rest ?? signed(), instruments, unknownOutcomeDelayMs: 0, ...o }),
    close: () => fake.close(),
  };
}

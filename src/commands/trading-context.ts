import type { Command } from 'commander';
import type { Settings } from '../config/resolve.js';
import { UsageError, VenueError } from '../engine/errors.js';
import { requireCredentials, resolveLiveVenue, type LiveEndpoints } from '../engine/market/binance/credentials.js';
import type { BinanceRest } from '../engine/market/binance/rest-client.js';
import { SignedRest } from '../engine/market/binance/signing.js';
import { Instruments } from '../engine/market/instruments.js';
import { LiveRouter } from '../engine/orders/live-router.js';
import { OrderRejectedError } from '../engine/orders/rejections.js';
import { RiskRejectedError } from '../engine/risk/rejections.js';
import { LockError, acquireAccountLock, type AccountLock } from '../engine/store/lock.js';
import { openStore } from '../engine/store/open.js';
import type { Store } from '../engine/store/types.js';
import { PaperTrading, fetchMarks } from '../engine/trading.js';
import { out, settingsFor } from './context.js';
import { binanceEndpoints, binanceRest, freshMarketInfo, offlineMarketInfo, type MarketInfo } from './market.js';

/**
 * What the trading commands share: opening the paper account (store, market info, writer lock),
 * the live venues' clients, and printing refusals as `{code, msg}` under --json.
 */

export const PAPER_ACCOUNT = 'default';

export type VenueName = 'paper' | 'testnet' | 'mainnet';

export function parseVenue(v: string | undefined): VenueName {
  const name = (v ?? 'paper').toLowerCase();
  if (name !== 'paper' && name !== 'testnet' && name !== 'mainnet') {
    throw new UsageError(`unknown venue "${v}"`, { hint: 'use paper (default), testnet or mainnet' });
  }
  return name;
}

/**
 * Cancels, halts, resets and risk changes have no market event behind them: they carry the local
 * clock. Orders never do (their time is the last Binance trade's).
 */
export function wallNow(): number {
  return Date.now();
}

export interface PaperContext {
  settings: Settings;
  store: Store;
  market: MarketInfo;
  trading: PaperTrading;
  /** Binance market-data REST base URL (for messages). */
  restUrl: string;
  /** Binance market-data REST on this invocation's route, with the account's instruments. */
  rest(): BinanceRest;
}

export interface OpenPaperOptions {
  /** Take the account's writer lock (every command that changes the account). */
  write: boolean;
  /** 'fresh': the command needs Binance anyway (refresh a stale exchangeInfo cache); 'offline': cache or bundled. */
  market: 'fresh' | 'offline';
}

/** Opens the paper account for one command, runs `fn`, and closes everything again. */
export async function withPaper<T>(cmd: Command, opts: OpenPaperOptions, fn: (ctx: PaperContext) => Promise<T>): Promise<T> {
  const settings = settingsFor(cmd);
  const endpoints = binanceEndpoints(settings);
  const store = await openStore(settings.storeUrl());
  let lock: AccountLock | undefined;
  let trading: PaperTrading | undefined;
  let held: AccountLock | undefined;
  // Ctrl-C (or a kill) must not leave the lock behind: what is acknowledged is already durable, and
  // exiting at once writes nothing more, so releasing the lock first is safe.
  const onSignal = (signal: NodeJS.Signals): void => {
    held?.release();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  try {
    if (opts.write) {
      held = lock = await takeLock(settings.dataDir);
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    }
    const plainRest = binanceRest(endpoints, { maxRetries: 1, backoffMs: 200 });
    const market = opts.market === 'fresh' ? await needMarket(() => freshMarketInfo(plainRest, store), endpoints.restUrl) : await offlineMarketInfo(store);
    trading = await PaperTrading.open({ store, instruments: market.instruments, exchangeSymbols: market.symbols, account: PAPER_ACCOUNT, lock, fees: settings.fees() });
    lock = undefined; // the account releases it on close
    let rest: BinanceRest | undefined;
    const t = trading;
    return await fn({
      settings,
      store,
      market,
      trading: t,
      restUrl: endpoints.restUrl,
      rest: () => (rest ??= binanceRest(endpoints, { instruments: t.instruments, maxRetries: 1, backoffMs: 200 })),
    });
  } finally {
    try {
      await trading?.close();
    } finally {
      lock?.release();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await store.close();
    }
  }
}

/** The account's writer lock; held by another process → exit 2 naming it. */
export async function takeLock(dataDir: string): Promise<AccountLock> {
  try {
    return await acquireAccountLock({ dataDir, account: PAPER_ACCOUNT });
  } catch (err) {
    if (!(err instanceof LockError)) throw err;
    const pid = err.owner?.pid;
    throw new UsageError(err.message, {
      hint:
        `one process writes a paper account at a time (e.g. a running \`qtrade feed --paper\`); ` +
        `stop it${pid === undefined ? '' : ` (kill ${pid})`} and run this again. A qtrade daemon will take such requests while it runs.`,
      cause: err,
    });
  }
}

/** Runs a Binance market-data call a paper command cannot do without; a failure says so (exit 4). */
export async function needMarket<T>(fn: () => Promise<T>, restUrl: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof VenueError) {
      throw new VenueError(err.code, `paper trading needs the live market, and Binance at ${restUrl} did not answer: ${err.message}`, {
        hint: err.hint ?? 'check the network or the proxy (qtrade config set proxy URL); the order was not placed',
        cause: err,
        status: err.status,
      });
    }
    throw err;
  }
}

export interface LiveContext {
  endpoints: LiveEndpoints;
  instruments: Instruments;
  router: LiveRouter;
}

/** Signed clients for a live venue: testnet by default, mainnet only when confirmed in the config. */
export async function openLive(cmd: Command, venue: 'testnet' | 'mainnet'): Promise<LiveContext> {
  const settings = settingsFor(cmd);
  const endpoints = resolveLiveVenue({
    venue,
    mainnetConfirmed: settings.resolve('live.mainnetConfirmed').value === true,
    overrides: { restUrl: settings.string('live.restUrl') },
  });
  const creds = requireCredentials(settings.dataDir, endpoints.venue);
  for (const w of creds.warnings) out.err(`warning: ${w}`);
  const net = binanceEndpoints(settings).net;
  const pub = binanceRest({ restUrl: endpoints.restUrl, wsUrl: endpoints.streamUrl, net }, { maxRetries: 1, backoffMs: 200 });
  const instruments = Instruments.fromExchangeInfo(await pub.exchangeInfo());
  const rest = new SignedRest({ baseUrl: endpoints.restUrl, net, credentials: creds });
  return { endpoints, instruments, router: new LiveRouter({ rest, instruments }) };
}

/** Runs `fn`; an order refused by the exchange or by risk is also printed as `{code, msg}` on stdout under --json. */
export async function jsonRejections<T>(json: boolean | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (json && (err instanceof OrderRejectedError || err instanceof RiskRejectedError)) out.json(err.toJSON());
    throw err;
  }
}

/** The store alone (live commands check the persisted risk state in it). */
export async function withStore<T>(cmd: Command, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(settingsFor(cmd).storeUrl());
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * Last Binance trade prices for marking these symbols. Binance unreachable is not fatal here: the
 * positions print with unrealized PnL unknown and a warning says why.
 */
export async function marksFor(ctx: PaperContext, symbols: readonly string[]): Promise<Map<string, number>> {
  if (symbols.length === 0) return new Map();
  const r = await fetchMarks(ctx.rest(), symbols);
  if (r.failed.length > 0) {
    const why = r.error instanceof Error ? `: ${r.error.message}` : '';
    out.err(`warning: no last trade from Binance at ${ctx.restUrl} for ${r.failed.join(', ')}${why}; unrealized PnL unknown`);
  }
  return r.marks;
}

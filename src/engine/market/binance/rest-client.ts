import { INTERVALS, type Candle, type Interval } from '../../candles/types.js';
import { UsageError } from '../../errors.js';
import { Instruments, type ExchangeInfo } from '../instruments.js';
import type { DepthSnapshot } from '../source.js';
import type { Instrument, Trade } from '../types.js';
import {
  decodeAggTrades,
  decodeDepthSnapshot,
  decodeExchangeInfo,
  decodeKlines,
  decodeServerTime,
} from './rest-parse.js';
import { BinanceTransport, header, type ReplyHeaders, type RestConnection } from './transport.js';

/**
 * Request weights of the public spot endpoints qtrade calls, as Binance's REST docs list
 * them (IP limit REQUEST_WEIGHT, 6000 per minute by default). The fake server uses the same
 * table, so a change here is a change to what the tests expect from Binance.
 */
export const REST_WEIGHTS = {
  '/api/v3/ping': 1,
  '/api/v3/time': 1,
  '/api/v3/exchangeInfo': 20,
  '/api/v3/aggTrades': 4,
  '/api/v3/klines': 2,
} as const;

/** GET /api/v3/depth weight by limit (Binance's default limit is 100). */
export function depthWeight(limit = 100): number {
  if (limit <= 100) return 5;
  if (limit <= 500) return 25;
  if (limit <= 1000) return 50;
  return 250;
}

/** The weight Binance charges for a GET of `path` with these query parameters. */
export function requestWeight(path: string, params: URLSearchParams | Record<string, string | undefined> = {}): number {
  if (path === '/api/v3/depth') {
    const raw = params instanceof URLSearchParams ? params.get('limit') : params.limit;
    const n = raw === null || raw === undefined ? 100 : Number(raw);
    return depthWeight(Number.isFinite(n) ? n : 100);
  }
  return (REST_WEIGHTS as Record<string, number>)[path] ?? 1;
}

export interface BinanceRestOptions extends RestConnection {
  /** Scales per symbol; when absent, exchangeInfo is fetched once on first need. */
  instruments?: Instruments;
  /** Retries for 429, 5xx and network errors (not for 418, 4xx or malformed replies). Default 3. */
  maxRetries?: number;
  /** First backoff delay for 5xx / network errors (default 500 ms), doubled per retry up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface AggTradesQuery {
  symbol: string;
  /** Aggregate trade id to start from, inclusive. */
  fromId?: number;
  /** Trade time bounds in ms, inclusive. */
  startTime?: number;
  endTime?: number;
  /** 1..1000, Binance's default 500. */
  limit?: number;
}

export interface KlinesQuery {
  symbol: string;
  interval: Interval;
  /** Open-time bounds in ms, inclusive. */
  startTime?: number;
  endTime?: number;
  /** 1..1000, Binance's default 500. */
  limit?: number;
}

/**
 * Binance spot REST client for the public market-data endpoints. Decodes replies into
 * qtrade's exact types, paces itself by the X-MBX-USED-WEIGHT-1M header so it never runs
 * into the IP limit, honours 429 Retry-After, and stops calling entirely while banned (418).
 */
export class BinanceRest {
  private readonly transport: BinanceTransport;
  private readonly maxRetries: number;
  private readonly now: () => number;
  private instruments: Instruments | undefined;
  private instrumentsLoading: Promise<Instruments> | undefined;

  constructor(opts: BinanceRestOptions) {
    this.transport = new BinanceTransport(opts, { whenRateLimited: 'wait', backoffMs: opts.backoffMs ?? 500, maxBackoffMs: opts.maxBackoffMs });
    this.instruments = opts.instruments;
    this.maxRetries = opts.maxRetries ?? 3;
    this.now = opts.now ?? Date.now;
  }

  /** Weight used in the current minute as far as this client knows (server header or own count). */
  get usedWeight(): number {
    return this.transport.usedWeight;
  }

  async ping(): Promise<void> {
    await this.get('/api/v3/ping', {});
  }

  /** Binance's clock, ms. */
  async time(): Promise<number> {
    return decodeServerTime((await this.get('/api/v3/time', {})).body);
  }

  async exchangeInfo(): Promise<ExchangeInfo> {
    const info = decodeExchangeInfo((await this.get('/api/v3/exchangeInfo', {})).body);
    this.instruments ??= Instruments.fromExchangeInfo(info);
    return info;
  }

  /** The symbol's scales, from the instruments given or from exchangeInfo (fetched once). */
  async instrument(symbol: string): Promise<Instrument> {
    if (!this.instruments) {
      this.instrumentsLoading ??= this.exchangeInfo().then(
        (info) => this.instruments ?? Instruments.fromExchangeInfo(info),
        (err: unknown) => {
          this.instrumentsLoading = undefined;
          throw err;
        },
      );
      this.instruments = await this.instrumentsLoading;
    }
    return this.instruments.get(symbol);
  }

  /** GET /api/v3/aggTrades, oldest first. */
  async aggTrades(q: AggTradesQuery): Promise<Trade[]> {
    const inst = await this.instrument(q.symbol);
    checkLimit(q.limit, 1000, 'aggTrades');
    const { body } = await this.get('/api/v3/aggTrades', {
      symbol: inst.symbol,
      fromId: q.fromId,
      startTime: q.startTime,
      endTime: q.endTime,
      limit: q.limit,
    });
    return decodeAggTrades(body, inst);
  }

  /**
   * Pages through aggregate trades from `fromId` by id until `toId` / `endTime` (inclusive) or
   * until Binance has no more; each page is at most `limit` trades.
   */
  async *aggTradesPages(q: { symbol: string; fromId: number; toId?: number; endTime?: number; limit?: number }): AsyncGenerator<Trade[]> {
    const limit = q.limit ?? 1000;
    let fromId = q.fromId;
    for (;;) {
      const page = await this.aggTrades({ symbol: q.symbol, fromId, limit });
      let cut = page.length;
      while (cut > 0 && ((q.toId !== undefined && page[cut - 1]!.id > q.toId) || (q.endTime !== undefined && page[cut - 1]!.time > q.endTime))) cut--;
      if (cut > 0) yield cut === page.length ? page : page.slice(0, cut);
      if (cut < page.length || page.length < limit) return;
      fromId = page[page.length - 1]!.id + 1;
    }
  }

  /**
   * GET /api/v3/klines. First/last trade id are −1 (REST klines do not carry them).
   * `closed` is closeTime < the server's time taken from the reply's Date header (second
   * precision, rounded down, so an open kline is never marked closed); historical klines
   * therefore always come out closed.
   */
  async klines(q: KlinesQuery): Promise<Candle[]> {
    const inst = await this.instrument(q.symbol);
    if (!(INTERVALS as readonly string[]).includes(q.interval)) {
      throw new UsageError(`unsupported interval "${q.interval}"`, { hint: `use one of ${INTERVALS.join(', ')}` });
    }
    checkLimit(q.limit, 1000, 'klines');
    const reply = await this.get('/api/v3/klines', {
      symbol: inst.symbol,
      interval: q.interval,
      startTime: q.startTime,
      endTime: q.endTime,
      limit: q.limit,
    });
    const date = Date.parse(header(reply.headers, 'date') ?? '');
    return decodeKlines(reply.body, inst, q.interval, Number.isNaN(date) ? this.now() : date);
  }

  /** Pages through klines by open time from `startTime` to `endTime` (inclusive). */
  async *klinesPages(q: { symbol: string; interval: Interval; startTime: number; endTime?: number; limit?: number }): AsyncGenerator<Candle[]> {
    const limit = q.limit ?? 1000;
    let startTime = q.startTime;
    for (;;) {
      const page = await this.klines({ symbol: q.symbol, interval: q.interval, startTime, endTime: q.endTime, limit });
      if (page.length > 0) yield page;
      if (page.length < limit) return;
      const last = page[page.length - 1]!;
      if (q.endTime !== undefined && last.closeTime >= q.endTime) return;
      startTime = last.closeTime + 1;
    }
  }

  /**
   * GET /api/v3/depth. Defaults to 1000 levels (weight 50), enough for the local order book;
   * Binance's own default is 100. Raws at the instrument's scales (see decodeLevels).
   */
  async depth(symbol: string, limit = 1000): Promise<DepthSnapshot> {
    const inst = await this.instrument(symbol);
    checkLimit(limit, 5000, 'depth');
    const { body } = await this.get('/api/v3/depth', { symbol: inst.symbol, limit });
    return decodeDepthSnapshot(body, inst);
  }

  /**
   * A paced, retried GET returning the decoded JSON body. Public for endpoints without a
   * typed method; `weight` defaults to requestWeight(path, params).
   */
  async get(
    path: string,
    params: Record<string, string | number | undefined>,
    weight?: number,
  ): Promise<{ body: unknown; headers: ReplyHeaders }> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.set(k, String(v));
    const query = qs.toString();
    const { body, headers } = await this.transport.call({
      method: 'GET',
      path,
      encode: () => ({ query }),
      weight: weight ?? requestWeight(path, qs),
      retries: this.maxRetries,
    });
    return { body, headers };
  }
}

function checkLimit(limit: number | undefined, max: number, what: string): void {
  if (limit === undefined) return;
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new UsageError(`${what} limit must be an integer 1..${max}, got ${limit}`);
  }
}

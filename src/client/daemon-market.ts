import type { Interval, Candle } from '../engine/candles/types.js';
import type { MarketSource } from '../engine/ai/market-source.js';
import type { BookView, TickerView } from '../engine/ai/view.js';
import { dec, decBig, decodeAggTrades, decodeDepthSnapshot, decodeExchangeInfo, decodeKlines, decodeServerTime, int, obj, str } from '../engine/market/binance/rest-parse.js';
import { Instruments } from '../engine/market/instruments.js';
import type { Instrument, MiniTicker } from '../engine/market/types.js';
import { DaemonRequestError, type DaemonClient } from './daemon-client.js';

/**
 * The assistant's market data from a running daemon's Binance-compatible REST (/api/v3), decoded
 * by the Binance adapter's own decoders: what its feed delivered, its order book and its candle
 * store. Used whenever the CLI is attached to a daemon, so the CLI host needs no route to Binance.
 */
export class DaemonMarket implements MarketSource {
  readonly name: string;

  constructor(private readonly client: DaemonClient) {
    this.name = `daemon ${client.url}`;
  }

  /** The instruments of the daemon's exchangeInfo: the scales its answers are printed at. */
  async instruments(): Promise<Instruments> {
    return Instruments.fromExchangeInfo(decodeExchangeInfo(await this.client.get('/api/v3/exchangeInfo')));
  }

  /**
   * The last aggregate trade, and bid/ask with the 24h statistics from the feed's ticker. Either
   * may not have arrived yet (409); with neither, the daemon's reason for the trade is the error.
   */
  async ticker(inst: Instrument): Promise<TickerView> {
    const q = { symbol: inst.symbol };
    const [trades, day] = await Promise.all([
      settle(this.client.get('/api/v3/aggTrades', { ...q, limit: 1 })),
      settle(this.client.get('/api/v3/ticker/24hr', q)),
    ]);
    if (trades.error && day.error) throw trades.error;
    const t = trades.value === undefined ? undefined : decodeAggTrades(trades.value, inst).at(-1);
    const d = day.value === undefined ? undefined : decodeDayTicker(day.value, inst);
    return {
      symbol: inst.symbol,
      ...(t ? { lastPrice: t.price, lastTime: t.time } : {}),
      ...(d?.bid !== undefined ? { bid: d.bid } : {}),
      ...(d?.ask !== undefined ? { ask: d.ask } : {}),
      ...(d ? { day: d.day } : {}),
      source: this.name,
    };
  }

  async book(inst: Instrument, depth: number): Promise<BookView> {
    const d = decodeDepthSnapshot(await this.client.get('/api/v3/depth', { symbol: inst.symbol, limit: depth }), inst);
    return { bids: d.bids.slice(0, depth), asks: d.asks.slice(0, depth), source: `${this.name} (its order book)` };
  }

  async closedCandles(inst: Instrument, interval: Interval, limit: number): Promise<Candle[]> {
    // The daemon lists its running kline last; it is closed once the daemon's clock passed its end.
    const [rows, serverTime] = await Promise.all([
      this.client.get('/api/v3/klines', { symbol: inst.symbol, interval, limit: Math.min(limit + 1, 1000) }),
      this.client.get('/api/v3/time').then(decodeServerTime),
    ]);
    return decodeKlines(rows, inst, interval, serverTime)
      .filter((c) => c.closed)
      .slice(-limit);
  }
}

type Settled = { value: unknown; error?: undefined } | { value?: undefined; error: DaemonRequestError };

/** A 409 is the daemon's "not yet" (the feed has not delivered it): kept as the error, not thrown. */
async function settle(request: Promise<unknown>): Promise<Settled> {
  try {
    return { value: await request };
  } catch (err) {
    if (err instanceof DaemonRequestError && err.status === 409) return { error: err };
    throw err;
  }
}

/** GET /api/v3/ticker/24hr (FULL) as the daemon answers it: bid/ask only while it has a book top. */
function decodeDayTicker(v: unknown, inst: Instrument): { bid?: number; ask?: number; day: MiniTicker } {
  const o = obj(v, 'ticker');
  const p = (k: string): number => dec(o[k], inst.priceScale, `ticker.${k}`);
  return {
    ...(o.bidPrice !== undefined ? { bid: p('bidPrice') } : {}),
    ...(o.askPrice !== undefined ? { ask: p('askPrice') } : {}),
    day: {
      symbol: str(o.symbol, 'ticker.symbol'),
      time: int(o.closeTime, 'ticker.closeTime'),
      open: p('openPrice'),
      high: p('highPrice'),
      low: p('lowPrice'),
      close: p('lastPrice'),
      volume: decBig(o.volume, inst.qtyScale, 'ticker.volume'),
      quoteVolume: decBig(o.quoteVolume, inst.priceScale + inst.qtyScale, 'ticker.quoteVolume'),
    },
  };
}

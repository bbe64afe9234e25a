import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INTERVALS } from '../../candles/types.js';
import { ParseError } from '../../errors.js';
import type { MarketEvent } from '../source.js';
import { decodeMarketEvent, encodeMarketEvent, eventSymbol } from './codec.js';

const int = fc.maxSafeInteger(); // the full safe range, negatives included
const raw = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const big = fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n });
const symbol = fc.stringMatching(/^[A-Z0-9]{2,12}$/);
const level = fc.record({ price: raw, qty: raw });
const levels = fc.array(level, { maxLength: 20 });

const trade = fc.record({ symbol, id: raw, price: raw, qty: raw, firstId: raw, lastId: raw, time: raw, buyerMaker: fc.boolean() }).map((trade): MarketEvent => ({ kind: 'trade', trade }));
const kline = fc
  .record({
    symbol,
    interval: fc.constantFrom(...INTERVALS),
    priceScale: fc.nat({ max: 18 }),
    qtyScale: fc.nat({ max: 18 }),
    openTime: raw,
    closeTime: raw,
    open: raw,
    high: raw,
    low: raw,
    close: raw,
    volume: big,
    quoteVolume: big,
    trades: raw,
    takerBuyVolume: big,
    takerBuyQuoteVolume: big,
    firstTradeId: int,
    lastTradeId: int,
    closed: fc.boolean(),
  })
  .map((candle): MarketEvent => ({ kind: 'kline', candle }));
const bookTicker = fc.record({ symbol, updateId: raw, bid: level, ask: level }).map((top): MarketEvent => ({ kind: 'bookTicker', top }));
const depth = fc.record({ symbol, eventTime: raw, firstUpdateId: raw, lastUpdateId: raw, bids: levels, asks: levels }).map((diff): MarketEvent => ({ kind: 'depth', diff }));
const depthSnapshot = fc.record({ symbol, lastUpdateId: raw, bids: levels, asks: levels }).map((snapshot): MarketEvent => ({ kind: 'depthSnapshot', snapshot }));
const miniTicker = fc
  .record({ symbol, time: raw, open: raw, high: raw, low: raw, close: raw, volume: big, quoteVolume: big })
  .map((ticker): MarketEvent => ({ kind: 'miniTicker', ticker }));

const anyEvent = fc.oneof(trade, kline, bookTicker, depth, depthSnapshot, miniTicker);

describe('Redis bus codec', () => {
  it.each([
    ['trade', trade],
    ['kline', kline],
    ['bookTicker', bookTicker],
    ['depth', depth],
    ['depthSnapshot', depthSnapshot],
    ['miniTicker', miniTicker],
  ] as const)('round-trips every %s exactly (raw integers up to 2^53, bigints of any size)', (kind, arb) => {
    fc.assert(
      fc.property(arb, (ev) => {
        expect(ev.kind).toBe(kind);
        const back = decodeMarketEvent(encodeMarketEvent(ev));
        // structuredClone: fast-check builds null-prototype records; the decoder plain objects.
        expect(back).toStrictEqual(structuredClone(ev));
        expect(eventSymbol(back)).toBe(eventSymbol(ev));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the extremes exact', () => {
    const ev: MarketEvent = {
      kind: 'kline',
      candle: {
        symbol: 'BTCUSDT', interval: '1m', priceScale: 8, qtyScale: 8, openTime: 0, closeTime: 59_999,
        open: Number.MAX_SAFE_INTEGER, high: Number.MAX_SAFE_INTEGER, low: 1, close: 2,
        volume: 2n ** 64n + 1n, quoteVolume: 123456789012345678901234567890n, trades: 0,
        takerBuyVolume: 0n, takerBuyQuoteVolume: -1n, firstTradeId: -1, lastTradeId: -1, closed: true,
      },
    };
    const text = encodeMarketEvent(ev);
    expect(text).toContain('"18446744073709551617"');
    expect(decodeMarketEvent(text)).toStrictEqual(ev);
  });

  it('is compact: a trade is one short positional array', () => {
    const text = encodeMarketEvent({ kind: 'trade', trade: { symbol: 'BTCUSDT', id: 3_000_000_001, price: 4_200_012_345_678, qty: 1_000, firstId: 5_000_000_001, lastId: 5_000_000_003, time: 1_700_000_000_123, buyerMaker: true } });
    expect(text).toBe('["t","BTCUSDT",3000000001,4200012345678,1000,5000000001,5000000003,1700000000123,1]');
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['not an array', '{"kind":"t"}', /tagged array/],
    ['unknown kind', '["x","BTCUSDT"]', /unknown kind "x"/],
    ['missing field', '["t","BTCUSDT",1,2,3,4,5]', /time is missing/],
    ['extra field', '["t","BTCUSDT",1,2,3,4,5,6,0,9]', /extra field/],
    ['float price', '["t","BTCUSDT",1,2.5,3,4,5,6,0]', /price is not an exact integer/],
    ['unsafe integer', '["t","BTCUSDT",1,9007199254740993,3,4,5,6,0]', /price is not an exact integer/],
    ['price as string', '["t","BTCUSDT",1,"2",3,4,5,6,0]', /price is not an exact integer/],
    ['bad flag', '["t","BTCUSDT",1,2,3,4,5,6,true]', /buyerMaker is not 0 or 1/],
    ['bad bigint', '["m","BTCUSDT",1,2,3,4,5,"1.5","2"]', /volume is not an integer string/],
    ['bad interval', '["k","BTCUSDT","2m",2,8,0,59999,1,1,1,1,"0","0",0,"0","0",-1,-1,1]', /interval is not an interval/],
    ['odd level list', '["s","BTCUSDT",5,[1,2,3],[]]', /bids is not a flat/],
    ['bad level', '["d","BTCUSDT",1,2,3,[1,null],[]]', /bids has a level/],
  ])('refuses %s with a ParseError', (_name, text, msg) => {
    expect(() => decodeMarketEvent(text)).toThrow(ParseError);
    expect(() => decodeMarketEvent(text)).toThrow(msg);
  });

  it('every kind decodes to an event that encodes back to the same text', () => {
    fc.assert(
      fc.property(anyEvent, (ev) => {
        const text = encodeMarketEvent(ev);
        expect(encodeMarketEvent(decodeMarketEvent(text))).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../errors.js';
import { parseFixed, parseFixedBig } from '../../fixed.js';
import { Instruments, type ExchangeInfo } from '../instruments.js';
import { decodeFrame, readControl } from './parse.js';

const info = JSON.parse(readFileSync(new URL('../../../../fixtures/binance/exchangeInfo.json', import.meta.url), 'utf8')) as ExchangeInfo;
const instruments = Instruments.fromExchangeInfo(info);
const BTC = instruments.get('BTCUSDT');
const ETH = instruments.get('ETHUSDT');
// Expected values at the instruments' scales (quantities are read at wire precision).
const px = (s: string, ins = BTC) => parseFixed(s, ins.priceScale);
const qty = (s: string, ins = BTC) => parseFixed(s, ins.qtyScale);
const vol = (s: string, ins = BTC) => parseFixedBig(s, ins.qtyScale);
const quote = (s: string, ins = BTC) => parseFixedBig(s, ins.priceScale + ins.qtyScale);

// Real frames from a Binance spot capture, 2024-08-08 (the `<recv ns>` prefix removed).
const REAL = {
  tradeSell:
    '{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}}',
  tradeBuy:
    '{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255857,"s":"BTCUSDT","t":3735683305,"p":"61828.02000000","q":"0.00810000","T":1723161255856,"m":false,"M":true}}',
  ethTrade:
    '{"stream":"ethusdt@trade","data":{"e":"trade","E":1723161255612,"s":"ETHUSDT","t":1520538925,"p":"2683.80000000","q":"0.00200000","T":1723161255611,"m":true,"M":true}}',
  bookTicker:
    '{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}',
  ethBookTicker:
    '{"stream":"ethusdt@bookTicker","data":{"u":35346513501,"s":"ETHUSDT","b":"2683.80000000","B":"3.02920000","a":"2683.81000000","A":"31.43950000"}}',
  depth:
    '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,"s":"BTCUSDT","U":50093239203,"u":50093239207,"b":[["55653.87000000","0.00000000"]],"a":[["61838.04000000","0.32332000"],["61844.30000000","0.40163000"],["61862.50000000","0.05019000"],["61862.51000000","0.00000000"]]}}',
};

// Hand-written in the documented formats (developers.binance.com, WebSocket Streams).
const AGG_TRADE =
  '{"e":"aggTrade","E":1723161255343,"s":"BTCUSDT","a":3081912341,"p":"61837.63000000","q":"0.02000000","f":3735683259,"l":3735683261,"T":1723161255342,"m":true,"M":true}';
const KLINE_OPEN =
  '{"e":"kline","E":1723161255343,"s":"BTCUSDT","k":{"t":1723161240000,"T":1723161299999,"s":"BTCUSDT","i":"1m","f":3735683200,"L":3735683259,"o":"61830.00000000","c":"61837.63000000","h":"61840.01000000","l":"61829.99000000","v":"1.23456000","n":60,"x":false,"q":"76339.12345670","V":"0.50000000","Q":"30918.81500000","B":"0"}}';
const KLINE_EMPTY_CLOSED =
  '{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1723161300001,"s":"BTCUSDT","k":{"t":1723161240000,"T":1723161299999,"s":"BTCUSDT","i":"1m","f":-1,"L":-1,"o":"61837.63000000","c":"61837.63000000","h":"61837.63000000","l":"61837.63000000","v":"0.00000000","n":0,"x":true,"q":"0.00000000","V":"0.00000000","Q":"0.00000000","B":"0"}}}';
const MINI_TICKER =
  '{"stream":"btcusdt@miniTicker","data":{"e":"24hrMiniTicker","E":1723161255343,"s":"BTCUSDT","c":"61837.63000000","o":"56000.00000000","h":"62745.14000000","l":"54566.00000000","v":"41234.56789000","q":"2400000000.12345670"}}';

describe('decodeFrame on real frames', () => {
  it('decodes a trade where the taker sold (buyer is maker)', () => {
    expect(decodeFrame(REAL.tradeSell, instruments)).toEqual({
      kind: 'trade',
      trade: { symbol: 'BTCUSDT', id: 3735683259, price: 6183763, qty: qty('0.02'), firstId: 3735683259, lastId: 3735683259, time: 1723161255342, buyerMaker: true },
    });
    const buy = decodeFrame(REAL.tradeBuy, instruments);
    expect(buy).toMatchObject({ kind: 'trade', trade: { id: 3735683305, price: 6182802, qty: qty('0.0081'), buyerMaker: false } });
  });

  it('uses each instrument\'s own scales', () => {
    expect(decodeFrame(REAL.ethTrade, instruments)).toMatchObject({ trade: { symbol: 'ETHUSDT', price: 268380, qty: qty('0.002', ETH) } });
    expect(decodeFrame(REAL.ethBookTicker, instruments)).toMatchObject({ top: { bid: { price: 268380, qty: qty('3.0292', ETH) }, ask: { price: 268381, qty: qty('31.4395', ETH) } } });
  });

  it('decodes bookTicker (the payload without an event type)', () => {
    expect(decodeFrame(REAL.bookTicker, instruments)).toEqual({
      kind: 'bookTicker',
      top: { symbol: 'BTCUSDT', updateId: 50093239212, bid: { price: 6183763, qty: qty('3.78826') }, ask: { price: 6183764, qty: qty('1.54698') } },
    });
  });

  it('decodes a depth diff with its update-id range and zero-qty removals', () => {
    expect(decodeFrame(REAL.depth, instruments)).toEqual({
      kind: 'depth',
      diff: {
        symbol: 'BTCUSDT',
        eventTime: 1723161255308,
        firstUpdateId: 50093239203,
        lastUpdateId: 50093239207,
        bids: [{ price: 5565387, qty: 0 }],
        asks: [
          { price: 6183804, qty: qty('0.32332') },
          { price: 6184430, qty: qty('0.40163') },
          { price: 6186250, qty: qty('0.05019') },
          { price: 6186251, qty: 0 },
        ],
      },
    });
  });

  it('decodes raw payloads the same as combined-stream envelopes', () => {
    for (const frame of Object.values(REAL)) {
      const data = JSON.stringify((JSON.parse(frame) as { data: unknown }).data);
      expect(decodeFrame(data, instruments)).toEqual(decodeFrame(frame, instruments));
    }
  });
});

describe('decodeFrame on documented formats', () => {
  it('decodes aggTrade with its trade-id range', () => {
    expect(decodeFrame(AGG_TRADE, instruments)).toEqual({
      kind: 'trade',
      trade: { symbol: 'BTCUSDT', id: 3081912341, price: 6183763, qty: qty('0.02'), firstId: 3735683259, lastId: 3735683261, time: 1723161255342, buyerMaker: true },
    });
  });

  it('decodes an open kline into a Candle with exact bigint volumes', () => {
    expect(decodeFrame(KLINE_OPEN, instruments)).toEqual({
      kind: 'kline',
      candle: {
        symbol: 'BTCUSDT',
        interval: '1m',
        priceScale: 2,
        qtyScale: BTC.qtyScale,
        openTime: 1723161240000,
        closeTime: 1723161299999,
        open: 6183000,
        high: 6184001,
        low: 6182999,
        close: 6183763,
        volume: vol('1.23456'),
        quoteVolume: quote('76339.1234567'),
        trades: 60,
        takerBuyVolume: vol('0.5'),
        takerBuyQuoteVolume: quote('30918.815'),
        firstTradeId: 3735683200,
        lastTradeId: 3735683259,
        closed: false,
      },
    });
  });

  it('decodes a closed kline without trades (ids −1, zero volumes)', () => {
    const ev = decodeFrame(KLINE_EMPTY_CLOSED, instruments);
    expect(ev).toMatchObject({
      kind: 'kline',
      candle: { closed: true, trades: 0, firstTradeId: -1, lastTradeId: -1, volume: 0n, quoteVolume: 0n, open: 6183763, close: 6183763 },
    });
  });

  it('decodes miniTicker with 24 h volumes beyond 2^53 at quote scale', () => {
    expect(decodeFrame(MINI_TICKER, instruments)).toEqual({
      kind: 'miniTicker',
      ticker: {
        symbol: 'BTCUSDT',
        time: 1723161255343,
        open: 5600000,
        high: 6274514,
        low: 5456600,
        close: 6183763,
        volume: vol('41234.56789'),
        quoteVolume: quote('2400000000.1234567'),
      },
    });
  });

  it('returns null for control replies and connection events', () => {
    expect(decodeFrame('{"result":null,"id":1}', instruments)).toBeNull();
    expect(decodeFrame('{"result":["btcusdt@trade"],"id":3}', instruments)).toBeNull();
    expect(decodeFrame('{"error":{"code":2,"msg":"Invalid request"},"id":4}', instruments)).toBeNull();
    expect(decodeFrame('{"event":{"e":"serverShutdown","E":1770123456789}}', instruments)).toBeNull();
  });
});

describe('decodeFrame rejects malformed frames with a clear ParseError', () => {
  const bad = (text: string, message: RegExp) => {
    let caught: unknown;
    try {
      decodeFrame(text, instruments);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ParseError);
    expect((caught as Error).message).toMatch(message);
    return caught as ParseError;
  };
  const tweak = (frame: string, patch: Record<string, unknown>) => {
    const o = JSON.parse(frame) as { data?: Record<string, unknown> } & Record<string, unknown>;
    Object.assign(o.data ?? o, patch);
    return JSON.stringify(o);
  };

  it('rejects text that is not JSON or not an object', () => {
    bad('{"stream":"btcusdt@trade","data":{"e":"tra', /not valid JSON/);
    bad('[1,2,3]', /not a JSON object/);
    bad('"hello"', /not a JSON object/);
  });

  it('rejects envelopes without a data object', () => {
    bad('{"stream":"btcusdt@trade"}', /stream "btcusdt@trade" has no "data" object/);
    bad('{"stream":7,"data":{}}', /"stream" is not a string/);
  });

  it('rejects ill-typed fields instead of producing NaN', () => {
    bad(tweak(REAL.tradeSell, { t: '3735683259' }), /trade frame: field "t" must be an integer, got "3735683259"/);
    bad(tweak(REAL.tradeSell, { p: 61837.63 }), /trade frame: field "p" must be a decimal string, got 61837.63 \(number\)/);
    bad(tweak(REAL.tradeSell, { p: 'abc' }), /field "p": not a decimal: "abc"/);
    bad(tweak(REAL.tradeSell, { p: '' }), /field "p"/);
    bad(tweak(REAL.tradeSell, { p: '-1.00' }), /field "p" is negative/);
    bad(tweak(REAL.tradeSell, { m: 'true' }), /field "m" must be a boolean/);
    bad(tweak(REAL.tradeSell, { T: 1.5 }), /field "T" must be an integer/);
    bad(tweak(REAL.tradeSell, { T: null }), /field "T" must be an integer, got null \(null\)/);
    bad(tweak(REAL.bookTicker, { B: null }), /bookTicker frame: field "B" must be a decimal string/);
    bad(tweak(REAL.depth, { b: [['1.00', 2]] }), /depthUpdate frame: b\[0\] must be a \[price, qty\] pair of strings/);
    bad(tweak(REAL.depth, { a: 'none' }), /field "a" must be an array/);
    bad(tweak(AGG_TRADE, { a: undefined }), /aggTrade frame: field "a" must be an integer, it is missing/);
    bad(KLINE_OPEN.replace('"v":"1.23456000"', '"v":1.23456'), /kline frame: field "v" must be a decimal string/);
    bad(KLINE_OPEN.replace('"i":"1m"', '"i":"7m"'), /unknown interval "7m"/);
    bad(tweak(KLINE_OPEN, { k: [] }), /kline frame: field "k" must be an object/);
    const qs = BTC.priceScale + BTC.qtyScale;
    bad(MINI_TICKER.replace('"q":"2400000000.12345670"', `"q":"2400000000.${'1'.repeat(qs + 1)}"`), new RegExp(`field "q": .*more than ${qs} decimals`));
    bad(tweak(REAL.tradeSell, { q: `0.${'0'.repeat(BTC.qtyScale)}1` }), /trade frame: field "q": .*decimals/);
  });

  it('rejects prices finer than the instrument\'s tick', () => {
    bad(tweak(REAL.tradeSell, { p: '61837.631' }), /trade frame: field "p": "61837.631" has more than 2 decimals/);
  });

  it('names close matches for an unknown symbol', () => {
    const err = bad(tweak(REAL.tradeSell, { s: 'BTCUSTD' }), /trade frame for unknown symbol "BTCUSTD"/);
    expect(err.hint).toContain('BTCUSDT');
    bad(tweak(REAL.bookTicker, { s: 42 }), /bookTicker frame: field "s" must be a symbol string/);
  });

  it('rejects unknown event types and shapes', () => {
    bad('{"e":"24hrTicker","E":1,"s":"BTCUSDT"}', /unsupported event type "24hrTicker"/);
    bad('{"lastUpdateId":50093239218,"bids":[],"asks":[]}', /unrecognised frame/);
    bad('{"e":5}', /event type "e" is not a string/);
  });

  it('keeps decoding correctly after an error (no stale symbol cache)', () => {
    decodeFrame(REAL.ethTrade, instruments);
    bad(tweak(REAL.tradeSell, { s: 'NOPE' }), /unknown symbol "NOPE"/);
    expect(decodeFrame(REAL.tradeSell, instruments)).toMatchObject({ trade: { symbol: 'BTCUSDT', price: 6183763 } });
    const other = new Instruments([{ ...instruments.get('BTCUSDT'), priceScale: 8 }]);
    expect(decodeFrame(REAL.tradeSell, other)).toMatchObject({ trade: { price: 6183763000000 } });
    expect(px('61837.63')).toBe(6183763);
  });
});

describe('readControl', () => {
  it('reads replies, errors and serverShutdown in either shape', () => {
    expect(readControl('{"result":null,"id":1}')).toEqual({ kind: 'reply', id: 1, result: null });
    expect(readControl('{"error":{"code":2,"msg":"Invalid request: unknown variant"},"id":"x"}')).toEqual({
      kind: 'error',
      id: 'x',
      code: 2,
      message: 'Invalid request: unknown variant',
    });
    expect(readControl('{"event":{"e":"serverShutdown","E":1770123456789}}')).toEqual({ kind: 'serverShutdown', time: 1770123456789 });
    expect(readControl('{"e":"serverShutdown","E":5}')).toEqual({ kind: 'serverShutdown', time: 5 });
    expect(readControl('{"stream":"x","data":{"e":"serverShutdown"}}')).toEqual({ kind: 'serverShutdown', time: undefined });
    expect(readControl(REAL.tradeSell)).toBeNull();
    expect(readControl('not json')).toBeNull();
  });
});

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { formatFixed, parseFixed } from '../fixed.js';
import { decodeDepthSnapshot, decodeLevels } from './binance/rest-parse.js';
import { Instruments, type ExchangeInfo } from './instruments.js';
import { LocalOrderBook, OrderBookSync } from './orderbook.js';
import type { DepthDiff, DepthSnapshot } from './source.js';

const fixtures = new URL('../../../fixtures/binance/', import.meta.url);
const info = JSON.parse(readFileSync(new URL('exchangeInfo.json', fixtures), 'utf8')) as ExchangeInfo;
const btc = Instruments.fromExchangeInfo(info).get('BTCUSDT');

interface Ticker {
  u: number;
  bid: number;
  bidQty: number;
  ask: number;
  askQty: number;
}

type Item = { kind: 'diff'; diff: DepthDiff } | { kind: 'snapshot'; snapshot: DepthSnapshot } | { kind: 'ticker'; ticker: Ticker };

/** The real capture, in receive order (see fixtures/README.md, "depth fixture"). */
function loadFixture(): Item[] {
  const text = gunzipSync(readFileSync(new URL('depth-btcusdt-2024-08-08.jsonl.gz', fixtures))).toString('utf8');
  const items: Item[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const rec = JSON.parse(line) as { r: number; f?: { stream: string; data: Record<string, unknown> }; rest?: string; body?: unknown };
    if (rec.rest !== undefined) {
      expect(rec.rest).toBe('/api/v3/depth?symbol=BTCUSDT&limit=1000');
      items.push({ kind: 'snapshot', snapshot: decodeDepthSnapshot(rec.body, btc) });
      continue;
    }
    const { stream, data } = rec.f!;
    if (stream.endsWith('@bookTicker')) {
      items.push({
        kind: 'ticker',
        ticker: {
          u: data.u as number,
          bid: parseFixed(data.b as string, btc.priceScale),
          bidQty: parseFixed(data.B as string, btc.qtyScale),
          ask: parseFixed(data.a as string, btc.priceScale),
          askQty: parseFixed(data.A as string, btc.qtyScale),
        },
      });
    } else if (data.e === 'depthUpdate') {
      items.push({
        kind: 'diff',
        diff: {
          symbol: data.s as string,
          eventTime: data.E as number,
          firstUpdateId: data.U as number,
          lastUpdateId: data.u as number,
          bids: decodeLevels(data.b, btc, 'b'),
          asks: decodeLevels(data.a, btc, 'a'),
        },
      });
    }
  }
  return items;
}

const items = loadFixture();
const diffs = items.flatMap((i) => (i.kind === 'diff' ? [i.diff] : []));
const snapshot = items.find((i) => i.kind === 'snapshot')!.snapshot as DepthSnapshot;
const snapshotIndex = items.findIndex((i) => i.kind === 'snapshot');
const tickers = items.flatMap((i) => (i.kind === 'ticker' ? [i.ticker] : [])).sort((a, b) => a.u - b.u);

/** The bookTicker in force at order-book update id `u`: the one with the largest u' <= u. */
function tickerAt(u: number): Ticker | undefined {
  let lo = 0;
  let hi = tickers.length - 1;
  let found: Ticker | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (tickers[mid]!.u <= u) {
      found = tickers[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** A full snapshot of `book` as the REST endpoint would give it. */
function snapshotOf(book: LocalOrderBook): DepthSnapshot {
  return { symbol: book.symbol, lastUpdateId: book.lastUpdateId, bids: book.levels('bid', 1e9), asks: book.levels('ask', 1e9) };
}

/** A book synced the straightforward way, for comparisons. */
function referenceBook(uptoIndex: number): LocalOrderBook {
  const b = new LocalOrderBook('BTCUSDT');
  b.applySnapshot(snapshot);
  for (const d of diffs.slice(0, uptoIndex + 1)) b.applyDiff(d);
  return b;
}

describe('fixture', () => {
  it('is the real capture: diffs before and after a 1000-level snapshot, and bookTickers', () => {
    expect(snapshot.lastUpdateId).toBe(50093239218);
    expect(snapshot.bids).toHaveLength(1000);
    expect(snapshot.asks).toHaveLength(1000);
    expect(items.slice(0, snapshotIndex).filter((i) => i.kind === 'diff').length).toBe(3);
    expect(diffs.length).toBeGreaterThan(500);
    expect(tickers.length).toBeGreaterThan(1000);
  });

  it('has book quantities finer than stepSize, which decode exactly at the instrument\'s wire scale', () => {
    expect(btc.stepSize).toBe('0.00001000');
    expect(btc.qtyScale).toBe(8);
    const text = gunzipSync(readFileSync(new URL('depth-btcusdt-2024-08-08.jsonl.gz', fixtures))).toString('utf8');
    const dust = /"(\d+\.\d{5}[1-9]\d*)"\]/.exec(text)?.[1];
    expect(dust).toBeDefined();
    const [level] = decodeLevels([['61000.00', dust]], btc, 'b');
    expect(formatFixed(level!.qty, btc.qtyScale)).toBe(dust);
    expect(level!.qty % 1000).not.toBe(0);
    // The capture's diffs carry such a level, decoded unrounded.
    const subStep = diffs.flatMap((d) => [...d.bids, ...d.asks]).filter((l) => l.qty % 1000 !== 0);
    expect(subStep.map((l) => formatFixed(l.qty, btc.qtyScale))).toContain(dust);
    // Still strict: anything beyond Binance's 8 wire decimals is refused.
    expect(() => decodeLevels([['61000.00', '0.000000001']], btc, 'b')).toThrow(/more than 8 decimals/);
  });
});

describe('LocalOrderBook on the real capture', () => {
  it('buffers diffs before the snapshot, drops stale ones, and syncs on the straddling diff', () => {
    const book = new LocalOrderBook('btcusdt');
    expect(book.status).toBe('awaiting-snapshot');
    expect(book.needsSnapshot).toBe(true);
    const early = items.slice(0, snapshotIndex).flatMap((i) => (i.kind === 'diff' ? [i.diff] : []));
    for (const d of early) expect(book.applyDiff(d)).toBe('buffered');
    expect(book.top()).toBeUndefined();
    expect(book.buffered).toBe(3);

    // Two buffered diffs end at or before 50093239218; the third (U 50093239208, u 50093239224) straddles it.
    expect(early[0]!.lastUpdateId).toBeLessThanOrEqual(snapshot.lastUpdateId);
    expect(early[2]!.firstUpdateId).toBeLessThanOrEqual(snapshot.lastUpdateId + 1);
    expect(early[2]!.lastUpdateId).toBeGreaterThanOrEqual(snapshot.lastUpdateId + 1);
    expect(book.applySnapshot(snapshot)).toBe('synced');
    expect(book.needsSnapshot).toBe(false);
    expect(book.buffered).toBe(0);
    expect(book.lastUpdateId).toBe(early[2]!.lastUpdateId);
    // The straddling diff changed levels the snapshot had: ask 61838.04 went to 0.
    expect(book.qtyAt('ask', parseFixed('61838.04', btc.priceScale))).toBe(0);

    // Old events after sync are stale and change nothing.
    const before = JSON.stringify(book.levels('bid', 50));
    expect(book.applyDiff(early[1]!)).toBe('stale');
    expect(book.applyDiff(early[2]!)).toBe('stale');
    expect(JSON.stringify(book.levels('bid', 50))).toBe(before);
    expect(book.lastUpdateId).toBe(early[2]!.lastUpdateId);
  });

  it('best bid/ask after every diff equal the real bookTicker at the same update id', () => {
    const book = new LocalOrderBook('BTCUSDT');
    let checked = 0;
    let exact = 0;
    for (const it of items) {
      if (it.kind === 'snapshot') {
        expect(book.applySnapshot(it.snapshot)).toBe('synced');
      } else if (it.kind === 'diff') {
        const outcome = book.applyDiff(it.diff);
        expect(outcome).not.toBe('gap');
        if (outcome !== 'applied') continue;
        const top = book.top()!;
        const t = tickerAt(it.diff.lastUpdateId);
        if (!t) continue;
        if (t.u === it.diff.lastUpdateId) exact++;
        expect({ u: top.updateId, bid: top.bid.price, bidQty: top.bid.qty, ask: top.ask.price, askQty: top.ask.qty }).toEqual({
          u: it.diff.lastUpdateId,
          bid: t.bid,
          bidQty: t.bidQty,
          ask: t.ask,
          askQty: t.askQty,
        });
        checked++;
      }
    }
    expect(book.status).toBe('synced');
    expect(checked).toBeGreaterThan(500);
    expect(exact).toBeGreaterThan(50);
    expect(book.spread).toBeGreaterThan(0);
    const bids = book.levels('bid', 20);
    const asks = book.levels('ask', 20);
    expect(bids).toHaveLength(20);
    for (let i = 1; i < 20; i++) {
      expect(bids[i]!.price).toBeLessThan(bids[i - 1]!.price);
      expect(asks[i]!.price).toBeGreaterThan(asks[i - 1]!.price);
    }
    expect(bids[0]!.price).toBeLessThan(asks[0]!.price);
  });

  it('detects a dropped diff as a gap and discards the book', () => {
    const book = new LocalOrderBook('BTCUSDT');
    book.applySnapshot(snapshot);
    const k = 40;
    for (let i = 0; i < k; i++) book.applyDiff(diffs[i]!);
    const last = book.lastUpdateId;
    // diffs[k] is lost on the wire.
    expect(book.applyDiff(diffs[k + 1]!)).toBe('gap');
    expect(book.status).toBe('out-of-sync');
    expect(book.needsSnapshot).toBe(true);
    expect(book.top()).toBeUndefined();
    expect(book.lastGap).toEqual({ expected: last + 1, got: diffs[k + 1]!.firstUpdateId });
    // Later diffs wait for the next snapshot.
    expect(book.applyDiff(diffs[k + 2]!)).toBe('buffered');
    expect(book.buffered).toBe(2);

    // The old snapshot is too old for them: still out of sync, diffs kept.
    expect(book.applySnapshot(snapshot)).toBe('out-of-sync');
    expect(book.buffered).toBe(2);
    // A snapshot taken at diffs[k+1] fits: the book then equals one that saw every diff.
    expect(book.applySnapshot(snapshotOf(referenceBook(k + 1)))).toBe('synced');
    expect(book.lastUpdateId).toBe(diffs[k + 2]!.lastUpdateId);
    expect(snapshotOf(book)).toEqual(snapshotOf(referenceBook(k + 2)));
  });

  it('a snapshot taken before the stream started is caught by the first diff', () => {
    const book = new LocalOrderBook('BTCUSDT');
    book.applySnapshot(snapshot);
    // Skipping the straddling diff and those after it: the first diff seen starts past lastUpdateId + 1.
    const later = diffs.find((d) => d.firstUpdateId > snapshot.lastUpdateId + 1)!;
    expect(book.applyDiff(later)).toBe('gap');
    expect(book.needsSnapshot).toBe(true);
    book.reset();
    expect(book.status).toBe('awaiting-snapshot');
    expect(book.buffered).toBe(0);
    expect(book.size).toEqual({ bids: 0, asks: 0 });
  });

  it('applies a diff overlapping the book (U <= id + 1 <= u), as Binance documents', () => {
    const book = new LocalOrderBook('BTCUSDT');
    book.applySnapshot(snapshot);
    const d = diffs[3]!;
    book.applyDiff(diffs[0]!);
    book.applyDiff(diffs[1]!);
    book.applyDiff(diffs[2]!);
    const overlap: DepthDiff = { ...d, firstUpdateId: d.firstUpdateId - 2 };
    expect(book.applyDiff(overlap)).toBe('applied');
    expect(book.lastUpdateId).toBe(d.lastUpdateId);
  });
});

describe('LocalOrderBook levels', () => {
  it('matches a plain map under many random updates; qty 0 removes, removing an absent level is fine', () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const book = new LocalOrderBook('X');
    book.applySnapshot({ symbol: 'X', lastUpdateId: 0, bids: [], asks: [] });
    const ref = { bid: new Map<number, number>(), ask: new Map<number, number>() };
    for (let id = 1; id <= 5000; id++) {
      const bids = Array.from({ length: rnd(4) }, () => ({ price: 1000 + rnd(1500), qty: rnd(3) === 0 ? 0 : 1 + rnd(100) }));
      const asks = Array.from({ length: rnd(4) }, () => ({ price: 2600 + rnd(1500), qty: rnd(3) === 0 ? 0 : 1 + rnd(100) }));
      expect(book.applyDiff({ symbol: 'X', eventTime: id, firstUpdateId: id, lastUpdateId: id, bids, asks })).toBe('applied');
      for (const l of bids) if (l.qty === 0) ref.bid.delete(l.price); else ref.bid.set(l.price, l.qty);
      for (const l of asks) if (l.qty === 0) ref.ask.delete(l.price); else ref.ask.set(l.price, l.qty);
    }
    const expected = (side: 'bid' | 'ask') =>
      [...ref[side].entries()].sort((a, b) => (side === 'bid' ? b[0] - a[0] : a[0] - b[0])).map(([price, qty]) => ({ price, qty }));
    expect(book.levels('bid', 1e9)).toEqual(expected('bid'));
    expect(book.levels('ask', 1e9)).toEqual(expected('ask'));
    expect(book.size.bids).toBe(ref.bid.size);
    expect(book.levels('ask', 3)).toEqual(expected('ask').slice(0, 3));
  });

  it('loads unsorted snapshots with zero quantities skipped', () => {
    const book = new LocalOrderBook('X');
    book.applySnapshot({
      symbol: 'X',
      lastUpdateId: 7,
      bids: [{ price: 5, qty: 1 }, { price: 9, qty: 2 }, { price: 7, qty: 0 }],
      asks: [{ price: 12, qty: 3 }, { price: 10, qty: 4 }],
    });
    expect(book.top()).toEqual({ symbol: 'X', updateId: 7, bid: { price: 9, qty: 2 }, ask: { price: 10, qty: 4 } });
    expect(book.spread).toBe(1);
    expect(book.levels('bid', 5)).toEqual([{ price: 9, qty: 2 }, { price: 5, qty: 1 }]);
  });
});

describe('OrderBookSync', () => {
  it('requests a snapshot, re-syncs after a gap, and asks again when a snapshot is too old', () => {
    let requests = 0;
    const statuses: string[] = [];
    const updates: number[] = [];
    const sync = new OrderBookSync({
      symbol: 'BTCUSDT',
      request: () => requests++,
      onStatus: (s) => statuses.push(s),
      onUpdate: (b) => updates.push(b.lastUpdateId),
    });

    // Start: the first diffs buffer and trigger one request, however many arrive meanwhile.
    const early = items.slice(0, snapshotIndex).flatMap((i) => (i.kind === 'diff' ? [i.diff] : []));
    for (const d of early) expect(sync.onDiff(d)).toBe('buffered');
    expect(requests).toBe(1);
    expect(sync.awaitingSnapshot).toBe(true);
    expect(sync.onSnapshot(snapshot)).toBe('synced');
    expect(sync.awaitingSnapshot).toBe(false);
    expect(updates).toEqual([early[2]!.lastUpdateId]);

    const start = diffs.indexOf(early[2]!) + 1;
    const k = start + 30;
    for (let i = start; i < k; i++) expect(sync.onDiff(diffs[i]!)).toBe('applied');
    expect(updates).toHaveLength(31);
    expect(requests).toBe(1);
    // diffs[k] is dropped: a gap, and a new request.
    expect(sync.onDiff(diffs[k + 1]!)).toBe('gap');
    expect(requests).toBe(2);
    for (let i = k + 2; i <= k + 6; i++) expect(sync.onDiff(diffs[i]!)).toBe('buffered');
    expect(requests).toBe(2);

    // An old snapshot does not fit the buffered diffs: the sync asks again, once.
    expect(sync.onSnapshot(snapshot)).toBe('out-of-sync');
    expect(requests).toBe(3);
    expect(sync.onDiff(diffs[k + 7]!)).toBe('buffered');
    expect(requests).toBe(3);
    expect(sync.onSnapshot(snapshotOf(referenceBook(k + 3)))).toBe('synced');
    expect(sync.snapshots).toBe(3);
    expect(snapshotOf(sync.book)).toEqual(snapshotOf(referenceBook(k + 7)));
    expect(statuses).toEqual(['synced', 'out-of-sync', 'out-of-sync', 'synced']);
    expect(updates.at(-1)).toBe(diffs[k + 7]!.lastUpdateId);
    for (let i = k + 8; i < k + 20; i++) expect(sync.onDiff(diffs[i]!)).toBe('applied');
    expect(sync.book.top()!.updateId).toBe(diffs[k + 19]!.lastUpdateId);
    expect(requests).toBe(3);
  });

  it('syncs the real capture fed in receive order, snapshot included, to the bookTickers', () => {
    let requests = 0;
    let checked = 0;
    const sync = new OrderBookSync({
      symbol: 'BTCUSDT',
      request: () => requests++,
      onUpdate: (b) => {
        const t = tickerAt(b.lastUpdateId);
        if (!t || t.u !== b.lastUpdateId) return;
        const top = b.top()!;
        expect([top.bid.price, top.bid.qty, top.ask.price, top.ask.qty]).toEqual([t.bid, t.bidQty, t.ask, t.askQty]);
        checked++;
      },
    });
    for (const it of items) {
      if (it.kind === 'snapshot') expect(sync.onSnapshot(it.snapshot)).toBe('synced');
      else if (it.kind === 'diff') expect(sync.onDiff(it.diff)).not.toBe('gap');
    }
    expect(requests).toBe(1);
    expect(sync.book.status).toBe('synced');
    expect(checked).toBeGreaterThan(50);
  });

  it('asks again when a requested snapshot never comes, counted in diffs', () => {
    let requests = 0;
    const sync = new OrderBookSync({ symbol: 'BTCUSDT', request: () => requests++, rerequestAfter: 5 });
    for (let i = 0; i < 5; i++) sync.onDiff(diffs[i]!);
    expect(requests).toBe(1);
    sync.onDiff(diffs[5]!);
    expect(requests).toBe(2);
    for (let i = 6; i < 11; i++) sync.onDiff(diffs[i]!);
    expect(requests).toBe(3);
    expect(sync.book.buffered).toBe(11);
  });

  it('ignores a snapshot no newer than its synced book, and takes a newer one', () => {
    let requests = 0;
    const sync = new OrderBookSync({ symbol: 'BTCUSDT', request: () => requests++ });
    const start = diffs.findIndex((d) => d.firstUpdateId <= snapshot.lastUpdateId + 1 && d.lastUpdateId > snapshot.lastUpdateId);
    expect(sync.onSnapshot(snapshot)).toBe('synced');
    for (let i = start; i < start + 10; i++) expect(sync.onDiff(diffs[i]!)).toBe('applied');
    const before = snapshotOf(sync.book);
    // A replay delivers every recorded snapshot; an older one must not rewind the book.
    expect(sync.onSnapshot(snapshot)).toBe('synced');
    expect(snapshotOf(sync.book)).toEqual(before);
    // A newer one (as after a reconnect the diffs have not revealed yet) replaces it.
    expect(sync.onSnapshot(snapshotOf(referenceBook(start + 20)))).toBe('synced');
    expect(sync.book.lastUpdateId).toBe(diffs[start + 20]!.lastUpdateId);
    expect(sync.onDiff(diffs[start + 15]!)).toBe('stale');
    expect(sync.onDiff(diffs[start + 21]!)).toBe('applied');
    expect(snapshotOf(sync.book)).toEqual(snapshotOf(referenceBook(start + 21)));
    expect(requests).toBe(0);
  });
});

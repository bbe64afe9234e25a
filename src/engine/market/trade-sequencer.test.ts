import { describe, expect, it } from 'vitest';
import { TradeSequencer, type TradeGap } from './trade-sequencer.js';
import type { Trade } from './types.js';

const trade = (id: number): Trade => ({ symbol: 'BTCUSDT', id, price: 100 + id, qty: 1, firstId: id, lastId: id, time: 1000 + id, buyerMaker: false });

function setup(history: Trade[] = [], opts: { noFill?: boolean } = {}) {
  const out: number[] = [];
  const marks: number[] = [];
  const gaps: TradeGap[] = [];
  const calls: Array<[number, number]> = [];
  const seq = new TradeSequencer({
    symbol: 'BTCUSDT',
    pageSize: 3,
    emit: (t) => out.push(t.id),
    mark: (t) => marks.push(t),
    onGap: (g) => gaps.push(g),
    fetchFrom: opts.noFill
      ? undefined
      : async (fromId, limit) => {
          calls.push([fromId, limit]);
          await new Promise((r) => setTimeout(r, 1));
          return history.filter((t) => t.id >= fromId).slice(0, limit);
        },
  });
  return { seq, out, marks, gaps, calls };
}

describe('TradeSequencer', () => {
  it('passes contiguous trades through and drops duplicates', () => {
    const { seq, out } = setup();
    for (const id of [5, 6, 6, 7, 5, 8]) seq.push(trade(id));
    expect(out).toEqual([5, 6, 7, 8]);
    expect(seq.stats).toMatchObject({ emitted: 4, duplicates: 2, gaps: 0 });
  });

  it('fills a gap from REST in pages and holds later trades and marks until then', async () => {
    const history = Array.from({ length: 30 }, (_, i) => trade(i));
    const { seq, out, marks, gaps, calls } = setup(history);
    seq.push(trade(1));
    seq.push(trade(9)); // 2..8 missing
    seq.mark(5000);
    seq.push(trade(10));
    seq.push(trade(9)); // duplicate of a held trade
    expect(out).toEqual([1]);
    expect(marks).toEqual([]);
    await seq.settled();
    expect(out).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(marks).toEqual([5000]);
    expect(gaps).toEqual([{ symbol: 'BTCUSDT', fromId: 2, toId: 8, filled: 7, afterTime: 1001, beforeTime: 1009 }]);
    expect(calls).toEqual([
      [2, 3],
      [5, 3],
      [8, 1],
    ]);
    expect(seq.stats).toMatchObject({ gaps: 1, filled: 7, missing: 0, duplicates: 1 });
  });

  it('handles a second gap among the held trades', async () => {
    const history = Array.from({ length: 30 }, (_, i) => trade(i));
    const { seq, out } = setup(history);
    seq.push(trade(1));
    seq.push(trade(4));
    seq.push(trade(8));
    seq.push(trade(9));
    await seq.settled();
    expect(out).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seq.stats.gaps).toBe(2);
  });

  it('reports ids REST cannot give as missing and moves on', async () => {
    const history = [trade(1), trade(2), trade(5)];
    const { seq, out, gaps } = setup(history);
    seq.push(trade(1));
    seq.push(trade(6));
    await seq.settled();
    expect(out).toEqual([1, 2, 6]);
    expect(gaps[0]).toMatchObject({ fromId: 2, toId: 5, filled: 1 });
    expect(seq.stats.missing).toBe(3);
  });

  it('without a REST source records the gap and continues', async () => {
    const { seq, out } = setup([], { noFill: true });
    seq.push(trade(1));
    seq.push(trade(4));
    await seq.settled();
    expect(out).toEqual([1, 4]);
    expect(seq.stats).toMatchObject({ gaps: 1, missing: 2 });
  });

  it('a consumer that throws on one held trade loses none of the others', async () => {
    const history = Array.from({ length: 30 }, (_, i) => trade(i));
    const out: number[] = [];
    const errors: string[] = [];
    let thrown = false;
    const seq = new TradeSequencer({
      symbol: 'BTCUSDT',
      emit: (t) => {
        if (t.id === 4 && !thrown) {
          thrown = true;
          throw new Error('consumer failed');
        }
        out.push(t.id);
      },
      onError: (e) => errors.push((e as Error).message),
      fetchFrom: async (fromId, limit) => history.filter((t) => t.id >= fromId).slice(0, limit),
    });
    seq.push(trade(1));
    seq.push(trade(4)); // 2..3 missing: 4, 5 and 6 are held while they are fetched
    seq.push(trade(5));
    seq.push(trade(6));
    await seq.settled();
    seq.push(trade(7));
    await seq.settled();
    expect(out).toEqual([1, 2, 3, 5, 6, 7]);
    expect(errors).toEqual(['consumer failed']);
    expect(seq.stats).toMatchObject({ gaps: 1, filled: 2, missing: 0, duplicates: 0 });
  });

  it('a consumer that throws on a fetched trade does not turn the rest of the page into missing ids', async () => {
    const history = Array.from({ length: 30 }, (_, i) => trade(i));
    const out: number[] = [];
    const seq = new TradeSequencer({
      symbol: 'BTCUSDT',
      emit: (t) => {
        if (t.id === 2) throw new Error('consumer failed');
        out.push(t.id);
      },
      onError: () => {},
      fetchFrom: async (fromId, limit) => history.filter((t) => t.id >= fromId).slice(0, limit),
    });
    seq.push(trade(1));
    seq.push(trade(5));
    await seq.settled();
    expect(out).toEqual([1, 3, 4, 5]);
    expect(seq.stats).toMatchObject({ filled: 3, missing: 0 });
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { instruments } from '../../../test/ai/fixtures.js';
import { RejectedError, UsageError } from '../errors.js';
import { OrderRejectedError } from '../orders/rejections.js';
import type { Order } from '../orders/types.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import type { OrderText, PlacedOrder } from '../trading.js';
import { PROPOSAL_TTL_MS, ProposalBook, describeOrder } from './proposals.js';

const T0 = Date.UTC(2024, 7, 8, 12);
const input = { order: { symbol: 'BTCUSDT', side: 'BUY' as const, qty: '0.01', limit: '59000' }, rationale: 'RSI 14 = 28 on 1h', source: 'ask', model: 'deepseek-flash' };
const qtyScale = (s: string): number => instruments.get(s).qtyScale;

function placedOrder(t: OrderText & { symbol: string }): PlacedOrder {
  const order = { symbol: t.symbol, orderId: 42, clientOrderId: t.clientId!, side: t.side, type: 'LIMIT', status: 'NEW', executedQty: 0 } as unknown as Order;
  return { order, fills: [], duplicate: false };
}

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'qtrade-proposals-'));
  store = await openStore(`sqlite:${path.join(dir, 'q.db')}`);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('proposals', () => {
  it('records a pending proposal durably and places nothing until approved', async () => {
    const book = await ProposalBook.open(store);
    const p = await book.create(input, T0);
    expect(p).toMatchObject({ id: 'p1', status: 'pending', createdAt: T0, expiresAt: T0 + PROPOSAL_TTL_MS, order: input.order, rationale: input.rationale });
    const again = await ProposalBook.open(store);
    expect(again.list(T0)).toEqual([p]);
    expect(describeOrder(p.order)).toBe('BUY 0.01 BTCUSDT LIMIT limit 59000');
  });

  it('approves through the given order path with an idempotent client order id, and records the order', async () => {
    const book = await ProposalBook.open(store);
    const p = await book.create(input, T0);
    const placed: Array<OrderText & { symbol: string }> = [];
    const r = await book.approve(p.id, T0 + 1000, async (t) => (placed.push(t), placedOrder(t)), qtyScale);
    expect(placed).toEqual([{ symbol: 'BTCUSDT', side: 'BUY', qty: '0.01', limit: '59000', clientId: 'ai-p1' }]);
    expect(r.proposal).toMatchObject({ status: 'approved', decidedAt: T0 + 1000, placed: { orderId: 42, clientOrderId: 'ai-p1', status: 'NEW', executedQty: '0', fills: 0 } });
    await expect(book.approve(p.id, T0 + 2000, async (t) => placedOrder(t), qtyScale)).rejects.toThrow(/is approved already/);
    expect((await ProposalBook.open(store)).get('P1', T0)!.status).toBe('approved');
  });

  it('lets exactly one of two processes decide a proposal', async () => {
    const a = await ProposalBook.open(store);
    const p = await a.create(input, T0);
    const other = await openStore(`sqlite:${path.join(dir, 'q.db')}`);
    try {
      const b = await ProposalBook.open(other);
      await b.reject(p.id, T0 + 10, 'not now');
      let placed = 0;
      const err = await a.approve(p.id, T0 + 20, async (t) => (placed++, placedOrder(t)), qtyScale).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toContain('is rejected already');
      expect(placed).toBe(0);
      expect(a.get(p.id, T0)).toMatchObject({ status: 'rejected', reason: 'not now' });
    } finally {
      await other.close();
    }
  });

  it('expires an undecided proposal and refuses to approve it', async () => {
    const book = await ProposalBook.open(store);
    const p = await book.create(input, T0);
    const later = T0 + PROPOSAL_TTL_MS + 1;
    expect(book.get(p.id, later)!.status).toBe('expired');
    let placed = 0;
    await expect(book.approve(p.id, later, async (t) => (placed++, placedOrder(t)), qtyScale)).rejects.toThrow(/expired/);
    expect(placed).toBe(0);
  });

  it('marks an approved order the account refused as failed, with the reason, and rethrows it', async () => {
    const book = await ProposalBook.open(store);
    const p = await book.create(input, T0);
    const refusal = new OrderRejectedError({ code: -2010, msg: 'Account has insufficient balance for requested action.' });
    await expect(book.approve(p.id, T0, async () => Promise.reject(refusal), qtyScale)).rejects.toBeInstanceOf(RejectedError);
    expect(book.get(p.id, T0)).toMatchObject({ status: 'failed', error: { code: 'BINANCE_-2010', message: 'Account has insufficient balance for requested action.' } });
  });

  it('names an unknown proposal', async () => {
    const book = await ProposalBook.open(store);
    await expect(book.reject('p9', T0)).rejects.toThrow(/no proposal "p9"/);
  });
});

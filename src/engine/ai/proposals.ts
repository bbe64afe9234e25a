import { QtradeError, StoreError, UsageError } from '../errors.js';
import { formatFixed } from '../fixed.js';
import type { Order } from '../orders/types.js';
import type { EventRecord, Store } from '../store/types.js';
import type { OrderText, PlacedOrder } from '../trading.js';

/**
 * Order proposals: the only thing the assistant can do about orders. A proposal is a pending
 * order text; nothing places it until a person approves it (`qtrade proposals approve ID`, the
 * TUI card), and then it goes through the account's normal order path. Proposals live in an
 * append-only event log in the store (stream `ai.proposals`), so every process sharing the store
 * sees them and two writers can never both decide one: appends are checked against the log's
 * last seq, and a conflicting writer reloads and decides again.
 */

export const PROPOSALS_STREAM = 'ai.proposals';
/** A proposal not decided within this long (event time) expires. */
export const PROPOSAL_TTL_MS = 15 * 60_000;

export type ProposalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'failed';

/** The order, as `qtrade order` takes it (decimal strings). */
export interface ProposedOrder {
  symbol: string;
  side: 'BUY' | 'SELL';
  type?: string;
  qty?: string;
  quoteQty?: string;
  limit?: string;
  stop?: string;
  tif?: string;
}

export interface ProposalInput {
  order: ProposedOrder;
  /** The model's reason, shown to the person deciding. */
  rationale: string;
  /** Who proposed it: 'ask', 'chat', 'daemon', 'tui'. */
  source: string;
  model?: string;
}

export interface Proposal extends ProposalInput {
  id: string;
  createdAt: number;
  expiresAt: number;
  status: ProposalStatus;
  decidedAt?: number;
  /** Why it was rejected (by a person). */
  reason?: string;
  /** The order placed on approval. */
  placed?: { orderId: number; clientOrderId: string; status: string; executedQty: string; fills: number };
  /** Why the approved order was refused (status 'failed'). */
  error?: { code: string; message: string };
}

type LogEvent =
  | { kind: 'created'; proposal: ProposalInput & { createdAt: number; expiresAt: number } }
  | { kind: 'approved'; id: string }
  | { kind: 'placed'; id: string; placed: NonNullable<Proposal['placed']> }
  | { kind: 'failed'; id: string; error: { code: string; message: string } }
  | { kind: 'rejected'; id: string; reason: string };

/** The client order id of a proposal's order: a repeated approval places nothing new. */
export function proposalClientId(id: string): string {
  return `ai-${id}`;
}

/** The order text an approval places; the client order id makes a repeated approval idempotent. */
export function proposalOrderText(p: Proposal): OrderText & { symbol: string } {
  const o = p.order;
  return {
    symbol: o.symbol,
    side: o.side,
    ...(o.type !== undefined ? { type: o.type } : {}),
    ...(o.qty !== undefined ? { qty: o.qty } : {}),
    ...(o.quoteQty !== undefined ? { quoteQty: o.quoteQty } : {}),
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
    ...(o.stop !== undefined ? { stop: o.stop } : {}),
    ...(o.tif !== undefined ? { tif: o.tif } : {}),
    clientId: proposalClientId(p.id),
  };
}

/** "BUY 0.01 BTCUSDT LIMIT 60000": one line for lists and confirmations. */
export function describeOrder(o: ProposedOrder): string {
  const type = o.type ?? (o.limit !== undefined && o.stop !== undefined ? 'STOP_LOSS_LIMIT' : o.limit !== undefined ? 'LIMIT' : o.stop !== undefined ? 'STOP_LOSS' : 'MARKET');
  const size = o.qty !== undefined ? o.qty : `${o.quoteQty} (quote)`;
  return [o.side, size, o.symbol, type, o.limit !== undefined ? `limit ${o.limit}` : '', o.stop !== undefined ? `stop ${o.stop}` : '', o.tif ? o.tif : ''].filter(Boolean).join(' ');
}

export class ProposalBook {
  private readonly byId = new Map<string, Proposal>();
  private lastSeq = 0;

  private constructor(private readonly store: Store) {}

  /** Reads the proposals log from the store. */
  static async open(store: Store): Promise<ProposalBook> {
    const book = new ProposalBook(store);
    await book.refresh();
    return book;
  }

  /** Every proposal, newest first, with expiry applied at `now`. */
  list(now: number): Proposal[] {
    return [...this.byId.values()].map((p) => this.at(p, now)).sort((a, b) => b.createdAt - a.createdAt || Number(b.id.slice(1)) - Number(a.id.slice(1)));
  }

  get(id: string, now: number): Proposal | undefined {
    const p = this.byId.get(id.trim().toLowerCase());
    return p ? this.at(p, now) : undefined;
  }

  /** Records a new pending proposal at event time `now`. */
  async create(input: ProposalInput, now: number): Promise<Proposal> {
    const proposal = { ...input, createdAt: now, expiresAt: now + PROPOSAL_TTL_MS };
    const seq = await this.append({ kind: 'created', proposal }, now, () => undefined);
    return this.get(`p${seq}`, now)!;
  }

  /** A person declined it. */
  async reject(id: string, now: number, reason = 'rejected by the user'): Promise<Proposal> {
    const key = this.need(id, now).id;
    await this.append({ kind: 'rejected', id: key, reason }, now, () => this.mustBePending(key, now));
    return this.get(key, now)!;
  }

  /**
   * A person approved it: claimed first (so no other process can decide it), then placed with
   * `place` (the account's order path), then the outcome recorded. A refused order leaves the
   * proposal 'failed' with the reason, and the error is thrown to the caller.
   */
  async approve(
    id: string,
    now: number,
    place: (order: OrderText & { symbol: string }) => Promise<PlacedOrder>,
    qtyScale: (symbol: string) => number,
  ): Promise<{ proposal: Proposal; placed: PlacedOrder }> {
    const key = this.need(id, now).id;
    await this.append({ kind: 'approved', id: key }, now, () => this.mustBePending(key, now));
    let placed: PlacedOrder;
    try {
      placed = await place(proposalOrderText(this.byId.get(key)!));
    } catch (err) {
      const error = err instanceof QtradeError ? { code: err.code, message: err.message } : { code: 'ERROR', message: err instanceof Error ? err.message : String(err) };
      await this.append({ kind: 'failed', id: key, error }, now, () => undefined);
      throw err;
    }
    const o = placed.order;
    await this.append({ kind: 'placed', id: key, placed: placedSummary(o, placed.fills.length, qtyScale(o.symbol)) }, now, () => undefined);
    return { proposal: this.get(key, now)!, placed };
  }

  /** Reads events appended since the last read (by this or any other process). */
  async refresh(): Promise<void> {
    for (;;) {
      const rows = await this.store.readEvents(PROPOSALS_STREAM, this.lastSeq + 1, 1000);
      for (const r of rows) this.apply(r);
      if (rows.length < 1000) return;
    }
  }

  // ------------------------------------------------------------------ internals

  private need(id: string, now: number): Proposal {
    const p = this.get(id, now);
    if (!p) throw new UsageError(`no proposal "${id}"`, { hint: '`qtrade proposals list` shows them' });
    return p;
  }

  private mustBePending(id: string, now: number): void {
    const p = this.get(id, now)!;
    if (p.status === 'expired') {
      throw new UsageError(`proposal ${id} expired at ${new Date(p.expiresAt).toISOString()} without a decision`, { hint: 'prices have moved since: ask the assistant again for a fresh proposal' });
    }
    if (p.status !== 'pending') throw new UsageError(`proposal ${id} is ${p.status} already`, { hint: '`qtrade proposals list` shows every proposal and its status' });
  }

  private at(p: Proposal, now: number): Proposal {
    return p.status === 'pending' && now > p.expiresAt ? { ...p, status: 'expired' } : { ...p };
  }

  /** Appends one event after `check` passes on the freshest state; retries when another writer got there first. */
  private async append(ev: LogEvent, now: number, check: () => void): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      check();
      const seq = this.lastSeq + 1;
      const rec: EventRecord = { seq, time: now, kind: ev.kind, body: JSON.stringify(ev) };
      try {
        await this.store.appendEvents(PROPOSALS_STREAM, [rec]);
      } catch (err) {
        if (err instanceof StoreError && err.code === 'STORE_SEQ_CONFLICT' && attempt < 5) {
          await this.refresh();
          continue;
        }
        throw err;
      }
      this.apply(rec);
      return seq;
    }
  }

  private apply(r: EventRecord): void {
    this.lastSeq = r.seq;
    let ev: LogEvent;
    try {
      ev = JSON.parse(r.body) as LogEvent;
    } catch {
      return; // an unreadable row decides nothing; the log stays append-only
    }
    if (ev.kind === 'created') {
      const id = `p${r.seq}`;
      this.byId.set(id, { ...ev.proposal, id, status: 'pending' });
      return;
    }
    const p = this.byId.get(ev.id);
    if (!p) return;
    if (ev.kind === 'approved') Object.assign(p, { status: 'approved', decidedAt: r.time });
    else if (ev.kind === 'placed') p.placed = ev.placed;
    else if (ev.kind === 'failed') Object.assign(p, { status: 'failed', error: ev.error });
    else if (ev.kind === 'rejected') Object.assign(p, { status: 'rejected', decidedAt: r.time, reason: ev.reason });
  }
}

function placedSummary(o: Order, fills: number, qtyScale: number): NonNullable<Proposal['placed']> {
  return { orderId: o.orderId, clientOrderId: o.clientOrderId, status: o.status, executedQty: formatFixed(o.executedQty, qtyScale, 0), fills };
}

import type { BookLevel, BookTop } from '../market/types.js';
import { maxQtyFor, notional, type Scales } from './amounts.js';
import type { Amount, Side } from './types.js';

export type BookSideName = 'bid' | 'ask';

/**
 * What the paper engine reads of a symbol's order book. LocalOrderBook satisfies it; prices and
 * quantities are raws at the symbol's scales, best level first.
 */
export interface BookView {
  readonly symbol: string;
  levels(side: BookSideName, n: number): BookLevel[];
  top(): BookTop | undefined;
  /** Quantity resting at one price (for the queue model); derived from levels() when absent. */
  qtyAt?(side: BookSideName, price: number): number;
}

/**
 * Liquidity our own taker fills have taken from a book snapshot, per side and price. A second
 * market order before the next book update must not take the same quantity again; the engine
 * clears this whenever the book changes (onBook), when the exchange's own update replaces it.
 */
export class Consumed {
  readonly bid = new Map<number, number>();
  readonly ask = new Map<number, number>();

  clear(): void {
    if (this.bid.size) this.bid.clear();
    if (this.ask.size) this.ask.clear();
  }

  take(side: BookSideName, fills: readonly WalkFill[]): void {
    const m = side === 'bid' ? this.bid : this.ask;
    for (const f of fills) m.set(f.price, (m.get(f.price) ?? 0) + f.qty);
  }
}

export interface WalkFill {
  price: number;
  qty: number;
}

export interface WalkLimits {
  /** Worst price the taker accepts (BUY: highest, SELL: lowest); undefined for market orders. */
  limitPrice?: number;
  /** Base quantity to execute at most. */
  qty?: number;
  /** Total notional of the fills at most (quoteOrderQty, or what the account can afford). */
  quoteCap?: Amount;
  /** Lot step the quantity of a quote-capped level fill is floored to (0: none). */
  step: number;
}

export interface WalkResult {
  fills: WalkFill[];
  qty: number;
  quote: Amount;
}

/**
 * Walks the opposite side of the book for a taker: best level first, each level's quantity less
 * what earlier paper fills consumed, until the quantity, the quote cap or the limit price stops it.
 * Pure: it plans the fills, the caller commits them (Consumed.take) once it accepts them.
 */
export function walkBook(book: BookView | undefined, side: Side, consumed: Consumed, lim: WalkLimits, s: Scales): WalkResult {
  const out: WalkResult = { fills: [], qty: 0, quote: 0n };
  if (!book) return out;
  const bookSide: BookSideName = side === 'BUY' ? 'ask' : 'bid';
  const used = side === 'BUY' ? consumed.ask : consumed.bid;
  let remaining = lim.qty ?? Number.MAX_SAFE_INTEGER;
  let cap = lim.quoteCap;
  // levels() builds an object per level: most walks stop at the first (a limit that does not
  // cross, a market order smaller than the top level), so ask for one and widen as needed.
  let n = 1;
  let i = 0;
  let levels = book.levels(bookSide, n);
  while (remaining > 0) {
    if (i === levels.length) {
      if (levels.length < n) break;
      n *= 4;
      levels = book.levels(bookSide, n);
      if (i >= levels.length) break;
    }
    const l = levels[i++]!;
    if (lim.limitPrice !== undefined && (side === 'BUY' ? l.price > lim.limitPrice : l.price < lim.limitPrice)) break;
    const avail = l.qty - (used.size ? used.get(l.price) ?? 0 : 0);
    if (avail <= 0) continue;
    let take = avail < remaining ? avail : remaining;
    if (cap !== undefined) {
      const affordable = maxQtyFor(cap, l.price, lim.step, s);
      if (affordable < take) {
        take = affordable;
        if (take <= 0) break;
      } else if (lim.step > 1 && lim.qty === undefined) {
        take -= take % lim.step;
        if (take <= 0) continue;
      }
    }
    const q = notional(l.price, take, s);
    out.fills.push({ price: l.price, qty: take });
    out.qty += take;
    out.quote += q;
    remaining -= take;
    if (cap !== undefined) cap -= q;
  }
  return out;
}

/** Quantity at `price` on one side of the book. */
export function bookQtyAt(book: BookView | undefined, side: BookSideName, price: number): number {
  if (!book) return 0;
  if (book.qtyAt) return book.qtyAt(side, price);
  let n = 32;
  for (;;) {
    const levels = book.levels(side, n);
    for (const l of levels) {
      if (l.price === price) return l.qty;
      if (side === 'bid' ? l.price < price : l.price > price) return 0;
    }
    if (levels.length < n) return 0;
    n *= 4;
  }
}

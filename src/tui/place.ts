import { RejectedError } from '../engine/errors.js';
import type { PlacedOrder } from '../engine/trading.js';
import type { OrderTicket, TuiSource } from './source.js';

/** How a placing ended: the order, or the error and whether the log already shows the refusal. */
export type Placing = { ok: true; placed: PlacedOrder } | { ok: false; error: unknown; onLog: boolean };

/** Watches the refusal events of one order while it is placed; see watchRefusal. */
export interface RefusalWatch {
  /** True when `error` is a refusal the event log already shows (its event came while watching). */
  onLog(error: unknown): boolean;
  off(): void;
}

/**
 * Starts watching for the refusal of an order about to be placed. The engine (or the daemon source,
 * for the daemon's answer) publishes 'order.rejected' for an order it refuses on risk or filters, and
 * the event log shows it with the exchange time; a refusal before the engine (a bad number, no market
 * yet, the daemon unreachable) has no such event, so only the caller can log it. The event is
 * published before the placing settles (both sources), so watching for the call's duration is
 * enough; the message must match too, so another order's refusal meanwhile does not hide this one's error.
 */
export function watchRefusal(source: Pick<TuiSource, 'subscribe'>, symbol: string, clientId: string | undefined): RefusalWatch {
  const sym = symbol.toUpperCase();
  const seen: string[] = [];
  const off = source.subscribe('order.rejected', (r) => {
    if (r.symbol === sym && (clientId === undefined || r.clientOrderId === clientId)) seen.push(r.msg);
  });
  return { onLog: (error) => error instanceof RejectedError && seen.includes(error.message), off };
}

/** Places `ticket` through the source and says whether a refusal is already on the log. */
export async function placeTicket(source: TuiSource, ticket: OrderTicket): Promise<Placing> {
  const watch = watchRefusal(source, ticket.symbol, ticket.clientId);
  try {
    return { ok: true, placed: await source.place(ticket) };
  } catch (error) {
    return { ok: false, error, onLog: watch.onLog(error) };
  } finally {
    watch.off();
  }
}

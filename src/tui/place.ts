import { RejectedError } from '../engine/errors.js';
import type { PlacedOrder } from '../engine/trading.js';
import type { OrderTicket, TuiSource } from './source.js';

/** How a placing ended: the order, or the error and whether the log already shows the refusal. */
export type Placing = { ok: true; placed: PlacedOrder } | { ok: false; error: unknown; onLog: boolean };

/**
 * Places `ticket` through the source and says whether a refusal is already on the log. The engine
 * (or the daemon source, for the daemon's answer) publishes 'order.rejected' for an order it refuses
 * on risk or filters, and the event log shows it with the exchange time; a refusal before the engine
 * (a bad number, no market yet, the daemon unreachable) has no such event, so only the caller can log it.
 */
export async function placeTicket(source: TuiSource, ticket: OrderTicket): Promise<Placing> {
  const symbol = ticket.symbol.toUpperCase();
  const seen: string[] = [];
  // Published before place() settles (both sources), so listening for the call's duration is enough;
  // the message must match too, so another order's refusal meanwhile does not hide this one's error.
  const off = source.subscribe('order.rejected', (r) => {
    if (r.symbol === symbol && (ticket.clientId === undefined || r.clientOrderId === ticket.clientId)) seen.push(r.msg);
  });
  try {
    return { ok: true, placed: await source.place(ticket) };
  } catch (error) {
    return { ok: false, error, onLog: error instanceof RejectedError && seen.includes(error.message) };
  } finally {
    off();
  }
}

import type { Command } from 'commander';
import { describeOrder, ProposalBook, type Proposal } from '../engine/ai/proposals.js';
import type { Instrument } from '../engine/market/types.js';
import type { PlacedOrder } from '../engine/trading.js';
import { parseLimit } from './args.js';
import { action, out } from './context.js';
import { utcTime } from './format.js';
import { withTrading } from './trading-api.js';
import { jsonRejections, wallNow, withStore } from './trading-context.js';
import { fillTable, orderResponseJson, orderTable, table } from './trading-output.js';

/**
 * `qtrade proposals list|approve ID|reject ID`: the orders the assistant proposed. Approving
 * places the order exactly as `qtrade order` would (through the daemon when one runs, else on the
 * account opened here), with the client order id ai-<ID> so a repeated attempt places nothing new.
 */

function proposalJson(p: Proposal): Record<string, unknown> {
  return { ...p, createdAt: new Date(p.createdAt).toISOString(), expiresAt: new Date(p.expiresAt).toISOString(), ...(p.decidedAt !== undefined ? { decidedAt: new Date(p.decidedAt).toISOString() } : {}) };
}

function outcome(p: Proposal): string {
  if (p.placed) return `order ${p.placed.orderId} ${p.placed.status}`;
  if (p.error) return p.error.message;
  if (p.reason) return p.reason;
  return '';
}

export function register(program: Command): void {
  const proposals = program.command('proposals').description("orders the assistant proposed: list them, approve (places the order) or reject");

  proposals
    .command('list')
    .description('proposals, newest first: pending ones expire 15 minutes after they were made')
    .option('--pending', 'only pending ones')
    .option('--limit <n>', 'at most n (default 20)')
    .option('--json', 'print a JSON array')
    .action(
      action((opts: { pending?: boolean; limit?: string; json?: boolean }, cmd: Command) =>
        withStore(cmd, async (store) => {
          const now = wallNow();
          const limit = parseLimit(opts.limit) ?? 20;
          const list = (await ProposalBook.open(store)).list(now).filter((p) => !opts.pending || p.status === 'pending').slice(0, limit);
          if (opts.json) {
            out.json(list.map(proposalJson));
            return;
          }
          if (list.length === 0) {
            out.line(opts.pending ? 'no pending proposals' : 'no proposals yet (the assistant makes them: qtrade ask, qtrade chat)');
            return;
          }
          const rows = list.map((p) => [p.id, p.status, utcTime(p.createdAt), describeOrder(p.order), outcome(p) || p.rationale.slice(0, 60)]);
          for (const l of table(['id', 'status', 'created (UTC)', 'order', 'outcome / rationale'], rows)) out.line(l);
        }),
      ),
    );

  proposals
    .command('approve <id>')
    .description('place the proposed order on the paper account, as `qtrade order` would')
    .option('--json', "print Binance's order response (or {code, msg} when refused)")
    .action(
      action((id: string, opts: { json?: boolean }, cmd: Command) =>
        withStore(cmd, async (store) => {
          const book = await ProposalBook.open(store);
          let inst: Instrument | undefined;
          const place = (text: Parameters<Parameters<ProposalBook['approve']>[2]>[0]): Promise<PlacedOrder> =>
            withTrading(cmd, { write: true, market: 'fresh' }, async (api) => {
              const placed = await api.place(text);
              inst = api.instrument(placed.order.symbol);
              return placed;
            });
          const { proposal, placed } = await jsonRejections(opts.json, () => book.approve(id, wallNow(), place, () => inst!.qtyScale));
          if (opts.json) {
            out.json(orderResponseJson(placed.order, inst!, placed.fills));
            return;
          }
          out.err(`proposal ${proposal.id} approved: ${describeOrder(proposal.order)}`);
          if (placed.duplicate) out.err(`client order id ${placed.order.clientOrderId} already named order ${placed.order.orderId}: nothing new was placed`);
          for (const l of orderTable([placed.order], () => inst!)) out.line(l);
          if (placed.fills.length > 0) {
            out.line();
            for (const l of fillTable(placed.fills, () => inst!)) out.line(l);
          }
        }),
      ),
    );

  proposals
    .command('reject <id>')
    .description('drop a pending proposal')
    .option('--reason <text>', 'why (kept with it)', 'rejected by the user')
    .action(
      action((id: string, opts: { reason: string }, cmd: Command) =>
        withStore(cmd, async (store) => {
          const p = await (await ProposalBook.open(store)).reject(id, wallNow(), opts.reason.slice(0, 500));
          out.line(`proposal ${p.id} rejected: ${describeOrder(p.order)}`);
        }),
      ),
    );
}

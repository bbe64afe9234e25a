import type { Command } from 'commander';
import type { RiskStateName } from '../engine/bus.js';
import { ParseError, VenueError } from '../engine/errors.js';
import type { Instrument } from '../engine/market/types.js';
import type { OrderRef } from '../engine/orders/paper-engine.js';
import { OrderRejectedError, Rejections } from '../engine/orders/rejections.js';
import type { Amount, Balance, Fill, Order } from '../engine/orders/types.js';
import type { RiskStatus } from '../engine/risk/engine.js';
import type { RiskLimits } from '../engine/risk/limits.js';
import { fetchMarketSnapshot, orderRequestFromText, type MarkedPosition, type PlacedOrder, type PnlTotal } from '../engine/trading.js';
import { connectDaemon, DaemonRequestError, type DaemonClient } from '../client/daemon-client.js';
import {
  balancesMapToWire,
  balancesReplyFromWire,
  errorFromWire,
  fillsReplyFromWire,
  haltReplyFromWire,
  orderTextToWire,
  ordersReplyFromWire,
  placedReplyFromWire,
  pnlReplyFromWire,
  positionsReplyFromWire,
  resumeReplyFromWire,
  riskReplyFromWire,
  type SymbolOrderText,
} from '../client/wire.js';
import { out, settingsFor } from './context.js';
import { marksFor, needMarket, wallNow, withPaper, type OpenPaperOptions, type PaperContext } from './trading-context.js';

/**
 * The paper account as the trading commands use it, whoever runs it: this process (embedded: the
 * store, the account lock and a REST snapshot of Binance's market at order time) or a running
 * daemon (its API; its live feed marks and fills). Both return the engine's domain values and
 * throw the same typed errors, so a command prints the same either way.
 */
export interface TradingApi {
  /** Scales of a symbol the account knows, for printing what it returned. */
  instrument(symbol: string): Instrument;
  place(order: SymbolOrderText): Promise<PlacedOrder>;
  /** Cancels one open order, found by `ref` (on `symbol` when given); unknown → OrderRejectedError -2011. */
  cancel(ref: OrderRef, symbol?: string): Promise<Order>;
  cancelAll(symbol?: string): Promise<Order[]>;
  /** At most the last `limit` open orders. */
  openOrders(q: { symbol?: string; limit: number }): Promise<Order[]>;
  /** At most the last `limit` orders of this account generation, oldest first. */
  orders(q: { symbol?: string; limit: number }): Promise<Order[]>;
  fills(q: { symbol?: string; limit: number }): Promise<Fill[]>;
  balances(): Promise<Balance[]>;
  /** Every traded symbol's position marked to the last trade; open ones without a mark are warned about on stderr. */
  positions(): Promise<MarkedPosition[]>;
  pnl(): Promise<{ positions: MarkedPosition[]; totals: PnlTotal[] }>;
  risk(): Promise<{ status: RiskStatus; limits: RiskLimits }>;
  setLimit(key: string, value: string, symbol?: string): Promise<{ status: RiskStatus; limits: RiskLimits }>;
  halt(reason: string): Promise<{ status: RiskStatus; canceled: Order[] }>;
  /** `previous` is undefined when the state was ACTIVE already. */
  resume(): Promise<{ status: RiskStatus; previous: RiskStateName | undefined }>;
  resetPaper(balances: Record<string, Amount>): Promise<Balance[]>;
}

/**
 * Runs `fn` against the daemon this invocation should use (`--connect`, QTRADE_CONNECT, daemon.url,
 * or the one running for the data dir), else against the account opened here with `opts`. `fn`
 * also gets the daemon's client (undefined when embedded), for what it reads beyond the account.
 */
export async function withTrading<T>(cmd: Command, opts: OpenPaperOptions, fn: (api: TradingApi, daemon: DaemonClient | undefined) => Promise<T>): Promise<T> {
  const daemon = connectDaemon(settingsFor(cmd));
  if (daemon) return fn(new DaemonTrading(daemon), daemon);
  return withPaper(cmd, opts, (ctx) => fn(new EmbeddedTrading(ctx), undefined));
}

// ------------------------------------------------------------------ embedded

class EmbeddedTrading implements TradingApi {
  constructor(private readonly ctx: PaperContext) {}

  private get trading() {
    return this.ctx.trading;
  }

  private symbol(s: string | undefined): string | undefined {
    return s === undefined ? undefined : this.trading.instruments.get(s).symbol;
  }

  instrument(symbol: string): Instrument {
    return this.trading.instruments.get(symbol);
  }

  async place(t: SymbolOrderText): Promise<PlacedOrder> {
    const inst = this.ctx.market.instruments.get(t.symbol);
    const req = orderRequestFromText(inst, t);
    const snap = await needMarket(() => fetchMarketSnapshot(this.ctx.rest(), inst.symbol), this.ctx.restUrl);
    await this.trading.onMarket(inst.symbol, snap);
    return this.trading.place(req, snap.trade.time);
  }

  async cancel(ref: OrderRef, symbol?: string): Promise<Order> {
    const on = this.symbol(symbol) ?? this.trading.order(ref)?.symbol;
    if (on === undefined) throw new OrderRejectedError(Rejections.unknownOrder());
    return this.trading.cancel(on, ref, wallNow());
  }

  cancelAll(symbol?: string): Promise<Order[]> {
    return this.trading.cancelAll(this.symbol(symbol), wallNow());
  }

  async openOrders(q: { symbol?: string; limit: number }): Promise<Order[]> {
    return this.trading.openOrders(this.symbol(q.symbol)).slice(-q.limit);
  }

  async orders(q: { symbol?: string; limit: number }): Promise<Order[]> {
    return this.trading.orders({ symbol: this.symbol(q.symbol), limit: q.limit });
  }

  async fills(q: { symbol?: string; limit: number }): Promise<Fill[]> {
    return this.trading.fills({ symbol: this.symbol(q.symbol), limit: q.limit });
  }

  async balances(): Promise<Balance[]> {
    return this.trading.balances();
  }

  async positions(): Promise<MarkedPosition[]> {
    const open = this.trading.positions().filter((p) => p.qty !== 0n);
    const marks = await marksFor(
      this.ctx,
      open.map((p) => p.symbol),
    );
    return this.trading.positions(marks);
  }

  async pnl(): Promise<{ positions: MarkedPosition[]; totals: PnlTotal[] }> {
    const positions = await this.positions();
    return { positions, totals: this.trading.pnlTotals(positions) };
  }

  async risk(): Promise<{ status: RiskStatus; limits: RiskLimits }> {
    return { status: this.trading.status(), limits: this.trading.limits() };
  }

  async setLimit(key: string, value: string, symbol?: string): Promise<{ status: RiskStatus; limits: RiskLimits }> {
    await this.trading.setLimit(key, value, symbol);
    return this.risk();
  }

  async halt(reason: string): Promise<{ status: RiskStatus; canceled: Order[] }> {
    const { canceled } = await this.trading.halt(reason, wallNow());
    return { status: this.trading.status(), canceled };
  }

  async resume(): Promise<{ status: RiskStatus; previous: RiskStateName | undefined }> {
    const change = await this.trading.resume(wallNow());
    return { status: this.trading.status(), previous: change?.previous };
  }

  async resetPaper(balances: Record<string, Amount>): Promise<Balance[]> {
    await this.trading.reset(balances);
    return this.trading.balances();
  }
}

// ------------------------------------------------------------------ through the daemon

const API = '/api/qtrade';

export class DaemonTrading implements TradingApi {
  private readonly instruments = new Map<string, Instrument>();

  constructor(
    private readonly client: DaemonClient,
    /** Where a position without a mark is reported; a command warns on stderr. */
    private readonly warn: (message: string) => void = (m) => out.err(m),
  ) {}

  instrument(symbol: string): Instrument {
    const inst = this.instruments.get(symbol.toUpperCase());
    if (!inst) throw this.badAnswer(`it named ${symbol} without its instrument`);
    return inst;
  }

  async place(t: SymbolOrderText): Promise<PlacedOrder> {
    const r = await this.call(() => this.client.post(`${API}/orders`, orderTextToWire(t)), placedReplyFromWire);
    this.learn(r.instruments);
    return { order: r.order, fills: r.fills, duplicate: r.duplicate };
  }

  async cancel(ref: OrderRef, symbol?: string): Promise<Order> {
    const r = await this.call(() => this.client.delete(`${API}/orders`, { orderId: ref.orderId, clientOrderId: ref.clientOrderId, symbol }), ordersReplyFromWire);
    this.learn(r.instruments);
    const [order] = r.orders;
    if (r.orders.length !== 1 || !order) throw this.badAnswer(`it answered a cancel with ${r.orders.length} orders`);
    return order;
  }

  async cancelAll(symbol?: string): Promise<Order[]> {
    const r = await this.call(() => this.client.delete(`${API}/orders`, { all: true, symbol }), ordersReplyFromWire);
    this.learn(r.instruments);
    return r.orders;
  }

  openOrders(q: { symbol?: string; limit: number }): Promise<Order[]> {
    return this.listOrders({ open: true, ...q });
  }

  orders(q: { symbol?: string; limit: number }): Promise<Order[]> {
    return this.listOrders(q);
  }

  async fills(q: { symbol?: string; limit: number }): Promise<Fill[]> {
    const r = await this.call(() => this.client.get(`${API}/fills`, q), fillsReplyFromWire);
    this.learn(r.instruments);
    return r.fills;
  }

  balances(): Promise<Balance[]> {
    return this.call(() => this.client.get(`${API}/balances`), balancesReplyFromWire);
  }

  async positions(): Promise<MarkedPosition[]> {
    const list = await this.call(() => this.client.get(`${API}/positions`), positionsReplyFromWire);
    this.warnUnmarked(list);
    return list;
  }

  async pnl(): Promise<{ positions: MarkedPosition[]; totals: PnlTotal[] }> {
    const r = await this.call(() => this.client.get(`${API}/pnl`), pnlReplyFromWire);
    this.warnUnmarked(r.positions);
    return r;
  }

  risk(): Promise<{ status: RiskStatus; limits: RiskLimits }> {
    return this.call(() => this.client.get(`${API}/risk`), riskReplyFromWire);
  }

  setLimit(key: string, value: string, symbol?: string): Promise<{ status: RiskStatus; limits: RiskLimits }> {
    return this.call(() => this.client.put(`${API}/risk/limits`, { key, value, symbol }), riskReplyFromWire);
  }

  async halt(reason: string): Promise<{ status: RiskStatus; canceled: Order[] }> {
    const r = await this.call(() => this.client.post(`${API}/risk/halt`, { reason }), haltReplyFromWire);
    this.learn(r.instruments);
    return { status: r.status, canceled: r.canceled };
  }

  resume(): Promise<{ status: RiskStatus; previous: RiskStateName | undefined }> {
    return this.call(() => this.client.post(`${API}/risk/resume`, {}), resumeReplyFromWire);
  }

  resetPaper(balances: Record<string, Amount>): Promise<Balance[]> {
    return this.call(() => this.client.post(`${API}/paper/reset`, { balances: balancesMapToWire(balances) }), balancesReplyFromWire);
  }

  private async listOrders(q: { open?: boolean; symbol?: string; limit: number }): Promise<Order[]> {
    const r = await this.call(() => this.client.get(`${API}/orders`, q), ordersReplyFromWire);
    this.learn(r.instruments);
    return r.orders;
  }

  private learn(list: readonly Instrument[]): void {
    for (const i of list) this.instruments.set(i.symbol, i);
  }

  /** The daemon marks to its feed's last trades; an open position it has no trade for is unmarked, as embedded mode warns too. */
  private warnUnmarked(list: readonly MarkedPosition[]): void {
    const unmarked = list.filter((p) => p.qty !== 0n && p.mark === undefined).map((p) => p.symbol);
    if (unmarked.length > 0) this.warn(`warning: the daemon at ${this.client.url} has seen no trade of ${unmarked.join(', ')}; unrealized PnL unknown`);
  }

  /** One request: the daemon's refusals become the typed errors embedded mode throws; an unreadable answer is exit 4. */
  private async call<T>(request: () => Promise<unknown>, decode: (answer: unknown) => T): Promise<T> {
    let answer: unknown;
    try {
      answer = await request();
    } catch (err) {
      if (err instanceof DaemonRequestError) throw errorFromWire(err.status, { code: err.apiCode, msg: err.msg, ...err.extra }) ?? err;
      throw err;
    }
    try {
      return decode(answer);
    } catch (err) {
      if (err instanceof ParseError) throw this.badAnswer(err.message, err);
      throw err;
    }
  }

  private badAnswer(why: string, cause?: unknown): VenueError {
    return new VenueError('DAEMON_BAD_ANSWER', `the daemon at ${this.client.url} sent an answer this qtrade cannot read: ${why}`, {
      hint: 'it may run another qtrade version: compare `qtrade --version` with `qtrade daemon status`',
      cause,
    });
  }
}

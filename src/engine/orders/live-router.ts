import { randomBytes } from 'node:crypto';
import { VenueError } from '../errors.js';
import { formatFixed } from '../fixed.js';
import { decodeAccountBalances, decodeOrder, decodeOrderFills, arr, obj } from '../market/binance/order-parse.js';
import { BinanceApiError, isUnknownOutcome, type SignedRest } from '../market/binance/signing.js';
import type { Instruments } from '../market/instruments.js';
import type { Instrument } from '../market/types.js';
import type { OrderRef } from './paper-engine.js';
import { OrderRejectedError } from './rejections.js';
import { AMOUNT_SCALE, WIRE_SCALE, type Balance, type Fill, type Order, type OrderRequest } from './types.js';
import { validateRequest } from './validate.js';

export interface LiveRouterOptions {
  /** Signed REST client for the live venue (testnet or mainnet). */
  rest: SignedRest;
  /** Scales of the venue's symbols (from its exchangeInfo). */
  instruments: Instruments;
  /** Makes a newClientOrderId when the request has none. Default: "qt" + 20 random hex digits. */
  newClientOrderId?: () => string;
  /** POST attempts when the outcome of a submit is unknown (timeout, reset, 5xx). Default 3. */
  maxSubmitAttempts?: number;
  /**
   * Wait after an unknown outcome before asking Binance whether the order exists, so a request
   * still in flight inside Binance is not missed. Default 1000 ms.
   */
  unknownOutcomeDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface LiveSubmitResult {
  order: Order;
  /** Fills reported in the reply (FULL); empty when the order was found by a query instead. */
  fills: Fill[];
  /** Binance already had an open order with this clientOrderId ("Duplicate order sent."): nothing new was placed. */
  duplicate: boolean;
  /**
   * The reply to our POST was lost and the order was found by clientOrderId: it was placed once.
   * Its fills arrive on the user data stream.
   */
  recovered: boolean;
}

/**
 * Binance's answers that mean "this request was refused by a rule" (exit 3), as opposed to the
 * venue failing or refusing our credentials (VenueError, exit 4): parameter errors (-11xx),
 * filter failures (-1013), order rejections (-2010), unknown orders (-2011, -2013) and
 * cancel-replace failures (-2021, -2022).
 */
export function isOrderRejection(code: number): boolean {
  return code === -1013 || code === -2010 || code === -2011 || code === -2013 || code === -2021 || code === -2022 || (code <= -1100 && code >= -1199 && code !== -1125);
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const defaultClientId = (): string => `qt${randomBytes(10).toString('hex')}`;

/**
 * Routes orders to Binance spot (testnet or mainnet) with the paper engine's call shapes and
 * types: submit / cancel / cancelAll / openOrders / order / account. Refusals come back as
 * OrderRejectedError with Binance's code and message; an unreachable or failing venue as
 * VenueError.
 *
 * Idempotency: every order carries a newClientOrderId. When a POST's outcome is unknown, the
 * router asks Binance for that clientOrderId before sending again, so a retry never places a
 * second order; Binance itself also refuses a second open order with the same id.
 */
export class LiveRouter {
  private readonly rest: SignedRest;
  private readonly instruments: Instruments;
  private readonly newId: () => string;
  private readonly maxAttempts: number;
  private readonly unknownDelay: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(opts: LiveRouterOptions) {
    this.rest = opts.rest;
    this.instruments = opts.instruments;
    this.newId = opts.newClientOrderId ?? defaultClientId;
    this.maxAttempts = Math.max(1, opts.maxSubmitAttempts ?? 3);
    this.unknownDelay = opts.unknownOutcomeDelayMs ?? 1000;
    this.sleep = opts.sleep ?? defaultSleep;
  }

  /** POST /api/v3/order (newOrderRespType FULL). */
  async submit(req: OrderRequest): Promise<LiveSubmitResult> {
    const inst = this.instruments.get(req.symbol);
    const bad = validateRequest(req);
    if (bad) throw new OrderRejectedError(bad);
    const clientOrderId = req.clientOrderId ?? this.newId();
    const params = {
      symbol: inst.symbol,
      side: req.side,
      type: req.type,
      timeInForce: req.timeInForce,
      quantity: req.qty === undefined ? undefined : formatFixed(req.qty, inst.qtyScale),
      quoteOrderQty: req.quoteOrderQty === undefined ? undefined : formatFixed(req.quoteOrderQty, AMOUNT_SCALE, WIRE_SCALE),
      price: req.price === undefined ? undefined : formatFixed(req.price, inst.priceScale),
      stopPrice: req.stopPrice === undefined ? undefined : formatFixed(req.stopPrice, inst.priceScale),
      newClientOrderId: clientOrderId,
      newOrderRespType: 'FULL',
    };

    let lastUnknown: unknown;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      try {
        const reply = obj(await this.rest.call({ method: 'POST', path: '/api/v3/order', params, weight: 1 }), 'POST /api/v3/order');
        const order = decodeOrder(reply, inst, 'POST /api/v3/order');
        return { order, fills: decodeOrderFills(reply.fills, inst, order), duplicate: false, recovered: attempt > 0 };
      } catch (err) {
        if (err instanceof BinanceApiError && err.binanceCode === -2010 && err.binanceMsg === 'Duplicate order sent.') {
          const existing = await this.order(inst.symbol, { clientOrderId });
          if (existing) return { order: existing, fills: [], duplicate: true, recovered: false };
        }
        if (!isUnknownOutcome(err)) throw this.mapError(err);
        lastUnknown = err;
      }
      // The order may or may not exist: find out before sending it again.
      await this.sleep(this.unknownDelay);
      let found: Order | undefined;
      try {
        found = await this.order(inst.symbol, { clientOrderId });
      } catch (err) {
        throw new VenueError('ORDER_STATE_UNKNOWN', `order ${clientOrderId} may or may not have been placed: ${(err as Error).message}`, {
          hint: `check with \`qtrade orders --open\` (client id ${clientOrderId}) before resubmitting; resubmitting with --client-id ${clientOrderId} is safe while it is open`,
          cause: err,
        });
      }
      if (found) return { order: found, fills: [], duplicate: false, recovered: true };
    }
    const e = lastUnknown as VenueError;
    throw new VenueError(e.code, `${e.message} (${this.maxAttempts} attempts; Binance has no order with client id ${clientOrderId})`, {
      status: e.status,
      hint: `no order was placed; retry later with --client-id ${clientOrderId}`,
      cause: e,
    });
  }

  /** DELETE /api/v3/order by orderId or clientOrderId. */
  async cancel(symbol: string, ref: OrderRef): Promise<Order> {
    const inst = this.instruments.get(symbol);
    try {
      const reply = await this.rest.call({ method: 'DELETE', path: '/api/v3/order', params: { symbol: inst.symbol, ...refParams(ref) }, weight: 1 });
      return decodeOrder(reply, inst, 'DELETE /api/v3/order');
    } catch (err) {
      throw this.mapError(err);
    }
  }

  /** DELETE /api/v3/openOrders for one symbol (Binance requires it); [] when none was open. */
  async cancelAll(symbol: string): Promise<Order[]> {
    const inst = this.instruments.get(symbol);
    let reply: unknown;
    try {
      reply = await this.rest.call({ method: 'DELETE', path: '/api/v3/openOrders', params: { symbol: inst.symbol }, weight: 1 });
    } catch (err) {
      if (err instanceof BinanceApiError && err.binanceCode === -2011) return [];
      throw this.mapError(err);
    }
    // Order lists come back as one entry with `orderReports`; plain orders as themselves.
    return arr(reply, 'DELETE /api/v3/openOrders').flatMap((x, i) => {
      const o = obj(x, `DELETE /api/v3/openOrders[${i}]`);
      const reports = Array.isArray(o.orderReports) ? o.orderReports : [o];
      return reports.map((r, j) => decodeOrder(r, inst, `DELETE /api/v3/openOrders[${i}][${j}]`));
    });
  }

  /** GET /api/v3/openOrders, for one symbol or all. */
  async openOrders(symbol?: string): Promise<Order[]> {
    const inst = symbol === undefined ? undefined : this.instruments.get(symbol);
    let reply: unknown;
    try {
      reply = await this.rest.call({ method: 'GET', path: '/api/v3/openOrders', params: { symbol: inst?.symbol }, weight: inst ? 6 : 80 });
    } catch (err) {
      throw this.mapError(err);
    }
    return arr(reply, 'GET /api/v3/openOrders').map((x, i) => {
      const o = obj(x, `GET /api/v3/openOrders[${i}]`);
      return decodeOrder(o, inst ?? this.instOf(o.symbol), `GET /api/v3/openOrders[${i}]`);
    });
  }

  /** GET /api/v3/order; undefined when Binance has no such order (-2013). */
  async order(symbol: string, ref: OrderRef): Promise<Order | undefined> {
    const inst = this.instruments.get(symbol);
    try {
      const reply = await this.rest.call({ method: 'GET', path: '/api/v3/order', params: { symbol: inst.symbol, ...refParams(ref) }, weight: 4 });
      return decodeOrder(reply, inst, 'GET /api/v3/order');
    } catch (err) {
      if (err instanceof BinanceApiError && err.binanceCode === -2013) return undefined;
      throw this.mapError(err);
    }
  }

  /** GET /api/v3/account: non-zero balances, exact. */
  async account(): Promise<Balance[]> {
    try {
      return decodeAccountBalances(await this.rest.call({ method: 'GET', path: '/api/v3/account', params: { omitZeroBalances: 'true' }, weight: 20 }), 'GET /api/v3/account');
    } catch (err) {
      throw this.mapError(err);
    }
  }

  private instOf(symbol: unknown): Instrument {
    return this.instruments.get(typeof symbol === 'string' ? symbol : '');
  }

  private mapError(err: unknown): unknown {
    if (err instanceof BinanceApiError && isOrderRejection(err.binanceCode)) {
      return new OrderRejectedError({ code: err.binanceCode, msg: err.binanceMsg });
    }
    return err;
  }
}

function refParams(ref: OrderRef): Record<string, string | number | undefined> {
  if (ref.orderId !== undefined) return { orderId: ref.orderId };
  if (ref.clientOrderId !== undefined) return { origClientOrderId: ref.clientOrderId };
  throw new OrderRejectedError({ code: -1102, msg: "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!" });
}

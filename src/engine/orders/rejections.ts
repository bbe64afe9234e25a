import { RejectedError } from '../errors.js';
import type { Rejection } from './types.js';

/**
 * Binance's error codes and messages for order entry, verbatim from the spot API's errors.md
 * ("Error codes for Binance", "Filter failures", and the -1010/-2010/-2011 message table).
 */
export const Rejections = {
  filter: (name: string): Rejection => ({ code: -1013, msg: `Filter failure: ${name}` }),
  insufficientBalance: (): Rejection => ({ code: -2010, msg: 'Account has insufficient balance for requested action.' }),
  wouldTake: (): Rejection => ({ code: -2010, msg: 'Order would immediately match and take.' }),
  wouldTrigger: (): Rejection => ({ code: -2010, msg: 'Order would trigger immediately.' }),
  marketClosed: (): Rejection => ({ code: -2010, msg: 'Market is closed.' }),
  orderTypeNotSupported: (type: string): Rejection => ({ code: -2010, msg: TYPE_NOT_SUPPORTED[type] ?? 'Unsupported order combination' }),
  quoteOrderQtyNotSupported: (): Rejection => ({
    code: -2010,
    msg: 'Quote order qty market orders are not support for this symbol.',
  }),
  noLiquidity: (): Rejection => ({ code: -2010, msg: 'Order book liquidity is less than symbol minimum quantity.' }),
  unknownOrder: (): Rejection => ({ code: -2011, msg: 'Unknown order sent.' }),
  cancelInvalid: (): Rejection => ({ code: -2011, msg: 'Cancel order is invalid. Check origClOrdId and orderId.' }),
  invalidSymbol: (): Rejection => ({ code: -1121, msg: 'Invalid symbol.' }),
  invalidSide: (): Rejection => ({ code: -1117, msg: 'Invalid side.' }),
  invalidType: (): Rejection => ({ code: -1116, msg: 'Invalid orderType.' }),
  invalidTif: (): Rejection => ({ code: -1115, msg: 'Invalid timeInForce.' }),
  mandatory: (param: string): Rejection => ({
    code: -1102,
    msg: `Mandatory parameter '${param}' was not sent, was empty/null, or malformed.`,
  }),
  eitherParam: (a: string, b: string): Rejection => ({
    code: -1102,
    msg: `Param '${a}' or '${b}' must be sent, but both were empty/null!`,
  }),
  notRequired: (param: string): Rejection => ({ code: -1106, msg: `Parameter '${param}' sent when not required.` }),
  badPrecision: (param: string): Rejection => ({ code: -1111, msg: `Parameter '${param}' has too much precision.` }),
  emptyClientId: (): Rejection => ({ code: -1118, msg: 'New client order ID was empty.' }),
  cancelReplacePartial: (): Rejection => ({ code: -2021, msg: 'Order cancel-replace partially failed.' }),
  cancelReplaceFailed: (): Rejection => ({ code: -2022, msg: 'Order cancel-replace failed.' }),
} as const;

const TYPE_NOT_SUPPORTED: Record<string, string> = {
  MARKET: 'Market orders are not supported for this symbol.',
  STOP_LOSS: 'Stop loss orders are not supported for this symbol.',
  STOP_LOSS_LIMIT: 'Stop loss limit orders are not supported for this symbol.',
  TAKE_PROFIT: 'Take profit orders are not supported for this symbol.',
  TAKE_PROFIT_LIMIT: 'Take profit limit orders are not supported for this symbol.',
};

const HINTS: Record<number, string> = {
  [-1013]: "check the symbol's exchangeInfo filters: price on the tick grid, quantity on the step grid, notional within limits",
  [-2010]: 'check `qtrade balance` and the order\'s price against the book',
  [-2011]: 'list open orders with `qtrade orders --open`',
  [-1121]: 'see exchangeInfo for the symbols Binance lists',
};

/** A Binance-style rejection as a typed error (exit code 3), for commands and the daemon API. */
export class OrderRejectedError extends RejectedError {
  readonly binanceCode: number;
  constructor(rejection: Rejection) {
    super(`BINANCE_${rejection.code}`, rejection.msg, { hint: HINTS[rejection.code] });
    this.binanceCode = rejection.code;
  }

  toJSON(): Rejection {
    return { code: this.binanceCode, msg: this.message };
  }
}

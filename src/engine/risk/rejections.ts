import { RejectedError } from '../errors.js';
import type { RiskLimitKey } from './limits.js';

/** A risk rule: a limit key, or the engine state refusing the order. */
export type RiskRule = RiskLimitKey | 'halted' | 'reducing';

/**
 * qtrade's own rejection codes, Binance-style negative numbers in -31001 … -31099. Binance's spot
 * API uses -1xxx and -2xxx, its other APIs -3xxx up to -21xxx, and its spot error page files filter
 * failures under a "-9xxx" heading, so -9xxx is avoided too. Codes follow the order the rules are
 * checked in and never change meaning.
 */
export const RISK_CODES: Readonly<Record<RiskRule, number>> = {
  halted: -31001,
  reducing: -31002,
  dailyLossLimit: -31003,
  orderRate: -31004,
  maxOpenOrders: -31005,
  priceBandPct: -31006,
  maxOrderNotional: -31007,
  maxPositionQty: -31008,
  maxPositionNotional: -31009,
};

/** A pre-trade refusal: `{code, msg}` as Binance reports one, plus the rule and the symbol. */
export interface RiskRejection {
  code: number;
  msg: string;
  rule: RiskRule;
  symbol: string;
}

const HINTS: Readonly<Record<RiskRule, string>> = {
  halted: 'trading is halted: `qtrade risk resume` to trade again',
  reducing: 'only orders that shrink a position are accepted: `qtrade risk resume` to lift REDUCING',
  dailyLossLimit: 'the limit resets at 00:00 UTC; `qtrade risk show` lists it, `qtrade risk set dailyLossLimit` changes it',
  orderRate: 'wait for the window to pass, or raise it with `qtrade risk set orderRate`',
  maxOpenOrders: 'cancel open orders (`qtrade orders --open`, `qtrade cancel`) or raise `maxOpenOrders`',
  priceBandPct: 'check the price against the market, or widen it with `qtrade risk set priceBandPct`',
  maxOrderNotional: 'split the order, or raise it with `qtrade risk set maxOrderNotional`',
  maxPositionQty: 'reduce the position or open orders first, or raise `maxPositionQty`',
  maxPositionNotional: 'reduce the position or open orders first, or raise `maxPositionNotional`',
};

/** A risk rejection as a typed error (exit code 3) for commands and the daemon API. */
export class RiskRejectedError extends RejectedError {
  readonly rejection: RiskRejection;
  constructor(rejection: RiskRejection) {
    super(`RISK_${rejection.rule}`, rejection.msg, { hint: HINTS[rejection.rule] });
    this.rejection = rejection;
  }

  /** What `--json` prints. */
  toJSON(): { code: number; msg: string } {
    return { code: this.rejection.code, msg: this.rejection.msg };
  }
}

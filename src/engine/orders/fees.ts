import { UsageError } from '../errors.js';
import { parseFixedBig, pow10n } from '../fixed.js';
import { AMOUNT_SCALE, WIRE_SCALE, type Amount } from './types.js';

/**
 * Maker/taker commission. Rates are decimals ("0.001" = 0.1 %, Binance's default spot rate),
 * exact at 8 decimals. As on Binance without BNB discounts, the commission is taken from the asset
 * received: base for a BUY, quote for a SELL. Nothing has to be locked for fees, and a fill can
 * never leave a balance negative.
 *
 * Rounding: commission = gross × rate rounded UP to 8 decimals (Binance's commission precision),
 * capped at gross. This is the only rounding in the ledger; it is applied once per fill, so the
 * ledger stays an exact sum of recorded deltas.
 */

export const RATE_SCALE = 8;
const RATE_ONE = pow10n(RATE_SCALE);
/** gross (AMOUNT_SCALE) × rate (RATE_SCALE) → units of 10^-WIRE_SCALE. */
const TO_WIRE = pow10n(AMOUNT_SCALE + RATE_SCALE - WIRE_SCALE);
const WIRE_TO_AMOUNT = pow10n(AMOUNT_SCALE - WIRE_SCALE);

export interface FeeRates {
  maker: string;
  taker: string;
}

export interface FeeScheduleOptions {
  /** Default "0.001". */
  maker?: string;
  /** Default "0.001". */
  taker?: string;
  /** Per-symbol overrides, e.g. { BTCUSDT: { maker: "0", taker: "0.00075" } }. */
  perSymbol?: Record<string, Partial<FeeRates>>;
}

export function parseRate(s: string): bigint {
  let r: bigint;
  try {
    r = parseFixedBig(s, RATE_SCALE);
  } catch (cause) {
    throw new UsageError(`fee rate "${s}" is not a decimal with at most ${RATE_SCALE} places`, {
      hint: 'write rates as fractions: "0.001" is 0.1 %',
      cause,
    });
  }
  if (r < 0n || r > RATE_ONE) throw new UsageError(`fee rate "${s}" must lie between 0 and 1`, { hint: '"0.001" is 0.1 %' });
  return r;
}

export class FeeSchedule {
  private readonly maker: bigint;
  private readonly taker: bigint;
  private readonly perSymbol = new Map<string, { maker: bigint; taker: bigint }>();

  constructor(opts: FeeScheduleOptions = {}) {
    this.maker = parseRate(opts.maker ?? '0.001');
    this.taker = parseRate(opts.taker ?? '0.001');
    for (const [symbol, o] of Object.entries(opts.perSymbol ?? {})) {
      this.perSymbol.set(symbol.toUpperCase(), {
        maker: o.maker === undefined ? this.maker : parseRate(o.maker),
        taker: o.taker === undefined ? this.taker : parseRate(o.taker),
      });
    }
  }

  /** The rate at RATE_SCALE. */
  rate(symbol: string, isMaker: boolean): bigint {
    const o = this.perSymbol.get(symbol);
    if (o) return isMaker ? o.maker : o.taker;
    return isMaker ? this.maker : this.taker;
  }
}

/** gross × rate, rounded up to 8 decimals and capped at gross. */
export function commission(gross: Amount, rate: bigint): Amount {
  if (rate === 0n || gross <= 0n) return 0n;
  const x = gross * rate;
  let wire = x / TO_WIRE;
  if (wire * TO_WIRE !== x) wire += 1n;
  const fee = wire * WIRE_TO_AMOUNT;
  return fee > gross ? gross : fee;
}

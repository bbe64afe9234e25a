import { parseFixedBig } from '../fixed.js';
import type { ExchangeSymbol } from '../market/instruments.js';
import type { Instrument } from '../market/types.js';
import { notional, parseBound, scalesOf, type Scales } from './amounts.js';
import { Rejections } from './rejections.js';
import { AMOUNT_SCALE, ORDER_TYPES, isStopType, type Amount, type OrderType, type Rejection, type Side } from './types.js';

/**
 * Binance's symbol filters (spot API filters.md), parsed once from an exchangeInfo symbol entry
 * into raws at the instrument's scales, and checked exactly: no float ever touches a price.
 * A bound of 0 disables that rule, as Binance documents.
 */

interface Range {
  min: number;
  max: number;
  step: number;
}

/** A multiplier such as "0.2" as num/den. */
export interface Ratio {
  num: bigint;
  den: bigint;
}

export interface SymbolFilters {
  symbol: string;
  status: string;
  /** Order types the symbol accepts (exchangeInfo `orderTypes`); all when absent. */
  orderTypes: ReadonlySet<OrderType>;
  quoteOrderQtyMarketAllowed: boolean;
  price?: { min: number; max: number; tick: number };
  lot?: Range;
  marketLot?: Range;
  notional?: { min: Amount; max: Amount; applyMinToMarket: boolean; applyMaxToMarket: boolean; avgPriceMins: number };
  minNotional?: { min: Amount; applyToMarket: boolean; avgPriceMins: number };
  percentPrice?: { up: Ratio; down: Ratio; avgPriceMins: number };
  percentPriceBySide?: { bidUp: Ratio; bidDown: Ratio; askUp: Ratio; askDown: Ratio; avgPriceMins: number };
  maxNumOrders?: number;
  maxNumAlgoOrders?: number;
}

function str(f: Record<string, unknown>, k: string): string {
  const v = f[k];
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return '0';
}

function num(f: Record<string, unknown>, k: string, dflt: number): number {
  const v = f[k];
  return typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : dflt;
}

function bool(f: Record<string, unknown>, k: string, dflt: boolean): boolean {
  const v = f[k];
  return typeof v === 'boolean' ? v : dflt;
}

function ratio(s: string): Ratio {
  return { num: parseFixedBig(s, 8), den: 10n ** 8n };
}

function range(f: Record<string, unknown>, scale: number): Range {
  return {
    min: parseBound(str(f, 'minQty'), scale, 'ceil'),
    max: parseBound(str(f, 'maxQty'), scale, 'floor'),
    step: parseBound(str(f, 'stepSize'), scale, 'floor'),
  };
}

/** Parses the filters of one exchangeInfo symbol for `inst` (built from the same entry). */
export function parseSymbolFilters(s: ExchangeSymbol, inst: Instrument): SymbolFilters {
  const raw = s as ExchangeSymbol & { orderTypes?: unknown; quoteOrderQtyMarketAllowed?: unknown };
  const types = Array.isArray(raw.orderTypes)
    ? new Set(raw.orderTypes.filter((t): t is OrderType => ORDER_TYPES.includes(t as OrderType)))
    : new Set(ORDER_TYPES);
  const out: SymbolFilters = {
    symbol: s.symbol,
    status: s.status,
    orderTypes: types,
    quoteOrderQtyMarketAllowed: typeof raw.quoteOrderQtyMarketAllowed === 'boolean' ? raw.quoteOrderQtyMarketAllowed : true,
  };
  for (const f of s.filters) {
    switch (f.filterType) {
      case 'PRICE_FILTER':
        out.price = {
          min: parseBound(str(f, 'minPrice'), inst.priceScale, 'ceil'),
          max: parseBound(str(f, 'maxPrice'), inst.priceScale, 'floor'),
          tick: parseBound(str(f, 'tickSize'), inst.priceScale, 'floor'),
        };
        break;
      case 'LOT_SIZE':
        out.lot = range(f, inst.qtyScale);
        break;
      case 'MARKET_LOT_SIZE':
        out.marketLot = range(f, inst.qtyScale);
        break;
      case 'NOTIONAL':
        out.notional = {
          min: parseFixedBig(str(f, 'minNotional'), AMOUNT_SCALE),
          max: parseFixedBig(str(f, 'maxNotional'), AMOUNT_SCALE),
          applyMinToMarket: bool(f, 'applyMinToMarket', true),
          applyMaxToMarket: bool(f, 'applyMaxToMarket', false),
          avgPriceMins: num(f, 'avgPriceMins', 5),
        };
        break;
      case 'MIN_NOTIONAL':
        out.minNotional = {
          min: parseFixedBig(str(f, 'minNotional'), AMOUNT_SCALE),
          applyToMarket: bool(f, 'applyToMarket', true),
          avgPriceMins: num(f, 'avgPriceMins', 5),
        };
        break;
      case 'PERCENT_PRICE':
        out.percentPrice = {
          up: ratio(str(f, 'multiplierUp')),
          down: ratio(str(f, 'multiplierDown')),
          avgPriceMins: num(f, 'avgPriceMins', 5),
        };
        break;
      case 'PERCENT_PRICE_BY_SIDE':
        out.percentPriceBySide = {
          bidUp: ratio(str(f, 'bidMultiplierUp')),
          bidDown: ratio(str(f, 'bidMultiplierDown')),
          askUp: ratio(str(f, 'askMultiplierUp')),
          askDown: ratio(str(f, 'askMultiplierDown')),
          avgPriceMins: num(f, 'avgPriceMins', 5),
        };
        break;
      case 'MAX_NUM_ORDERS':
        out.maxNumOrders = num(f, 'maxNumOrders', 0) || undefined;
        break;
      case 'MAX_NUM_ALGO_ORDERS':
        out.maxNumAlgoOrders = num(f, 'maxNumAlgoOrders', 0) || undefined;
        break;
      default:
        break;
    }
  }
  return out;
}

/** Filters with nothing enforced but the instrument's own tick and step: for symbols without exchangeInfo. */
export function permissiveFilters(inst: Instrument): SymbolFilters {
  return {
    symbol: inst.symbol,
    status: 'TRADING',
    orderTypes: new Set(ORDER_TYPES),
    quoteOrderQtyMarketAllowed: true,
    price: { min: 0, max: 0, tick: parseBound(inst.tickSize, inst.priceScale, 'floor') },
    lot: { min: 0, max: 0, step: parseBound(inst.stepSize, inst.qtyScale, 'floor') },
  };
}

/**
 * The reference price Binance compares against ("average price over avgPriceMins", or the last
 * price): an exact rational num/den in price raws. Undefined before any trade was seen, in which
 * case the rules that need it are skipped.
 */
export interface RefPrice {
  num: bigint;
  den: bigint;
}

/** What the checks need besides the order itself. */
export interface FilterContext {
  /** Open orders (including untriggered stops) the account has on the symbol. */
  openOrders: number;
  /** Open STOP_LOSS / TAKE_PROFIT (limit or not) orders on the symbol. */
  openAlgoOrders: number;
  refPrice: (avgPriceMins: number) => RefPrice | undefined;
}

/** The fields of a request the filters look at; raws at the instrument's scales. */
export interface FilterInput {
  side: Side;
  type: OrderType;
  qty?: number | undefined;
  quoteOrderQty?: Amount | undefined;
  price?: number | undefined;
  stopPrice?: number | undefined;
}

function onGrid(v: number, step: number): boolean {
  return step === 0 || v % step === 0;
}

function priceOk(p: number, f: NonNullable<SymbolFilters['price']>): boolean {
  if (f.min !== 0 && p < f.min) return false;
  if (f.max !== 0 && p > f.max) return false;
  // Binance's rule is price % tickSize == 0; minPrice is a multiple of tickSize on every listed symbol.
  return f.tick === 0 || p % f.tick === 0;
}

function qtyOk(q: number, r: Range): boolean {
  if (q < r.min) return false;
  if (r.max !== 0 && q > r.max) return false;
  return onGrid(q, r.step);
}

/** price within ref × [down, up], exactly: price·den·ref.den vs ref.num·mult.num. */
function withinPercent(price: number, ref: RefPrice, up: Ratio, down: Ratio): boolean {
  const lhs = BigInt(price) * ref.den;
  if (lhs * up.den > ref.num * up.num) return false;
  if (lhs * down.den < ref.num * down.num) return false;
  return true;
}

/** Notional at a rational reference price: qty × ref as an amount, truncated. */
function notionalAtRef(qty: number, ref: RefPrice, s: Scales): Amount {
  return (BigInt(qty) * ref.num * s.notionalMul) / ref.den;
}

const scalesCache = new WeakMap<Instrument, Scales>();
function scales(inst: Instrument): Scales {
  let s = scalesCache.get(inst);
  if (!s) scalesCache.set(inst, (s = scalesOf(inst)));
  return s;
}

/**
 * Checks one order against the symbol's filters in Binance's order: PRICE_FILTER (price and
 * stopPrice), PERCENT_PRICE(_BY_SIDE), LOT_SIZE, MARKET_LOT_SIZE, MIN_NOTIONAL / NOTIONAL,
 * MAX_NUM_ORDERS, MAX_NUM_ALGO_ORDERS. Returns the first failure, or undefined.
 * Market-type orders (MARKET, STOP_LOSS, TAKE_PROFIT) are valued at the reference price.
 */
export function checkFilters(f: SymbolFilters, inst: Instrument, o: FilterInput, ctx: FilterContext): Rejection | undefined {
  const isMarket = o.type === 'MARKET' || o.type === 'STOP_LOSS' || o.type === 'TAKE_PROFIT';
  if (f.price) {
    if (o.price !== undefined && !priceOk(o.price, f.price)) return Rejections.filter('PRICE_FILTER');
    if (o.stopPrice !== undefined && !priceOk(o.stopPrice, f.price)) return Rejections.filter('PRICE_FILTER');
  }
  if (o.price !== undefined && !isMarket) {
    if (f.percentPrice) {
      const ref = ctx.refPrice(f.percentPrice.avgPriceMins);
      if (ref && !withinPercent(o.price, ref, f.percentPrice.up, f.percentPrice.down)) return Rejections.filter('PERCENT_PRICE');
    }
    const pb = f.percentPriceBySide;
    if (pb) {
      const ref = ctx.refPrice(pb.avgPriceMins);
      const ok = !ref || (o.side === 'BUY' ? withinPercent(o.price, ref, pb.bidUp, pb.bidDown) : withinPercent(o.price, ref, pb.askUp, pb.askDown));
      if (!ok) return Rejections.filter('PERCENT_PRICE_BY_SIDE');
    }
  }
  if (o.qty !== undefined) {
    if (f.lot && !qtyOk(o.qty, f.lot)) return Rejections.filter('LOT_SIZE');
    if (isMarket && f.marketLot && !qtyOk(o.qty, f.marketLot)) return Rejections.filter('MARKET_LOT_SIZE');
  }
  const s = scales(inst);
  if (f.minNotional && (!isMarket || f.minNotional.applyToMarket)) {
    const v = orderNotional(o, isMarket, s, ctx, f.minNotional.avgPriceMins);
    if (v !== undefined && v < f.minNotional.min) return Rejections.filter('MIN_NOTIONAL');
  }
  if (f.notional) {
    const n = f.notional;
    const checkMin = !isMarket || n.applyMinToMarket;
    const checkMax = n.max !== 0n && (!isMarket || n.applyMaxToMarket);
    if (checkMin || checkMax) {
      const v = orderNotional(o, isMarket, s, ctx, n.avgPriceMins);
      if (v !== undefined && ((checkMin && v < n.min) || (checkMax && v > n.max))) return Rejections.filter('NOTIONAL');
    }
  }
  if (f.maxNumOrders !== undefined && ctx.openOrders >= f.maxNumOrders) return Rejections.filter('MAX_NUM_ORDERS');
  if (f.maxNumAlgoOrders !== undefined && isStopType(o.type) && ctx.openAlgoOrders >= f.maxNumAlgoOrders) {
    return Rejections.filter('MAX_NUM_ALGO_ORDERS');
  }
  return undefined;
}

function orderNotional(o: FilterInput, isMarket: boolean, s: Scales, ctx: FilterContext, avgPriceMins: number): Amount | undefined {
  if (o.quoteOrderQty !== undefined) return o.quoteOrderQty;
  if (o.qty === undefined) return undefined;
  if (!isMarket && o.price !== undefined) return notional(o.price, o.qty, s);
  const r = ctx.refPrice(avgPriceMins);
  return r ? notionalAtRef(o.qty, r, s) : undefined;
}

/** A FilterSet: every symbol's parsed filters, by symbol. */
export class FilterSet {
  private readonly bySymbol = new Map<string, SymbolFilters>();

  constructor(list: Iterable<SymbolFilters> = []) {
    for (const f of list) this.bySymbol.set(f.symbol, f);
  }

  /** From exchangeInfo symbol entries and the instruments built from them. */
  static fromExchangeSymbols(symbols: readonly ExchangeSymbol[], instrumentOf: (symbol: string) => Instrument | undefined): FilterSet {
    const out: SymbolFilters[] = [];
    for (const s of symbols) {
      const inst = instrumentOf(s.symbol);
      if (inst) out.push(parseSymbolFilters(s, inst));
    }
    return new FilterSet(out);
  }

  get(symbol: string): SymbolFilters | undefined {
    return this.bySymbol.get(symbol);
  }
}

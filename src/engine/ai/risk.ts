import { INTERVAL_MS } from '../candles/intervals.js';
import type { Candle, Interval } from '../candles/types.js';
import { formatFixed, pow10n } from '../fixed.js';
import type { Instrument } from '../market/types.js';
import { formatAmount, notional, scalesOf } from '../orders/amounts.js';
import type { Amount, Balance, Order } from '../orders/types.js';
import type { RiskStatus } from '../risk/engine.js';
import { formatLimitValue, type LimitSet, type RiskLimits } from '../risk/limits.js';
import type { MarkedPosition } from '../trading.js';
import type { EngineView } from './view.js';

/**
 * Risk assessment computed by qtrade, never by the model: holdings valued at the last price,
 * concentration, per-bar volatility, historical-simulation VaR at 95 % and 99 % from candle
 * returns, the distance of every open stop, and the account against its risk limits. Money stays
 * exact (bigint amounts at 16 decimals); each candle return is the exact ratio of two price raws,
 * so a P&L scenario value × (cᵢ − cᵢ₋₁) / cᵢ₋₁ is exact up to one rounding at 16 decimals. Only
 * the volatility (a square root) is a float.
 *
 * VaR(α) is the loss at the ⌈n·(1−α)⌉-th worst of the n one-bar P&L scenarios (today's holdings
 * revalued with each past bar's return, all symbols on the same bar together), 0 when even that
 * scenario gains. 95 % needs at least 20 scenarios, 99 % at least 100.
 */

const YEAR_MS = 365 * 86_400_000;
export const VAR_MIN_OBSERVATIONS = { '95': 20, '99': 100 } as const;

export interface AssetExposure {
  asset: string;
  /** free + locked, exact. */
  qty: string;
  /** The market it is valued on (asset + quote); absent for the quote asset. */
  symbol?: string;
  mark?: string;
  /** Value in the quote asset; absent when the asset has no market or no price. */
  value?: string;
  /** Percent of equity, 4 decimals. */
  share?: string;
  unvalued?: string;
}

export interface VolatilityFigure {
  symbol: string;
  interval: Interval;
  returns: number;
  /** Sample standard deviation of one-bar returns, percent. */
  perBarPct: string;
  /** perBar × √(bars per year), percent. */
  annualizedPct: string;
}

export interface VarFigure {
  /** 'portfolio' or a symbol. */
  scope: string;
  interval: Interval;
  scenarios: number;
  /** Loss in the quote asset, exact; null with `why` when too few scenarios. */
  var95: string | null;
  var99: string | null;
  var95PctOfEquity: string | null;
  var99PctOfEquity: string | null;
  why?: string;
}

export interface StopDistance {
  orderId: number;
  symbol: string;
  side: string;
  type: string;
  stopPrice: string;
  mark: string | null;
  /** (stop − mark) / mark, percent, 4 decimals. */
  distancePct: string | null;
  /** Quote value between the mark and the stop over the unfilled quantity. */
  valueToStop: string | null;
}

export interface LimitCheck {
  rule: string;
  scope: string;
  limit: string;
  current: string;
  /** current / limit, percent, 2 decimals. */
  utilizationPct: string;
}

export interface RiskAssessment {
  quote: string;
  /** Exchange time of the assessment. */
  time: number;
  equity: string;
  cash: string;
  assets: AssetExposure[];
  concentration: { largestAsset: string | null; largestSharePct: string | null; exposedPct: string };
  volatility: VolatilityFigure[];
  var: VarFigure[];
  stops: StopDistance[];
  limits: { state: string; reason: string; checks: LimitCheck[]; set: Array<{ scope: string; key: string; value: string }> };
  method: string;
  notes: string[];
}

export interface RiskInput {
  quote: string;
  time: number;
  balances: readonly Balance[];
  positions: readonly MarkedPosition[];
  openOrders: readonly Order[];
  instrument: (symbol: string) => Instrument | undefined;
  /** Last price raw per symbol. */
  marks: ReadonlyMap<string, number>;
  /** Closed candles per symbol per interval, oldest first. */
  candles: ReadonlyMap<string, ReadonlyMap<Interval, readonly Candle[]>>;
  status: RiskStatus;
  limits: RiskLimits;
  /** Where the candles came from, e.g. "BTCUSDT 1h: store" (reported with the figures). */
  sources?: string[];
}

/** a / b rounded half away from zero. */
function divRound(a: bigint, b: bigint): bigint {
  const neg = a < 0n !== b < 0n;
  const aa = a < 0n ? -a : a;
  const bb = b < 0n ? -b : b;
  const q = (aa * 2n + bb) / (bb * 2n);
  return neg ? -q : q;
}

/** part / whole as a percent with `decimals`, exact rounding. */
function pct(part: bigint, whole: bigint, decimals: number): string {
  if (whole === 0n) return formatFixed(0n, decimals);
  return formatFixed(divRound(part * 100n * pow10n(decimals), whole), decimals);
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

/** Holdings × price raw → quote amount (truncated at 16 decimals, as the ledger marks). */
function valueOf(qty: Amount, price: number, inst: Instrument): Amount {
  return (qty * BigInt(price)) / pow10n(inst.priceScale);
}

/** ⌈n·q/100⌉ − 1: the index of the VaR scenario in ascending order. */
function varIndex(n: number, q: number): number {
  return Math.max(0, Math.ceil((n * q) / 100) - 1);
}

/** Exact one-bar P&L scenarios of holding `value` over these candles, keyed by open time. */
function scenarios(value: Amount, candles: readonly Candle[]): Map<number, bigint> {
  const out = new Map<number, bigint>();
  for (let i = 1; i < candles.length; i++) {
    const prev = candles[i - 1]!.close;
    if (prev <= 0) continue;
    out.set(candles[i]!.openTime, divRound(value * BigInt(candles[i]!.close - prev), BigInt(prev)));
  }
  return out;
}

function varFigure(scope: string, interval: Interval, pnl: bigint[], equity: Amount): VarFigure {
  const n = pnl.length;
  const sorted = [...pnl].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const at = (q: number, min: number): bigint | null => {
    if (n < min) return null;
    const x = -sorted[varIndex(n, q)]!;
    return x > 0n ? x : 0n;
  };
  const v95 = at(5, VAR_MIN_OBSERVATIONS['95']);
  const v99 = at(1, VAR_MIN_OBSERVATIONS['99']);
  const fig: VarFigure = {
    scope,
    interval,
    scenarios: n,
    var95: v95 === null ? null : formatAmount(v95),
    var99: v99 === null ? null : formatAmount(v99),
    var95PctOfEquity: v95 === null ? null : pct(v95, equity, 4),
    var99PctOfEquity: v99 === null ? null : pct(v99, equity, 4),
  };
  if (v99 === null) fig.why = `${n} scenario${n === 1 ? '' : 's'} of ${interval} bars: VaR 95 needs ${VAR_MIN_OBSERVATIONS['95']}, VaR 99 needs ${VAR_MIN_OBSERVATIONS['99']}`;
  return fig;
}

function volatility(symbol: string, interval: Interval, candles: readonly Candle[]): VolatilityFigure | undefined {
  const r: number[] = [];
  for (let i = 1; i < candles.length; i++) {
    const prev = candles[i - 1]!.close;
    if (prev > 0) r.push((candles[i]!.close - prev) / prev);
  }
  if (r.length < 2) return undefined;
  const mean = r.reduce((a, b) => a + b, 0) / r.length;
  const sd = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / (r.length - 1));
  return {
    symbol,
    interval,
    returns: r.length,
    perBarPct: (sd * 100).toFixed(4),
    annualizedPct: (sd * Math.sqrt(YEAR_MS / INTERVAL_MS[interval]) * 100).toFixed(2),
  };
}

function limitFor(limits: RiskLimits, symbol: string, key: keyof LimitSet): { value: LimitSet[keyof LimitSet]; scope: string } | undefined {
  const own = limits.symbols[symbol]?.[key];
  if (own !== undefined) return { value: own, scope: symbol };
  const global = limits.global[key];
  return global !== undefined ? { value: global, scope: 'global' } : undefined;
}

/** The assessment from gathered inputs (pure; see assessRisk for gathering them from a view). */
export function computeRisk(input: RiskInput): RiskAssessment {
  const notes: string[] = input.sources && input.sources.length > 0 ? [`candles: ${input.sources.join('; ')}`] : [];
  const quote = input.quote.toUpperCase();
  let cash = 0n;
  const held: Array<{ asset: string; qty: Amount; inst?: Instrument; value?: Amount; mark?: number; why?: string }> = [];
  for (const b of input.balances) {
    const qty = b.free + b.locked;
    if (qty === 0n) continue;
    if (b.asset === quote) {
      cash += qty;
      continue;
    }
    const inst = input.instrument(`${b.asset}${quote}`);
    const mark = inst ? input.marks.get(inst.symbol) : undefined;
    if (!inst) held.push({ asset: b.asset, qty, why: `no ${b.asset}${quote} market` });
    else if (mark === undefined) held.push({ asset: b.asset, qty, inst, why: `no price of ${inst.symbol}` });
    else held.push({ asset: b.asset, qty, inst, mark, value: valueOf(qty, mark, inst) });
  }
  const valued = held.filter((h) => h.value !== undefined);
  const exposed = valued.reduce((s, h) => s + h.value!, 0n);
  const equity = cash + exposed;
  for (const h of held) if (h.why) notes.push(`${h.asset} is left out of equity, exposure and VaR: ${h.why}`);

  const assets: AssetExposure[] = [];
  if (cash !== 0n || held.length === 0) assets.push({ asset: quote, qty: formatAmount(cash), value: formatAmount(cash), share: pct(cash, equity, 4) });
  for (const h of held) {
    assets.push({
      asset: h.asset,
      qty: formatAmount(h.qty),
      ...(h.inst ? { symbol: h.inst.symbol } : {}),
      ...(h.mark !== undefined && h.inst ? { mark: formatFixed(h.mark, h.inst.priceScale) } : {}),
      ...(h.value !== undefined ? { value: formatAmount(h.value), share: pct(h.value, equity, 4) } : { unvalued: h.why! }),
    });
  }
  const largest = valued.reduce<(typeof valued)[number] | undefined>((m, h) => (!m || abs(h.value!) > abs(m.value!) ? h : m), undefined);

  // Volatility and VaR per interval, per symbol and for the whole book on common bars.
  const volatilityFigures: VolatilityFigure[] = [];
  const vars: VarFigure[] = [];
  const intervals = new Set<Interval>();
  for (const m of input.candles.values()) for (const i of m.keys()) intervals.add(i);
  for (const interval of intervals) {
    const perSymbol: Array<Map<number, bigint>> = [];
    for (const h of valued) {
      const candles = input.candles.get(h.inst!.symbol)?.get(interval) ?? [];
      const vol = volatility(h.inst!.symbol, interval, candles);
      if (vol) volatilityFigures.push(vol);
      const s = scenarios(h.value!, candles);
      perSymbol.push(s);
      vars.push(varFigure(h.inst!.symbol, interval, [...s.values()], equity));
    }
    if (perSymbol.length > 1) {
      const common = [...perSymbol[0]!.keys()].filter((t) => perSymbol.every((m) => m.has(t)));
      vars.push(varFigure('portfolio', interval, common.map((t) => perSymbol.reduce((sum, m) => sum + m.get(t)!, 0n)), equity));
    }
  }
  if (valued.length === 0) notes.push(`nothing but ${quote} is held: no market exposure, VaR 0`);

  // Open stops and how far the market is from them.
  const stops: StopDistance[] = [];
  for (const o of input.openOrders) {
    if (o.stopPrice === 0) continue;
    const inst = input.instrument(o.symbol);
    const mark = input.marks.get(o.symbol);
    const left = o.origQty - o.executedQty;
    const ps = inst?.priceScale ?? 0;
    stops.push({
      orderId: o.orderId,
      symbol: o.symbol,
      side: o.side,
      type: o.type,
      stopPrice: formatFixed(o.stopPrice, ps),
      mark: mark === undefined ? null : formatFixed(mark, ps),
      distancePct: mark === undefined || mark === 0 ? null : pct(BigInt(o.stopPrice - mark), BigInt(mark), 4),
      valueToStop: mark === undefined || !inst ? null : formatAmount(notional(Math.abs(mark - o.stopPrice), left, scalesOf(inst))),
    });
  }

  // Limits on positions and open orders, as the risk engine counts them.
  const checks: LimitCheck[] = [];
  for (const p of input.positions) {
    if (p.qty === 0n) continue;
    const inst = input.instrument(p.symbol);
    const mark = input.marks.get(p.symbol) ?? p.mark;
    const qtyLimit = input.limits.symbols[p.symbol]?.maxPositionQty;
    if (qtyLimit !== undefined) {
      checks.push({ rule: 'maxPositionQty', scope: p.symbol, limit: formatLimitValue('maxPositionQty', qtyLimit), current: formatAmount(abs(p.qty), 0), utilizationPct: pct(abs(p.qty), qtyLimit, 2) });
    }
    const nl = limitFor(input.limits, p.symbol, 'maxPositionNotional');
    if (nl && inst && mark !== undefined) {
      const v = abs(valueOf(p.qty, mark, inst));
      checks.push({ rule: 'maxPositionNotional', scope: nl.scope === 'global' ? `global (${p.symbol})` : p.symbol, limit: formatLimitValue('maxPositionNotional', nl.value as bigint), current: formatAmount(v, 2), utilizationPct: pct(v, nl.value as bigint, 2) });
    }
  }
  const maxOpen = input.limits.global.maxOpenOrders;
  if (maxOpen !== undefined) {
    const n = BigInt(input.openOrders.length);
    checks.push({ rule: 'maxOpenOrders', scope: 'global', limit: String(maxOpen), current: String(n), utilizationPct: pct(n, BigInt(maxOpen), 2) });
  }
  const set: Array<{ scope: string; key: string; value: string }> = [];
  for (const [scope, ls] of [['global', input.limits.global] as const, ...Object.entries(input.limits.symbols)]) {
    for (const [key, value] of Object.entries(ls)) if (value !== undefined) set.push({ scope, key, value: formatLimitValue(key as keyof LimitSet, value as never) });
  }
  if (set.length === 0) notes.push('no risk limits are set (qtrade risk set KEY VALUE)');

  return {
    quote,
    time: input.time,
    equity: formatAmount(equity),
    cash: formatAmount(cash),
    assets,
    concentration: {
      largestAsset: largest?.asset ?? null,
      largestSharePct: largest ? pct(largest.value!, equity, 4) : null,
      exposedPct: pct(exposed, equity, 4),
    },
    volatility: volatilityFigures,
    var: vars,
    stops,
    limits: { state: input.status.state, reason: input.status.reason, checks, set },
    method:
      'holdings valued at the last price; VaR = loss at the ceil(n·(1−α))-th worst of n one-bar historical scenarios (current holdings × each past bar return), ' +
      'portfolio scenarios on bars every held symbol has; volatility = sample stdev of one-bar returns',
    notes,
  };
}

export interface AssessOptions {
  /** Valuation currency; default USDT (the paper account's). */
  quote?: string;
  /** Bars per interval used for volatility and VaR. */
  lookback?: Partial<Record<Interval, number>>;
}

const DEFAULT_LOOKBACK: Partial<Record<Interval, number>> = { '1m': 1000, '1h': 500 };

/** Gathers the inputs from a view (prices, candles of every held symbol) and computes. */
export async function assessRisk(view: EngineView, opts: AssessOptions = {}): Promise<RiskAssessment> {
  const quote = (opts.quote ?? 'USDT').toUpperCase();
  const [balances, positions, openOrders, risk] = await Promise.all([view.balances(), view.positions(), view.openOrders(), view.risk()]);
  const instOf = (s: string): Instrument | undefined => {
    try {
      return view.instrument(s);
    } catch {
      return undefined;
    }
  };
  const symbols = new Set<string>();
  for (const b of balances) if (b.asset !== quote && b.free + b.locked !== 0n && instOf(`${b.asset}${quote}`)) symbols.add(instOf(`${b.asset}${quote}`)!.symbol);
  for (const p of positions) if (p.qty !== 0n) symbols.add(p.symbol);
  for (const o of openOrders) symbols.add(o.symbol);
  const marks = new Map<string, number>();
  const candles = new Map<string, Map<Interval, Candle[]>>();
  const lookback = { ...DEFAULT_LOOKBACK, ...(opts.lookback ?? {}) };
  const sources: string[] = [];
  for (const s of symbols) {
    const perInterval = new Map<Interval, Candle[]>();
    for (const [interval, n] of Object.entries(lookback) as Array<[Interval, number]>) {
      const set = await view.candles(s, interval, n + 1).catch(() => undefined);
      if (set && set.candles.length > 0) {
        perInterval.set(interval, set.candles);
        sources.push(`${s} ${interval}: ${set.candles.length} from ${set.source}`);
      }
    }
    candles.set(s, perInterval);
    const t = await view.ticker(s).catch(() => undefined);
    const last = t?.lastPrice ?? [...perInterval.values()].flatMap((c) => c.slice(-1)).sort((a, b) => b.closeTime - a.closeTime)[0]?.close;
    if (last !== undefined) marks.set(s, last);
  }
  return computeRisk({ quote, time: view.now(), balances, positions, openOrders, instrument: instOf, marks, candles, status: risk.status, limits: risk.limits, sources });
}

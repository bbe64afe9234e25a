import { UsageError } from '../../errors.js';
import { parseFixed, pow10 } from '../../fixed.js';
import { wireInstrument } from '../instruments.js';
import type { Instrument } from '../types.js';
import { RecordingWriter } from './recording.js';

/** An aggTrade exactly as GET /api/v3/aggTrades returns it. */
export interface RawAggTrade {
  a: number;
  p: string;
  q: string;
  f: number;
  l: number;
  T: number;
  m: boolean;
  M: boolean;
}

/** Binance's aggTrade stream payload, field for field (spot `<symbol>@aggTrade`): the REST fields plus event fields. */
export interface AggTradePayload extends RawAggTrade {
  e: 'aggTrade';
  E: number;
  s: string;
}

export interface GenerateAggTradesOptions {
  /** Same seed, same options → the identical sequence, on every platform. */
  seed: number | string;
  symbol: string;
  /** Tick and step grids; Binance's 8-decimal wire precision when omitted. */
  instrument?: Instrument;
  count: number;
  /** Trade time of the first trade, ms. */
  startTime: number;
  /** A decimal string on the tick grid (exact) or a number (rounded to the grid). */
  startPrice: string | number;
  /** First aggregate trade id; default 100000000. */
  firstAggId?: number;
  /** First raw trade id; default 1000000000. */
  firstTradeId?: number;
  /** Typical trade size in base units as a decimal string; default: about 100 quote units' worth at the start price. */
  typicalQty?: string;
  /** Relative price volatility per √second; default 0.0001 (about BTC's). */
  volatility?: number;
}

/**
 * A small, fast, seedable PRNG (sfc32 seeded through splitmix32). Deterministic across
 * platforms because it uses only 32-bit integer arithmetic.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  constructor(seed: number | string) {
    let s = typeof seed === 'number' ? (seed >>> 0) ^ (Math.floor(seed / 2 ** 32) >>> 0) : hashString(seed);
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform in (0, 1]: safe under log(). */
  open(): number {
    return (this.u32() + 1) / 4294967296;
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  exp(mean: number): number {
    return -Math.log(this.open()) * mean;
  }

  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    const u = this.open();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Number of failures before the first success, P(success) = p. */
  geometric(p: number): number {
    if (p >= 1) return 0;
    return Math.floor(Math.log(this.open()) / Math.log(1 - p));
  }
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const ZEROS = '00000000';

/** raw at `scale` (≤ 8) as Binance prints it: exactly 8 decimals. Plain number arithmetic, no bigint. */
export function wireDecimal(raw: number, scale: number): string {
  const p = pow10(scale);
  const int = Math.floor(raw / p);
  const frac = raw - int * p;
  if (scale === 0) return `${int}.${ZEROS}`;
  const f = String(frac);
  return `${int}.${ZEROS.slice(0, scale - f.length)}${f}${ZEROS.slice(scale)}`;
}

/** Market regimes: the mean gap between taker orders (ms) and how long a regime tends to last. */
const REGIMES = [
  { meanGapMs: 40, stay: 0.985 }, // busy: news, liquidations
  { meanGapMs: 350, stay: 0.995 }, // normal
  { meanGapMs: 6000, stay: 0.9 }, // quiet
] as const;

/**
 * Deterministic, realistic aggTrade streams: a random walk on the tick grid, heavy-tailed
 * sizes on the step grid, taker orders sweeping several levels in one millisecond, regime
 * switches between busy and quiet stretches (with whole minutes without a trade),
 * persistent taker side, contiguous agg ids and first/last trade ids.
 */
export function* generateAggTrades(opts: GenerateAggTradesOptions): Generator<AggTradePayload> {
  const symbol = opts.symbol.toUpperCase();
  const inst = opts.instrument ?? wireInstrument(symbol);
  const ps = inst.priceScale;
  const qs = inst.qtyScale;
  if (ps > 8 || qs > 8) throw new UsageError(`instrument ${symbol} has more than 8 decimals`);
  if (!Number.isInteger(opts.count) || opts.count < 0) throw new UsageError(`count must be a non-negative integer, got ${opts.count}`);
  const tick = parseFixed(inst.tickSize, ps) || 1;
  const step = parseFixed(inst.stepSize, qs) || 1;
  let bid =
    typeof opts.startPrice === 'string'
      ? parseFixed(opts.startPrice, ps)
      : Math.round((opts.startPrice * pow10(ps)) / tick) * tick;
  if (!(bid > 0)) throw new UsageError(`start price must be positive, got ${opts.startPrice}`);
  bid = Math.max(tick, Math.round(bid / tick) * tick);

  const rng = new Rng(opts.seed);
  const vol = opts.volatility ?? 1e-4;
  const startPriceFloat = bid / pow10(ps);
  // Typical size in steps: about 100 quote units, at least one step.
  const typicalSteps = Math.max(
    1,
    opts.typicalQty !== undefined
      ? Math.round(parseFixed(opts.typicalQty, qs) / step)
      : Math.round((100 / startPriceFloat) * pow10(qs) / step),
  );
  const maxSteps = Math.max(typicalSteps * 5000, 1);

  let aggId = opts.firstAggId ?? 100_000_000;
  let tradeId = opts.firstTradeId ?? 1_000_000_000;
  let time = Math.floor(opts.startTime);
  let regime = 1;
  let takerBuys = rng.next() < 0.5;
  let emitted = 0;

  while (emitted < opts.count) {
    // Regime switch, then the gap to the next taker order.
    const stay = REGIMES[regime]!.stay;
    if (rng.next() > stay) {
      const u = rng.next();
      regime = regime === 1 ? (u < 0.6 ? 0 : 2) : 1;
    }
    let gap = rng.exp(REGIMES[regime]!.meanGapMs);
    // Rare long silences: a whole minute or more without a trade (thin books, halts, night hours).
    if (rng.next() < 0.0015) gap += 60_000 + rng.exp(45_000);
    gap = Math.floor(gap);
    if (emitted > 0) time += gap;

    // The best bid diffuses with √time but sticks between moves, as real books do: most
    // consecutive orders meet the same level, and a taker buy pays one tick more (the ask).
    if (gap > 0 && rng.next() < 0.35) {
      const sigmaTicks = vol * (bid / tick) * Math.sqrt(gap / 1000 / 0.35);
      const move = Math.round(rng.normal() * sigmaTicks);
      bid = Math.max(tick, bid + move * tick);
    }

    // Taker side persists: order flow is autocorrelated.
    if (rng.next() < 0.3) takerBuys = !takerBuys;
    const buyerMaker = !takerBuys;
    let price = takerBuys ? bid + tick : bid;

    // One taker order: usually one level, sometimes a sweep through many in the same ms.
    const levels = rng.next() < 0.85 ? 1 : 2 + rng.geometric(regime === 0 ? 0.2 : 0.45);
    const eventLag = rng.next() < 0.7 ? 0 : rng.int(1, 3);
    for (let k = 0; k < levels && emitted < opts.count; k++) {
      if (k > 0) {
        const jump = rng.next() < 0.6 ? 1 : rng.int(2, 4);
        price = takerBuys ? price + jump * tick : Math.max(tick, price - jump * tick);
        // The sweep takes out the levels it crossed.
        bid = takerBuys ? price - tick : price;
        if (bid < tick) bid = tick;
      }
      // Pareto-tailed size (α ≈ 1.4) with a lognormal body, snapped to the step grid.
      const body = Math.exp(rng.normal() * 0.9 - 0.4);
      const tail = rng.next() < 0.08 ? Math.pow(rng.open(), -1 / 1.4) : 1;
      let steps = Math.round(typicalSteps * body * tail);
      // Round lots are popular: sometimes snap to a round size.
      if (steps > 10 && rng.next() < 0.25) {
        const mag = pow10(Math.max(0, Math.floor(Math.log10(steps))));
        steps = Math.max(mag, Math.round(steps / mag) * mag);
      }
      steps = Math.min(maxSteps, Math.max(1, steps));
      const trades = 1 + rng.geometric(0.55);
      const first = tradeId;
      tradeId += trades;
      yield {
        e: 'aggTrade',
        E: time + eventLag,
        s: symbol,
        a: aggId++,
        p: wireDecimal(price, ps),
        q: wireDecimal(steps * step, qs),
        f: first,
        l: first + trades - 1,
        T: time,
        m: buyerMaker,
        M: true,
      };
      emitted++;
    }
  }
}

export interface GenerateRecordingSymbol {
  symbol: string;
  instrument?: Instrument;
  startPrice: string | number;
  /** Trades for this symbol; default: the recording's `count`. */
  count?: number;
}

export interface GenerateRecordingOptions {
  path: string;
  seed: number | string;
  startTime: number;
  /** aggTrades per symbol. */
  count: number;
  symbols: GenerateRecordingSymbol[];
  /** Mean network latency added to the event time for the receive time `r`, ms; default 25. */
  latencyMs?: number;
}

export interface GeneratedRecordingSummary {
  path: string;
  frames: number;
  firstTime: number;
  lastTime: number;
}

/**
 * Writes a recording of generated `<symbol>@aggTrade` frames for several symbols, merged
 * in receive-time order. Each symbol's stream is seeded from the seed and its name.
 */
export async function generateRecording(opts: GenerateRecordingOptions): Promise<GeneratedRecordingSummary> {
  const lat = opts.latencyMs ?? 25;
  const netRng = new Rng(`${opts.seed}/net`);
  interface Head {
    stream: string;
    gen: Generator<AggTradePayload>;
    cur: AggTradePayload | undefined;
  }
  const heads: Head[] = opts.symbols.map((s) => {
    const gen = generateAggTrades({
      seed: `${opts.seed}/${s.symbol.toUpperCase()}`,
      symbol: s.symbol,
      ...(s.instrument ? { instrument: s.instrument } : {}),
      count: s.count ?? opts.count,
      startTime: opts.startTime,
      startPrice: s.startPrice,
    });
    return { stream: `${s.symbol.toLowerCase()}@aggTrade`, gen, cur: gen.next().value ?? undefined };
  });
  const w = await RecordingWriter.open(opts.path, { flushEveryMs: 0, level: 9 });
  w.header({
    source: 'qtrade-generator',
    symbols: opts.symbols.map((s) => s.symbol.toUpperCase()),
    channels: ['aggTrade'],
    startedAt: opts.startTime,
  });
  let frames = 0;
  let firstTime = Number.NaN;
  let lastTime = Number.NaN;
  let lastR = -Infinity;
  for (;;) {
    let best: Head | undefined;
    for (const h of heads) if (h.cur && (!best || h.cur.E < best.cur!.E)) best = h;
    if (!best) break;
    const data = best.cur!;
    // Receive time: event time plus a jittered latency, never going backwards.
    const r = Math.max(lastR, data.E + lat * (0.6 + 0.8 * netRng.next()));
    lastR = r;
    const rText = Math.round(r * 1000) / 1000;
    if (!w.frame(rText, { stream: best.stream, data })) await w.drained();
    if (frames === 0) firstTime = data.T;
    lastTime = data.T;
    frames++;
    best.cur = best.gen.next().value ?? undefined;
  }
  await w.close();
  return { path: opts.path, frames, firstTime, lastTime };
}

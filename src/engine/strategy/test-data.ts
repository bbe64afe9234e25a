import { CandleSynthesizer } from '../candles/synthesizer.js';
import type { Candle } from '../candles/types.js';
import { parseFixed } from '../fixed.js';
import { generateAggTrades } from '../market/replay/generator.js';
import type { Instrument, Trade } from '../market/types.js';

/** Deterministic trades from the replay generator, decoded as the feed decodes aggTrades (tests, benches). */
export function generatedTrades(inst: Instrument, opts: { seed: string | number; count: number; startTime?: number; startPrice?: string; volatility?: number }): Trade[] {
  const out: Trade[] = [];
  for (const a of generateAggTrades({
    seed: opts.seed,
    symbol: inst.symbol,
    instrument: inst,
    count: opts.count,
    startTime: opts.startTime ?? 1_723_075_200_000,
    startPrice: opts.startPrice ?? '60000.00',
    ...(opts.volatility !== undefined ? { volatility: opts.volatility } : {}),
  })) {
    out.push({
      symbol: a.s,
      id: a.a,
      price: parseFixed(a.p, inst.priceScale),
      qty: parseFixed(a.q, inst.qtyScale),
      firstId: a.f,
      lastId: a.l,
      time: a.T,
      buyerMaker: a.m,
    });
  }
  return out;
}

/** Closed 1m candles of a trade list (the last, open minute is dropped). */
export function candlesOf(inst: Instrument, trades: readonly Trade[]): Candle[] {
  const out: Candle[] = [];
  const synth = new CandleSynthesizer({ instrument: inst, onClosed: (c) => out.push(c) });
  for (const t of trades) synth.add(t);
  return out;
}

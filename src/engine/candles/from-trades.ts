import { openTradeFile, type TradeFileOptions } from '../market/files/trade-files.js';
import type { Instrument, TimeUnit } from '../market/types.js';
import { CandleAggregator } from './aggregate.js';
import { CandleSynthesizer } from './synthesizer.js';
import type { Candle, Interval } from './types.js';

export interface TradeCandlesOptions extends TradeFileOptions {
  interval: Interval;
  /** Every candle, oldest first; return false to stop reading. */
  onCandle: (c: Candle) => boolean | void;
  /** Called once the file's symbol, scales and time unit are known, before any candle. */
  onOpen?: (info: { symbol: string; instrument: Instrument; unit: TimeUnit; kind: string }) => void;
}

export interface TradeCandlesSummary {
  symbol: string;
  instrument: Instrument;
  unit: TimeUnit;
  trades: number;
  /** Trades skipped because their minute had already closed (out of order in the file). */
  late: number;
  candles: number;
  /** onCandle asked to stop before the end of the file. */
  stopped: boolean;
}

/**
 * Streams a trade file through the 1m synthesizer (and the aggregator for longer intervals):
 * constant memory whatever the file size. The last candle is the file's last, possibly partial, one.
 */
export async function candlesFromTradeFile(path: string, opts: TradeCandlesOptions): Promise<TradeCandlesSummary> {
  const file = await openTradeFile(path, opts);
  opts.onOpen?.({ symbol: file.symbol, instrument: file.instrument, unit: file.unit, kind: file.kind });
  let candles = 0;
  let stopped = false;
  const emit = (c: Candle): void => {
    if (stopped) return;
    candles++;
    if (opts.onCandle(c) === false) stopped = true;
  };
  const agg = opts.interval === '1m' ? undefined : new CandleAggregator({ interval: opts.interval, unit: file.unit, onClosed: emit });
  const synth = new CandleSynthesizer({
    instrument: file.instrument,
    unit: file.unit,
    onClosed: agg ? (c) => agg.add(c) : emit,
  });
  let trades = 0;
  for await (const batch of file.batches()) {
    for (let i = 0; i < batch.length; i++) synth.add(batch[i]!);
    trades += batch.length;
    if (stopped) break;
  }
  if (!stopped) {
    synth.flush();
    agg?.flush();
  }
  return { symbol: file.symbol, instrument: file.instrument, unit: file.unit, trades, late: synth.late, candles, stopped };
}

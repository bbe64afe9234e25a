import type { Command } from 'commander';
import { candleJson } from '../engine/candles/format.js';
import { LiveClock } from '../engine/clock.js';
import { createKernel, DEFAULT_CHANNELS } from '../engine/kernel.js';
import { BinanceVenue } from '../engine/market/binance/venue.js';
import { openStore } from '../engine/store/open.js';
import type { Store } from '../engine/store/types.js';
import { parseChannels, parseDuration, parseSymbols, settingsWithNoStore } from './args.js';
import { action, out } from './context.js';
import { candleLine, incompleteLine, utcMinute } from './format.js';
import { binanceEndpoints, binanceRest, liveInstruments } from './market.js';
import { untilStopped } from './stop.js';

interface FeedOptions {
  symbols?: string;
  channels?: string;
  duration?: string;
  store?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('feed')
    .description('run the live Binance feed headless: gap-free trades, exact 1m candles saved to the store and printed as they close')
    .option('--symbols <list>', 'comma-separated symbols (default: the `symbols` setting)')
    .option('--channels <list>', `channels (default ${DEFAULT_CHANNELS.join(',')}; kline_1m cross-checks our candles)`)
    .option('--duration <time>', 'stop after this long (30s, 10m, 2h); default: until Ctrl-C')
    .option('--no-store', 'do not write candles to the store')
    .option('--json', 'one JSON line per event (candle, incomplete, gap, mismatch, state, error), then a summary')
    .action(action((opts: FeedOptions, cmd: Command) => feed(opts, cmd)));
}

async function feed(opts: FeedOptions, cmd: Command): Promise<void> {
  const settings = settingsWithNoStore(cmd);
  const symbols = parseSymbols(opts.symbols ?? settings.string('symbols')!);
  const channels = opts.channels ? parseChannels(opts.channels) : DEFAULT_CHANNELS;
  const durationMs = opts.duration === undefined ? undefined : parseDuration(opts.duration);
  const endpoints = binanceEndpoints(settings);

  const store: Store | undefined = opts.store === false ? undefined : await openStore(settings.storeUrl());
  const rest = binanceRest(endpoints);
  let kernel: ReturnType<typeof createKernel> | undefined;
  try {
    const { instruments, source } = await liveInstruments(rest, store);
    if (source === 'store') out.err('warning: Binance exchangeInfo unreachable; using the symbols cached in the store');
    for (const s of symbols) instruments.get(s); // unknown symbol → error naming close matches

    const venue = new BinanceVenue({ ...endpoints, instruments, rest });
    kernel = createKernel({ clock: new LiveClock(), venue, instruments, store, candleGraceMs: settings.number('candles.graceMs') });
    const event = (type: string, human: string, data: object): void => {
      if (opts.json) out.json({ type, ...data });
      else if (type === 'candle') out.line(human);
      else out.err(human);
    };
    kernel.bus.subscribe('candle.closed', (c) => event('candle', candleLine(c), candleJson(c)));
    kernel.bus.subscribe('candle.incomplete', (c) => event('incomplete', incompleteLine(c), candleJson(c)));
    kernel.bus.subscribe('feed.state', (s) => {
      const human =
        s.state === 'reconnecting'
          ? `reconnecting (attempt ${s.attempt}, next in ${Math.ceil((s.nextInMs ?? 0) / 1000)} s)${s.reason ? `: ${s.reason}` : ''}`
          : s.state;
      event('state', human, s);
    });
    kernel.bus.subscribe('feed.gap', (g) => event('gap', `gap in ${g.symbol} trades ${g.fromId}..${g.toId}: ${g.filled} filled from REST`, g));
    kernel.bus.subscribe('candle.mismatch', (m) =>
      event('mismatch', `${utcMinute(m.ours.openTime)} ${m.ours.symbol} candle mismatch: ${m.fields.join(', ')}`, {
        symbol: m.ours.symbol,
        openTime: m.ours.openTime,
        fields: m.fields,
        ours: candleJson(m.ours),
        binance: candleJson(m.theirs),
      }),
    );
    kernel.bus.subscribe('feed.error', (e) => event('error', `error: ${e.message}`, e));

    if (!opts.json) out.err(`feed: ${symbols.join(', ')} on ${channels.join(', ')} from ${endpoints.wsUrl}${store ? `; candles to ${store.kind}` : ''}`);
    const stop = untilStopped(durationMs);
    try {
      await Promise.race([kernel.start(symbols, channels), stop.stopped]);
      await stop.stopped;
    } finally {
      stop.dispose();
    }
    await kernel.stop();
    const stats = kernel.stats();
    if (opts.json) out.json({ type: 'summary', symbols, ...stats });
    else
      out.err(
        `stopped: ${stats.trades} trades, ${stats.candlesClosed} candles closed, ${stats.candlesIncomplete} incomplete, ${stats.gaps} gaps (${stats.gapTradesFilled} trades filled, ${stats.missingTrades} missing), ` +
          `${stats.duplicates} duplicates dropped, ${stats.candleMismatches}/${stats.candleChecks} candle mismatches against Binance`,
      );
  } finally {
    await kernel?.stop();
    await store?.close();
  }
}

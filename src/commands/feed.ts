import type { Command } from 'commander';
import { Bus } from '../engine/bus.js';
import { candleJson } from '../engine/candles/format.js';
import { LiveClock } from '../engine/clock.js';
import { UsageError } from '../engine/errors.js';
import { createKernel, DEFAULT_CHANNELS } from '../engine/kernel.js';
import { BinanceVenue } from '../engine/market/binance/venue.js';
import { openStore } from '../engine/store/open.js';
import type { Store } from '../engine/store/types.js';
import type { AccountLock } from '../engine/store/lock.js';
import { PaperTrading } from '../engine/trading.js';
import { firingJson, firingLine } from '../engine/alerts/format.js';
import { notifyConfig } from '../notify/config.js';
import { startLiveAlerts, type LiveAlerts } from '../notify/live-alerts.js';
import { parseChannels, parseDuration, parseSymbols, settingsWithNoStore } from './args.js';
import { action, out } from './context.js';
import { candleLine, incompleteLine, utcMinute } from './format.js';
import { binanceEndpoints, binanceRest, liveInstruments } from './market.js';
import { untilStopped } from './stop.js';
import { PAPER_ACCOUNT, takeLock } from './trading-context.js';
import { fillJson, humanPrice, humanQty } from './trading-output.js';

interface FeedOptions {
  symbols?: string;
  channels?: string;
  duration?: string;
  store?: boolean;
  json?: boolean;
  paper?: boolean;
}

export function register(program: Command): void {
  program
    .command('feed')
    .description('run the live Binance feed headless: gap-free trades, exact 1m candles saved to the store and printed as they close')
    .option('--symbols <list>', 'comma-separated symbols (default: the `symbols` setting)')
    .option('--channels <list>', `channels (default ${DEFAULT_CHANNELS.join(',')}; kline_1m cross-checks our candles)`)
    .option('--duration <time>', 'stop after this long (30s, 10m, 2h); default: until Ctrl-C')
    .option('--no-store', 'do not write candles to the store')
    .option('--json', 'one JSON line per event (candle, incomplete, gap, mismatch, state, error, fill, risk), then a summary')
    .option('--paper', 'drive the paper account: resting paper orders (limits, stops) fill from the trades of this feed; holds the account while it runs')
    .addHelpText('after', '\nResting paper orders fill only while a feed runs with --paper (later: the daemon); `qtrade order` places them, this fills them.')
    .action(action((opts: FeedOptions, cmd: Command) => feed(opts, cmd)));
}

async function feed(opts: FeedOptions, cmd: Command): Promise<void> {
  const settings = settingsWithNoStore(cmd);
  const symbols = parseSymbols(opts.symbols ?? settings.string('symbols')!);
  // Paper stops that trigger into market orders walk the book, so --paper follows it by default.
  const channels = opts.channels ? parseChannels(opts.channels) : opts.paper ? [...DEFAULT_CHANNELS, 'depth' as const] : DEFAULT_CHANNELS;
  const durationMs = opts.duration === undefined ? undefined : parseDuration(opts.duration);
  const endpoints = binanceEndpoints(settings);
  if (opts.paper && opts.store === false) throw new UsageError('--paper needs the store: the paper account lives in it', { hint: 'drop --no-store' });

  const store: Store | undefined = opts.store === false ? undefined : await openStore(settings.storeUrl());
  const rest = binanceRest(endpoints);
  let kernel: ReturnType<typeof createKernel> | undefined;
  let lock: AccountLock | undefined;
  let paper: PaperTrading | undefined;
  let alerts: LiveAlerts | undefined;
  try {
    const { instruments, source, symbols: exchangeSymbols } = await liveInstruments(rest, store);
    if (source === 'store') out.err('warning: Binance exchangeInfo unreachable; using the symbols cached in the store');
    for (const s of symbols) instruments.get(s); // unknown symbol → error naming close matches

    const bus = new Bus();
    const clock = new LiveClock();
    if (opts.paper) {
      lock = await takeLock(settings.dataDir);
      paper = await PaperTrading.open({ store: store!, instruments, exchangeSymbols, bus, clock, account: PAPER_ACCOUNT, lock, fees: settings.fees() });
      lock = undefined; // released by paper.close()
    }
    const venue = new BinanceVenue({ ...endpoints, instruments, rest });
    kernel = createKernel({ clock, bus, venue, instruments, store, candleGraceMs: settings.number('candles.graceMs'), orders: paper?.service });
    // Stored alerts run on this feed (fired, recorded, delivered); they live in the store.
    const notify = notifyConfig(settings);
    if (store) alerts = await startLiveAlerts({ bus, clock, instruments, store, notify, account: paper?.service, report: (_level, m) => out.err(m) });
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
    kernel.bus.subscribe('alert.fired', (f) => event('alert', `alert ${firingLine(f)}${notify.bell ? '\x07' : ''}`, firingJson(f)));
    if (paper) {
      kernel.bus.subscribe('fill', (f) => {
        const inst = instruments.get(f.symbol);
        event('fill', `paper fill: ${f.side} ${humanQty(f.qty, inst)} ${f.symbol} @ ${humanPrice(f.price, inst)} (order ${f.orderId}, ${f.isMaker ? 'maker' : 'taker'})`, fillJson(f, inst));
      });
      kernel.bus.subscribe('risk.state', (r) => event('risk', `risk: ${r.previous} -> ${r.state}: ${r.reason}`, r));
    }

    if (!opts.json) {
      out.err(`feed: ${symbols.join(', ')} on ${channels.join(', ')} from ${endpoints.wsUrl}${store ? `; candles to ${store.kind}` : ''}${paper ? `; paper account "${paper.account}" attached` : ''}`);
    }
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
    try {
      await kernel?.stop();
      await alerts?.close();
      await paper?.close();
    } finally {
      lock?.release();
      await store?.close();
    }
  }
}

import fs from 'node:fs';
import type { Command } from 'commander';
import { candleJson } from '../engine/candles/format.js';
import { firingJson, firingLine } from '../engine/alerts/format.js';
import { AlertService } from '../engine/alerts/service.js';
import { SimClock } from '../engine/clock.js';
import { UsageError } from '../engine/errors.js';
import { createKernel, DEFAULT_CHANNELS } from '../engine/kernel.js';
import { bundledInstruments } from '../engine/market/bundled-instruments.js';
import { Instruments, wireInstrument } from '../engine/market/instruments.js';
import { readRecording, readRecordingHeader } from '../engine/market/replay/recording.js';
import { ReplayVenue } from '../engine/market/replay/replay-venue.js';
import type { Channel } from '../engine/market/source.js';
import { openStore } from '../engine/store/open.js';
import type { Store } from '../engine/store/types.js';
import { isChannel, parseSpeed, parseSymbols, settingsWithNoStore } from './args.js';
import { action, out } from './context.js';
import { candleLine, formatSeconds, incompleteLine, utcMinute } from './format.js';

interface ReplayOptions {
  speed: string;
  symbols?: string;
  /** false with --no-store. */
  store?: boolean | string;
  json?: boolean;
}

/** Symbols of a recording without a header: every symbol its stream names mention. */
async function scanSymbols(file: string): Promise<string[]> {
  const seen = new Set<string>();
  for await (const line of readRecording(file)) {
    if (line.kind !== 'frame') continue;
    const at = line.frame.stream.indexOf('@');
    seen.add((at === -1 ? line.frame.stream : line.frame.stream.slice(0, at)).toUpperCase());
  }
  return [...seen];
}

export function register(program: Command): void {
  program
    .command('replay <file>')
    .description('replay a recording through the live pipeline (SimClock, same engines) and print closed 1m candles')
    .option('--speed <x>', 'multiple of the recorded pace, or "max"', '1')
    .option('--symbols <list>', 'only these symbols (default: every symbol in the recording)')
    .option('--no-store', 'do not write candles to the store')
    .option('--json', 'one JSON line per closed or incomplete candle, then a summary line')
    .action(action((file: string, opts: ReplayOptions, cmd: Command) => replay(file, opts, cmd)));
}

async function replay(file: string, opts: ReplayOptions, cmd: Command): Promise<void> {
  const speed = parseSpeed(opts.speed);
  if (!fs.existsSync(file)) {
    throw new UsageError(`no such recording: ${file}`, { hint: 'record one with `qtrade record --out FILE.jsonl.gz`, or try fixtures/recordings/binance-spot-2024-08-08.jsonl.gz' });
  }
  const settings = settingsWithNoStore(cmd);

  const header = await readRecordingHeader(file);
  const symbols = opts.symbols ? parseSymbols(opts.symbols) : header?.symbols.length ? header.symbols.map((s) => s.toUpperCase()) : await scanSymbols(file);
  if (symbols.length === 0) throw new UsageError(`recording ${file} has no market-data frames`);
  const channels: Channel[] = header?.channels.length ? header.channels.filter(isChannel) : DEFAULT_CHANNELS;

  const bundled = bundledInstruments();
  const instruments = new Instruments([...bundled.all(), ...symbols.filter((s) => !bundled.has(s)).map((s) => wireInstrument(s))]);

  const store: Store | undefined = opts.store === false ? undefined : await openStore(settings.storeUrl());
  const venue = new ReplayVenue({ path: file, instruments, speed, onWarning: (m) => out.err(`warning: ${m}`) });
  const kernel = createKernel({
    clock: new SimClock(),
    venue,
    instruments,
    ...(store ? { store } : {}),
    candleGraceMs: settings.number('candles.graceMs'),
  });

  // The stored alerts fire on the recording's event times; nothing is recorded or delivered.
  const alerts = store ? await AlertService.open({ bus: kernel.bus, clock: kernel.clock, instruments, store, persist: false, onError: (m) => out.err(`warning: ${m}`) }) : undefined;
  let alertsFired = 0;
  kernel.bus.subscribe('alert.fired', (f) => {
    alertsFired++;
    if (opts.json) out.json({ type: 'alert', ...firingJson(f) });
    else out.line(`alert ${firingLine(f)}`);
  });

  const trades = new Map<string, number>(symbols.map((s) => [s, 0]));
  const candles = new Map<string, number>(symbols.map((s) => [s, 0]));
  const incomplete = new Map<string, number>(symbols.map((s) => [s, 0]));
  const errors: string[] = [];
  let firstTime: number | undefined;
  let lastTime: number | undefined;
  let headerShown = false;

  kernel.bus.subscribe('trade', (t) => {
    trades.set(t.symbol, (trades.get(t.symbol) ?? 0) + 1);
    firstTime ??= t.time;
    lastTime = t.time;
  });
  kernel.bus.subscribe('candle.closed', (c) => {
    candles.set(c.symbol, (candles.get(c.symbol) ?? 0) + 1);
    if (opts.json) {
      out.json({ type: 'candle', ...candleJson(c) });
      return;
    }
    if (!headerShown) {
      headerShown = true;
      out.line(`closed 1m candles from ${file}${speed === 'max' ? '' : ` at ${speed}x`}:`);
    }
    out.line(candleLine(c));
  });
  kernel.bus.subscribe('candle.incomplete', (c) => {
    incomplete.set(c.symbol, (incomplete.get(c.symbol) ?? 0) + 1);
    if (opts.json) out.json({ type: 'incomplete', ...candleJson(c) });
    else out.err(incompleteLine(c));
  });
  kernel.bus.subscribe('feed.gap', (g) => {
    if (!opts.json) out.err(`gap: ${g.symbol} trades ${g.fromId}..${g.toId} missing, ${g.filled} filled from the recording`);
  });
  kernel.bus.subscribe('feed.error', (e) => {
    errors.push(e.message);
    if (!opts.json && errors.length <= 5) out.err(`error: ${e.message}`);
  });

  const stop = (): void => {
    void venue.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const wallStart = performance.now();
  let failure: unknown;
  try {
    await kernel.start(symbols, channels);
    await venue.done;
  } catch (err) {
    failure = err;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await kernel.stop();
    await alerts?.close();
    await store?.close();
  }
  if (failure) throw failure;

  const stats = kernel.stats();
  const perSymbol = symbols.map((s) => ({ symbol: s, trades: trades.get(s) ?? 0, candles: candles.get(s) ?? 0, incomplete: incomplete.get(s) ?? 0 }));
  const summary = {
    type: 'summary',
    file,
    symbols,
    channels,
    frames: venue.frames,
    trades: stats.trades,
    candles: stats.candlesClosed,
    incomplete: stats.candlesIncomplete,
    perSymbol,
    gaps: stats.gaps,
    missingTrades: stats.missingTrades,
    decodeErrors: stats.decodeErrors,
    errors: errors.length,
    firstTradeTime: firstTime ?? null,
    lastTradeTime: lastTime ?? null,
    wallMs: Math.round(performance.now() - wallStart),
    stored: store !== undefined,
    alerts: alertsFired,
  };
  if (opts.json) {
    out.json(summary);
    return;
  }
  if (!headerShown) out.line(`no 1m candle closed in ${file}`);
  out.line('');
  out.line(`replayed ${summary.frames} frames, ${summary.trades} trades${firstTime !== undefined ? ` (${utcMinute(firstTime)} to ${utcMinute(lastTime!)} UTC)` : ''} in ${formatSeconds(summary.wallMs)}`);
  for (const p of perSymbol) {
    out.line(`  ${p.symbol.padEnd(10)} ${String(p.trades).padStart(8)} trades  ${String(p.candles).padStart(5)} candles  ${String(p.incomplete).padStart(3)} incomplete`);
  }
  out.line(`  gaps ${summary.gaps}, decode errors ${summary.decodeErrors}${store ? '; candles saved to the store' : ''}`);
  if (alertsFired > 0) out.line(`  alerts fired ${alertsFired} (replay: not recorded, not delivered)`);
}

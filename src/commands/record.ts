import type { Command } from 'commander';
import type { FeedState } from '../engine/bus.js';
import { streamName } from '../engine/market/binance/streams.js';
import { BinanceWsFeed } from '../engine/market/binance/ws-client.js';
import { RecordingWriter } from '../engine/market/replay/recording.js';
import { CHANNELS, parseChannels, parseDuration, parseSymbols } from './args.js';
import { action, out, settingsFor } from './context.js';
import { formatBytes, formatElapsed, formatSeconds } from './format.js';
import { binanceEndpoints, binanceRest, liveInstruments } from './market.js';
import { untilStopped } from './stop.js';

const DEFAULT_CHANNELS = 'aggTrade,bookTicker,depth,kline_1m,miniTicker';
const DEPTH_LIMIT = 1000;

interface RecordOptions {
  symbols?: string;
  out: string;
  channels: string;
  duration?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('record')
    .description('record Binance market-data frames (and depth snapshots) to a .jsonl[.gz] file for `qtrade replay`')
    .requiredOption('--out <file>', 'output file; gzip\'d when it ends in .gz')
    .option('--symbols <list>', 'comma-separated symbols (default: the `symbols` setting)')
    .option('--channels <list>', `channels to record: ${CHANNELS.join(', ')}`, DEFAULT_CHANNELS)
    .option('--duration <time>', 'stop after this long (30s, 10m, 2h); default: until Ctrl-C')
    .option('--json', 'print the summary as JSON')
    .action(action((opts: RecordOptions, cmd: Command) => record(opts, cmd)));
}

async function record(opts: RecordOptions, cmd: Command): Promise<void> {
  const settings = settingsFor(cmd);
  const symbols = parseSymbols(opts.symbols ?? settings.string('symbols') ?? 'btcusdt,ethusdt');
  const channels = parseChannels(opts.channels);
  const durationMs = opts.duration === undefined ? undefined : parseDuration(opts.duration);
  const endpoints = binanceEndpoints(settings);
  const rest = binanceRest(endpoints);

  const { instruments } = await liveInstruments(rest, undefined);
  for (const s of symbols) instruments.get(s); // unknown symbol → UsageError naming close matches

  const writer = await RecordingWriter.open(opts.out);
  const startedAt = Date.now();
  writer.header({ source: 'binance-spot', symbols, channels, startedAt });

  const perStream = new Map<string, number>();
  let frames = 0;
  let snapshots = 0;
  let reconnects = 0;
  let skipped = 0;
  let closed = false;
  const note = (msg: string): void => {
    clearStatus();
    out.err(msg);
  };

  const tty = process.stderr.isTTY === true && !opts.json;
  let statusShown = false;
  const clearStatus = (): void => {
    if (statusShown) process.stderr.write('\r\x1b[K');
    statusShown = false;
  };

  // Depth diffs only make a book together with a snapshot taken after they started
  // flowing: fetch one per symbol on every (re)connect.
  const fetches = new Set<Promise<void>>();
  const fetchSnapshots = (): void => {
    if (!channels.includes('depth')) return;
    for (const symbol of symbols) {
      const p = rest
        .get('/api/v3/depth', { symbol, limit: DEPTH_LIMIT })
        .then(({ body }) => {
          if (closed) return;
          writer.rest(Date.now(), `/api/v3/depth?symbol=${symbol}&limit=${DEPTH_LIMIT}`, body);
          snapshots++;
        })
        .catch((err: unknown) => note(`warning: depth snapshot for ${symbol} failed: ${(err as Error).message}`))
        .finally(() => fetches.delete(p));
      fetches.add(p);
    }
  };

  let everOpen = false;
  const feed = new BinanceWsFeed({ baseUrl: endpoints.wsUrl, net: endpoints.net, instruments });
  const sink = {
    event: () => {},
    raw: (text: string, recvTime: number) => {
      if (closed) return;
      // Only market-data frames go into the recording; SUBSCRIBE replies and the like do not.
      let stream: unknown;
      try {
        stream = (JSON.parse(text) as { stream?: unknown }).stream;
      } catch {
        skipped++;
        return;
      }
      if (typeof stream !== 'string') return;
      writer.frame(recvTime, text);
      frames++;
      perStream.set(stream, (perStream.get(stream) ?? 0) + 1);
    },
    state: (st: FeedState) => {
      if (st.state === 'open') {
        if (everOpen) note('reconnected');
        everOpen = true;
        fetchSnapshots();
      } else if (st.state === 'reconnecting') {
        reconnects++;
        note(`connection lost${st.reason ? ` (${st.reason})` : ''}; reconnecting in ${Math.round((st.nextInMs ?? 0) / 1000)} s (attempt ${st.attempt})`);
      }
    },
    error: () => {},
  };

  const stop = untilStopped(durationMs);

  let lastFrames = 0;
  let lastTick = Date.now();
  const status = tty
    ? setInterval(() => {
        const now = Date.now();
        const rate = ((frames - lastFrames) * 1000) / Math.max(1, now - lastTick);
        lastFrames = frames;
        lastTick = now;
        process.stderr.write(`\r\x1b[Krecording ${perStream.size} streams  ${rate.toFixed(0)} frames/s  ${frames} frames  ${formatBytes(writer.bytes)}  ${formatElapsed(now - startedAt)}`);
        statusShown = true;
      }, 1000)
    : undefined;

  const streams = symbols.flatMap((s) => channels.map((c) => streamName(s, c)));
  let why: string;
  try {
    const started = feed.start(streams, sink).then(() => {
      if (!everOpen) {
        everOpen = true;
        fetchSnapshots();
      }
    });
    started.catch(() => {}); // rejects only when stopped before connecting
    why = await stop.stopped;
  } finally {
    stop.dispose();
    if (status) clearInterval(status);
    clearStatus();
    await feed.stop().catch(() => {});
    // Snapshots in flight get a moment; the file must close either way.
    await Promise.race([Promise.allSettled([...fetches]), new Promise((r) => setTimeout(r, 3000).unref())]);
    closed = true;
    await writer.close();
  }

  const durationRecorded = Date.now() - startedAt;
  const summary = {
    file: opts.out,
    bytes: writer.bytes,
    durationMs: durationRecorded,
    stoppedBy: why,
    frames,
    streams: Object.fromEntries([...perStream.entries()].sort(([a], [b]) => a.localeCompare(b))),
    depthSnapshots: snapshots,
    reconnects,
    skippedFrames: skipped,
  };
  if (opts.json) {
    out.json(summary);
    return;
  }
  out.line(`recorded ${frames} frames in ${formatSeconds(durationRecorded)} to ${opts.out} (${formatBytes(writer.bytes)})`);
  const w = Math.max(16, ...[...perStream.keys()].map((k) => k.length));
  for (const s of streams) out.line(`  ${s.padEnd(w)}  ${perStream.get(s) ?? 0}`);
  for (const [s, n] of perStream) if (!streams.includes(s)) out.line(`  ${s.padEnd(w)}  ${n}`);
  if (channels.includes('depth')) out.line(`  ${'depth snapshots'.padEnd(w)}  ${snapshots}`);
  if (reconnects > 0) out.line(`  ${'reconnects'.padEnd(w)}  ${reconnects}`);
}

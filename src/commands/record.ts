import type { Command } from 'commander';
import type { FeedState } from '../engine/bus.js';
import { UsageError } from '../engine/errors.js';
import { BinanceRest } from '../engine/market/binance/rest-client.js';
import { streamName } from '../engine/market/binance/streams.js';
import { BinanceWsFeed } from '../engine/market/binance/ws-client.js';
import { Instruments } from '../engine/market/instruments.js';
import { RecordingWriter } from '../engine/market/replay/recording.js';
import type { Channel } from '../engine/market/source.js';
import { action, out, settingsFor } from './context.js';

const CHANNELS: readonly Channel[] = ['aggTrade', 'trade', 'kline_1m', 'bookTicker', 'depth', 'miniTicker'];
const DEFAULT_CHANNELS = 'aggTrade,bookTicker,depth,kline_1m,miniTicker';
const DEPTH_LIMIT = 1000;

/** "90s", "10m", "1h30m", "500ms", "2.5s"; a bare number is seconds. */
export function parseDuration(s: string): number {
  const t = s.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  let rest = t;
  const re = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)/;
  while (rest.length > 0) {
    const m = re.exec(rest);
    if (!m) throw new UsageError(`--duration "${s}" is not a duration`, { hint: 'use e.g. 30s, 10m, 1h30m or a number of seconds' });
    total += Number(m[1]) * unit[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  if (!(total > 0)) throw new UsageError(`--duration "${s}" must be longer than zero`);
  return Math.round(total);
}

export function parseChannels(list: string): Channel[] {
  const out: Channel[] = [];
  for (const raw of list.split(',')) {
    const c = raw.trim();
    if (!c) continue;
    if (!(CHANNELS as readonly string[]).includes(c)) {
      throw new UsageError(`unknown channel "${c}"`, { hint: `channels are ${CHANNELS.join(', ')}` });
    }
    if (!out.includes(c as Channel)) out.push(c as Channel);
  }
  if (out.length === 0) throw new UsageError('--channels names no channel', { hint: `choose from ${CHANNELS.join(', ')}` });
  return out;
}

export function parseSymbols(list: string): string[] {
  const syms = [...new Set(list.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean))];
  const bad = syms.find((s) => !/^[A-Z0-9]+$/.test(s));
  if (bad !== undefined || syms.length === 0) {
    throw new UsageError(`--symbols "${list}" must be comma-separated symbols like btcusdt,ethusdt`);
  }
  return syms;
}

function human(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

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
  const net = { proxy: settings.proxyUrl(), noProxy: settings.noProxy() };
  const rest = new BinanceRest({ baseUrl: settings.string('binance.restUrl') ?? 'https://api.binance.com', net });

  const instruments = Instruments.fromExchangeInfo(await rest.exchangeInfo());
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
  const feed = new BinanceWsFeed({ baseUrl: settings.string('binance.wsUrl') ?? 'wss://stream.binance.com:9443', net, instruments });
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

  let finish!: (why: string) => void;
  const finished = new Promise<string>((resolve) => (finish = resolve));
  const onSignal = (sig: string) => () => finish(sig);
  const onInt = onSignal('SIGINT');
  const onTerm = onSignal('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  const timer = durationMs === undefined ? undefined : setTimeout(() => finish('duration'), durationMs);

  let lastFrames = 0;
  let lastTick = Date.now();
  const status = tty
    ? setInterval(() => {
        const now = Date.now();
        const rate = ((frames - lastFrames) * 1000) / Math.max(1, now - lastTick);
        lastFrames = frames;
        lastTick = now;
        process.stderr.write(`\r\x1b[Krecording ${perStream.size} streams  ${rate.toFixed(0)} frames/s  ${frames} frames  ${human(writer.bytes)}  ${clock(now - startedAt)}`);
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
    why = await finished;
  } finally {
    if (timer) clearTimeout(timer);
    if (status) clearInterval(status);
    clearStatus();
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
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
  out.line(`recorded ${frames} frames in ${(durationRecorded / 1000).toFixed(1)} s to ${opts.out} (${human(writer.bytes)})`);
  const w = Math.max(16, ...[...perStream.keys()].map((k) => k.length));
  for (const s of streams) out.line(`  ${s.padEnd(w)}  ${perStream.get(s) ?? 0}`);
  for (const [s, n] of perStream) if (!streams.includes(s)) out.line(`  ${s.padEnd(w)}  ${n}`);
  if (channels.includes('depth')) out.line(`  ${'depth snapshots'.padEnd(w)}  ${snapshots}`);
  if (reconnects > 0) out.line(`  ${'reconnects'.padEnd(w)}  ${reconnects}`);
}

import type { Command } from 'commander';
import { UsageError } from '../engine/errors.js';
import { findDaemon, pidAlive } from '../server/daemon-file.js';
import { launchDaemon } from '../server/launch.js';
import { STALE_AFTER_MS } from '../server/routes/system.js';
import { checkRedisUrl } from '../engine/market/redis/url.js';
import { parseSymbols, parseChannels } from './args.js';
import { action, out, settingsFor } from './context.js';
import { binanceEndpoints } from './market.js';
import { PAPER_ACCOUNT } from './trading-context.js';

interface RunOptions {
  host: string;
  port: string;
  symbols?: string;
  channels?: string;
  logLevel: string;
  bus?: string;
  follow?: string;
  staleAfter?: string;
}

export function register(program: Command): void {
  const daemon = program
    .command('daemon')
    .description('run the engine headless and serve it over HTTP/WebSocket (Binance-compatible REST, streams, /health, /metrics)');
  const run = daemon
    .command('run', { isDefault: true })
    .description('start the daemon in the foreground (JSON logs on stdout; SIGTERM or `qtrade daemon stop` ends it)')
    .option('--host <host>', 'address to bind; a non-loopback one needs tokens (qtrade token create)', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', '8081')
    .option('--symbols <list>', 'comma-separated symbols for the feed (default: the `symbols` setting)')
    .option('--channels <list>', 'feed channels (default aggTrade,kline_1m,bookTicker,miniTicker,depth)')
    .option('--log-level <level>', 'trace, debug, info, warn, error or silent', 'info')
    .option('--bus <url>', 'publish market events on Redis Streams (redis://host:6379) so other daemons can --follow this one')
    .option('--follow <url>', 'take market data from a leader daemon\'s Redis bus (redis://host:6379) instead of Binance')
    .option('--stale-after <seconds>', '/health turns degraded after this long without a market message, on the feed or any symbol', String(STALE_AFTER_S))
    .action(action((opts: RunOptions, cmd: Command) => runDaemon(opts, cmd)));
  // `qtrade daemon [options]` runs it: its options belong in `qtrade daemon --help` too.
  daemon.addHelpText('after', (ctx) => {
    const help = ctx.command.createHelp();
    const width = Math.max(...run.options.map((o) => help.optionTerm(o).length));
    const rows = run.options.map((o) => help.formatItem(help.optionTerm(o), width, help.optionDescription(o), help));
    return `\nOptions of run (qtrade daemon [options] is qtrade daemon run [options]):\n${rows.join('\n')}`;
  });
  daemon
    .command('status')
    .description('show whether a daemon runs for this data dir, and its health')
    .option('--json', 'print the health document as JSON')
    .action(action((opts: { json?: boolean }, cmd: Command) => status(opts, cmd)));
  daemon
    .command('stop')
    .description('stop the running daemon gracefully (SIGTERM) and wait until it has exited')
    .option('--timeout <seconds>', 'how long to wait', '30')
    .action(action((opts: { timeout: string }, cmd: Command) => stop(opts, cmd)));
}

function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new UsageError(`--port "${text}" is not a port number`, { hint: 'use 0-65535, e.g. --port 8081' });
  return Number(text);
}

const STALE_AFTER_S = STALE_AFTER_MS / 1000;

function parseStaleAfter(text: string): number {
  const s = Number(text);
  if (!/^[\d.]+$/.test(text) || !Number.isFinite(s) || s <= 0) {
    throw new UsageError(`--stale-after "${text}" is not a positive number of seconds`, { hint: `e.g. --stale-after 30 (default ${STALE_AFTER_S})` });
  }
  return Math.ceil(s * 1000);
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

async function runDaemon(opts: RunOptions, cmd: Command): Promise<void> {
  const settings = settingsFor(cmd);
  const port = parsePort(opts.port);
  if (!LEVELS.has(opts.logLevel)) throw new UsageError(`--log-level "${opts.logLevel}" is unknown`, { hint: [...LEVELS].join(', ') });
  const busUrl = opts.bus === undefined ? undefined : checkRedisUrl(opts.bus, '--bus');
  const followUrl = opts.follow === undefined ? undefined : checkRedisUrl(opts.follow, '--follow');
  const staleAfterMs = parseStaleAfter(opts.staleAfter ?? String(STALE_AFTER_S));
  if (busUrl !== undefined && followUrl !== undefined) throw new UsageError('--bus and --follow cannot be used together', { hint: 'run the leader with --bus and each follower with --follow' });
  const running = findDaemon(settings.dataDir);
  if (running) throw new UsageError(`a daemon already runs for ${settings.dataDir} (pid ${running.pid}, ${running.url})`, { hint: 'qtrade daemon stop, or use another --data-dir' });
  const symbols = parseSymbols(opts.symbols ?? settings.string('symbols')!);
  const d = await launchDaemon({
    dataDir: settings.dataDir,
    storeUrl: settings.storeUrl(),
    binance: binanceEndpoints(settings),
    symbols,
    channels: opts.channels === undefined ? undefined : parseChannels(opts.channels),
    host: opts.host,
    port,
    account: PAPER_ACCOUNT,
    fees: settings.fees(),
    candleGraceMs: settings.number('candles.graceMs'),
    logLevel: opts.logLevel,
    busUrl,
    followUrl,
    staleAfterMs,
  });
  const onSignal = (signal: NodeJS.Signals): void => void d.stop(signal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const reason = await d.stopRequested;
    await d.stop(reason);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function status(opts: { json?: boolean }, cmd: Command): Promise<void> {
  const settings = settingsFor(cmd);
  const info = findDaemon(settings.dataDir);
  if (!info) {
    if (opts.json) out.json({ running: false });
    else out.line(`no daemon runs for ${settings.dataDir}`);
    process.exitCode = 1;
    return;
  }
  let health: Record<string, unknown> | undefined;
  let error: string | undefined;
  try {
    const res = await fetch(`${info.url}/health`, { signal: AbortSignal.timeout(5_000) });
    health = (await res.json()) as Record<string, unknown>;
  } catch (err) {
    error = (err as Error).message;
  }
  if (opts.json) {
    out.json({ running: true, pid: info.pid, url: info.url, startedAt: info.startedAt, version: info.version, health, error });
    return;
  }
  out.line(`daemon pid ${info.pid} at ${info.url}, started ${info.startedAt} (qtrade ${info.version}, market data from ${info.source})`);
  if (health) out.line(`health: ${JSON.stringify(health)}`);
  else out.err(`warning: /health did not answer: ${error}`);
}

async function stop(opts: { timeout: string }, cmd: Command): Promise<void> {
  const settings = settingsFor(cmd);
  const info = findDaemon(settings.dataDir);
  if (!info) {
    out.line(`no daemon runs for ${settings.dataDir}`);
    return;
  }
  const timeoutMs = Number(opts.timeout) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError(`--timeout "${opts.timeout}" is not a positive number of seconds`);
  process.kill(info.pid, 'SIGTERM');
  const until = Date.now() + timeoutMs;
  while (pidAlive(info.pid)) {
    if (Date.now() > until) throw new UsageError(`daemon pid ${info.pid} is still running after ${opts.timeout} s`, { hint: `look at its log; kill -9 ${info.pid} as a last resort` });
    await new Promise((r) => setTimeout(r, 100));
  }
  out.line(`daemon pid ${info.pid} stopped`);
}

import type { Command } from 'commander';
import { aiConfigFrom } from '../engine/ai/config.js';
import { UsageError } from '../engine/errors.js';
import { notifyConfig } from '../notify/config.js';
import { connectDaemon } from '../client/daemon-client.js';
import { DaemonSource } from '../tui/daemon-source.js';
import { openLiveSession } from '../tui/live-session.js';
import { ReplaySession } from '../tui/replay-session.js';
import { assertTerminal } from '../tui/terminal.js';
import type { RunTuiOptions } from '../tui/run.js';
import { parseSpeed, parseSymbols } from './args.js';
import { action, settingsFor } from './context.js';
import { binanceEndpoints } from './market.js';
import { PAPER_ACCOUNT } from './trading-context.js';

/**
 * Loads React and Ink only when the dashboard opens (other commands never pay for them), in
 * React's production build unless NODE_ENV says otherwise: the development build checks and
 * times every render, several times the CPU of the dashboard itself.
 */
async function runTui(opts: RunTuiOptions): Promise<void> {
  process.env.NODE_ENV ??= 'production';
  // Ink reads CI / CONTINUOUS_INTEGRATION when it loads and then draws only the last frame, at exit. The
  // dashboard only opens on a terminal (assertTerminal), so it is interactive whatever the environment says.
  for (const key of ['CI', 'CONTINUOUS_INTEGRATION']) if (key in process.env) process.env[key] = 'false';
  const { runTui: run } = await import('../tui/run.js');
  await run(opts);
}

interface TuiOptions {
  symbols?: string;
  replay?: string;
  speed?: string;
  loop?: boolean;
}

export function register(program: Command): void {
  program
    .command('tui')
    .description("the dashboard: live Binance data with paper trading, a running daemon's (--connect URL, or the daemon of the data dir), or a recording with --replay (the default command on a terminal)")
    .option('--symbols <list>', 'comma-separated symbols (default: the `symbols` setting; with --replay: every symbol recorded)')
    .option('--replay <file>', 'show a recording instead of the live feed (offline; a temporary paper account)')
    .option('--speed <x>', 'with --replay: multiple of the recorded pace, or "max" (default 1)')
    .option('--loop', 'with --replay: start over at the end, with a fresh paper account')
    .addHelpText('after', '\nKeys: Tab panels · 1-8 layouts (7 AI, 8 alerts) · / commands · b/s order entry · ? help · q quit.\nTry it offline: qtrade demo')
    .action(action((opts: TuiOptions, cmd: Command) => tui(opts, cmd)));
}

/** A recording in the dashboard (qtrade tui --replay, qtrade demo). */
export async function replayTui(opts: { file: string; speed: number | 'max'; loop: boolean; symbols?: string[] }, cmd: Command): Promise<void> {
  const settings = settingsFor(cmd);
  const warnings: string[] = [];
  const session = await ReplaySession.open({
    ...opts,
    fees: settings.fees(),
    candleGraceMs: settings.number('candles.graceMs'),
    onWarning: (m) => warnings.push(m),
    ai: () => aiConfigFrom((k) => settings.string(k)),
    // The stored alerts fire on the recording, as `qtrade replay` fires them.
    alerts: { storeUrl: settings.storeUrl(), bell: notifyConfig(settings).bell },
  });
  try {
    assertTerminal();
  } catch (err) {
    await session.close();
    throw err;
  }
  session.start();
  await runTui({ source: session.source, warnings, cleanup: () => session.close() });
  await session.done; // a pass that failed is this command's error
}

async function tui(opts: TuiOptions, cmd: Command): Promise<void> {
  const symbols = opts.symbols === undefined ? undefined : parseSymbols(opts.symbols);
  if (opts.replay !== undefined) {
    await replayTui({ file: opts.replay, speed: parseSpeed(opts.speed ?? '1'), loop: opts.loop === true, symbols }, cmd);
    return;
  }
  if (opts.speed !== undefined || opts.loop) throw new UsageError('--speed and --loop apply to --replay FILE', { hint: 'qtrade tui --replay FILE --speed 10, or qtrade demo' });

  const settings = settingsFor(cmd);
  // --connect / QTRADE_CONNECT / daemon.url, or the daemon running for this data dir (it holds the paper account).
  const daemon = connectDaemon(settings);
  if (daemon) {
    assertTerminal();
    const source = await DaemonSource.open({ url: daemon.url, token: settings.string('daemon.token'), symbols, bell: notifyConfig(settings).bell });
    await runTui({ source, cleanup: async () => source.close() });
    return;
  }
  assertTerminal();
  const session = await openLiveSession({
    dataDir: settings.dataDir,
    storeUrl: settings.storeUrl(),
    binance: binanceEndpoints(settings),
    symbols: symbols ?? parseSymbols(settings.string('symbols')!),
    account: PAPER_ACCOUNT,
    fees: settings.fees(),
    candleGraceMs: settings.number('candles.graceMs'),
    ai: () => aiConfigFrom((k) => settings.string(k)),
    notify: notifyConfig(settings),
  });
  await runTui({ source: session.source, warnings: session.warnings, cleanup: () => session.close() });
}

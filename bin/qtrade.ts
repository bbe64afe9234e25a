#!/usr/bin/env node
import { Command } from 'commander';
import { COMMANDS } from '../src/commands/index.js';
import { VERSION } from '../src/version.js';

const program = new Command('qtrade')
  .description('Terminal trading workstation: Binance feed, exact candles, paper trading, backtests, daemon, TUI')
  .version(VERSION)
  .option('--data-dir <dir>', 'data and config directory (env QTRADE_DATA_DIR, default ~/.config/qtrade)')
  .option('--proxy <url>', 'HTTP CONNECT proxy for Binance WS and REST (env QTRADE_PROXY / HTTPS_PROXY)')
  .option('--store <url>', 'store: sqlite:PATH or postgres://... (env QTRADE_STORE)')
  .option('--connect <url>', 'use the daemon at this URL (env QTRADE_CONNECT); default: the one running for the data dir')
  .showHelpAfterError()
  .exitOverride((err) => {
    // commander's own usage errors (unknown option, missing argument) exit 2 like ours.
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

for (const register of COMMANDS) register(program);

// `qtrade` alone on a terminal opens the dashboard; piped or scripted, it prints help as before.
const argv = process.argv.length === 2 && process.stdout.isTTY && process.stdin.isTTY ? [...process.argv, 'tui'] : process.argv;
await program.parseAsync(argv);

import type { Command } from 'commander';
import { register as candles } from './candles.js';
import { register as config } from './config.js';
import { register as feed } from './feed.js';
import { register as history } from './history.js';
import { register as record } from './record.js';
import { register as replay } from './replay.js';

/** Every subcommand, in the order `qtrade --help` lists them. */
export const COMMANDS: ReadonlyArray<(program: Command) => void> = [config, feed, candles, history, record, replay];

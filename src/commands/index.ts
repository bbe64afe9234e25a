import type { Command } from 'commander';
import { register as config } from './config.js';

/** Every subcommand, in the order `qtrade --help` lists them. */
export const COMMANDS: ReadonlyArray<(program: Command) => void> = [config];

import type { Command } from 'commander';
import { register as alert } from './alert.js';
import { register as ask } from './ask.js';
import { register as backtest } from './backtest.js';
import { register as balance } from './balance.js';
import { register as cancel } from './cancel.js';
import { register as candles } from './candles.js';
import { register as chat } from './chat.js';
import { register as config } from './config.js';
import { register as daemon } from './daemon.js';
import { register as demo } from './demo.js';
import { register as feed } from './feed.js';
import { register as fills } from './fills.js';
import { register as history } from './history.js';
import { register as order } from './order.js';
import { register as orders } from './orders.js';
import { register as paper } from './paper.js';
import { register as pnl } from './pnl.js';
import { register as positions } from './positions.js';
import { register as proposals } from './proposals.js';
import { register as record } from './record.js';
import { register as replay } from './replay.js';
import { register as risk } from './risk.js';
import { register as strategy } from './strategy.js';
import { register as token } from './token.js';
import { register as tui } from './tui.js';

/** Every subcommand, in the order `qtrade --help` lists them. */
export const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  tui,
  demo,
  config,
  feed,
  candles,
  history,
  record,
  replay,
  order,
  orders,
  cancel,
  fills,
  balance,
  positions,
  pnl,
  risk,
  alert,
  paper,
  strategy,
  backtest,
  ask,
  chat,
  proposals,
  daemon,
  token,
];

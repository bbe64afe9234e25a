import { ConditionError } from '../engine/alerts/errors.js';
import type { AlertInput } from '../engine/alerts/spec.js';
import { UsageError } from '../engine/errors.js';
import type { EventLog } from './event-log.js';
import { describeError } from './format.js';
import type { AlertItem, AlertsSource } from './sources/alerts.js';

/**
 * The `/alert` commands: `alert btcusdt price > 70000 [--every 5m | --once | --until-cancelled]
 * [--expire 24h] [--notify tui,webhook]`, `alert rm ID`, `alert list` (and `alerts`): what
 * `qtrade alert add|rm|list` take. Parsing only; the alert service validates the condition
 * against the symbol and points at a bad token.
 */

export type AlertCommand = { kind: 'alertAdd'; input: AlertInput } | { kind: 'alertRemove'; id: string } | { kind: 'alerts' };

export const ALERT_COMMAND_HELP = ['alert SYMBOL CONDITION [--every 5m|--once|--until-cancelled] [--expire 24h] [--notify tui,webhook] · alert rm ID · alerts'];

const HINT = 'e.g. alert btcusdt price > 70000, alert ethusdt rsi(14) 5m < 30 --every 15m, alert rm a3';
const VALUE_FLAGS = new Set(['--every', '--expire', '--notify']);

/** `args`: the words after `alert`, as typed. */
export function parseAlertCommand(args: string[]): AlertCommand {
  const first = args[0]?.toLowerCase();
  if (first === undefined || ((first === 'list' || first === 'ls') && args.length === 1)) return { kind: 'alerts' };
  if (first === 'rm' || first === 'remove' || first === 'del') {
    const id = args[1];
    if (args.length !== 2 || !/^a\d+$/i.test(id!)) throw new UsageError(`alert ${first} needs one alert id, such as a3`, { hint: 'the Alerts panel (key 8) lists them' });
    return { kind: 'alertRemove', id: id!.toLowerCase() };
  }
  const [symbol, ...rest] = args;
  const condition: string[] = [];
  const input: AlertInput = { symbol: symbol!, condition: '' };
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    const flag = w.toLowerCase();
    if (!flag.startsWith('--')) {
      condition.push(w);
      continue;
    }
    if (VALUE_FLAGS.has(flag)) {
      const v = rest[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`, { hint: HINT });
      if (flag === '--every') input.every = v;
      else if (flag === '--expire') input.expire = v;
      else input.notify = v;
    } else if (flag === '--once') input.once = true;
    else if (flag === '--until-cancelled') input.untilCancelled = true;
    else throw new UsageError(`unknown option ${w}`, { hint: '--every, --once, --until-cancelled, --expire, --notify' });
  }
  if (condition.length === 0) throw new UsageError(`alert ${symbol} needs a condition`, { hint: HINT });
  input.condition = condition.join(' ');
  return { kind: 'alertAdd', input };
}

/** The error for the one-line log: a bad condition names the token's column and shows the forms. */
function oneLine(err: unknown): string {
  if (!(err instanceof ConditionError)) return describeError(err).text;
  const c = err.condition;
  const at = err.column - 1;
  return `bad condition: ${err.reason} at column ${err.column}: "${c.slice(0, at)}»${c.slice(at)}" (e.g. price > 70000, change 5m > 2%, rsi(14, 5m) < 30)`;
}

const modeText = (a: AlertItem): string => (a.mode === 'once' ? 'once' : a.mode === 'every' ? 'every crossing, with a cool-down' : 'until cancelled');

/** Runs an alert command against the session's alerts; the outcome goes to the event log. */
export function runAlertCommand(c: AlertCommand, ctx: { alerts: AlertsSource | undefined; log: EventLog }): void {
  const { alerts, log } = ctx;
  if (c.kind === 'alerts') return;
  if (!alerts) {
    log.add('error', '✗ alerts do not run in this session');
    return;
  }
  if (c.kind === 'alertAdd') {
    alerts.add(c.input).then(
      (a) => log.add('good', `✓ alert ${a.id} added: ${a.symbol} ${a.condition} (${modeText(a)}; ${a.notify.join(', ')})`),
      (err: unknown) => log.add('error', `✗ alert: ${oneLine(err)}`),
    );
    return;
  }
  alerts.remove(c.id).then(
    (a) => log.add('good', `✓ alert ${a.id} removed: ${a.symbol} ${a.condition}`),
    (err: unknown) => log.add('error', `✗ alert rm ${c.id}: ${describeError(err).text}`),
  );
}

import type { Command } from 'commander';
import type { Settings } from '../config/resolve.js';
import { connectDaemon, DaemonRequestError, type DaemonClient } from '../client/daemon-client.js';
import { CONDITION_FORMS } from '../engine/alerts/errors.js';
import { alertJson, firingJson } from '../engine/alerts/format.js';
import { AlertLog } from '../engine/alerts/log.js';
import { alertSpecFrom, type AlertInput } from '../engine/alerts/spec.js';
import { alertStatus, durationText, type AlertFiring } from '../engine/alerts/types.js';
import { UsageError, VenueError } from '../engine/errors.js';
import { bundledInstruments } from '../engine/market/bundled-instruments.js';
import type { Instruments } from '../engine/market/instruments.js';
import { offlineMarketInfo } from '../engine/market/market-info.js';
import { openStore } from '../engine/store/open.js';
import { describeNotify, notifyConfig, unconfiguredChannelWarnings } from '../notify/config.js';
import { sendNow } from '../notify/notifier.js';
import { parseLimit } from './args.js';
import { action, out, settingsFor } from './context.js';
import { utcTime } from './format.js';
import { table } from './trading-output.js';

/** An alert as the API and --json give it (alertJson). */
interface AlertRow {
  id: string;
  symbol: string;
  condition: string;
  mode: string;
  cooldownMs: number | null;
  expiresAt: number | null;
  notify: string[];
  createdAt: number;
  status: string;
  fired: number;
  lastFiredAt: number | null;
}

interface FiringRow {
  id: string;
  alertId: string;
  time: number;
  message: string;
}

interface TestResult {
  id: string;
  results: Array<{ channel: string; target: string; ok: boolean; reason?: string }>;
}

/** An added alert, and a warning for each of its channels that whoever delivers it has no settings for. */
interface Added {
  alert: AlertRow;
  warnings: string[];
}

/** Alerts wherever they live: the running daemon's (its API), else the store's (this process). */
interface AlertsApi {
  readonly where: string;
  add(input: AlertInput): Promise<Added>;
  list(): Promise<AlertRow[]>;
  remove(id: string): Promise<AlertRow>;
  test(id: string): Promise<TestResult>;
  history(id: string | undefined, limit: number): Promise<FiringRow[]>;
}

interface AddOptions {
  once?: boolean;
  every?: string;
  untilCancelled?: boolean;
  expire?: string;
  notify?: string;
  json?: boolean;
}

export function register(program: Command): void {
  const alert = program
    .command('alert')
    .description('price, indicator and account alerts: they fire wherever the engine runs (qtrade feed, the daemon, qtrade replay) and notify the TUI, a webhook or Telegram');

  alert
    .command('add <symbol> <condition>')
    .description('add an alert on SYMBOL (or * for account events on any symbol); quote the condition')
    .option('--once', 'fire once, then stop (the default)')
    .option('--every <duration>', 'fire on every crossing, at most once per DURATION (e.g. 5m)')
    .option('--until-cancelled', 'fire on every crossing until removed')
    .option('--expire <duration>', 'stop after this long (e.g. 24h, 7d)')
    .option('--notify <channels>', 'where to: tui, webhook, telegram, comma-separated', 'tui')
    .option('--json', 'print the alert as JSON')
    .addHelpText('after', `\nConditions:\n${CONDITION_FORMS.map((f) => `  ${f}`).join('\n')}\nA condition fires when it becomes true (a level condition also when first seen true), then not again until it was false.`)
    .action(action((symbol: string, condition: string, opts: AddOptions, cmd: Command) => withAlerts(cmd, (api) => add(api, symbol, condition, opts))));

  alert
    .command('list')
    .description('alerts with their status (active, done, expired) and firings')
    .option('--all', 'also the done and expired ones')
    .option('--json', 'print a JSON array')
    .action(
      action((opts: { all?: boolean; json?: boolean }, cmd: Command) =>
        withAlerts(cmd, async (api) => {
          const rows = (await api.list()).filter((r) => opts.all || r.status === 'active');
          if (opts.json) return out.json(rows);
          if (rows.length === 0) return out.line(opts.all ? 'no alerts (qtrade alert add SYMBOL "CONDITION")' : 'no active alerts (--all shows done and expired ones)');
          const body = rows.map((r) => [r.id, r.symbol, r.condition, modeOf(r), r.notify.join(','), r.status, String(r.fired), r.lastFiredAt === null ? '-' : utcTime(r.lastFiredAt)]);
          for (const l of table(['id', 'symbol', 'condition', 'mode', 'notify', 'status', 'fired', 'last fired'], body, new Set([6]))) out.line(l);
        }),
      ),
    );

  alert
    .command('rm <id>')
    .description('remove an alert (its firing history stays)')
    .option('--json', 'print the removed alert as JSON')
    .action(
      action((id: string, opts: { json?: boolean }, cmd: Command) =>
        withAlerts(cmd, async (api) => {
          const r = await api.remove(id);
          if (opts.json) out.json(r);
          else out.line(`removed ${r.id}: ${r.symbol} ${r.condition}`);
        }),
      ),
    );

  alert
    .command('test <id>')
    .description("send a test notification through the alert's channels now (one attempt each)")
    .option('--json', 'print {id, results: [{channel, target, ok, reason}]}')
    .action(
      action((id: string, opts: { json?: boolean }, cmd: Command) =>
        withAlerts(cmd, async (api) => {
          const r = await api.test(id);
          if (opts.json) out.json(r);
          else for (const x of r.results) out.line(`${x.channel}: ${!x.ok ? `failed: ${x.reason}` : x.channel === 'tui' ? x.target : `sent to ${x.target}`}`);
          const failed = r.results.filter((x) => !x.ok);
          if (failed.length > 0) {
            throw new VenueError('ALERT_TEST', `the test notification did not reach ${failed.map((x) => x.channel).join(', ')}`, {
              hint: 'check the receiver, and qtrade config list for alerts.* and telegram.*',
            });
          }
        }),
      ),
    );

  alert
    .command('history [id]')
    .description('recent firings, newest last (of one alert, or all)')
    .option('--limit <n>', 'at most this many', '20')
    .option('--json', 'print a JSON array')
    .action(
      action((id: string | undefined, opts: { limit: string; json?: boolean }, cmd: Command) =>
        withAlerts(cmd, async (api) => {
          const rows = await api.history(id, parseLimit(opts.limit)!);
          if (opts.json) return out.json(rows);
          if (rows.length === 0) return out.line('no firings yet');
          for (const f of rows) out.line(`${utcTime(f.time)}  ${f.id.padEnd(8)} ${f.message}`);
        }),
      ),
    );
}

async function add(api: AlertsApi, symbol: string, condition: string, opts: AddOptions): Promise<void> {
  const input: AlertInput = { symbol, condition, ...(opts.notify !== undefined ? { notify: opts.notify } : {}) };
  if (opts.once) input.once = true;
  if (opts.untilCancelled) input.untilCancelled = true;
  if (opts.every !== undefined) input.every = opts.every;
  if (opts.expire !== undefined) input.expire = opts.expire;
  const { alert: r, warnings } = await api.add(input);
  if (opts.json) out.json(r);
  else out.line(`added ${r.id}: ${r.symbol} ${r.condition} (${modeOf(r)}${r.expiresAt !== null ? `, expires ${utcTime(r.expiresAt)} UTC` : ''}; notify ${r.notify.join(', ')})`);
  for (const w of warnings) out.err(`warning: ${w}`);
  if (!opts.json && api.where === 'store') out.err('it fires while `qtrade feed` or the daemon runs, and in `qtrade replay`');
}

function modeOf(r: AlertRow): string {
  if (r.mode === 'every') return `every ${durationText(r.cooldownMs ?? 0)}`;
  return r.mode === 'until-cancelled' ? 'until cancelled' : 'once';
}

async function withAlerts(cmd: Command, fn: (api: AlertsApi) => Promise<void>): Promise<void> {
  const settings = settingsFor(cmd);
  const daemon = connectDaemon(settings);
  if (daemon) return fn(new DaemonAlerts(daemon));
  const store = await openStore(settings.storeUrl());
  try {
    const api = new StoreAlerts(await AlertLog.open(store), (await offlineMarketInfo(store)).instruments, settings);
    await fn(api);
  } finally {
    await store.close();
  }
}

/** Without a daemon: the alerts in the store; a running feed takes changes in within seconds. */
class StoreAlerts implements AlertsApi {
  readonly where = 'store';

  constructor(
    private readonly log: AlertLog,
    private readonly instruments: Instruments,
    private readonly settings: Settings,
  ) {}

  async add(input: AlertInput): Promise<Added> {
    // Alerts have no market event behind them: created now, expiring from now (local clock).
    const now = Date.now();
    const { spec } = alertSpecFrom(input, this.instruments, now);
    const rec = await this.log.add(spec, now);
    // The feed that will deliver it reads the same settings.
    return { alert: this.row(rec.alert.id), warnings: unconfiguredChannelWarnings(rec.alert.notify, notifyConfig(this.settings)) };
  }

  async list(): Promise<AlertRow[]> {
    return this.log.list().map((r) => this.row(r.alert.id));
  }

  async remove(id: string): Promise<AlertRow> {
    const row = this.log.get(id) ? this.row(id) : undefined;
    if (!row || !(await this.log.remove(id, Date.now()))) throw unknownAlert(id);
    return row;
  }

  async test(id: string): Promise<TestResult> {
    const rec = this.log.get(id);
    if (!rec) throw unknownAlert(id);
    const a = rec.alert;
    const now = Date.now();
    const firing: AlertFiring = { id: `${a.id}.test-${now}`, alertId: a.id, n: 0, symbol: a.symbol, condition: a.condition, time: now, message: `${a.symbol} ${a.condition}: test notification`, notify: a.notify, test: true };
    const cfg = notifyConfig(this.settings);
    const sent = await sendNow(firing, cfg);
    const results: TestResult['results'] = [
      // Nothing shows a toast from here: a TUI or daemon of its own would.
      ...(a.notify.includes('tui') ? [{ channel: 'tui', target: 'nothing to show here: a running TUI shows alerts as they fire', ok: true }] : []),
      ...sent.map((r) => ({ channel: r.channel, target: r.target, ok: r.delivery.ok, ...(r.delivery.ok ? {} : { reason: r.delivery.reason }) })),
    ];
    if (results.length === 0) throw new UsageError(`alert ${id} notifies no channel`);
    out.err(`notifications: ${describeNotify(cfg)}`);
    return { id: firing.id, results };
  }

  async history(id: string | undefined, limit: number): Promise<FiringRow[]> {
    if (id !== undefined && !this.log.get(id)) {
      const any = await this.log.history({ alertId: id, limit: 1 });
      if (any.length === 0) throw unknownAlert(id);
    }
    return (await this.log.history({ ...(id !== undefined ? { alertId: id } : {}), limit })).map((f) => firingJson(f) as unknown as FiringRow);
  }

  private row(id: string): AlertRow {
    const r = this.log.get(id)!;
    return alertJson({ record: r, status: alertStatus(r, Date.now()), running: false }) as unknown as AlertRow;
  }
}

function unknownAlert(id: string): UsageError {
  return new UsageError(`no alert "${id}"`, { hint: 'qtrade alert list --all shows the alerts and their ids' });
}

const API = '/api/qtrade/alerts';

/**
 * The daemon's refusals of bad input are usage errors here too (exit 2, as without a daemon): its 404
 * for an unknown id says what the store path says, its 400 (bad symbol, condition, duration) its own words.
 */
async function usage<T>(id: string | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof DaemonRequestError && err.status === 404 && id !== undefined) throw unknownAlert(id);
    if (err instanceof DaemonRequestError && (err.status === 400 || err.status === 404)) throw new UsageError(err.msg, { cause: err });
    throw err;
  }
}

/** Through a running daemon: changes take effect in its engine at once. */
class DaemonAlerts implements AlertsApi {
  readonly where = 'daemon';

  constructor(private readonly client: DaemonClient) {}

  async add(input: AlertInput): Promise<Added> {
    // A condition that does not parse gets the caret here (exit 2), before asking the daemon.
    const bundled = bundledInstruments();
    if (input.symbol.trim() === '*' || bundled.has(input.symbol.trim())) alertSpecFrom(input, bundled, 0);
    // The daemon delivers with its own settings (read at its start), so it says which channels it lacks.
    const { warnings, ...alert } = await usage(undefined, () => this.client.post<AlertRow & { warnings?: unknown }>(API, input));
    return { alert, warnings: Array.isArray(warnings) ? warnings.filter((w): w is string => typeof w === 'string') : [] };
  }

  list(): Promise<AlertRow[]> {
    return this.client.get<AlertRow[]>(API);
  }

  remove(id: string): Promise<AlertRow> {
    return usage(id, () => this.client.delete<AlertRow>(API, { id }));
  }

  test(id: string): Promise<TestResult> {
    return usage(id, () => this.client.post<TestResult>(`${API}/test`, undefined, { id }));
  }

  history(id: string | undefined, limit: number): Promise<FiringRow[]> {
    // With an id, a removed alert's firings too (its history stays), as from the store.
    return usage(id, () => this.client.get<FiringRow[]>(`${API}/history`, { limit, ...(id !== undefined ? { id } : {}) }));
  }
}

import type { Logger } from 'pino';
import { alertJson, firingJson } from '../../engine/alerts/format.js';
import type { AlertInput } from '../../engine/alerts/spec.js';
import type { AlertFiring } from '../../engine/alerts/types.js';
import type { TradingNode } from '../../engine/node.js';
import type { Store } from '../../engine/store/types.js';
import { chatAccount } from '../../notify/chat-account.js';
import { describeNotify, unconfiguredChannelWarnings, type NotifyConfig } from '../../notify/config.js';
import { nodeAlertsWiring, startLiveAlerts, type LiveAlerts } from '../../notify/live-alerts.js';
import { sendNow } from '../../notify/notifier.js';
import { intParam, optionalParam, requiredParam } from '../http.js';
import { ApiError, ApiErrors, type ApiRequest, type DaemonContext, type Route } from '../types.js';

/**
 * Alerts under /api/qtrade/alerts: list, add, remove, history and a test notification. Reading is
 * `read`; adding, removing and testing are `trade` (they change what the daemon sends where).
 */

export interface DaemonAlerts extends LiveAlerts {
  notify: NotifyConfig;
}

/** Starts the daemon's alerts on its node (before the feed starts) with the Telegram chat commands. */
export async function startDaemonAlerts(opts: { node: TradingNode; store: Store; log: Logger; notify: NotifyConfig; wallNow: () => number }): Promise<DaemonAlerts> {
  const { node, log } = opts;
  const late: { service?: LiveAlerts['service'] } = {};
  const alerts = await startLiveAlerts({
    ...nodeAlertsWiring(node),
    store: opts.store,
    notify: opts.notify,
    wallNow: opts.wallNow,
    chat: chatAccount({ trading: node.trading, market: node.market, symbols: () => node.symbols(), alerts: () => late.service, wallNow: opts.wallNow }),
    report: (level, m) => log[level](m),
  });
  const service = (late.service = alerts.service);
  node.bus.subscribe('alert.fired', (f) => log.info({ alert: firingJson(f) }, `alert ${f.id}: ${f.message}`));
  log.info({ alerts: service.list(opts.wallNow()).filter((a) => a.running).length }, `alerts running; notifications: ${describeNotify(opts.notify)}`);
  return { ...alerts, notify: opts.notify };
}

function body(req: ApiRequest): Record<string, unknown> {
  const b = req.json;
  if (b === undefined) throw new ApiError(400, -1102, 'Send a JSON object body (Content-Type: application/json).');
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw ApiErrors.badParam('body', 'expected a JSON object');
  return b as Record<string, unknown>;
}

const FIELDS = ['symbol', 'condition', 'once', 'every', 'untilCancelled', 'expire', 'notify'] as const;

function alertInput(b: Record<string, unknown>): AlertInput {
  for (const k of Object.keys(b)) if (!(FIELDS as readonly string[]).includes(k)) throw ApiErrors.badParam(k, `not a field of an alert (fields: ${FIELDS.join(', ')})`);
  const str = (k: string, required: boolean, max = 500): string | undefined => {
    const v = b[k];
    if (v === undefined || v === null || v === '') {
      if (required) throw ApiErrors.mandatory(k);
      return undefined;
    }
    if (typeof v !== 'string' || v.length > max) throw ApiErrors.badParam(k, `expected a string of at most ${max} characters`);
    return v;
  };
  const bool = (k: string): boolean | undefined => {
    const v = b[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw ApiErrors.badParam(k, 'expected true or false');
    return v;
  };
  const notify = b.notify;
  if (notify !== undefined && notify !== null && typeof notify !== 'string' && !(Array.isArray(notify) && notify.length <= 3 && notify.every((x) => typeof x === 'string'))) {
    throw ApiErrors.badParam('notify', 'expected "tui,webhook,telegram" or a list of those');
  }
  const input: AlertInput = { symbol: str('symbol', true, 20)!, condition: str('condition', true)! };
  const once = bool('once');
  const untilCancelled = bool('untilCancelled');
  const every = str('every', false, 20);
  const expire = str('expire', false, 20);
  if (once !== undefined) input.once = once;
  if (untilCancelled !== undefined) input.untilCancelled = untilCancelled;
  if (every !== undefined) input.every = every;
  if (expire !== undefined) input.expire = expire;
  if (notify !== undefined && notify !== null) input.notify = notify as string | string[];
  return input;
}

export function qtradeAlertRoutes(ctx: DaemonContext): Route[] {
  const alerts = (): DaemonAlerts => {
    const a = ctx.alerts;
    if (!a) throw ApiErrors.unavailable('this daemon runs no alerts');
    return a;
  };
  const known = (id: string) => {
    const v = alerts().service.get(id, ctx.wallNow());
    if (!v) throw new ApiError(404, -1000, `No alert with id "${id}" (GET /api/qtrade/alerts lists them).`);
    return v;
  };
  return [
    {
      method: 'GET',
      path: '/api/qtrade/alerts',
      scope: 'read',
      summary: 'Alerts (id, symbol, condition, mode, status active/done/expired, firings); with ?id= one alert and its last firings',
      params: { id: 'one alert, with its history', limit: 'history length with id (default 20, at most 1000)' },
      handle: async (req) => {
        const id = optionalParam(req, 'id');
        const svc = alerts().service;
        if (id === undefined) return { body: svc.list(ctx.wallNow()).map(alertJson) };
        const v = known(id);
        const history = await svc.history({ alertId: id, limit: intParam(req, 'limit', { min: 1, max: 1000, fallback: 20 })! });
        return { body: { ...alertJson(v), history: history.map(firingJson) } };
      },
    },
    {
      method: 'GET',
      path: '/api/qtrade/alerts/history',
      scope: 'read',
      summary: 'Recent firings of every alert, or of one (also a removed one: its firing history stays), newest last',
      params: { id: 'only this alert\'s firings (404 if it is unknown and never fired)', limit: 'how many (default 50, at most 1000)' },
      handle: async (req) => {
        const id = optionalParam(req, 'id');
        const limit = intParam(req, 'limit', { min: 1, max: 1000, fallback: 50 })!;
        const svc = alerts().service;
        const history = await svc.history({ ...(id !== undefined ? { alertId: id } : {}), limit });
        if (id !== undefined && history.length === 0 && !svc.get(id, ctx.wallNow())) throw new ApiError(404, -1000, `No alert with id "${id}" (GET /api/qtrade/alerts lists them).`);
        return { body: history.map(firingJson) };
      },
    },
    {
      method: 'POST',
      path: '/api/qtrade/alerts',
      scope: 'trade',
      summary:
        'Add an alert (JSON {symbol, condition, once?|every?|untilCancelled?, expire?, notify?}); answers the alert with warnings: [...] naming each of its channels this daemon has no delivery for; a bad condition answers 400 naming the column',
      handle: async (req) => {
        const input = alertInput(body(req));
        const rec = await alerts().service.add(input, ctx.wallNow());
        ctx.log.info({ alert: rec.alert.id, symbol: rec.alert.symbol, condition: rec.alert.condition }, `alert ${rec.alert.id} added`);
        // The daemon reads alerts.* and telegram.* once, at start: a channel it lacks stays lacking until a restart.
        const warnings = unconfiguredChannelWarnings(rec.alert.notify, alerts().notify).map((w) => `${w}, then restart the daemon (it reads these at start)`);
        return { body: { ...alertJson(alerts().service.get(rec.alert.id, ctx.wallNow())!), warnings } };
      },
    },
    {
      method: 'DELETE',
      path: '/api/qtrade/alerts',
      scope: 'trade',
      summary: 'Remove an alert (its firing history stays)',
      params: { id: 'the alert id (required)' },
      handle: async (req) => {
        const id = requiredParam(req, 'id');
        const v = known(id);
        await alerts().service.remove(id, ctx.wallNow());
        ctx.log.info({ alert: id }, `alert ${id} removed`);
        return { body: alertJson(v) };
      },
    },
    {
      method: 'POST',
      path: '/api/qtrade/alerts/test',
      scope: 'trade',
      summary: "Send a test notification of an alert now through its channels (one attempt each, no outbox); the TUI gets it on the bus",
      params: { id: 'the alert id (required)' },
      handle: async (req) => {
        const id = requiredParam(req, 'id');
        const v = known(id);
        const a = v.record.alert;
        const now = ctx.wallNow();
        const firing: AlertFiring = { id: `${a.id}.test-${now}`, alertId: a.id, n: 0, symbol: a.symbol, condition: a.condition, time: now, message: `${a.symbol} ${a.condition}: test notification`, notify: a.notify, test: true };
        if (a.notify.includes('tui')) ctx.node.bus.publish('alert.fired', firing);
        const results = await sendNow(firing, alerts().notify, { wallNow: ctx.wallNow });
        return {
          body: {
            id: firing.id,
            results: [
              ...(a.notify.includes('tui') ? [{ channel: 'tui', target: 'published on the daemon bus (TUIs connected to it show it)', ok: true }] : []),
              ...results.map((r) => ({ channel: r.channel, target: r.target, ok: r.delivery.ok, ...(r.delivery.ok ? {} : { reason: r.delivery.reason }) })),
            ],
          },
        };
      },
    },
  ];
}

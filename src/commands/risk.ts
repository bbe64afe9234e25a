import type { Command } from 'commander';
import type { RiskStatus } from '../engine/risk/engine.js';
import { LIMIT_KEYS, RISK_LIMIT_KEYS, listLimits, type RiskLimits } from '../engine/risk/limits.js';
import { action, out } from './context.js';
import { utcTime } from './format.js';
import { withTrading } from './trading-api.js';
import { cancelJson, orderTable, table } from './trading-output.js';

interface JsonOpt {
  json?: boolean;
}

export function register(program: Command): void {
  const risk = program.command('risk').description('pre-trade risk: limits, and the ACTIVE / REDUCING / HALTED state of paper trading');

  risk
    .command('show')
    .description('the risk state and every limit set')
    .option('--json', 'print {state, reason, since, limits}')
    .action(
      action((opts: JsonOpt, cmd: Command) =>
        withTrading(cmd, { write: false, market: 'offline' }, async (api) => {
          printStatus(await api.risk(), opts.json);
        }),
      ),
    );

  risk
    .command('set <key> <value>')
    .description(`set a limit ("off" removes it): ${RISK_LIMIT_KEYS.map((k) => `${k} (${LIMIT_KEYS[k].unit})`).join(', ')}`)
    .option('--symbol <symbol>', 'for this symbol only (maxPositionQty needs it)')
    .option('--json', 'print the state and limits afterwards')
    .action(
      action((key: string, value: string, opts: JsonOpt & { symbol?: string }, cmd: Command) =>
        withTrading(cmd, { write: true, market: 'offline' }, async (api) => {
          const risk = await api.setLimit(key, value, opts.symbol);
          if (!opts.json) out.err(`${key} ${value.trim().toLowerCase() === 'off' ? 'removed' : 'set'} (${opts.symbol?.toUpperCase() ?? 'global'})`);
          printStatus(risk, opts.json);
        }),
      ),
    );

  risk
    .command('halt')
    .description('HALTED: cancel every open paper order and refuse new ones until `qtrade risk resume`')
    .option('--reason <text>', 'why (shown in rejections)', 'halted by operator')
    .option('--json', 'print {state, reason, since, canceled}')
    .action(
      action((opts: JsonOpt & { reason: string }, cmd: Command) =>
        withTrading(cmd, { write: true, market: 'offline' }, async (api) => {
          const { status: st, canceled } = await api.halt(opts.reason);
          const inst = (s: string) => api.instrument(s);
          if (opts.json) {
            out.json({ ...st, canceled: canceled.map((o) => cancelJson(o, inst(o.symbol))) });
            return;
          }
          out.line(`HALTED: ${st.reason}; canceled ${canceled.length} open order${canceled.length === 1 ? '' : 's'}`);
          if (canceled.length > 0) for (const l of orderTable(canceled, inst)) out.line(l);
        }),
      ),
    );

  risk
    .command('resume')
    .description('back to ACTIVE after a halt or REDUCING')
    .option('--json', 'print {state, reason, since, previous}')
    .action(
      action((opts: JsonOpt, cmd: Command) =>
        withTrading(cmd, { write: true, market: 'offline' }, async (api) => {
          const { status: st, previous } = await api.resume();
          if (opts.json) out.json({ ...st, previous: previous ?? st.state });
          else out.line(previous !== undefined ? `ACTIVE (was ${previous})` : 'ACTIVE (already)');
        }),
      ),
    );
}

function printStatus(risk: { status: RiskStatus; limits: RiskLimits }, json: boolean | undefined): void {
  const st = risk.status;
  const limits = listLimits(risk.limits);
  if (json) {
    out.json({ ...st, limits });
    return;
  }
  out.line(`state: ${st.state}${st.since > 0 ? ` since ${utcTime(st.since)}` : ''} (${st.reason})`);
  if (limits.length === 0) {
    out.line('no limits set (qtrade risk set KEY VALUE [--symbol S])');
    return;
  }
  for (const l of table(['scope', 'limit', 'value'], limits.map((r) => [r.scope, r.key, r.value]))) out.line(l);
}

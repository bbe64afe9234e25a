import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SETTINGS, settingSpec } from '../config/settings.js';
import { UsageError } from '../engine/errors.js';
import { action, out, settingsFor } from './context.js';
import { CREDENTIAL_KEYS, credentialStatus, setCredential } from './credentials.js';

function shown(key: string, value: unknown): string {
  if (value === undefined) return '';
  return SETTINGS.find((s) => s.key === key)?.secret ? '********' : String(value);
}

export function register(program: Command): void {
  const config = program.command('config').description('read and change settings (flags > QTRADE_* env > config file > defaults)');

  config
    .command('get <key>')
    .description('print the effective value of a setting')
    .option('--json', 'print {key, value, source}')
    .option('--venue <venue>', 'for binance.apiKey / binance.apiSecret: testnet (default) or mainnet')
    .action(
      action((key: string, opts: { json?: boolean; venue?: string }, cmd: Command) => {
        if (key in CREDENTIAL_KEYS) {
          const st = credentialStatus(settingsFor(cmd).dataDir, opts.venue);
          if (opts.json) out.json({ key, value: st.set ? '****' : null, source: st.source });
          else out.line(st.set ? '****' : '');
          return;
        }
        settingSpec(key);
        const r = settingsFor(cmd).resolve(key);
        if (opts.json) out.json({ ...r, value: shown(key, r.value) || null });
        else out.line(shown(key, r.value));
      }),
    );

  config
    .command('set <key> [value]')
    .description(
      'store a setting in the config file; binance.apiKey and binance.apiSecret go to credentials.json (mode 0600) instead, ' +
        'never printed (omit the value to read it from stdin)',
    )
    .option('--venue <venue>', 'for binance.apiKey / binance.apiSecret: testnet (default) or mainnet')
    .action(
      action((key: string, value: string | undefined, opts: { venue?: string }, cmd: Command) => {
        const settings = settingsFor(cmd);
        if (key in CREDENTIAL_KEYS) {
          const text = value ?? readFileSync(0, 'utf8').split(/\r?\n/)[0]!.trim();
          const r = setCredential(settings.dataDir, key as keyof typeof CREDENTIAL_KEYS, text, opts.venue);
          out.line(`${key} = ****`);
          out.err(r.note);
          return;
        }
        if (value === undefined) throw new UsageError(`missing value for ${key}`, { hint: `qtrade config set ${key} VALUE` });
        const v = settings.file.set(key, value);
        out.line(`${key} = ${shown(key, v)}`);
      }),
    );

  config
    .command('unset <key>')
    .description('remove a setting from the config file')
    .action(
      action((key: string, _opts: unknown, cmd: Command) => {
        settingsFor(cmd).file.unset(key);
        out.line(`${key} unset`);
      }),
    );

  config
    .command('list')
    .description('every setting with its effective value and where it comes from')
    .option('--json', 'print JSON')
    .action(
      action((opts: { json?: boolean }, cmd: Command) => {
        const all = settingsFor(cmd).all().map((r) => ({ ...r, value: shown(r.key, r.value) }));
        if (opts.json) {
          out.json(all);
          return;
        }
        const w = Math.max(...all.map((r) => r.key.length));
        for (const r of all) out.line(`${r.key.padEnd(w)}  ${(r.value || '-').padEnd(32)}  (${r.source})`);
      }),
    );

  config
    .command('path')
    .description('print the config file path')
    .action(
      action((_opts: unknown, cmd: Command) => {
        out.line(settingsFor(cmd).file.path);
      }),
    );
}

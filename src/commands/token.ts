import type { Command } from 'commander';
import { UsageError } from '../engine/errors.js';
import { parseScope, TokenStore, type TokenRecord } from '../server/tokens.js';
import { action, out, settingsFor } from './context.js';
import { utcTime } from './format.js';
import { table } from './trading-output.js';

interface CreateOptions {
  scope?: string;
  name?: string;
  apiKey?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  const token = program
    .command('token')
    .description("the daemon's users: bearer tokens and Binance-style API key pairs, scoped read < trade < admin");

  token
    .command('create')
    .description('issue a token (or with --api-key an API key + secret pair); it is printed once and never again')
    .option('--scope <scope>', 'read (market data, account), trade (orders) or admin (risk, strategies, shutdown)')
    .option('--name <name>', 'a label for list/revoke (letters, digits, _ . @ -); default <scope>-<n>')
    .option('--api-key', 'issue an X-MBX-APIKEY key and an HMAC secret, for Binance clients (ccxt, connectors, bots)')
    .option('--json', 'print {id, name, scope, kind, createdAt, token} or {..., apiKey, apiSecret}')
    .action(action((opts: CreateOptions, cmd: Command) => create(opts, cmd)));

  token
    .command('list')
    .description('every token: id, name, scope, kind, creation time (never the credentials)')
    .option('--json', 'print an array of {id, name, scope, kind, createdAt}')
    .action(action((opts: { json?: boolean }, cmd: Command) => list(opts, cmd)));

  token
    .command('revoke <idOrName>')
    .description('delete a token by id or name; a running daemon refuses it from the next request on')
    .option('--json', 'print the revoked token as {id, name, scope, kind, createdAt}')
    .action(action((idOrName: string, opts: { json?: boolean }, cmd: Command) => revoke(idOrName, opts, cmd)));
}

function storeFor(cmd: Command): TokenStore {
  return new TokenStore(settingsFor(cmd).dataDir);
}

/** The parts of a record that may be shown: never the hash or a pair's secret. */
function shown(t: TokenRecord): { id: string; name: string; scope: string; kind: string; createdAt: string } {
  return { id: t.id, name: t.name, scope: t.scope, kind: t.kind, createdAt: t.createdAt };
}

function create(opts: CreateOptions, cmd: Command): void {
  if (opts.scope === undefined) throw new UsageError('--scope is required', { hint: 'qtrade token create --scope read|trade|admin' });
  const store = storeFor(cmd);
  const issued = store.create({ scope: parseScope(opts.scope), name: opts.name, apiKey: opts.apiKey === true });
  const { record } = issued;
  if (opts.json) {
    out.json(issued.apiKey !== undefined ? { ...record, apiKey: issued.apiKey, apiSecret: issued.apiSecret } : { ...record, token: issued.token });
    return;
  }
  // The credentials alone on stdout, so `$(qtrade token create ...)` captures them; the notes go to stderr.
  if (issued.apiKey !== undefined) {
    out.line(`API key:    ${issued.apiKey}`);
    out.line(`API secret: ${issued.apiSecret}`);
    out.err(`created ${record.scope} API key pair "${record.name}" (id ${record.id}) in ${store.file}`);
    out.err('store the key and the secret now: they cannot be shown again (send the key as X-MBX-APIKEY and sign with the secret)');
  } else {
    out.line(issued.token!);
    out.err(`created ${record.scope} token "${record.name}" (id ${record.id}) in ${store.file}`);
    out.err('store it now: it cannot be shown again (only its hash is kept); send it as Authorization: Bearer <token>');
  }
}

function list(opts: { json?: boolean }, cmd: Command): void {
  const store = storeFor(cmd);
  const tokens = store.list().map(shown);
  if (opts.json) {
    out.json(tokens);
    return;
  }
  if (tokens.length === 0) {
    out.line(`no tokens in ${store.file}: a daemon serves anyone on loopback, and refuses other addresses`);
    return;
  }
  const rows = tokens.map((t) => [t.id, t.name, t.scope, t.kind, utcTime(Date.parse(t.createdAt))]);
  for (const l of table(['id', 'name', 'scope', 'kind', 'created (UTC)'], rows)) out.line(l);
}

function revoke(idOrName: string, opts: { json?: boolean }, cmd: Command): void {
  const store = storeFor(cmd);
  const removed = store.revoke(idOrName);
  if (removed === undefined) throw new UsageError(`no token has the id or name "${idOrName}"`, { hint: 'see `qtrade token list`' });
  if (opts.json) out.json(shown(removed));
  else out.line(`revoked ${removed.scope} ${removed.kind === 'apiKey' ? 'API key pair' : 'token'} "${removed.name}" (id ${removed.id})`);
}

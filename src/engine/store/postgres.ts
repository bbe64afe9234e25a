import pg from 'pg';
import type { Candle, Interval } from '../candles/types.js';
import { QtradeError, StoreError, UsageError } from '../errors.js';
import type { Instrument } from '../market/types.js';
import { bigText, candleFromRow, checkEventBatch, lastPerKey, queryBounds, seqConflict, toSafeNumber, type CandleRow } from './rows.js';
import type { CandleQuery, EventRecord, Store } from './types.js';

/**
 * PostgreSQL store. Prices, times, ids and counts are BIGINT (safe integers by the Candle
 * contract, read back through Number after a range check); volumes are unconstrained
 * NUMERIC holding the integer raw, so values beyond 2^63 stay exact. Every table lives in
 * one schema (default "qtrade"), which lets tests and several deployments share a database.
 */

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/db, without qtrade's own `schema` parameter. */
  connectionString: string;
  schema?: string;
  /** Rows per INSERT statement inside one upsert transaction. */
  chunkSize?: number;
  /** Pool size. */
  max?: number;
  connectTimeoutMs?: number;
}

export const DEFAULT_PG_SCHEMA = 'qtrade';

/** Migration i upgrades schema version i to i + 1; `s` is the quoted schema name. Append only. */
const MIGRATIONS: Array<(s: string) => string> = [
  (s) => `
    CREATE TABLE ${s}.candles (
      symbol TEXT NOT NULL,
      interval_name TEXT NOT NULL,
      open_time BIGINT NOT NULL,
      close_time BIGINT NOT NULL,
      price_scale SMALLINT NOT NULL,
      qty_scale SMALLINT NOT NULL,
      open BIGINT NOT NULL,
      high BIGINT NOT NULL,
      low BIGINT NOT NULL,
      close BIGINT NOT NULL,
      volume NUMERIC NOT NULL,
      quote_volume NUMERIC NOT NULL,
      trades BIGINT NOT NULL,
      taker_buy_volume NUMERIC NOT NULL,
      taker_buy_quote_volume NUMERIC NOT NULL,
      first_trade_id BIGINT NOT NULL,
      last_trade_id BIGINT NOT NULL,
      closed BOOLEAN NOT NULL,
      PRIMARY KEY (symbol, interval_name, open_time)
    );
    CREATE TABLE ${s}.instruments (
      symbol TEXT NOT NULL PRIMARY KEY,
      base_asset TEXT NOT NULL,
      quote_asset TEXT NOT NULL,
      price_scale SMALLINT NOT NULL,
      qty_scale SMALLINT NOT NULL,
      tick_size TEXT NOT NULL,
      step_size TEXT NOT NULL,
      status TEXT NOT NULL
    );
    CREATE TABLE ${s}.state (
      key TEXT NOT NULL PRIMARY KEY,
      value TEXT NOT NULL
    );`,
  (s) => `
    CREATE TABLE ${s}.events (
      stream TEXT NOT NULL,
      seq BIGINT NOT NULL,
      time BIGINT NOT NULL,
      kind TEXT NOT NULL,
      body TEXT NOT NULL,
      PRIMARY KEY (stream, seq)
    );`,
];

export const PG_SCHEMA_VERSION = MIGRATIONS.length;

const CANDLE_COLS = `symbol, interval_name, open_time, close_time, price_scale, qty_scale, open, high, low, close,
  volume, quote_volume, trades, taker_buy_volume, taker_buy_quote_volume, first_trade_id, last_trade_id, closed`;

/** Where a connection string points, for messages: host:port/db as user, never the password. */
export interface PgTarget {
  host: string;
  port: number;
  database: string;
  user: string | undefined;
  password: string | undefined;
}

export function pgTarget(connectionString: string): PgTarget {
  let u: URL;
  try {
    u = new URL(connectionString);
  } catch {
    throw new UsageError(`store URL ${maskUrl(connectionString)} is not a valid postgres:// URL`, {
      hint: 'expected postgres://user:password@host:5432/database[?schema=name]',
    });
  }
  const hostParam = u.searchParams.get('host');
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || hostParam || 'localhost',
    port: u.port ? Number(u.port) : Number(u.searchParams.get('port') ?? 5432),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || (u.username ? decodeURIComponent(u.username) : 'postgres'),
    user: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
  };
}

/** The URL with its password replaced by ***; also works on strings that are not URLs. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) {
      u.password = '***';
      return u.toString();
    }
    return url;
  } catch {
    return url.replace(/(\/\/[^/:@\s]*:)[^@\s]*@/g, '$1***@');
  }
}

/** Removes every trace of `secret` (raw and URL-encoded) from a message. */
export function scrubSecret(text: string, secret: string | undefined): string {
  if (!secret) return text;
  let out = text;
  for (const s of new Set([secret, encodeURIComponent(secret)])) out = out.split(s).join('***');
  return out;
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);
/** invalid_authorization_specification, invalid_password, invalid_catalog_name, cannot_connect_now, too_many_connections */
const CONNECT_SQLSTATES = new Set(['28000', '28P01', '3D000', '57P03', '53300']);

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly schema: string;
  private readonly q: string;
  private readonly pool: pg.Pool;
  private readonly target: PgTarget;
  private readonly chunkSize: number;
  private ended = false;

  constructor(opts: PostgresStoreOptions) {
    this.schema = opts.schema ?? DEFAULT_PG_SCHEMA;
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(this.schema)) {
      throw new UsageError(`PostgreSQL schema name "${this.schema}" is not allowed`, {
        hint: 'use letters, digits and underscores (at most 63), starting with a letter or underscore',
      });
    }
    this.q = `"${this.schema}"`;
    this.target = pgTarget(opts.connectionString);
    this.chunkSize = Math.max(1, Math.floor(opts.chunkSize ?? 2000));
    this.pool = new pg.Pool({
      connectionString: opts.connectionString,
      max: opts.max ?? 4,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    });
    // An idle client that loses its server emits here; without a listener Node would crash.
    // The next query reconnects or reports the failure through describeError.
    this.pool.on('error', () => {});
  }

  /** host:port/database, for messages. */
  get where(): string {
    return `${this.target.host}:${this.target.port}/${this.target.database}`;
  }

  async migrate(): Promise<void> {
    await this.tx('migrate', async (c) => {
      // Serialises concurrent starts: CREATE SCHEMA IF NOT EXISTS alone races.
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`qtrade.migrate.${this.schema}`]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.q}`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${this.q}.schema_version (version INTEGER NOT NULL)`);
      const r = await c.query<{ version: number }>(`SELECT version FROM ${this.q}.schema_version`);
      let version = r.rows[0]?.version ?? 0;
      if (version > MIGRATIONS.length) {
        throw new StoreError(
          'STORE_SCHEMA',
          `PostgreSQL schema ${this.schema} at ${this.where} has version ${version}, newer than this qtrade understands (${MIGRATIONS.length})`,
          { hint: 'upgrade qtrade, or use another schema with ?schema=NAME' },
        );
      }
      if (r.rows.length === 0) await c.query(`INSERT INTO ${this.q}.schema_version (version) VALUES (0)`);
      for (; version < MIGRATIONS.length; version++) await c.query(MIGRATIONS[version]!(this.q));
      await c.query(`UPDATE ${this.q}.schema_version SET version = $1`, [version]);
    });
  }

  async upsertCandles(candles: readonly Candle[]): Promise<void> {
    if (candles.length === 0) return;
    // ON CONFLICT cannot touch one row twice in a statement, so duplicates collapse first (last wins).
    const list = lastPerKey(candles);
    const sql = `
      INSERT INTO ${this.q}.candles (${CANDLE_COLS})
      SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::smallint[], $6::smallint[],
        $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::numeric[], $12::numeric[], $13::bigint[],
        $14::numeric[], $15::numeric[], $16::bigint[], $17::bigint[], $18::boolean[])
      ON CONFLICT (symbol, interval_name, open_time) DO UPDATE SET
        close_time = EXCLUDED.close_time, price_scale = EXCLUDED.price_scale, qty_scale = EXCLUDED.qty_scale,
        open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
        volume = EXCLUDED.volume, quote_volume = EXCLUDED.quote_volume, trades = EXCLUDED.trades,
        taker_buy_volume = EXCLUDED.taker_buy_volume, taker_buy_quote_volume = EXCLUDED.taker_buy_quote_volume,
        first_trade_id = EXCLUDED.first_trade_id, last_trade_id = EXCLUDED.last_trade_id, closed = EXCLUDED.closed`;
    await this.tx('write candles', async (c) => {
      for (let i = 0; i < list.length; i += this.chunkSize) {
        const chunk = list.slice(i, i + this.chunkSize);
        const cols: unknown[][] = Array.from({ length: 18 }, () => new Array<unknown>(chunk.length));
        for (let j = 0; j < chunk.length; j++) {
          const k = chunk[j]!;
          // Numbers go as their decimal text: a non-integer raw then fails the BIGINT cast loudly.
          const row = [
            k.symbol,
            k.interval,
            String(k.openTime),
            String(k.closeTime),
            String(k.priceScale),
            String(k.qtyScale),
            String(k.open),
            String(k.high),
            String(k.low),
            String(k.close),
            bigText(k.volume, 'volume'),
            bigText(k.quoteVolume, 'quoteVolume'),
            String(k.trades),
            bigText(k.takerBuyVolume, 'takerBuyVolume'),
            bigText(k.takerBuyQuoteVolume, 'takerBuyQuoteVolume'),
            String(k.firstTradeId),
            String(k.lastTradeId),
            k.closed,
          ];
          for (let f = 0; f < 18; f++) cols[f]![j] = row[f];
        }
        await c.query(sql, cols);
      }
    });
  }

  async candles(q: CandleQuery): Promise<Candle[]> {
    const b = queryBounds(q);
    const latest = q.from === undefined && b.limit !== undefined;
    const r = await this.run('read candles', {
      name: latest ? 'qtrade_candles_desc' : 'qtrade_candles_asc',
      text: `SELECT ${CANDLE_COLS} FROM ${this.q}.candles
        WHERE symbol = $1 AND interval_name = $2 AND open_time >= $3 AND open_time <= $4
        ORDER BY open_time ${latest ? 'DESC' : 'ASC'} LIMIT $5`,
      values: [q.symbol, q.interval, b.from, b.to, b.limit ?? null],
    });
    const list = (r.rows as CandleRow[]).map(candleFromRow);
    return latest ? list.reverse() : list;
  }

  async lastCandle(symbol: string, interval: Interval): Promise<Candle | undefined> {
    const r = await this.run('read candles', {
      name: 'qtrade_last_candle',
      text: `SELECT ${CANDLE_COLS} FROM ${this.q}.candles WHERE symbol = $1 AND interval_name = $2 ORDER BY open_time DESC LIMIT 1`,
      values: [symbol, interval],
    });
    const row = r.rows[0] as CandleRow | undefined;
    return row ? candleFromRow(row) : undefined;
  }

  async upsertInstruments(list: readonly Instrument[]): Promise<void> {
    if (list.length === 0) return;
    const bySymbol = new Map(list.map((i) => [i.symbol, i]));
    const items = [...bySymbol.values()];
    await this.tx('write instruments', async (c) => {
      await c.query(
        `INSERT INTO ${this.q}.instruments (symbol, base_asset, quote_asset, price_scale, qty_scale, tick_size, step_size, status)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::smallint[], $5::smallint[], $6::text[], $7::text[], $8::text[])
         ON CONFLICT (symbol) DO UPDATE SET base_asset = EXCLUDED.base_asset, quote_asset = EXCLUDED.quote_asset,
           price_scale = EXCLUDED.price_scale, qty_scale = EXCLUDED.qty_scale, tick_size = EXCLUDED.tick_size,
           step_size = EXCLUDED.step_size, status = EXCLUDED.status`,
        [
          items.map((i) => i.symbol),
          items.map((i) => i.baseAsset),
          items.map((i) => i.quoteAsset),
          items.map((i) => String(i.priceScale)),
          items.map((i) => String(i.qtyScale)),
          items.map((i) => i.tickSize),
          items.map((i) => i.stepSize),
          items.map((i) => i.status),
        ],
      );
    });
  }

  async instruments(): Promise<Instrument[]> {
    const r = await this.run('read instruments', { text: `SELECT * FROM ${this.q}.instruments ORDER BY symbol` });
    return (r.rows as Array<Record<string, unknown>>).map((row) => ({
      symbol: String(row.symbol),
      baseAsset: String(row.base_asset),
      quoteAsset: String(row.quote_asset),
      priceScale: toSafeNumber(row.price_scale, 'price_scale'),
      qtyScale: toSafeNumber(row.qty_scale, 'qty_scale'),
      tickSize: String(row.tick_size),
      stepSize: String(row.step_size),
      status: String(row.status),
    }));
  }

  async getState(key: string): Promise<string | undefined> {
    const r = await this.run('read state', {
      name: 'qtrade_get_state',
      text: `SELECT value FROM ${this.q}.state WHERE key = $1`,
      values: [key],
    });
    const row = r.rows[0] as { value: string } | undefined;
    return row?.value;
  }

  async setState(key: string, value: string): Promise<void> {
    await this.run('write state', {
      name: 'qtrade_set_state',
      text: `INSERT INTO ${this.q}.state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      values: [key, value],
    });
  }

  async appendEvents(stream: string, events: ReadonlyArray<EventRecord>): Promise<void> {
    if (events.length === 0) return;
    checkEventBatch(stream, events);
    const sql = `INSERT INTO ${this.q}.events (stream, seq, time, kind, body)
      SELECT $1, * FROM UNNEST($2::bigint[], $3::bigint[], $4::text[], $5::text[])`;
    await this.tx('append events', async (c) => {
      const r = await c.query<{ last: string | null }>({
        name: 'qtrade_last_seq',
        text: `SELECT MAX(seq) AS last FROM ${this.q}.events WHERE stream = $1`,
        values: [stream],
      });
      const last = r.rows[0]?.last == null ? 0 : toSafeNumber(r.rows[0].last, 'seq');
      if (events[0]!.seq !== last + 1) throw seqConflict(stream, events[0]!.seq, last, this.where);
      try {
        for (let i = 0; i < events.length; i += this.chunkSize) {
          const chunk = events.slice(i, i + this.chunkSize);
          await c.query(sql, [stream, chunk.map((e) => String(e.seq)), chunk.map((e) => String(e.time)), chunk.map((e) => e.kind), chunk.map((e) => e.body)]);
        }
      } catch (err) {
        // Two writers that both read the same last seq: the primary key lets one win and the
        // other fails here (unique_violation) once the winner commits.
        if ((err as { code?: string }).code === '23505') throw seqConflict(stream, events[0]!.seq, undefined, this.where);
        throw err;
      }
    });
  }

  async readEvents(stream: string, fromSeq = 1, limit?: number): Promise<EventRecord[]> {
    const r = await this.run('read events', {
      name: 'qtrade_read_events',
      text: `SELECT seq, time, kind, body FROM ${this.q}.events WHERE stream = $1 AND seq >= $2 ORDER BY seq LIMIT $3`,
      values: [stream, Math.floor(fromSeq), limit === undefined ? null : Math.max(0, Math.floor(limit))],
    });
    return (r.rows as Array<Record<string, unknown>>).map((row) => ({
      seq: toSafeNumber(row.seq, 'seq'),
      time: toSafeNumber(row.time, 'time'),
      kind: String(row.kind),
      body: String(row.body),
    }));
  }

  async lastSeq(stream: string): Promise<number> {
    const r = await this.run('read events', {
      name: 'qtrade_last_seq',
      text: `SELECT MAX(seq) AS last FROM ${this.q}.events WHERE stream = $1`,
      values: [stream],
    });
    const last = (r.rows[0] as { last: unknown } | undefined)?.last;
    return last == null ? 0 : toSafeNumber(last, 'seq');
  }

  /** Drops this store's schema and everything in it (tests, `qtrade store reset`). */
  async dropSchema(): Promise<void> {
    await this.run('drop schema', { text: `DROP SCHEMA IF EXISTS ${this.q} CASCADE` });
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }

  private async run(what: string, query: pg.QueryConfig): Promise<pg.QueryResult> {
    this.checkOpen();
    try {
      return await this.pool.query(query);
    } catch (err) {
      throw this.describeError(what, err);
    }
  }

  private async tx(what: string, fn: (c: pg.PoolClient) => Promise<void>): Promise<void> {
    this.checkOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.describeError(what, err);
    }
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await fn(client);
      await client.query('COMMIT');
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr as Error;
      }
      throw this.describeError(what, err);
    } finally {
      // A client whose ROLLBACK failed is in an unknown state: destroy it rather than reuse it.
      client.release(broken);
    }
  }

  private checkOpen(): void {
    if (this.ended) throw new StoreError('STORE_CLOSED', `PostgreSQL store ${this.where} is closed`);
  }

  /** A StoreError naming host:port (never the password) and what to do about it. */
  describeError(what: string, err: unknown): QtradeError {
    if (err instanceof QtradeError) return err;
    const e = err as Error & { code?: string; errors?: Error[] };
    const reason = scrubSecret(e?.message || e?.errors?.[0]?.message || e?.code || String(err), this.target.password);
    const user = this.target.user ? ` as ${this.target.user}` : '';
    const connectFailure =
      (e?.code !== undefined && (CONNECT_CODES.has(e.code) || CONNECT_SQLSTATES.has(e.code))) ||
      /timeout exceeded when trying to connect|Connection terminated/i.test(e?.message ?? '');
    const leaksSecret =
      this.target.password !== undefined && String(e?.stack ?? '').includes(this.target.password);
    const cause = leaksSecret ? undefined : err;
    if (connectFailure) {
      return new StoreError(
        'STORE_CONNECT',
        `cannot connect to PostgreSQL at ${this.target.host}:${this.target.port} (database ${this.target.database}${user}): ${reason}`,
        {
          hint:
            e?.code === '3D000'
              ? `create the database (createdb ${this.target.database}) or fix the database name in --store`
              : e?.code === '28P01' || e?.code === '28000'
                ? 'check the user and password in --store / QTRADE_STORE'
                : 'check that PostgreSQL is running and reachable there, or use --store sqlite:PATH',
          ...(cause === undefined ? {} : { cause }),
        },
      );
    }
    return new StoreError('STORE_FAILED', `cannot ${what} in PostgreSQL store ${this.where} (schema ${this.schema}): ${reason}`, {
      hint: 'QTRADE_DEBUG=1 shows the cause',
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

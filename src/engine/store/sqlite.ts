import Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Candle, Interval } from '../candles/types.js';
import { QtradeError, StoreError } from '../errors.js';
import type { Instrument } from '../market/types.js';
import { bigText, candleFromRow, checkEventBatch, checkEventColumns, eventRecords, queryBounds, seqConflict, toSafeNumber, type CandleRow } from './rows.js';
import type { CandleQuery, EventColumns, EventRecord, Store } from './types.js';

/**
 * SQLite store (the default): one file in WAL mode, so a reader (the TUI) never blocks the
 * writer (the feed). Tables are STRICT: a non-integer raw is refused by SQLite instead of
 * being stored as a REAL.
 *
 * Value encoding: prices, times, ids, counts and scales are INTEGER (they are safe integers
 * by the Candle contract). Volumes and quote volumes are bigints that can exceed SQLite's
 * 64-bit INTEGER (a week's quote volume at scale 16 easily does), so they are always
 * TEXT holding the raw's decimal digits, never INTEGER "when it fits": one encoding per
 * column keeps reads simple and exact.
 */

type Migration = (db: Database.Database) => void;

/** Index i upgrades schema version i to i + 1. Append only; never edit a shipped one. */
const MIGRATIONS: Migration[] = [
  (db) => {
    db.exec(`
      CREATE TABLE candles (
        symbol TEXT NOT NULL,
        interval_name TEXT NOT NULL,
        open_time INTEGER NOT NULL,
        close_time INTEGER NOT NULL,
        price_scale INTEGER NOT NULL,
        qty_scale INTEGER NOT NULL,
        open INTEGER NOT NULL,
        high INTEGER NOT NULL,
        low INTEGER NOT NULL,
        close INTEGER NOT NULL,
        volume TEXT NOT NULL,
        quote_volume TEXT NOT NULL,
        trades INTEGER NOT NULL,
        taker_buy_volume TEXT NOT NULL,
        taker_buy_quote_volume TEXT NOT NULL,
        first_trade_id INTEGER NOT NULL,
        last_trade_id INTEGER NOT NULL,
        closed INTEGER NOT NULL,
        PRIMARY KEY (symbol, interval_name, open_time)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE instruments (
        symbol TEXT NOT NULL PRIMARY KEY,
        base_asset TEXT NOT NULL,
        quote_asset TEXT NOT NULL,
        price_scale INTEGER NOT NULL,
        qty_scale INTEGER NOT NULL,
        tick_size TEXT NOT NULL,
        step_size TEXT NOT NULL,
        status TEXT NOT NULL
      ) STRICT;
      CREATE TABLE state (
        key TEXT NOT NULL PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `);
  },
  (db) => {
    db.exec(`
      CREATE TABLE events (
        stream TEXT NOT NULL,
        seq INTEGER NOT NULL,
        time INTEGER NOT NULL,
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (stream, seq)
      ) STRICT;
    `);
  },
];

export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

/** Events per multi-row INSERT (5 parameters each, well under SQLite's 32766). */
const EVENT_ROWS = 32;

const CANDLE_SELECT = `SELECT symbol, interval_name, price_scale, qty_scale, open_time, close_time, open, high, low, close,
  volume, quote_volume, trades, taker_buy_volume, taker_buy_quote_volume, first_trade_id, last_trade_id, closed FROM candles`;

interface Statements {
  upsertCandle: Database.Statement;
  candlesAsc: Database.Statement;
  candlesDesc: Database.Statement;
  lastCandle: Database.Statement;
  upsertInstrument: Database.Statement;
  instruments: Database.Statement;
  getState: Database.Statement;
  setState: Database.Statement;
  lastSeq: Database.Statement;
  insertEvent: Database.Statement;
  insertEvents: Database.Statement;
  readEvents: Database.Statement;
}

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's lock before failing (ms). */
  busyTimeoutMs?: number;
  /**
   * SQLite's `synchronous` in WAL mode. NORMAL (default): a commit survives a crash of the
   * process (kill -9) but the last commits can be lost on power failure. FULL: each commit is
   * fsynced, surviving power failure too, at a few hundred commits per second on a disk.
   */
  synchronous?: 'NORMAL' | 'FULL';
  /**
   * Where appendEvents runs. 'inline' (default): on the caller's thread. 'thread': on a worker
   * thread with its own connection to the same file (started at the first append), so a batch's
   * inserts, commit and WAL checkpoints overlap the caller's work on the next batch; the promise
   * still resolves only after the commit. Ignored for ':memory:' (one connection only).
   */
  eventWriter?: 'inline' | 'thread';
  /**
   * Where WAL checkpoints run. 'inline' (default): SQLite's own, inside the commit that takes the
   * WAL past 1,000 pages; that commit then also copies the pages into the database and fsyncs
   * both files, which on a busy log takes 10-30 ms. 'background': a thread with its own connection
   * checkpoints every CHECKPOINT_EVERY_MS without blocking writers, so commits stay sub-millisecond
   * (the daemon, whose orders are acknowledged after their commit). The commits still checkpoint
   * past CHECKPOINT_BOUND_PAGES, which bounds the WAL (it only restarts after a checkpoint that a
   * writer sees complete) and is cheap by then: the thread has copied and synced nearly all of it.
   * Ignored for ':memory:'.
   */
  checkpoints?: 'inline' | 'background';
}

/** How often the checkpoint thread runs a PASSIVE checkpoint (a no-op when nothing was written). */
const CHECKPOINT_EVERY_MS = 25;
/** With background checkpoints, the WAL size (pages) at which a commit still checkpoints itself. */
const CHECKPOINT_BOUND_PAGES = 4000;

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private stmts: Statements | undefined;
  private readonly synchronous: 'NORMAL' | 'FULL';
  private readonly busyTimeoutMs: number;
  private readonly threaded: boolean;
  private writer: EventWriter | undefined;
  private checkpointer: Checkpointer | undefined;
  private readonly autoCheckpoint: number | undefined;
  private appendTx: Database.Transaction<(stream: string, list: ReadonlyArray<EventRecord>) => void> | undefined;

  /** `file` is a path or ':memory:'. The parent directory must exist (openStore creates it). */
  constructor(
    readonly file: string,
    opts: SqliteStoreOptions = {},
  ) {
    this.synchronous = opts.synchronous === 'FULL' ? 'FULL' : 'NORMAL';
    this.busyTimeoutMs = Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000));
    const onDisk = file !== ':memory:' && file !== '';
    this.threaded = opts.eventWriter === 'thread' && onDisk;
    const background = opts.checkpoints === 'background' && onDisk;
    if (background) this.autoCheckpoint = CHECKPOINT_BOUND_PAGES;
    try {
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${this.synchronous}`);
      this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
      if (background) {
        this.db.pragma(`wal_autocheckpoint = ${CHECKPOINT_BOUND_PAGES}`);
        // A checkpoint thread that dies hands checkpoints back to the commits, at SQLite's default.
        this.checkpointer = new Checkpointer(file, CHECKPOINT_EVERY_MS, () => {
          if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
        });
      }
    } catch (err) {
      throw new StoreError('STORE_OPEN', `cannot open SQLite store ${file}: ${(err as Error).message}`, {
        hint: 'check that the directory exists and is writable, or choose another file with --store sqlite:PATH',
        cause: err,
      });
    }
  }

  async migrate(): Promise<void> {
    this.guard('migrate', () => {
      const run = this.db.transaction(() => {
        this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT');
        const row = this.db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
        let version = row?.version ?? 0;
        if (version > MIGRATIONS.length) {
          throw new StoreError(
            'STORE_SCHEMA',
            `store ${this.file} has schema version ${version}, newer than this qtrade understands (${MIGRATIONS.length})`,
            { hint: 'upgrade qtrade, or point --store at another file' },
          );
        }
        if (!row) this.db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
        for (; version < MIGRATIONS.length; version++) MIGRATIONS[version]!(this.db);
        this.db.prepare('UPDATE schema_version SET version = ?').run(version);
      });
      // IMMEDIATE: two processes starting together must not both try to migrate.
      run.immediate();
    });
    this.prepare();
  }

  async upsertCandles(candles: readonly Candle[]): Promise<void> {
    if (candles.length === 0) return;
    const s = this.statements();
    this.guard('write candles', () => {
      this.db.transaction((list: readonly Candle[]) => {
        for (const c of list) {
          s.upsertCandle.run(
            c.symbol,
            c.interval,
            c.openTime,
            c.closeTime,
            c.priceScale,
            c.qtyScale,
            c.open,
            c.high,
            c.low,
            c.close,
            bigText(c.volume, 'volume'),
            bigText(c.quoteVolume, 'quoteVolume'),
            c.trades,
            bigText(c.takerBuyVolume, 'takerBuyVolume'),
            bigText(c.takerBuyQuoteVolume, 'takerBuyQuoteVolume'),
            c.firstTradeId,
            c.lastTradeId,
            c.closed ? 1 : 0,
          );
        }
      })(candles);
    });
  }

  async candles(q: CandleQuery): Promise<Candle[]> {
    const s = this.statements();
    const b = queryBounds(q);
    const params = { symbol: q.symbol, interval: q.interval, from: b.from, to: b.to, limit: b.limit ?? -1 };
    return this.guard('read candles', () => {
      if (q.from === undefined && b.limit !== undefined) {
        return (s.candlesDesc.all(params) as CandleRow[]).map(candleFromRow).reverse();
      }
      return (s.candlesAsc.all(params) as CandleRow[]).map(candleFromRow);
    });
  }

  async lastCandle(symbol: string, interval: Interval): Promise<Candle | undefined> {
    const s = this.statements();
    const row = this.guard('read candles', () => s.lastCandle.get(symbol, interval) as CandleRow | undefined);
    return row ? candleFromRow(row) : undefined;
  }

  async upsertInstruments(list: readonly Instrument[]): Promise<void> {
    if (list.length === 0) return;
    const s = this.statements();
    this.guard('write instruments', () => {
      this.db.transaction((items: readonly Instrument[]) => {
        for (const i of items) {
          s.upsertInstrument.run(i.symbol, i.baseAsset, i.quoteAsset, i.priceScale, i.qtyScale, i.tickSize, i.stepSize, i.status);
        }
      })(list);
    });
  }

  async instruments(): Promise<Instrument[]> {
    const s = this.statements();
    const rows = this.guard('read instruments', () => s.instruments.all() as Array<Record<string, unknown>>);
    return rows.map((r) => ({
      symbol: String(r.symbol),
      baseAsset: String(r.base_asset),
      quoteAsset: String(r.quote_asset),
      priceScale: toSafeNumber(r.price_scale, 'price_scale'),
      qtyScale: toSafeNumber(r.qty_scale, 'qty_scale'),
      tickSize: String(r.tick_size),
      stepSize: String(r.step_size),
      status: String(r.status),
    }));
  }

  async getState(key: string): Promise<string | undefined> {
    const s = this.statements();
    const row = this.guard('read state', () => s.getState.get(key) as { value: string } | undefined);
    return row?.value;
  }

  async setState(key: string, value: string): Promise<void> {
    const s = this.statements();
    this.guard('write state', () => s.setState.run(key, value));
  }

  async appendEvents(stream: string, events: ReadonlyArray<EventRecord>): Promise<void> {
    if (events.length === 0) return;
    this.statements(); // throws before migrate() or after close()
    checkEventBatch(stream, events);
    if (this.threaded) return this.viaWriter(stream, events[0]!.seq, (w) => w.append(stream, events));
    this.guard('append events', () => {
      // Built once: better-sqlite3's transaction() defines four wrappers' properties, which cost
      // more than committing one small batch.
      const run = (this.appendTx ??= this.db.transaction((name: string, list: ReadonlyArray<EventRecord>) => {
        const s = this.statements();
        const last = (s.lastSeq.get(name) as { last: number | null }).last ?? 0;
        if (list[0]!.seq !== last + 1) throw seqConflict(name, list[0]!.seq, last, this.file);
        // Rows go EVENT_ROWS per statement: one native call per row dominated the cost.
        let i = 0;
        const args: Array<string | number> = [];
        for (; i + EVENT_ROWS <= list.length; i += EVENT_ROWS) {
          args.length = 0;
          for (let j = i; j < i + EVENT_ROWS; j++) {
            const e = list[j]!;
            args.push(name, e.seq, e.time, e.kind, e.body);
          }
          s.insertEvents.run(args);
        }
        for (; i < list.length; i++) {
          const e = list[i]!;
          s.insertEvent.run(name, e.seq, e.time, e.kind, e.body);
        }
      }));
      // IMMEDIATE: the write lock is taken before the last seq is read, so another process
      // cannot append between the check and the inserts.
      try {
        run.immediate(stream, events);
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw seqConflict(stream, events[0]!.seq, undefined, this.file);
        throw err;
      }
    });
  }

  /**
   * With the writer thread, the batch's buffers are moved to it (no copy) and the bodies become
   * strings there; inline, it is appendEvents.
   */
  async appendEventColumns(stream: string, cols: EventColumns): Promise<void> {
    if (cols.ends.length === 0) return;
    if (!this.threaded) return this.appendEvents(stream, eventRecords(cols));
    this.statements();
    checkEventColumns(stream, cols);
    return this.viaWriter(stream, cols.first, (w) => w.appendColumns(stream, cols));
  }

  /** Sends one append to the writer thread (started on first use) and maps its answer to an error. */
  private async viaWriter(stream: string, first: number, send: (w: EventWriter) => Promise<WriteFailure | undefined>): Promise<void> {
    if (!this.writer || this.writer.stopped) this.writer = new EventWriter(this.file, this.synchronous, this.busyTimeoutMs, this.autoCheckpoint);
    const r = await send(this.writer);
    if (r === undefined) return;
    if (r.conflict) throw seqConflict(stream, first, r.last, this.file);
    return this.guard('append events', () => {
      throw Object.assign(new Error(r.message), { code: r.code });
    });
  }

  async readEvents(stream: string, fromSeq = 1, limit?: number): Promise<EventRecord[]> {
    const s = this.statements();
    const max = limit === undefined ? -1 : Math.max(0, Math.floor(limit));
    return this.guard('read events', () => s.readEvents.all(stream, Math.floor(fromSeq), max) as EventRecord[]);
  }

  async lastSeq(stream: string): Promise<number> {
    const s = this.statements();
    return this.guard('read events', () => (s.lastSeq.get(stream) as { last: number | null }).last ?? 0);
  }

  async close(): Promise<void> {
    const w = this.writer;
    this.writer = undefined;
    // The writer finishes the appends already sent to it first.
    if (w) await w.close();
    const c = this.checkpointer;
    this.checkpointer = undefined;
    if (c) await c.close();
    if (this.db.open) this.db.close();
  }

  private statements(): Statements {
    if (!this.stmts) {
      throw new StoreError('STORE_NOT_READY', `store ${this.file} used before migrate()`, {
        hint: 'open stores with openStore(url), which migrates them',
      });
    }
    if (!this.db.open) throw new StoreError('STORE_CLOSED', `store ${this.file} is closed`);
    return this.stmts;
  }

  private prepare(): void {
    const db = this.db;
    this.stmts = {
      upsertCandle: db.prepare(`
        INSERT INTO candles (symbol, interval_name, open_time, close_time, price_scale, qty_scale, open, high, low, close,
          volume, quote_volume, trades, taker_buy_volume, taker_buy_quote_volume, first_trade_id, last_trade_id, closed)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (symbol, interval_name, open_time) DO UPDATE SET
          close_time = excluded.close_time, price_scale = excluded.price_scale, qty_scale = excluded.qty_scale,
          open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
          volume = excluded.volume, quote_volume = excluded.quote_volume, trades = excluded.trades,
          taker_buy_volume = excluded.taker_buy_volume, taker_buy_quote_volume = excluded.taker_buy_quote_volume,
          first_trade_id = excluded.first_trade_id, last_trade_id = excluded.last_trade_id, closed = excluded.closed`),
      candlesAsc: db.prepare(`${CANDLE_SELECT}
        WHERE symbol = @symbol AND interval_name = @interval AND open_time >= @from AND open_time <= @to
        ORDER BY open_time ASC LIMIT @limit`),
      candlesDesc: db.prepare(`${CANDLE_SELECT}
        WHERE symbol = @symbol AND interval_name = @interval AND open_time >= @from AND open_time <= @to
        ORDER BY open_time DESC LIMIT @limit`),
      lastCandle: db.prepare(`${CANDLE_SELECT} WHERE symbol = ? AND interval_name = ? ORDER BY open_time DESC LIMIT 1`),
      upsertInstrument: db.prepare(`
        INSERT INTO instruments (symbol, base_asset, quote_asset, price_scale, qty_scale, tick_size, step_size, status)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (symbol) DO UPDATE SET base_asset = excluded.base_asset, quote_asset = excluded.quote_asset,
          price_scale = excluded.price_scale, qty_scale = excluded.qty_scale, tick_size = excluded.tick_size,
          step_size = excluded.step_size, status = excluded.status`),
      instruments: db.prepare('SELECT * FROM instruments ORDER BY symbol'),
      getState: db.prepare('SELECT value FROM state WHERE key = ?'),
      setState: db.prepare('INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      lastSeq: db.prepare('SELECT MAX(seq) AS last FROM events WHERE stream = ?'),
      insertEvent: db.prepare('INSERT INTO events (stream, seq, time, kind, body) VALUES (?, ?, ?, ?, ?)'),
      insertEvents: db.prepare(`INSERT INTO events (stream, seq, time, kind, body) VALUES ${Array(EVENT_ROWS).fill('(?, ?, ?, ?, ?)').join(', ')}`),
      readEvents: db.prepare('SELECT seq, time, kind, body FROM events WHERE stream = ? AND seq >= ? ORDER BY seq LIMIT ?'),
    };
  }

  /** Runs a synchronous database call, turning driver errors into a StoreError naming the file. */
  private guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof QtradeError) throw err;
      const e = err as Error & { code?: string };
      const busy = e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_LOCKED';
      throw new StoreError('STORE_' + (busy ? 'BUSY' : 'FAILED'), `cannot ${what} in SQLite store ${this.file}: ${e.message}`, {
        hint: busy
          ? 'another process holds a write lock on this file; retry, or stop the other qtrade process'
          : 'check disk space and file permissions; QTRADE_DEBUG=1 shows the cause',
        cause: err,
      });
    }
  }
}

/** What the writer thread answers for one append: nothing when committed. */
interface WriteFailure {
  /** The first seq did not continue the stream (the log ends at `last`, or another writer won the race). */
  conflict: boolean;
  last?: number;
  code?: string;
  message: string;
}

/*
 * The writer thread: the same transaction as the inline appendEvents (IMMEDIATE, seq check,
 * EVENT_ROWS rows per INSERT) on its own connection. A batch arrives as columns (the first seq,
 * times, kinds, and the bodies either as strings or as one UTF-8 buffer with row ends, which is
 * moved here rather than copied); the bodies are turned into strings before the write lock is taken.
 */
const WRITER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const ROWS = workerData.rows;
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = ' + workerData.synchronous);
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
if (workerData.autoCheckpoint !== undefined) db.pragma('wal_autocheckpoint = ' + workerData.autoCheckpoint);
const lastSeq = db.prepare('SELECT MAX(seq) AS last FROM events WHERE stream = ?');
const one = db.prepare('INSERT INTO events (stream, seq, time, kind, body) VALUES (?, ?, ?, ?, ?)');
const many = db.prepare('INSERT INTO events (stream, seq, time, kind, body) VALUES ' + Array(ROWS).fill('(?, ?, ?, ?, ?)').join(', '));
class Conflict extends Error {}
function bodiesOf(m) {
  if (m.bodies) return m.bodies;
  const text = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
  const out = new Array(m.ends.length);
  let start = 0;
  for (let i = 0; i < out.length; i++) {
    const end = m.ends[i];
    out[i] = text.toString('utf8', start, end);
    start = end;
  }
  return out;
}
const write = db.transaction((m, bodies) => {
  const last = lastSeq.get(m.stream).last ?? 0;
  if (m.first !== last + 1) throw Object.assign(new Conflict('seq'), { last });
  const n = m.times.length;
  const args = [];
  let i = 0;
  for (; i + ROWS <= n; i += ROWS) {
    args.length = 0;
    for (let j = i; j < i + ROWS; j++) args.push(m.stream, m.first + j, m.times[j], m.kinds[j], bodies[j]);
    many.run(args);
  }
  for (; i < n; i++) one.run(m.stream, m.first + i, m.times[i], m.kinds[i], bodies[i]);
});
parentPort.on('message', (m) => {
  if (m.close) {
    db.close();
    parentPort.postMessage({ closed: true });
    parentPort.close();
    return;
  }
  try {
    write.immediate(m, bodiesOf(m));
    parentPort.postMessage({ id: m.id });
  } catch (err) {
    const conflict = err instanceof Conflict || err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
    parentPort.postMessage({ id: m.id, failure: { conflict, last: err.last, code: err.code, message: String(err.message) } });
  }
});
`;

/** The worker thread that owns a second connection and commits appendEvents batches in order. */
class EventWriter {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: WriteFailure | undefined) => void; reject: (err: unknown) => void }>();
  private nextId = 1;
  private dead: Error | undefined;
  private closing: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  constructor(
    private readonly file: string,
    synchronous: string,
    busyTimeoutMs: number,
    autoCheckpoint: number | undefined,
  ) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WRITER_SOURCE, { eval: true, workerData: { driver, file, synchronous, busyTimeoutMs, autoCheckpoint, rows: EVENT_ROWS } });
    // Only appends waiting for their commit keep the process alive.
    this.worker.unref();
    this.worker.on('message', (m: { id?: number; failure?: WriteFailure }) => {
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) {
        this.worker.unref();
        this.drained?.();
      }
      p.resolve(m.failure);
    });
    const fail = (err: Error): void => {
      this.dead ??= err;
      for (const p of this.pending.values()) p.reject(this.deadError());
      this.pending.clear();
      this.drained?.();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`writer thread exited with code ${code}`)));
  }

  append(stream: string, events: ReadonlyArray<EventRecord>): Promise<WriteFailure | undefined> {
    if (this.dead || this.closing) return Promise.reject(this.deadError());
    const n = events.length;
    const times = new Float64Array(n);
    const kinds = new Array<string>(n);
    const bodies = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const e = events[i]!;
      times[i] = e.time;
      kinds[i] = e.kind;
      bodies[i] = e.body;
    }
    return this.send({ stream, first: events[0]!.seq, times, kinds, bodies }, [times.buffer]);
  }

  /** Moves the columns' buffers to the thread: they are detached here once this returns. */
  appendColumns(stream: string, cols: EventColumns): Promise<WriteFailure | undefined> {
    if (this.dead || this.closing) return Promise.reject(this.deadError());
    const moved = new Set<ArrayBuffer>();
    for (const a of [cols.times, cols.bytes, cols.ends]) if (a.buffer instanceof ArrayBuffer) moved.add(a.buffer);
    return this.send({ stream, first: cols.first, times: cols.times, kinds: cols.kinds, bytes: cols.bytes, ends: cols.ends }, [...moved]);
  }

  private send(msg: object, transfer: ArrayBuffer[]): Promise<WriteFailure | undefined> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...msg }, transfer);
    });
  }

  /** True once the thread died: the store starts a new one for the next append. */
  get stopped(): boolean {
    return this.dead !== undefined;
  }

  /** Lets the appends already sent commit (or fail), then closes the connection and ends the thread. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.pending.size > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      if (this.dead) return;
      this.worker.ref();
      const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
      this.worker.postMessage({ close: true });
      await exited;
    })();
    return this.closing;
  }

  private deadError(): StoreError {
    const why = this.closing ? 'the store is closed' : `its writer thread stopped: ${this.dead?.message ?? 'unknown'}`;
    return new StoreError('STORE_FAILED', `cannot append events in SQLite store ${this.file}: ${why}`, {
      hint: 'reopen the store; QTRADE_DEBUG=1 shows the cause',
      cause: this.dead,
    });
  }
}

/*
 * The checkpoint thread: PASSIVE checkpoints on a connection of its own, on a timer. PASSIVE never
 * waits for or blocks a writer or reader; it copies what it can and leaves the rest for next time.
 */
const CHECKPOINTER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const timer = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), workerData.everyMs);
parentPort.on('message', (m) => {
  if (!m.close) return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** Runs the checkpoint thread; `onStop` is called once if it ends other than by close(). */
class Checkpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private closing = false;

  constructor(file: string, everyMs: number, onStop: () => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(CHECKPOINTER_SOURCE, { eval: true, workerData: { driver, file, everyMs } });
    // It never keeps the process alive; the database is consistent whether or not it ran.
    this.worker.unref();
    // A failed checkpoint (disk error, file removed) ends the thread: the error event and the exit.
    this.worker.on('error', () => {});
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        if (!this.closing) onStop();
        resolve();
      }),
    );
  }

  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.worker.ref();
      this.worker.postMessage({ close: true });
    }
    await this.exited;
  }
}

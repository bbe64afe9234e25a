import pg from 'pg';
import { maskUrl } from '../../src/engine/store/postgres.js';

/** The PostgreSQL the tests use: CI starts it on 127.0.0.1 with trust auth (override with QTRADE_TEST_PG). */
export const PG_URL = process.env.QTRADE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

const RUN = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
let schemaSeq = 0;

/** A schema name no other test (or concurrent test run) uses. */
export function uniqueSchema(prefix: string): string {
  return `${prefix}_${RUN}_${++schemaSeq}`;
}

export async function dropSchemas(names: Iterable<string>): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    for (const s of names) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await c.end();
  }
}

/** CI starts PostgreSQL; when it is down, say so plainly instead of skipping. */
export async function requirePostgres(): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `PostgreSQL at ${maskUrl(PG_URL)} is not reachable (${(err as Error).message || String(err)}): ` +
        'start it (e.g. `pg_ctlcluster 15 main start`) or set QTRADE_TEST_PG to a reachable database',
    );
  } finally {
    await c.end().catch(() => {});
  }
}

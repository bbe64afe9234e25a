import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite.js';
import type { EventColumns, EventRecord } from './types.js';

const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(file?: string): Promise<SqliteStore> {
  if (!file) {
    const d = mkdtempSync(path.join(os.tmpdir(), 'qtrade-writer-'));
    dirs.push(d);
    file = path.join(d, 'q.db');
  }
  const s = new SqliteStore(file, { eventWriter: 'thread', busyTimeoutMs: 2000 });
  stores.push(s);
  await s.migrate();
  return s;
}

const rec = (seq: number, body = `{"n":${seq},"s":"é\\"x"}`): EventRecord => ({ seq, time: 1_700_000_000_000 + seq, kind: seq % 2 ? 'ledger' : 'fill', body });

/** Rows as columns, bodies as UTF-8 in one buffer, the way the order service hands them over. */
function columns(rows: EventRecord[]): EventColumns {
  const parts = rows.map((r) => Buffer.from(r.body, 'utf8'));
  const bytes = new Uint8Array(parts.reduce((n, b) => n + b.length, 0) + 16);
  const ends = new Uint32Array(rows.length);
  let p = 0;
  parts.forEach((b, i) => {
    bytes.set(b, p);
    ends[i] = p += b.length;
  });
  return { first: rows[0]!.seq, times: Float64Array.from(rows.map((r) => r.time)), kinds: rows.map((r) => r.kind), bytes, ends };
}

describe('SqliteStore with the writer thread', () => {
  it('commits batches in order and reads them back verbatim', async () => {
    const s = await open();
    // Batches sent without waiting commit in the order they were sent; sizes cross the multi-row INSERT.
    const a = Array.from({ length: 70 }, (_, i) => rec(i + 1));
    const b = Array.from({ length: 5 }, (_, i) => rec(i + 71, 'x'.repeat(i) + '\u2028ü'));
    await Promise.all([s.appendEvents('paper:t#1', a), s.appendEvents('paper:t#1', b)]);
    expect(await s.lastSeq('paper:t#1')).toBe(75);
    expect(await s.readEvents('paper:t#1')).toEqual([...a, ...b]);
  });

  it('takes batches as columns, moving their buffers to the thread, and refuses one that does not continue the stream', async () => {
    const s = await open();
    const a = Array.from({ length: 70 }, (_, i) => rec(i + 1));
    const b = Array.from({ length: 5 }, (_, i) => rec(i + 71, 'x'.repeat(i) + '\u2028ü€'));
    const ca = columns(a);
    // Mixed with appendEvents: batches commit in the order they were sent, whatever their form.
    await Promise.all([s.appendEventColumns('paper:t#1', ca), s.appendEvents('paper:t#1', b)]);
    expect(ca.bytes.byteLength).toBe(0);
    expect(await s.readEvents('paper:t#1')).toEqual([...a, ...b]);
    await expect(s.appendEventColumns('paper:t#1', columns([rec(75), rec(76)]))).rejects.toMatchObject({ code: 'STORE_SEQ_CONFLICT', message: /log ends at 75/ });
    await expect(s.appendEventColumns('paper:t#1', { ...columns([rec(76)]), kinds: [] })).rejects.toMatchObject({ code: 'STORE_SEQ' });
    expect(await s.lastSeq('paper:t#1')).toBe(75);
    // Inline (no writer thread) the same columns are written as rows.
    const inline = new SqliteStore(':memory:');
    await inline.migrate();
    await inline.appendEventColumns('st', columns(b.map((r, i) => ({ ...r, seq: i + 1 }))));
    expect((await inline.readEvents('st')).map((r) => r.body)).toEqual(b.map((r) => r.body));
    await inline.close();
  });

  it('refuses a batch that does not continue the stream, writing nothing of it', async () => {
    const s = await open();
    await s.appendEvents('st', [rec(1), rec(2)]);
    await expect(s.appendEvents('st', [rec(2), rec(3)])).rejects.toMatchObject({ code: 'STORE_SEQ_CONFLICT' });
    await expect(s.appendEvents('st', [rec(4)])).rejects.toMatchObject({ code: 'STORE_SEQ_CONFLICT', message: /log ends at 2/ });
    await expect(s.appendEvents('st', [rec(3), rec(5)])).rejects.toMatchObject({ code: 'STORE_SEQ' });
    expect(await s.lastSeq('st')).toBe(2);
    // A second store on the same file (another writer) sees the commits and is refused the same seq.
    const other = await open(s.file);
    await expect(other.appendEvents('st', [rec(2)])).rejects.toMatchObject({ code: 'STORE_SEQ_CONFLICT' });
    await other.appendEvents('st', [rec(3)]);
    await expect(s.appendEvents('st', [rec(3)])).rejects.toMatchObject({ code: 'STORE_SEQ_CONFLICT' });
  });

  it('close() lets appends already made commit, then refuses new ones', async () => {
    const s = await open();
    const p = s.appendEvents('st', Array.from({ length: 200 }, (_, i) => rec(i + 1)));
    await s.close();
    await p;
    const again = await open(s.file);
    expect(await again.lastSeq('st')).toBe(200);
    await expect(s.appendEvents('st', [rec(201)])).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });
});

describe('SqliteStore with background checkpoints', () => {
  const dbBytes = (file: string): number => statSync(file).size;

  async function filled(checkpoints: 'inline' | 'background'): Promise<SqliteStore> {
    const d = mkdtempSync(path.join(os.tmpdir(), 'qtrade-ckpt-'));
    dirs.push(d);
    const s = new SqliteStore(path.join(d, 'q.db'), { checkpoints });
    stores.push(s);
    await s.migrate();
    // ~200 KB in 100 commits (~400 WAL pages): below the 1,000 at which a commit checkpoints inline.
    for (let i = 0; i < 100; i++) await s.appendEvents('st', [rec(2 * i + 1, 'x'.repeat(1000)), rec(2 * i + 2, 'y'.repeat(1000))]);
    return s;
  }

  it('copies committed pages into the database file without a commit doing it', async () => {
    const s = await filled('background');
    const deadline = Date.now() + 10_000;
    while (dbBytes(s.file) < 200_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(dbBytes(s.file)).toBeGreaterThan(200_000);
    expect(await s.lastSeq('st')).toBe(200);
    // Commits go on while the thread checkpoints, and close() ends it.
    await s.appendEvents('st', [rec(201)]);
    await s.close();
    const again = new SqliteStore(s.file);
    await again.migrate();
    expect((await again.readEvents('st', 199)).map((r) => r.seq)).toEqual([199, 200, 201]);
    await again.close();
  });

  it('leaves the pages in the WAL until the 1,000-page checkpoint when checkpoints are inline (the control)', async () => {
    const s = await filled('inline');
    await new Promise((r) => setTimeout(r, 300));
    expect(dbBytes(s.file)).toBeLessThan(50_000);
  });
});

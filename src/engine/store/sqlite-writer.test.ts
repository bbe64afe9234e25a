import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite.js';
import type { EventRecord } from './types.js';

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

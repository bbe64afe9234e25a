import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { LockError, acquireAccountLock, lockFile, readLockOwner, type LockOwner } from './lock.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
function dataDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'qtrade-lock-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function procStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function writeLock(dir: string, account: string, o: Partial<LockOwner>): string {
  const file = lockFile(dir, account);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ host: os.hostname(), startedAt: '2024-01-01T00:00:00.000Z', token: 'feedface', ...o }));
  return file;
}

/** A real other process: sleeps until killed. */
async function sleeper(): Promise<ChildProcess> {
  const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  children.push(c);
  await new Promise((r) => c.once('spawn', r));
  return c;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((r) => c.once('exit', r));
  return c.pid!;
}

describe('account writer lock', () => {
  it('creates <dataDir>/locks/<account>.lock with our pid, refuses a second writer, and frees on release', async () => {
    const dir = dataDir();
    const lock = await acquireAccountLock({ dataDir: dir, account: 'default', now: () => Date.UTC(2024, 7, 8) });
    expect(lock.file).toBe(path.join(dir, 'locks', 'default.lock'));
    expect(readLockOwner(lock.file)).toMatchObject({ pid: process.pid, host: os.hostname(), startedAt: '2024-08-08T00:00:00.000Z' });

    const err = await acquireAccountLock({ dataDir: dir, account: 'default' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LockError);
    const e = err as LockError;
    expect(e.code).toBe('LOCK_HELD');
    expect(e.owner?.pid).toBe(process.pid);
    expect(e.message).toContain(`process ${process.pid}`);
    expect(e.hint).toMatch(/kill \d+|another --account/);

    // Other accounts are independent.
    const other = await acquireAccountLock({ dataDir: dir, account: 'alt' });
    other.release();

    lock.release();
    lock.release();
    expect(fs.existsSync(lock.file)).toBe(false);
    const again = await acquireAccountLock({ dataDir: dir, account: 'default' });
    again.release();
  });

  it('refuses while another live process holds it, and takes over once that process is killed', async () => {
    const dir = dataDir();
    const child = await sleeper();
    writeLock(dir, 'default', { pid: child.pid!, procStart: procStart(child.pid!) });
    await expect(acquireAccountLock({ dataDir: dir, account: 'default' })).rejects.toMatchObject({
      code: 'LOCK_HELD',
      owner: { pid: child.pid },
      message: expect.stringContaining(`process ${child.pid}`),
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const lock = await acquireAccountLock({ dataDir: dir, account: 'default' });
    expect(readLockOwner(lock.file)?.pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a stale lock whose pid is gone, or reused by another process', async () => {
    const dir = dataDir();
    writeLock(dir, 'a', { pid: await deadPid() });
    const a = await acquireAccountLock({ dataDir: dir, account: 'a' });
    expect(readLockOwner(a.file)?.pid).toBe(process.pid);
    a.release();

    if (procStart(process.pid) !== undefined) {
      // Our own pid, but a process that started at another time: the pid was reused.
      writeLock(dir, 'b', { pid: process.pid, procStart: '1' });
      const b = await acquireAccountLock({ dataDir: dir, account: 'b' });
      b.release();
    }
  });

  it('lets exactly one of several racing starters take over a stale lock', async () => {
    const dir = dataDir();
    writeLock(dir, 'race', { pid: await deadPid() });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => acquireAccountLock({ dataDir: dir, account: 'race' })));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LockError);
    const lock = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireAccountLock>>>).value;
    expect(readLockOwner(lock.file)?.token).toBe(lock.owner.token);
    lock.release();
  });

  it('never releases a lock that is no longer its own', async () => {
    const dir = dataDir();
    const lock = await acquireAccountLock({ dataDir: dir, account: 'x' });
    // Someone judged it stale and took over (simulated: the file now holds another owner).
    writeLock(dir, 'x', { pid: process.pid, token: 'someone-else' });
    lock.release();
    expect(readLockOwner(lock.file)?.token).toBe('someone-else');
  });

  it('treats a lock from another host as held, and a half-written one as stale only once it is old', async () => {
    const dir = dataDir();
    writeLock(dir, 'h', { pid: 1, host: 'some-other-host' });
    await expect(acquireAccountLock({ dataDir: dir, account: 'h' })).rejects.toMatchObject({
      code: 'LOCK_HELD',
      hint: expect.stringContaining('some-other-host'),
    });

    const file = lockFile(dir, 'p');
    fs.writeFileSync(file, '');
    // 5 s later by the injected clock: the writer died between creating and writing it.
    const lock = await acquireAccountLock({ dataDir: dir, account: 'p', now: () => Date.now() + 5_000 });
    expect(readLockOwner(file)?.pid).toBe(process.pid);
    lock.release();
  });

  it('refuses account names that are not plain file names', () => {
    for (const bad of ['../x', 'a/b', '', '.hidden', 'x'.repeat(65)]) expect(() => lockFile('/tmp', bad), bad).toThrow(UsageError);
  });
});

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { QtradeError, UsageError } from '../errors.js';

/**
 * One writer per paper account: an exclusive lock file `<dataDir>/locks/<account>.lock`, created
 * with O_EXCL and holding the owner's pid, host and start time. A lock whose process is gone
 * (pid not running, or running but started at another time: the pid was reused) is stale and
 * taken over. This is the first line of defence; the event log's seq check (Store.appendEvents)
 * is the second, and the only one between machines sharing a PostgreSQL store.
 */

export interface LockOwner {
  pid: number;
  host: string;
  /** Wall time the lock was taken (ISO 8601), for people reading the error. */
  startedAt: string;
  /** The process's start time in clock ticks since boot (Linux /proc/<pid>/stat field 22), to detect pid reuse. */
  procStart?: string;
  /** Random: tells this lock apart from a later one by the same pid. */
  token: string;
}

/** The account is locked by another live process (or one on another host that cannot be checked). */
export class LockError extends QtradeError {
  constructor(
    message: string,
    readonly file: string,
    readonly owner: LockOwner | undefined,
    hint: string,
  ) {
    super('LOCK_HELD', message, { hint });
  }
}

export interface AccountLock {
  readonly file: string;
  readonly owner: LockOwner;
  /** Removes the lock file if it is still ours; safe to call twice. */
  release(): void;
}

export interface AcquireLockOptions {
  dataDir: string;
  /** Paper account name: letters, digits, `_`, `-`, `.`; at most 64. */
  account: string;
  /** Wall clock for the lock's startedAt and for the age of half-written locks. */
  now?: () => number;
}

/** A half-written lock (created, content not yet written) older than this is stale. */
const PARTIAL_STALE_MS = 2_000;
/** A takeover guard older than this was left by a process that died mid-takeover. */
const GUARD_STALE_MS = 10_000;
const ATTEMPTS = 50;

export function lockFile(dataDir: string, account: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(account)) {
    throw new UsageError(`paper account name "${account}" is not allowed`, {
      hint: 'use letters, digits, "_", "-" and "." (at most 64, not starting with "." or "-")',
    });
  }
  return path.join(dataDir, 'locks', `${account}.lock`);
}

/** Who holds the lock file, or undefined when there is none or it is unreadable. */
export function readLockOwner(file: string): LockOwner | undefined {
  const raw = readText(file);
  return raw === undefined ? undefined : parseOwner(raw);
}

/**
 * Takes the account's writer lock, or throws LockError naming the process that holds it.
 * Stale locks (their process is gone) are removed and taken over.
 */
export async function acquireAccountLock(opts: AcquireLockOptions): Promise<AccountLock> {
  const now = opts.now ?? Date.now;
  const file = lockFile(opts.dataDir, opts.account);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const owner: LockOwner = {
    pid: process.pid,
    host: os.hostname(),
    startedAt: new Date(now()).toISOString(),
    procStart: procStartOf(process.pid),
    token: randomBytes(8).toString('hex'),
  };
  const content = JSON.stringify(owner) + '\n';
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const raw = readText(file);
      if (raw === undefined) continue; // released just now: try again
      const held = parseOwner(raw);
      if (held) {
        const state = liveness(held);
        if (state !== 'dead') throw heldError(opts.account, file, held, state);
      } else if (now() - mtimeOf(file, now()) < PARTIAL_STALE_MS) {
        // Another process created it and is writing its pid: look again shortly (not an attempt).
        attempt--;
        await sleep(10);
        continue;
      }
      await removeStale(file, raw, now);
      continue;
    }
    try {
      fs.writeSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    return handle(file, owner);
  }
  throw new LockError(`could not take the lock ${file}: it kept changing hands`, file, readLockOwner(file), 'retry; if it persists, check which qtrade processes run on this data dir');
}

function handle(file: string, owner: LockOwner): AccountLock {
  let released = false;
  return {
    file,
    owner,
    release() {
      if (released) return;
      released = true;
      if (readLockOwner(file)?.token !== owner.token) return;
      try {
        fs.unlinkSync(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    },
  };
}

/**
 * Deletes a stale lock only if it still holds the content judged stale, under a guard file so
 * that two starters cannot both judge the same stale lock and the second delete the first's
 * fresh one.
 */
async function removeStale(file: string, staleRaw: string, now: () => number): Promise<void> {
  const guard = `${file}.takeover`;
  try {
    fs.closeSync(fs.openSync(guard, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o644));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    if (now() - mtimeOf(guard, now()) > GUARD_STALE_MS) unlinkQuiet(guard);
    await sleep(10);
    return;
  }
  try {
    if (readText(file) === staleRaw) unlinkQuiet(file);
  } finally {
    unlinkQuiet(guard);
  }
}

type Liveness = 'alive' | 'dead' | 'elsewhere';

function liveness(o: LockOwner): Liveness {
  if (o.host !== os.hostname()) return 'elsewhere';
  try {
    process.kill(o.pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return 'dead';
  }
  if (o.procStart !== undefined) {
    const start = procStartOf(o.pid);
    if (start !== undefined && start !== o.procStart) return 'dead';
  }
  return 'alive';
}

function heldError(account: string, file: string, o: LockOwner, state: Liveness): LockError {
  if (state === 'elsewhere') {
    return new LockError(
      `paper account "${account}" is locked by qtrade process ${o.pid} on host ${o.host} (since ${o.startedAt})`,
      file,
      o,
      `stop qtrade on ${o.host}, or use another --account; if that process is surely gone, delete ${file}`,
    );
  }
  return new LockError(
    `paper account "${account}" is already in use by qtrade process ${o.pid} (since ${o.startedAt})`,
    file,
    o,
    `an account has one writer: send orders through that process (e.g. its daemon), stop it (kill ${o.pid}), or use another --account`,
  );
}

function parseOwner(raw: string): LockOwner | undefined {
  try {
    const o = JSON.parse(raw) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && Number.isSafeInteger(o.pid) && o.pid > 0 && typeof o.host === 'string' && typeof o.token === 'string') {
      return { pid: o.pid, host: o.host, startedAt: String(o.startedAt ?? '?'), token: o.token, ...(typeof o.procStart === 'string' ? { procStart: o.procStart } : {}) };
    }
  } catch {
    // half-written or foreign content: undefined
  }
  return undefined;
}

/** Linux: field 22 of /proc/<pid>/stat (start time after boot, in ticks); undefined elsewhere. */
function procStartOf(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) is in parentheses and may itself contain spaces and ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function mtimeOf(file: string, fallback: number): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return fallback;
  }
}

function unlinkQuiet(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

import fs from 'node:fs';
import path from 'node:path';

/**
 * `<dataDir>/daemon.json`: how CLI commands and the TUI find a running daemon. Written after the
 * port is bound, removed on a clean stop; a file whose pid is gone is stale and ignored.
 */
export interface DaemonInfo {
  pid: number;
  url: string;
  host: string;
  port: number;
  startedAt: string;
  version: string;
  /** Market data source: "binance" or "redis:<url without credentials>". */
  source: string;
}

export function daemonFile(dataDir: string): string {
  return path.join(dataDir, 'daemon.json');
}

export function writeDaemonInfo(dataDir: string, info: DaemonInfo): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = daemonFile(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Removes the file if it still names this process. */
export function removeDaemonInfo(dataDir: string, pid = process.pid): void {
  const info = readDaemonFile(dataDir);
  if (info?.pid === pid) fs.rmSync(daemonFile(dataDir), { force: true });
}

/** The running daemon of this data dir; undefined when none (no file, unreadable, or its pid is gone). */
export function findDaemon(dataDir: string): DaemonInfo | undefined {
  const info = readDaemonFile(dataDir);
  return info && pidAlive(info.pid) ? info : undefined;
}

function readDaemonFile(dataDir: string): DaemonInfo | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(daemonFile(dataDir), 'utf8')) as Partial<DaemonInfo>;
    if (typeof v.pid !== 'number' || typeof v.url !== 'string') return undefined;
    return v as DaemonInfo;
  } catch {
    return undefined;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

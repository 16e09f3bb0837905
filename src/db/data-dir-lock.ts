import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The embedded database's data directory is held by another live process. */
export class DataDirLockedError extends Error {
  readonly code = 'DATA_DIR_LOCKED';
  constructor(
    readonly dir: string,
    readonly owner: LockOwner,
  ) {
    super(
      `the embedded database in ${dir} is in use by process ${owner.pid} (${owner.command}, since ${owner.since}). ` +
        'PGlite allows one process at a time: stop that process first, or use its HTTP API while it runs ' +
        '(e.g. POST /v1/clients with a token from `tokenvault dev-token --scope admin`), ' +
        'or share a PostgreSQL database (DATABASE_URL) between processes.',
    );
    this.name = 'DataDirLockedError';
  }
}

export interface LockOwner {
  pid: number;
  command: string;
  since: string;
}

const LOCK_FILE = 'tokenvault.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    return typeof o.pid === 'number'
      ? { pid: o.pid, command: String(o.command ?? 'unknown'), since: String(o.since ?? 'unknown') }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes this process the one owner of an embedded data directory: PGlite is a single-process
 * database, and two processes writing the same files lose writes (an audit row vanished while
 * verify still said ok) and corrupt it. The lock file names the owner's pid; a lock whose pid is
 * gone (a SIGKILL, a crash) is stale and taken over. Returns the release function.
 */
export function lockDataDir(dir: string, command: string): () => void {
  const path = join(dir, LOCK_FILE);
  // Written whole under a private name, then linked into place: link() fails when the lock exists,
  // so of two starting processes exactly one wins, and nobody ever reads a half-written lock.
  const mine = `${path}.${process.pid}`;
  writeFileSync(mine, JSON.stringify({ pid: process.pid, command, since: new Date().toISOString() }), { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(mine, path);
        return () => {
          if (readOwner(path)?.pid === process.pid) rmSync(path, { force: true });
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = readOwner(path);
      if (owner && owner.pid !== process.pid && alive(owner.pid)) throw new DataDirLockedError(dir, owner);
      // Stale: its owner is gone (a SIGKILL, a crash). Remove it and try again.
      rmSync(path, { force: true });
    }
  } finally {
    rmSync(mine, { force: true });
  }
  throw new Error(`could not take the lock ${path}`);
}

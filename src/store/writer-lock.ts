// One writer per data directory. The lock file names its owner (pid, process start time,
// hostname); a lock whose owner is dead, or whose pid now belongs to another process (the start
// time differs), is taken over. Other processes open the store read-only.
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

export interface LockOwner {
  pid: number;
  hostname: string;
  /** Linux: `linux:<start time in clock ticks since boot>`; elsewhere the start time in ms (only for display). */
  startTime: string;
  acquiredAt: string;
  /** Random, so an instance can tell its own lock from another instance's in the same process. */
  token: string;
}

export type LockAttempt =
  | { acquired: true; lock: WriterLock; tookOverFrom?: LockOwner | 'unreadable' }
  | { acquired: false; owner?: LockOwner };

/** A process's start time as the kernel reports it, to tell a live owner from a reused pid. */
export function processStartTime(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `linux:${fields[19]}`;
  } catch {
    return undefined;
  }
}

function ownStartTime(): string {
  return processStartTime('self') ?? String(Math.round(Date.now() - process.uptime() * 1000));
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && typeof o.hostname === 'string' && typeof o.token === 'string') {
      return { pid: o.pid, hostname: o.hostname, startTime: String(o.startTime ?? ''), acquiredAt: String(o.acquiredAt ?? ''), token: o.token };
    }
  } catch {
    // Not JSON: an owner killed while writing its lock file.
  }
  return undefined;
}

/** Whether the process named by a lock may still be running. Unknown (another host) counts as alive. */
export function ownerAlive(owner: LockOwner): boolean {
  if (owner.hostname !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (owner.startTime.startsWith('linux:')) {
    const now = processStartTime(owner.pid);
    if (now !== undefined && now !== owner.startTime) return false;
  }
  return true;
}

/** A lock file that is not even valid JSON is stale once it is older than this (its owner died mid-write). */
const UNREADABLE_GRACE_MS = 10_000;

export class WriterLock {
  private released = false;

  private constructor(readonly path: string, readonly owner: LockOwner) {}

  static tryAcquire(path: string): LockAttempt {
    for (let attempt = 0; attempt < 5; attempt++) {
      const created = WriterLock.createExclusive(path);
      if (created) return { acquired: true, lock: created };
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const owner = parseOwner(text);
      if (owner && ownerAlive(owner)) return { acquired: false, owner };
      if (!owner && !WriterLock.olderThan(path, UNREADABLE_GRACE_MS)) return { acquired: false };
      if (!WriterLock.removeStale(path, text)) continue;
      const taken = WriterLock.createExclusive(path);
      if (taken) return { acquired: true, lock: taken, tookOverFrom: owner ?? 'unreadable' };
    }
    return { acquired: false };
  }

  /** Reads the lock file: false when another process has replaced it (we must stop writing). */
  stillOwned(): boolean {
    return !this.released && this.fileIsOurs();
  }

  /** Deletes the lock file, unless another process has taken it over meanwhile. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (!this.fileIsOurs()) return;
    try {
      unlinkSync(this.path);
    } catch {
      // Gone already.
    }
  }

  private fileIsOurs(): boolean {
    try {
      return parseOwner(readFileSync(this.path, 'utf8'))?.token === this.owner.token;
    } catch {
      return false;
    }
  }

  private static createExclusive(path: string): WriterLock | undefined {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw err;
    }
    const owner: LockOwner = {
      pid: process.pid,
      hostname: hostname(),
      startTime: ownStartTime(),
      acquiredAt: new Date().toISOString(),
      token: randomBytes(8).toString('hex'),
    };
    try {
      writeSync(fd, JSON.stringify(owner));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return new WriterLock(path, owner);
  }

  /**
   * Moves a stale lock away by rename (only one contender's rename succeeds), then checks that
   * what was moved is still the stale lock: if a contender had meanwhile taken the lock, put
   * its file back (link fails if yet another lock exists) and report failure.
   */
  private static removeStale(path: string, staleText: string): boolean {
    const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      renameSync(path, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    const moved = readFileSync(aside, 'utf8');
    if (moved !== staleText) {
      try {
        linkSync(aside, path);
      } catch {
        // Someone holds the path again; their lock stands.
      }
      unlinkSync(aside);
      return false;
    }
    unlinkSync(aside);
    return true;
  }

  private static olderThan(path: string, ms: number): boolean {
    try {
      return Date.now() - statSync(path).mtimeMs > ms;
    } catch {
      return true;
    }
  }
}

/**
 * Removes a lock this very process holds, left by a thread that died without releasing it (the
 * capture engine's worker, ended by an uncaught error). Only the one who knows that thread is gone
 * may call this: a live owner in the same process looks exactly the same. Returns whether it did.
 */
export function reclaimOwnProcessLock(path: string): boolean {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return false;
  }
  const owner = parseOwner(text);
  if (!owner || owner.pid !== process.pid || owner.hostname !== hostname() || owner.startTime !== ownStartTime()) return false;
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

// The snapshot file: loading and checking it, writing it atomically, and setting a broken one
// aside. A snapshot is only ever replaced by rename, so a reader (or a crash) sees either the
// old file or the new one, never a torn one.
import { promises as fsp, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { SqlDatabase } from './sqlite';

export async function readFileIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await fsp.readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * What the writer wrote as the snapshot: its size and CRC-32, in a file beside it
 * (`capture.sqlite.sum`). Bytes that match are exactly what SQLite serialized from a consistent
 * database, so they need no quick_check (docs/decisions.md, decision 51). The two files are not
 * replaced together: a sum that does not match (a crash between them, a reader between them, a
 * damaged file) only means the full check runs, never that a file is set aside.
 */
export interface SnapshotSum {
  size: number;
  crc32: number;
}

export function snapshotSumPath(snapshotPath: string): string {
  return `${snapshotPath}.sum`;
}

export function sumOf(bytes: Uint8Array): SnapshotSum {
  return { size: bytes.length, crc32: crc32(bytes) };
}

/** The recorded sum, or undefined if it is missing or unreadable (then the full check runs). */
export async function readSnapshotSum(snapshotPath: string): Promise<SnapshotSum | undefined> {
  try {
    const parsed = JSON.parse(await fsp.readFile(snapshotSumPath(snapshotPath), 'utf8')) as Partial<SnapshotSum>;
    return Number.isSafeInteger(parsed.size) && Number.isSafeInteger(parsed.crc32) ? { size: parsed.size!, crc32: parsed.crc32! } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes the snapshot atomically, then its sum. The sum is only a shortcut for the next open, so a
 * sum that cannot be written is reported through `warn`, never thrown.
 */
export async function writeSnapshot(path: string, bytes: Uint8Array, warn: (message: string) => void, beforeRename?: () => void): Promise<void> {
  await writeFileAtomic(path, bytes, beforeRename);
  try {
    await writeFileAtomic(snapshotSumPath(path), Buffer.from(`${JSON.stringify(sumOf(bytes))}\n`), beforeRename);
  } catch (err) {
    warn(`the snapshot's checksum was not written (the next open checks the whole file): ${(err as Error).message}`);
  }
}

export interface CheckedDatabase {
  db: SqlDatabase;
  /** How the bytes were found sound: their recorded sum matched, or SQLite's quick_check passed. */
  checkedBy: 'sum' | 'quick_check';
}

/**
 * Opens snapshot bytes as a database and checks them: sql.js accepts any bytes until the first
 * query, and a truncated file only fails when the missing pages are read, so quick_check walks
 * every b-tree page once (about 0.1 s for 5,000 calls' index). Bytes that match the sum the writer
 * recorded skip it: a CRC-32 of the same bytes takes a few milliseconds.
 */
export async function openCheckedDatabase(wasmPath: string | undefined, bytes: Uint8Array, sum?: SnapshotSum): Promise<CheckedDatabase> {
  const db = await SqlDatabase.create(wasmPath, bytes);
  if (sum && sum.size === bytes.length && sum.crc32 === crc32(bytes)) return { db, checkedBy: 'sum' };
  try {
    const rows = db.all('PRAGMA quick_check');
    const result = rows.map((r) => String(Object.values(r)[0])).join('; ');
    if (result !== 'ok') throw new Error(`quick_check: ${result.slice(0, 300)}`);
    return { db, checkedBy: 'quick_check' };
  } catch (err) {
    db.close();
    throw err;
  }
}

export async function fsyncDirectory(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    // Windows cannot open or sync a directory; the rename is still atomic there.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EACCES') throw err;
  } finally {
    await handle?.close();
  }
}

/**
 * Temp file, write, fsync, rename over the target, fsync the directory (so the rename itself is
 * durable). `beforeRename` may throw to abandon the write at the last moment (lost writer lock).
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, beforeRename?: () => void): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const handle = await fsp.open(tmp, 'w', 0o600);
  try {
    let offset = 0;
    // Bounded slices keep each thread-pool write short.
    const slice = 8 * 1024 * 1024;
    while (offset < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, offset, Math.min(slice, bytes.length - offset));
      offset += bytesWritten;
    }
    await handle.sync();
    beforeRename?.();
  } catch (err) {
    await handle.close();
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  await fsp.rename(tmp, path);
  await fsyncDirectory(dirname(path));
}

/** A file name suffix that sorts by time and is safe on every file system. */
export function timestampSuffix(now = new Date()): string {
  return now.toISOString().replace(/[:.]/g, '-');
}

/**
 * Moves a file that failed to load out of the way, so nothing is ever saved over it.
 * Returns the new path. Synchronous, so no write can slip in between the decision and the rename.
 */
export function setAside(path: string, reason: string, now = new Date()): string {
  const target = join(dirname(path), `${basename(path)}.broken-${timestampSuffix(now)}-${reason}`);
  renameSync(path, target);
  return target;
}

/** Deletes temp files that a crash left behind in the middle of an atomic write. */
export async function removeStaleTemps(dir: string, baseNames: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await fsp.readdir(dir)) {
    if (baseNames.some((b) => name.startsWith(`${b}.tmp-`))) {
      await fsp.rm(join(dir, name), { force: true });
      removed.push(name);
    }
  }
  return removed;
}

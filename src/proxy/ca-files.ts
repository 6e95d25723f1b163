// The file side of the CA: writes that are atomic and never more readable than asked, a lock so
// that two VS Code windows sharing global storage cannot interleave a key of one with the
// certificate of the other, and a place to keep a replaced CA instead of deleting it.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Writes `data` to a temp file that is created with `mode` (so a private key is never readable
 * by others, not even half-written), flushes it, and renames it over `path`.
 */
export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(data);
    // The umask may have narrowed 0644 at creation; chmod sets exactly the mode we asked for.
    await handle.chmod(mode);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  await rename(tmp, path);
}

/** The file's text, or undefined when it does not exist; any other failure names the file. */
export async function readIfExists(path: string, what: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw new Error(`cannot read the ${what} ${path}: ${errorMessage(err)}`, { cause: err });
  }
}

export interface LockOptions {
  /** A lock file older than this is left over from a crashed process and is taken over. */
  staleMs?: number;
  /** Give up waiting for another process after this long. */
  waitMs?: number;
}

/** Runs `fn` while holding an exclusive lock file (created with O_EXCL, removed afterwards). */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const { staleMs = 30_000, waitMs = 20_000 } = options;
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw err;
      const since = await stat(lockPath).then((s) => Date.now() - s.mtimeMs, () => undefined);
      if (since !== undefined && since > staleMs) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`another process holds ${lockPath}; delete it if no LLM Capture is starting`);
      }
      await delay(25 + Math.random() * 50);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}

/**
 * Moves the given files (those that exist) into a new `dataDir/old/<timestamp>/` and returns
 * that folder: a replaced CA may still be trusted somewhere, so it is kept, never deleted.
 */
export async function moveAside(dataDir: string, paths: readonly string[], now = new Date()): Promise<string> {
  const parent = join(dataDir, 'old');
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  let dir = join(parent, stamp);
  for (let n = 1; ; n++) {
    try {
      await mkdir(dir, { mode: 0o700 });
      break;
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw err;
      dir = join(parent, `${stamp}-${n}`);
    }
  }
  for (const path of paths) {
    await rename(path, join(dir, basename(path))).catch((err: unknown) => {
      if (errorCode(err) !== 'ENOENT') throw err;
    });
  }
  return dir;
}

export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

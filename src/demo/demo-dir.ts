// The demo's own data directory. Every run starts its store afresh, so the directory must be one
// the demo made: a marker file says so. A directory without it is adopted only when it is missing
// or empty; one holding captures or anything else (the user's own store, given by mistake) is
// refused rather than cleared.
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { clearCaptureFiles, hasCaptureFiles } from '../app/capture-files';
import { WriterLock } from '../store/writer-lock';

export const DEMO_MARKER = 'demo.json';

export class DemoDirError extends Error {}

/** True when the directory was made by the demo (it holds the marker file). */
export function isDemoDir(dataDir: string): boolean {
  return existsSync(join(dataDir, DEMO_MARKER));
}

/**
 * Makes `dataDir` ready for a demo run: created if missing, marked as the demo's, and emptied of
 * the previous run's captures (the CA files stay, so a second run is quicker). Throws
 * DemoDirError for a directory the demo did not make that is not empty, or one a running proxy writes to.
 */
export async function prepareDemoDir(dataDir: string): Promise<void> {
  await fsp.mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (!isDemoDir(dataDir)) {
    if (await hasCaptureFiles(dataDir)) {
      throw new DemoDirError(`${dataDir} holds captured data that the demo did not make; it will not clear it (give the demo another directory)`);
    }
    if ((await fsp.readdir(dataDir)).length > 0) {
      throw new DemoDirError(`${dataDir} is not empty and was not made by the demo; give the demo a new or empty directory`);
    }
  }
  // Held while the files go, so that no proxy or other demo starts writing there meanwhile.
  const attempt = WriterLock.tryAcquire(join(dataDir, 'writer.lock'));
  if (!attempt.acquired) {
    const who = attempt.owner ? `process ${attempt.owner.pid}` : 'another process';
    throw new DemoDirError(`${dataDir} is in use by ${who} (a proxy or another demo); stop it first`);
  }
  try {
    await clearCaptureFiles(dataDir);
    if (!isDemoDir(dataDir)) {
      const marker = { createdBy: 'llm-capture demo', createdAt: new Date().toISOString(), note: 'Scratch data of the LLM Capture demo: each run deletes these captures and records new ones.' };
      await fsp.writeFile(join(dataDir, DEMO_MARKER), `${JSON.stringify(marker, null, 2)}\n`, { mode: 0o600 });
    }
  } finally {
    attempt.lock.release();
  }
}

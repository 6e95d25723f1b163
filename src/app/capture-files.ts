// The captured data in a data directory, as files: what "Clear Captured Data" removes. The CA
// (ca.pem, ca-key.pem, ca-bundle.pem) stays, so terminals keep trusting the same certificate.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';

const CAPTURE_FILE = /^capture\.(sqlite|journal)(\..*)?$/;
/** Directories of captured data: the sessions derived from the exchanges (segments are capture.sqlite.* files). */
const CAPTURE_DIRS = ['derived'];

/** True when the name is one of the store's files (snapshot, journal, their temporaries and set-aside copies). */
export function isCaptureFile(name: string): boolean {
  return CAPTURE_FILE.test(name);
}

/** Deletes the store's files. Only while no store is open on the directory. Returns the names removed. */
export async function clearCaptureFiles(dataDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dataDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const removed = names.filter((name) => isCaptureFile(name) || CAPTURE_DIRS.includes(name));
  for (const name of removed) await fsp.rm(join(dataDir, name), { force: true, recursive: true });
  return removed;
}

/** True when something has been captured in the directory. */
export async function hasCaptureFiles(dataDir: string): Promise<boolean> {
  try {
    return (await fsp.readdir(dataDir)).some(isCaptureFile);
  } catch {
    return false;
  }
}

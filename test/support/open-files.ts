// Which files this process has open, for tests that a file is closed (its space freed) when it should be.
import { readdirSync, readlinkSync } from 'node:fs';

/** Files under `dir` this process has open (removed ones too, marked " (deleted)"), from /proc/self/fd. */
export function openFilesIn(dir: string): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(dir) ? [target] : [];
    } catch {
      // Closed between the listing and the read.
      return [];
    }
  });
}

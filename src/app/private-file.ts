// Exports hold prompts, answers and tool output, so they are written like the store itself:
// readable by the owner only (0600), or stricter when the user's umask asks for it.
// The file is written beside its target under a temporary name created with mode 0600 (the
// kernel applies the umask on creation), then renamed over the target: an export that fails
// half-way leaves the old file, and re-exporting over an old 0644 file leaves a 0600 one.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Writes `data` to `path` with mode 0600 (narrowed by the umask), replacing the file atomically. */
export async function writePrivateFile(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fsp.open(temporary, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(temporary, path);
  } catch (e) {
    await fsp.rm(temporary, { force: true });
    throw e;
  }
}

// `llm-capture proxy` leaves a note of its port in the data directory, so that
// `llm-capture env` in another shell can print the variables without being told the port.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RunningProxyNote {
  pid: number;
  port: number;
  proxyUrl: string;
  startedAt: string;
}

const NAME = 'proxy.json';

export function writeNote(dataDir: string, note: RunningProxyNote): void {
  // The proxy URL may carry the auth token, so only the owner may read it.
  writeFileSync(join(dataDir, NAME), JSON.stringify(note, null, 2) + '\n', { mode: 0o600 });
}

export function removeNote(dataDir: string, pid: number): void {
  const note = readNote(dataDir);
  if (note?.pid === pid) rmSync(join(dataDir, NAME), { force: true });
}

/** The note of a proxy that is still running, or undefined. */
export function readNote(dataDir: string): RunningProxyNote | undefined {
  let note: RunningProxyNote;
  try {
    note = JSON.parse(readFileSync(join(dataDir, NAME), 'utf8')) as RunningProxyNote;
  } catch {
    return undefined;
  }
  try {
    process.kill(note.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
  }
  return note;
}

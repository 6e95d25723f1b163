// How far the live export has sent, kept beside the store (`otlp-export.json` in the data
// directory, written by the capture's writer only): every span that became complete at or before
// `sentUpTo` has been accepted by the collector at `key` (its traces URL). Written atomically
// after each accepted request, so a restart, a crash or an outage resumes where it stopped: what
// was not sent yet is sent, once. (A crash between the collector's answer and this write sends
// that one request again; span ids are stable, so a backend sees the same spans.)
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const CURSOR_FILE = 'otlp-export.json';

interface CursorFile {
  version: 1;
  cursors: Record<string, { sentUpTo: number; updatedAt: string }>;
}

export class ExportCursor {
  private file: CursorFile;

  constructor(private readonly dataDir: string, private readonly key: string) {
    this.file = readCursorFile(join(dataDir, CURSOR_FILE));
  }

  /** Where sending resumes: a new endpoint starts from `fresh` (now), not from the whole history. */
  sentUpTo(fresh: number): number {
    return this.file.cursors[this.key]?.sentUpTo ?? fresh;
  }

  /** Records that everything complete at or before `at` was accepted. */
  advance(at: number): void {
    this.file = { ...this.file, cursors: { ...this.file.cursors, [this.key]: { sentUpTo: at, updatedAt: new Date().toISOString() } } };
    const path = join(this.dataDir, CURSOR_FILE);
    const temp = `${path}.${process.pid}.tmp`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(this.file, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  }
}

function readCursorFile(path: string): CursorFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { version: 1, cursors: {} };
  }
  try {
    const parsed = JSON.parse(text) as Partial<CursorFile>;
    if (parsed.version === 1 && parsed.cursors && typeof parsed.cursors === 'object') return { version: 1, cursors: parsed.cursors };
  } catch {
    // A damaged file: start afresh from now rather than resend the whole history.
  }
  return { version: 1, cursors: {} };
}

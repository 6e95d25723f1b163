// The engine's TextSpill (docs/decisions.md, decision 83): the large texts of the sessions it
// assembles, appended to one file in the data directory and read back by offset. The file is
// removed from the directory as soon as it is open, so it takes its space only while the engine
// runs and is gone however the engine ends (a kill -9 included). Writes and reads go through two
// fixed buffers: a buffer allocated per text made the C allocator keep megabytes it had freed
// (decision 81).
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readdirSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { TextSpill } from '../conversation';

const PREFIX = '.text-spill-';
/** UTF-16 units encoded per write: 3 bytes each at most in UTF-8, so a slice fits the buffer. */
const SLICE_UNITS = 64 * 1024;
const BUFFER_BYTES = 3 * SLICE_UNITS;

/** String.prototype.isWellFormed (ES2024, in every Node this runs on; our lib is ES2022). */
function wellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

export interface TextSpillStats {
  texts: number;
  /** Bytes in the file. */
  bytes: number;
  reads: number;
}

export interface FileTextSpillOptions {
  /** Told why texts stay in memory (no file, a failed write). */
  log?: (message: string) => void;
  /** See TextSpill.minChars. */
  minChars?: number;
}

export class FileTextSpill implements TextSpill {
  readonly minChars: number | undefined;
  private readonly log: (message: string) => void;
  private fd: number | undefined;
  private position = 0;
  /** False after a write failed: texts spilled before stay readable, later ones stay in memory. */
  private writable = true;
  private readonly writeBuffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private readonly readBuffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private readonly counts = { texts: 0, reads: 0 };

  /**
   * A spill file in `dir`; undefined (texts then stay in memory) when it cannot be made, with
   * the reason given to `log`. Files left by an engine that could not remove its own are removed.
   */
  static open(dir: string, options: FileTextSpillOptions = {}): FileTextSpill | undefined {
    try {
      for (const name of readdirSync(dir)) {
        if (!name.startsWith(PREFIX)) continue;
        try {
          unlinkSync(join(dir, name));
        } catch {
          // Another engine's, still open where the system keeps open files.
        }
      }
      const path = join(dir, `${PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
      const fd = openSync(path, 'wx+', 0o600);
      let kept: string | undefined;
      try {
        unlinkSync(path);
      } catch {
        kept = path;
      }
      return new FileTextSpill(fd, options, kept);
    } catch (error) {
      options.log?.(`long texts of the sessions stay in memory: no spill file in ${dir} (${(error as Error).message})`);
      return undefined;
    }
  }

  /** Over an open file descriptor (tests); `path`, when given, is removed on close. */
  constructor(fd: number, options: FileTextSpillOptions = {}, private readonly path?: string) {
    this.fd = fd;
    this.log = options.log ?? (() => undefined);
    this.minChars = options.minChars;
  }

  get stats(): TextSpillStats {
    return { ...this.counts, bytes: this.position };
  }

  put(text: string): (() => string) | undefined {
    if (this.fd === undefined || !this.writable) return undefined;
    // UTF-8 cannot carry a lone surrogate (JSON can): such a text is kept as UTF-16, exactly.
    const encoding = wellFormed(text) ? 'utf8' : 'utf16le';
    const start = this.position;
    let end = start;
    try {
      for (let i = 0; i < text.length;) {
        let j = Math.min(text.length, i + SLICE_UNITS);
        // Never between the two halves of a pair: each half alone would be written as U+FFFD.
        const last = text.charCodeAt(j - 1);
        if (j < text.length && last >= 0xd800 && last <= 0xdbff) j--;
        const n = this.writeBuffer.write(text.slice(i, j), 0, encoding);
        for (let done = 0; done < n;) done += writeSync(this.fd, this.writeBuffer, done, n - done, end + done);
        end += n;
        i = j;
      }
    } catch (error) {
      // A full disk: this text and the ones after it stay in memory; nothing is lost.
      this.log(`long texts of the sessions stay in memory from now on: the spill file could not be written (${(error as Error).message})`);
      this.writable = false;
      return undefined;
    }
    this.position = end;
    this.counts.texts++;
    const bytes = end - start;
    return () => this.read(start, bytes, encoding);
  }

  private read(start: number, bytes: number, encoding: 'utf8' | 'utf16le'): string {
    if (this.fd === undefined) throw new Error('the text spill file is closed: this view was made before the capture it shows was cleared or closed');
    this.counts.reads++;
    const buffer = bytes <= this.readBuffer.length ? this.readBuffer : Buffer.allocUnsafe(bytes);
    for (let done = 0; done < bytes;) {
      const n = readSync(this.fd, buffer, done, bytes - done, start + done);
      if (n === 0) throw new Error(`the text spill file ends at ${start + done} bytes, before the text at ${start} (${bytes} bytes) ends`);
      done += n;
    }
    return buffer.toString(encoding, 0, bytes);
  }

  /** Closes the file (its space is freed); texts spilled into it can no longer be read. */
  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    closeSync(fd);
    if (this.path !== undefined) {
      try {
        unlinkSync(this.path);
      } catch {
        // Gone already, or removed at the next open (see open).
      }
    }
  }
}

// The engine's TextSpill (docs/decisions.md, decision 83): the large texts of the sessions it
// assembles, appended to one file in the data directory and read back by offset. The file is
// removed from the directory as soon as it is open, so it takes its space only while the engine
// runs and is gone however the engine ends (a kill -9 included). Writes and reads go through two
// fixed buffers: a buffer allocated per text made the C allocator keep megabytes it had freed
// (decision 81). Once most of the file is texts nothing can read any more, the texts still read are
// copied into a new file a few megabytes at a time and the old one is closed (decision 87).
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
  /** Bytes in the spill's open files (the disk it takes). */
  bytes: number;
  /** Bytes of the texts something can still read. */
  liveBytes: number;
  reads: number;
  /** Compactions finished. */
  compactions: number;
}

export interface FileTextSpillOptions {
  /** Told why texts stay in memory (no file, a failed write). */
  log?: (message: string) => void;
  /** See TextSpill.minChars. */
  minChars?: number;
  /** A file this large, with no more than half of it still read, is compacted (default 64 MiB). */
  compactAtBytes?: number;
  /** Bytes a compaction copies before it yields to the thread's other work (default 4 MiB). */
  compactStepBytes?: number;
  /** Where a compaction's new file comes from (tests); `open` makes one in its directory. */
  nextFile?: () => { fd: number; path?: string };
}

/** One open file of the spill; `end` is where the next text goes. */
interface SpillFile {
  fd: number;
  end: number;
  /** Removed on close (a file that could not be removed when it was made). */
  path?: string;
}

/** Where one text is: it moves when a compaction copies it. */
interface SpilledText {
  file: SpillFile;
  at: number;
  bytes: number;
  encoding: 'utf8' | 'utf16le';
}

interface Compaction {
  from: SpillFile;
  /** The texts still in `from`, in file order; `next` is the first not yet looked at. */
  queue: SpilledText[];
  next: number;
  timer?: NodeJS.Timeout;
}

const COMPACT_AT_BYTES = 64 * 1024 * 1024;
const COMPACT_STEP_BYTES = 4 * 1024 * 1024;

export class FileTextSpill implements TextSpill {
  readonly minChars: number | undefined;
  private readonly log: (message: string) => void;
  private current: SpillFile | undefined;
  /** Every file still open: the current one, and the one a compaction is emptying. */
  private readonly files = new Set<SpillFile>();
  private closed = false;
  /** False after a write failed: texts spilled before stay readable, later ones stay in memory. */
  private writable = true;
  private readonly writeBuffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private readonly readBuffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private readonly counts = { texts: 0, reads: 0, compactions: 0 };
  /**
   * The texts whose reader is still reachable. A reader dropped by everything that held it (a
   * session set aside, a view gone) is collected, and its text leaves this set.
   */
  private readonly live = new Set<SpilledText>();
  private liveBytes = 0;
  private readonly unreachable = new FinalizationRegistry<SpilledText>((text) => {
    if (this.live.delete(text)) this.liveBytes -= text.bytes;
  });
  private compaction: Compaction | undefined;
  private readonly compactAtBytes: number;
  private readonly compactStepBytes: number;
  private nextFile: FileTextSpillOptions['nextFile'];

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
      const { fd, path } = makeFile(dir);
      return new FileTextSpill(fd, { nextFile: () => makeFile(dir), ...options }, path);
    } catch (error) {
      options.log?.(`long texts of the sessions stay in memory: no spill file in ${dir} (${(error as Error).message})`);
      return undefined;
    }
  }

  /** Over an open file descriptor (tests); `path`, when given, is removed on close. Without `nextFile`, it is never compacted. */
  constructor(fd: number, options: FileTextSpillOptions = {}, path?: string) {
    this.current = { fd, end: 0, ...(path !== undefined ? { path } : {}) };
    this.files.add(this.current);
    this.log = options.log ?? (() => undefined);
    this.minChars = options.minChars;
    this.compactAtBytes = options.compactAtBytes ?? COMPACT_AT_BYTES;
    this.compactStepBytes = options.compactStepBytes ?? COMPACT_STEP_BYTES;
    this.nextFile = options.nextFile;
  }

  get stats(): TextSpillStats {
    let bytes = 0;
    for (const file of this.files) bytes += file.end;
    return { ...this.counts, bytes, liveBytes: this.liveBytes };
  }

  put(text: string): (() => string) | undefined {
    const file = this.current;
    if (this.closed || !file || !this.writable) return undefined;
    // UTF-8 cannot carry a lone surrogate (JSON can): such a text is kept as UTF-16, exactly.
    const encoding = wellFormed(text) ? 'utf8' : 'utf16le';
    const start = file.end;
    let end = start;
    try {
      for (let i = 0; i < text.length;) {
        let j = Math.min(text.length, i + SLICE_UNITS);
        // Never between the two halves of a pair: each half alone would be written as U+FFFD.
        const last = text.charCodeAt(j - 1);
        if (j < text.length && last >= 0xd800 && last <= 0xdbff) j--;
        const n = this.writeBuffer.write(text.slice(i, j), 0, encoding);
        writeAll(file.fd, this.writeBuffer, n, end);
        end += n;
        i = j;
      }
    } catch (error) {
      this.stopWriting(error);
      return undefined;
    }
    file.end = end;
    this.counts.texts++;
    const spilled: SpilledText = { file, at: start, bytes: end - start, encoding };
    const read = () => this.read(spilled);
    this.live.add(spilled);
    this.liveBytes += spilled.bytes;
    this.unreachable.register(read, spilled);
    this.compactIfWorthIt();
    return read;
  }

  private read(text: SpilledText): string {
    if (this.closed) throw new Error('the text spill file is closed: this view was made before the capture it shows was cleared or closed');
    this.counts.reads++;
    const buffer = text.bytes <= this.readBuffer.length ? this.readBuffer : Buffer.allocUnsafe(text.bytes);
    readAll(text.file.fd, buffer, text.bytes, text.at);
    return buffer.toString(text.encoding, 0, text.bytes);
  }

  /** A full disk: this text and the ones after it stay in memory; nothing is lost. */
  private stopWriting(error: unknown): void {
    this.log(`long texts of the sessions stay in memory from now on: the spill file could not be written (${(error as Error).message})`);
    this.writable = false;
  }

  /**
   * Starts a compaction when the file is large and at most half of it is still read: the texts
   * that are move to a new file, which new texts go to from now on, and the old file is closed.
   */
  private compactIfWorthIt(): void {
    const from = this.current;
    if (this.compaction || !from || !this.nextFile || from.end < this.compactAtBytes || this.liveBytes * 2 > from.end) return;
    let next: { fd: number; path?: string };
    try {
      next = this.nextFile();
    } catch (error) {
      this.log(`the text spill file is not compacted from now on: no new file could be made (${(error as Error).message})`);
      this.nextFile = undefined;
      return;
    }
    const queue = [...this.live].filter((t) => t.file === from).sort((a, b) => a.at - b.at);
    this.current = { ...next, end: 0 };
    this.files.add(this.current);
    this.compaction = { from, queue, next: 0 };
    this.scheduleStep();
  }

  private scheduleStep(): void {
    const c = this.compaction;
    if (!c) return;
    // Unreferenced: a compaction under way keeps no process alive (the CLI's proxy ends at once).
    c.timer = setTimeout(() => this.step(), 0).unref();
  }

  /** Copies up to a step's bytes of texts into the current file; closes the old file once it holds none. */
  private step(): void {
    const c = this.compaction;
    const to = this.current;
    if (!c || !to || this.closed) return;
    let copied = 0;
    try {
      while (c.next < c.queue.length && copied < this.compactStepBytes) {
        const text = c.queue[c.next++];
        if (!this.live.has(text)) continue;
        this.copy(text, to);
        copied += text.bytes;
      }
    } catch (error) {
      // The texts not moved stay readable where they are (the old file stays open); the new file
      // may be the one that failed, so later texts stay in memory.
      this.compaction = undefined;
      this.log(`long texts of the sessions stay in memory from now on: the spill file could not be compacted (${(error as Error).message})`);
      this.writable = false;
      return;
    }
    if (c.next < c.queue.length) return this.scheduleStep();
    this.compaction = undefined;
    this.files.delete(c.from);
    closeFile(c.from);
    this.counts.compactions++;
  }

  /** Moves one text to the end of `to`, a buffer's worth at a time. */
  private copy(text: SpilledText, to: SpillFile): void {
    const at = to.end;
    for (let done = 0; done < text.bytes;) {
      const n = Math.min(this.readBuffer.length, text.bytes - done);
      readAll(text.file.fd, this.readBuffer, n, text.at + done);
      writeAll(to.fd, this.readBuffer, n, at + done);
      done += n;
    }
    to.end = at + text.bytes;
    text.file = to;
    text.at = at;
  }

  /** Closes the files (their space is freed); texts spilled into them can no longer be read. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.compaction?.timer) clearTimeout(this.compaction.timer);
    this.compaction = undefined;
    this.current = undefined;
    for (const file of this.files) closeFile(file);
    this.files.clear();
    this.live.clear();
    this.liveBytes = 0;
  }
}

/** A new file in `dir`, removed from the directory at once (`path`: where it is, when it could not be). */
function makeFile(dir: string): { fd: number; path?: string } {
  const path = join(dir, `${PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  const fd = openSync(path, 'wx+', 0o600);
  try {
    unlinkSync(path);
    return { fd };
  } catch {
    return { fd, path };
  }
}

function closeFile(file: SpillFile): void {
  try {
    closeSync(file.fd);
  } catch {
    // Closed already: nothing more to free.
  }
  if (file.path === undefined) return;
  try {
    unlinkSync(file.path);
  } catch {
    // Gone already, or removed at the next open (see open).
  }
}

function writeAll(fd: number, buffer: Buffer, bytes: number, position: number): void {
  for (let done = 0; done < bytes;) done += writeSync(fd, buffer, done, bytes - done, position + done);
}

function readAll(fd: number, buffer: Buffer, bytes: number, position: number): void {
  for (let done = 0; done < bytes;) {
    const n = readSync(fd, buffer, done, bytes - done, position + done);
    if (n === 0) throw new Error(`the text spill file ends at ${position + done} bytes, before the text at ${position} (${bytes} bytes) ends`);
    done += n;
  }
}

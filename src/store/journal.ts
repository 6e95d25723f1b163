// The append-only journal: every change since the last snapshot, as framed, checksummed records.
// It carries durability between snapshots: records reach the OS within `flushIntervalMs` (a
// SIGKILL then loses nothing) and the disk by an fsync that follows each write.
//
// File: header = magic "LLMCJNL1" | database id (16 bytes) | base LSN (u64 LE)
//       record = length (u32 LE, of lsn+payload) | crc32 (u32 LE, of lsn+payload) | lsn (u64 LE) | payload
// Records carry consecutive LSNs; the snapshot stores the last LSN it contains, so replay skips
// what the snapshot already has, and a crash between "snapshot renamed" and "journal replaced"
// cannot apply anything twice.
import { closeSync, fstatSync, fsync, fsyncSync, ftruncateSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { fsyncDirectory } from './database-file';

const MAGIC = Buffer.from('LLMCJNL1');
export const HEADER_SIZE = 32;
const RECORD_HEADER = 16;

export interface JournalHeader {
  dbId: string;
  baseLsn: number;
}

export interface JournalRecord {
  lsn: number;
  payload: Buffer;
  /** Offset just after this record, in the buffer it was parsed from. */
  end: number;
}

export interface ParsedJournal {
  records: JournalRecord[];
  /** Offset just after the last good record. */
  validEnd: number;
  /** 'torn': an incomplete last record (normal after a crash); 'corrupt': a bad record with data after it. */
  problem?: 'torn' | 'corrupt';
}

function uuidToBytes(id: string): Buffer {
  const hex = id.replace(/-/g, '');
  return /^[0-9a-f]{32}$/i.test(hex) ? Buffer.from(hex, 'hex') : Buffer.alloc(16);
}

function bytesToUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function encodeHeader(header: JournalHeader): Buffer {
  const b = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(b, 0);
  uuidToBytes(header.dbId).copy(b, 8);
  b.writeBigUInt64LE(BigInt(header.baseLsn), 24);
  return b;
}

export function decodeHeader(b: Buffer): JournalHeader | undefined {
  if (b.length < HEADER_SIZE || !b.subarray(0, 8).equals(MAGIC)) return undefined;
  return { dbId: bytesToUuid(b.subarray(8, 24)), baseLsn: Number(b.readBigUInt64LE(24)) };
}

export function encodeRecord(lsn: number, payload: Buffer): Buffer {
  const b = Buffer.allocUnsafe(RECORD_HEADER + payload.length);
  b.writeUInt32LE(8 + payload.length, 0);
  b.writeBigUInt64LE(BigInt(lsn), 8);
  payload.copy(b, RECORD_HEADER);
  b.writeUInt32LE(crc32(b.subarray(8)), 4);
  return b;
}

function allZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Parses records from `buf` starting at `offset`, stopping at the first bad or incomplete one. */
export function parseRecords(buf: Buffer, offset: number): ParsedJournal {
  const records: JournalRecord[] = [];
  let pos = offset;
  while (pos < buf.length) {
    const rest = buf.length - pos;
    if (rest < RECORD_HEADER) return { records, validEnd: pos, problem: 'torn' };
    const length = buf.readUInt32LE(pos);
    const end = pos + 8 + length;
    if (length < 8 || end > buf.length || crc32(buf.subarray(pos + 8, end)) !== buf.readUInt32LE(pos + 4)) {
      // An incomplete write at the end (or zeros that a file system left after a power cut) is
      // a torn tail, normal after a crash; a bad record with data after it is damage.
      // A length that runs past the end is a torn tail only if no intact record follows: damage that
      // hits a length field makes it run past the end too (docs/decisions.md, decision 79).
      const torn = end > buf.length ? !intactRecordAfter(buf, pos + 1, records.at(-1)?.lsn) : allZero(buf.subarray(length < 8 ? pos : end));
      return { records, validEnd: pos, problem: torn ? 'torn' : 'corrupt' };
    }
    records.push({ lsn: Number(buf.readBigUInt64LE(pos + 8)), payload: buf.subarray(pos + RECORD_HEADER, end), end });
    pos = end;
  }
  return { records, validEnd: pos };
}

/** LSNs after a damaged record that count as the journal going on (a damaged stretch may hold many records). */
const RESYNC_LSN_SPAN = 1_000_000;

/**
 * Whether an intact record starts anywhere from `from`: its length fits, its LSN follows `lastLsn`
 * (or is any positive LSN when none was read) and its crc matches. The LSN is checked before the
 * crc, so random bytes almost never cost a crc.
 */
function intactRecordAfter(buf: Buffer, from: number, lastLsn: number | undefined): boolean {
  for (let p = from; p + RECORD_HEADER <= buf.length; p++) {
    const length = buf.readUInt32LE(p);
    if (length < 8 || p + 8 + length > buf.length) continue;
    const lsn = Number(buf.readBigUInt64LE(p + 8));
    if (lastLsn !== undefined ? lsn <= lastLsn || lsn > lastLsn + RESYNC_LSN_SPAN : lsn < 1 || lsn > Number.MAX_SAFE_INTEGER) continue;
    if (crc32(buf.subarray(p + 8, p + 8 + length)) === buf.readUInt32LE(p + 4)) return true;
  }
  return false;
}

function readAll(fd: number, from: number): Buffer {
  const size = fstatSync(fd).size;
  if (size <= from) return Buffer.alloc(0);
  const buf = Buffer.allocUnsafe(size - from);
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, from + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/** Creates a journal with only a header, atomically (temp file, fsync, rename). */
export async function createJournalFile(path: string, header: JournalHeader): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, encodeHeader(header));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  await fsyncDirectory(dirname(path));
}

/** A read-only descriptor, or undefined when the file does not exist. */
function openIfExists(path: string): number | undefined {
  try {
    return openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Reads a whole journal file: header (undefined when unreadable) and its good records. */
export function readJournalFile(path: string): { header?: JournalHeader; parsed: ParsedJournal; size: number } | undefined {
  const fd = openIfExists(path);
  if (fd === undefined) return undefined;
  try {
    const buf = readAll(fd, 0);
    const header = decodeHeader(buf);
    if (!header) return { parsed: { records: [], validEnd: 0, problem: buf.length < HEADER_SIZE && allZero(buf) ? 'torn' : 'corrupt' }, size: buf.length };
    return { header, parsed: parseRecords(buf, HEADER_SIZE), size: buf.length };
  } finally {
    closeSync(fd);
  }
}

export interface JournalWriterOptions {
  /** How long appended records may wait before they are written and fsync'd. */
  flushIntervalMs: number;
  onError: (err: Error) => void;
  /** Runs before every fsync of the journal: what its records refer to (segment files) is made durable first. */
  beforeSync?: () => Promise<void>;
}

/** The writer's handle on the journal: batched appends, coalesced fsyncs, rotation after a snapshot. */
export class JournalWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private unsynced = false;
  private syncing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Records appended since a snapshot export began (they go into the next journal). */
  private collecting: Buffer[] | undefined;
  private fileSize: number;
  private closed = false;

  private constructor(private fd: number, private readonly path: string, private readonly dbId: string, private readonly options: JournalWriterOptions) {
    this.fileSize = fstatSync(fd).size;
  }

  /** Opens an existing journal for appending, cutting off anything after `validEnd` (a torn tail). */
  static open(path: string, dbId: string, validEnd: number, options: JournalWriterOptions): JournalWriter {
    const fd = openSync(path, 'r+');
    if (fstatSync(fd).size !== validEnd) {
      ftruncateSync(fd, validEnd);
      fsyncSync(fd);
    }
    return new JournalWriter(fd, path, dbId, options);
  }

  /** Bytes in the journal, written or not: the trigger for an early snapshot. */
  get size(): number {
    return this.fileSize + this.pendingBytes;
  }

  append(lsn: number, payload: Buffer): void {
    if (this.closed) throw new Error('journal is closed');
    const record = encodeRecord(lsn, payload);
    this.pending.push(record);
    this.pendingBytes += record.length;
    this.collecting?.push(record);
    if (this.pendingBytes >= 4 * 1024 * 1024) this.writePending();
    else if (!this.timer) this.timer = setTimeout(() => this.tick(), this.options.flushIntervalMs);
  }

  /** Resolves when every record appended before the call is on disk. */
  async flush(): Promise<void> {
    this.writePending();
    while (this.syncing) await this.syncing;
    if (this.unsynced) await this.startSync();
  }

  /** From now on, keep a copy of appended records: they belong in the journal that follows the snapshot being written. */
  beginSnapshot(): void {
    this.collecting = [];
  }

  abortSnapshot(): void {
    this.collecting = undefined;
  }

  /**
   * Replaces the journal by one that starts at `baseLsn` (the snapshot just made durable holds
   * everything up to it) and holds the records appended since the snapshot's export.
   */
  async rotate(baseLsn: number): Promise<void> {
    const collected = this.collecting ?? [];
    this.writePending();
    const tmp = `${this.path}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w', 0o600);
    let fileSize = 0;
    try {
      const written = collected.length;
      const first = Buffer.concat([encodeHeader({ dbId: this.dbId, baseLsn }), ...collected.slice(0, written)]);
      writeSync(fd, first);
      fileSize = first.length;
      await this.options.beforeSync?.();
      await new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
      if (this.closed) throw new Error('journal closed during rotation');
      // Records appended while the fsync ran go into the new file too (the next tick fsyncs them).
      const late = collected.slice(written);
      if (late.length > 0) {
        const rest = Buffer.concat(late);
        writeSync(fd, rest);
        fileSize += rest.length;
      }
      renameSync(tmp, this.path);
    } catch (err) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      this.collecting = undefined;
      throw err;
    }
    // Everything pending is in `collected` too, so it is in the new file already.
    this.pending = [];
    this.pendingBytes = 0;
    const old = this.fd;
    this.fd = fd;
    this.fileSize = fileSize;
    this.collecting = undefined;
    this.unsynced = true;
    closeSync(old);
    if (!this.timer) this.timer = setTimeout(() => this.tick(), this.options.flushIntervalMs);
    await fsyncDirectory(dirname(this.path));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    closeSync(this.fd);
  }

  /** Stops without flushing (for a writer that lost its lock). */
  abandon(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    try {
      closeSync(this.fd);
    } catch {
      // Already closed.
    }
  }

  private tick(): void {
    this.timer = undefined;
    try {
      this.writePending();
      if (this.unsynced && !this.syncing) void this.startSync().catch((err: Error) => this.options.onError(err));
    } catch (err) {
      this.options.onError(err as Error);
    }
  }

  /** Hands buffered records to the OS now (before a long synchronous step, so a kill during it loses nothing). */
  writeNow(): void {
    this.writePending();
  }

  private writePending(): void {
    if (this.pending.length === 0) return;
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off, data.length - off, this.fileSize + off);
    this.fileSize += data.length;
    this.pending = [];
    this.pendingBytes = 0;
    this.unsynced = true;
    if (!this.timer && !this.closed) this.timer = setTimeout(() => this.tick(), this.options.flushIntervalMs);
  }

  private startSync(): Promise<void> {
    this.unsynced = false;
    const fd = this.fd;
    const before = this.options.beforeSync?.() ?? Promise.resolve();
    // A rotation meanwhile closed this descriptor; the new file is fsync'd on its own.
    const p = before.then(() => this.fd !== fd ? undefined : new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve()))));
    this.syncing = p.finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }
}

/** A reader's handle on the journal: reads what was appended since last time, notices replacement. */
export class JournalFollower {
  private offset = HEADER_SIZE;

  private constructor(private readonly fd: number, private readonly ino: number, readonly header: JournalHeader) {}

  static open(path: string): JournalFollower | undefined {
    const fd = openIfExists(path);
    if (fd === undefined) return undefined;
    const head = Buffer.alloc(HEADER_SIZE);
    const n = readSync(fd, head, 0, HEADER_SIZE, 0);
    const header = n === HEADER_SIZE ? decodeHeader(head) : undefined;
    if (!header) {
      closeSync(fd);
      return undefined;
    }
    return new JournalFollower(fd, fstatSync(fd).ino, header);
  }

  /** Good records appended since the last call (a torn or half-written tail is left for next time). */
  readNew(): ParsedJournal {
    const buf = readAll(this.fd, this.offset);
    const parsed = parseRecords(buf, 0);
    this.offset += parsed.validEnd;
    return parsed;
  }

  /** True when the path now names another file (the writer rotated it after a snapshot). */
  replaced(path: string): boolean {
    try {
      return statSync(path).ino !== this.ino;
    } catch {
      return true;
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

// The writer's side of the segment files: appends chunk records to the current segment, rolls to
// a new file at ~64 MiB, and fsyncs them (and the directory entries of new files) before the
// journal that refers to them is fsync'd.
//
// A writer never appends to a segment it did not create: after a restart it starts a new file, so
// a torn tail left by a crash is never written over, and no other process's bytes move.
import { closeSync, fsync, openSync, rmSync, writeSync, writevSync } from 'node:fs';
import { fsyncDirectory } from './database-file';
import { encodeSegmentHeader, encodeSegmentRecordHeader, SEGMENT_HEADER_SIZE, SEGMENT_RECORD_HEADER, segmentPath, type ChunkLocation } from './segment-format';

interface OpenSegment {
  segment: number;
  fd: number;
  /** Bytes handed to the OS so far. */
  written: number;
}

const fsyncFd = (fd: number) => new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));

/** Buffers per writev: Linux takes at most 1024 (IOV_MAX), and libuv writes no more than that in one call. */
const WRITEV_MAX = 1024;

/** Writes every buffer, in order, at `position`: writev, resumed where a short write stopped. */
function writeAll(fd: number, buffers: Uint8Array[], position: number): void {
  let rest = buffers;
  while (rest.length > 0) {
    let written = writevSync(fd, rest.length > WRITEV_MAX ? rest.slice(0, WRITEV_MAX) : rest, position);
    if (written === 0 && rest.some((b) => b.length > 0)) throw new Error('the segment file took no bytes');
    position += written;
    let i = 0;
    while (i < rest.length && written >= rest[i].length) written -= rest[i++].length;
    rest = rest.slice(i);
    if (written > 0) rest[0] = rest[0].subarray(written);
  }
}

export class SegmentWriter {
  private current?: OpenSegment;
  /** Each reserved record as its header and its data, in order. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Descriptors with writes not yet fsync'd; sealed ones are closed after their fsync. */
  private readonly unsynced = new Map<number, { fd: number; sealed: boolean }>();
  private dirDirty = false;
  /** Segments this writer created, and those of them that hold bytes of a committed operation. */
  private readonly created = new Set<number>();
  private readonly used = new Set<number>();
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** The first write that failed: close() reports it, as the journal does for its own writes. */
  private failure?: Error;

  constructor(readonly dir: string, private readonly dbId: string, private nextSegment: number, private readonly rollBytes: number) {}

  /** The segment being appended to (never compacted or deleted), if one was started. */
  get currentSegment(): number | undefined {
    return this.current?.segment;
  }

  /** Reserves the place of a chunk record; the bytes reach the OS at the next writePending (before the journal record). */
  append(data: Buffer): ChunkLocation {
    if (this.closed) throw new Error('segment writer is closed');
    const size = SEGMENT_RECORD_HEADER + data.length;
    let cur = this.current;
    if (!cur || (cur.written + this.pendingBytes > SEGMENT_HEADER_SIZE && cur.written + this.pendingBytes + size > this.rollBytes)) cur = this.roll();
    const offset = cur.written + this.pendingBytes;
    // `data` is kept as it is until writePending (before this operation is journaled): callers never change it.
    this.pending.push(encodeSegmentRecordHeader(data), data);
    this.pendingBytes += size;
    return { segment: cur.segment, offset, storedSize: data.length };
  }

  /**
   * Hands reserved records to the OS (a SIGKILL then loses nothing). When that fails (a full
   * disk), the reservations are dropped: the operation that made them is not committed, and the
   * next records are written at the same place.
   */
  writePending(): void {
    const cur = this.current;
    if (!cur || this.pending.length === 0) return;
    const buffers = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      writeAll(cur.fd, buffers, cur.written);
    } catch (err) {
      this.failure ??= err as Error;
      throw err;
    }
    cur.written += bytes;
    this.used.add(cur.segment);
    this.unsynced.set(cur.segment, { fd: cur.fd, sealed: false });
  }

  /** Resolves when everything written so far is on disk. Calls are serialized, so none returns before an earlier one's fsync. */
  sync(): Promise<void> {
    this.writePending();
    const run = this.chain.then(() => this.syncOnce());
    this.chain = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync();
    this.closed = true;
    if (this.current) closeSync(this.current.fd);
    this.current = undefined;
    this.removeUnused();
    if (this.failure) throw this.failure;
  }

  /** Stops without syncing (a writer that lost its lock). */
  abandon(): void {
    this.closed = true;
    for (const { fd } of this.unsynced.values()) this.tryClose(fd);
    if (this.current && !this.unsynced.has(this.current.segment)) this.tryClose(this.current.fd);
    this.unsynced.clear();
    this.current = undefined;
    this.removeUnused();
  }

  /** A segment this writer created that no committed operation wrote to (its writes failed) is removed: it holds nothing. */
  private removeUnused(): void {
    for (const s of this.created) if (!this.used.has(s)) rmSync(segmentPath(this.dir, s), { force: true });
  }

  private async syncOnce(): Promise<void> {
    const batch = [...this.unsynced.entries()];
    this.unsynced.clear();
    const dirty = this.dirDirty;
    this.dirDirty = false;
    try {
      await Promise.all(batch.map(([, e]) => fsyncFd(e.fd)));
      if (dirty) await fsyncDirectory(this.dir);
    } catch (err) {
      // Try again next time: nothing may count as durable that is not.
      for (const [s, e] of batch) if (!this.unsynced.has(s)) this.unsynced.set(s, e);
      this.dirDirty ||= dirty;
      throw err;
    }
    for (const [, e] of batch) if (e.sealed) this.tryClose(e.fd);
  }

  /** Seals the current segment and starts the next one (a new file, created exclusively). */
  private roll(): OpenSegment {
    const old = this.current;
    if (old) {
      this.writePending();
      const u = this.unsynced.get(old.segment);
      if (u) u.sealed = true;
      else closeSync(old.fd);
      this.current = undefined;
    }
    for (;;) {
      const segment = this.nextSegment++;
      let fd: number;
      try {
        fd = openSync(segmentPath(this.dir, segment), 'wx', 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw err;
      }
      this.created.add(segment);
      try {
        writeSync(fd, encodeSegmentHeader({ segment, dbId: this.dbId }));
      } catch (err) {
        closeSync(fd);
        this.failure ??= err as Error;
        throw err;
      }
      this.current = { segment, fd, written: SEGMENT_HEADER_SIZE };
      this.unsynced.set(segment, { fd, sealed: false });
      this.dirDirty = true;
      return this.current;
    }
  }

  private tryClose(fd: number): void {
    try {
      closeSync(fd);
    } catch {
      // Already closed.
    }
  }
}

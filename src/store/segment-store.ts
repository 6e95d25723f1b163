// The segment files of a data directory as the engine sees them: reading (every role), appending
// (the writer), and deleting files that nothing refers to any more, but only once a durable
// snapshot no longer refers to them either, so a crash at any step never loses a live chunk, and
// after a grace period, so that readers in other processes have applied the change meanwhile.
import { closeSync, openSync, readSync, renameSync, rmSync } from 'node:fs';
import { BodyReader } from './body-reader';
import { timestampSuffix } from './database-file';
import { decodeSegmentHeader, DEFAULT_SEGMENT_BYTES, SEGMENT_HEADER_SIZE, segmentFileName, segmentPath, type ChunkLocation } from './segment-format';
import { listSegments, SegmentReader } from './segment-reader';
import { SegmentWriter } from './segment-writer';
import type { SqlDatabase } from './sqlite';
import { PackedEventsCache } from './sse-packing';

function readHeaderDbId(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const b = Buffer.alloc(SEGMENT_HEADER_SIZE);
    const n = readSync(fd, b, 0, b.length, 0);
    return decodeSegmentHeader(b.subarray(0, n))?.dbId;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Segments that chunk rows point at, with their live bytes (records included). */
export function liveSegments(db: SqlDatabase): Map<number, number> {
  const live = new Map<number, number>();
  for (const r of db.all('SELECT segment, SUM(stored_size) + 8 * COUNT(*) AS bytes FROM chunks WHERE segment IS NOT NULL GROUP BY segment')) {
    live.set(Number(r.segment), Number(r.bytes));
  }
  return live;
}

export class SegmentStore {
  readonly dir: string;
  readonly reader: SegmentReader;
  readonly bodies: BodyReader;
  readonly packed: PackedEventsCache;
  private writer?: SegmentWriter;
  /** Chunks whose bytes are known to be unreadable: written again when their content comes again (BodyBatch). */
  readonly damaged = new Set<number>();
  /** Segments to delete once a snapshot holding at least `lsn` is durable and `at + graceMs` has passed. */
  private readonly doomed = new Map<number, { lsn: number; at: number }>();

  constructor(dataDir: string, private readonly log: (level: 'info' | 'warn', message: string) => void, private readonly graceMs = 5_000) {
    this.dir = dataDir;
    this.reader = new SegmentReader(this.dir);
    this.bodies = new BodyReader(this.reader, (chunkId) => this.damaged.add(chunkId));
    this.packed = new PackedEventsCache(this.bodies);
  }

  get writing(): boolean {
    return !!this.writer;
  }

  get currentSegment(): number | undefined {
    return this.writer?.currentSegment;
  }

  /**
   * Writer start, after the database is loaded and replayed: segments of this database that no
   * chunk refers to are deleted (left by a crash before their journal records, or by compaction
   * before the deletion), segments of another database are set aside, and appending starts in a
   * new file after every number in use. After damage was found (`keepUnreferenced`), unreferenced
   * segments are set aside instead: the journal kept aside may refer to them.
   */
  startWriting(db: SqlDatabase, dbId: string, rollBytes = DEFAULT_SEGMENT_BYTES, keepUnreferenced = false): void {
    const live = liveSegments(db);
    let next = Math.max(0, ...live.keys());
    const files = listSegments(this.dir);
    this.findTornChunks(db, live, new Map(files.map((f) => [f.segment, f.bytes])));
    for (const { segment } of files) {
      next = Math.max(next, segment);
      if (live.has(segment)) continue;
      const path = segmentPath(this.dir, segment);
      this.reader.forget(segment);
      const ours = readHeaderDbId(path) === dbId;
      if (ours && !keepUnreferenced) {
        rmSync(path, { force: true });
      } else {
        const aside = `${path}.broken-${timestampSuffix()}-${ours ? 'unreferenced' : 'other-database'}`;
        renameSync(path, aside);
        this.log('info', `${segmentFileName(segment)} is not used by the database; kept as ${aside}`);
      }
    }
    this.doomed.clear();
    this.writer = new SegmentWriter(this.dir, dbId, next + 1, rollBytes);
  }

  /** Chunks whose records lie beyond the end of their file, or in a file that is gone (a crash lost them). */
  private findTornChunks(db: SqlDatabase, live: Map<number, number>, sizes: Map<number, number>): void {
    this.damaged.clear();
    for (const segment of live.keys()) {
      const rows = db.all('SELECT id FROM chunks WHERE segment = ? AND seg_offset + 8 + stored_size > ?', [segment, sizes.get(segment) ?? 0]);
      for (const r of rows) this.damaged.add(Number(r.id));
    }
    if (this.damaged.size > 0) {
      this.log('warn', `${this.damaged.size} chunks are missing from the segment files (cut short by a crash); the bodies using them are unreadable until their content is captured again`);
    }
  }

  append(stored: Buffer): ChunkLocation {
    if (!this.writer) throw new Error('this capture store does not write');
    return this.writer.append(stored);
  }

  /** Before a journal record is appended: the chunk bytes it refers to reach the OS first. */
  writePending(): void {
    this.writer?.writePending();
  }

  /** Before the journal (or a snapshot) is fsync'd. */
  sync(): Promise<void> {
    return this.writer?.sync() ?? Promise.resolve();
  }

  /** A segment nothing refers to after the operation `lsn`: deleted after the next durable snapshot. */
  doom(segment: number, lsn: number): void {
    if (segment !== this.writer?.currentSegment) this.doomed.set(segment, { lsn, at: Date.now() });
  }

  /** The durable snapshot holds everything up to `lsn`: doomed segments that it does not need and whose grace is over go. */
  deleteDoomed(lsn: number, now = Date.now()): number {
    let deleted = 0;
    for (const [segment, d] of this.doomed) {
      if (d.lsn > lsn || now - d.at < this.graceMs) continue;
      this.doomed.delete(segment);
      this.reader.forget(segment);
      try {
        rmSync(segmentPath(this.dir, segment), { force: true });
        deleted++;
      } catch (err) {
        this.log('warn', `could not delete ${segmentFileName(segment)}: ${(err as Error).message}`);
      }
    }
    return deleted;
  }

  isDoomed(segment: number): boolean {
    return this.doomed.has(segment);
  }

  /** Segment files on disk: count and bytes. */
  usage(): { segments: number; bytes: number } {
    const files = listSegments(this.dir);
    return { segments: files.length, bytes: files.reduce((a, f) => a + f.bytes, 0) };
  }

  async stopWriting(): Promise<void> {
    const w = this.writer;
    this.writer = undefined;
    await w?.close();
  }

  /** Lost the lock: stop appending at once, without syncing. */
  abandonWriting(): void {
    this.writer?.abandon();
    this.writer = undefined;
  }

  /** The database was replaced (reload, promotion): cached chunks may belong to other ids. */
  databaseReplaced(): void {
    this.bodies.clear();
    this.packed.clear();
  }

  close(): void {
    this.reader.close();
  }
}

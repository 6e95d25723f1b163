// Reading chunk records from segment files: positional reads on a descriptor kept open per
// segment (readers and the writer alike; read-only, so a reader never changes a file).
// A file deleted after compaction stays readable through a descriptor opened before.
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { decodeSegmentRecord, parseSegmentFileName, SEGMENT_RECORD_HEADER, segmentFileName, segmentPath, type ChunkLocation } from './segment-format';

/** Descriptors kept open at most (a 64 MiB segment each: 4 GiB of data). */
const MAX_OPEN = 64;

export class SegmentReadError extends Error {}

export class SegmentReader {
  private readonly fds = new Map<number, number>();

  constructor(readonly dir: string) {}

  /** The stored bytes of a chunk, checked against the record's length and crc32 (SegmentReadError otherwise). */
  read(loc: ChunkLocation): Buffer {
    const fd = this.fd(loc.segment);
    const record = Buffer.allocUnsafe(SEGMENT_RECORD_HEADER + loc.storedSize);
    let got = 0;
    while (got < record.length) {
      const n = readSync(fd, record, got, record.length - got, loc.offset + got);
      if (n === 0) break;
      got += n;
    }
    try {
      return decodeSegmentRecord(record.subarray(0, got), loc);
    } catch (err) {
      throw new SegmentReadError((err as Error).message);
    }
  }

  /** Closes the descriptor of a segment (deleted, or set aside). */
  forget(segment: number): void {
    const fd = this.fds.get(segment);
    if (fd === undefined) return;
    this.fds.delete(segment);
    closeSync(fd);
  }

  close(): void {
    for (const s of [...this.fds.keys()]) this.forget(s);
  }

  private fd(segment: number): number {
    let fd = this.fds.get(segment);
    if (fd !== undefined) {
      // Most recently used last.
      this.fds.delete(segment);
      this.fds.set(segment, fd);
      return fd;
    }
    try {
      fd = openSync(segmentPath(this.dir, segment), 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new SegmentReadError(code === 'ENOENT' ? `${segmentFileName(segment)} is missing` : `${segmentFileName(segment)}: ${(err as Error).message}`);
    }
    this.fds.set(segment, fd);
    if (this.fds.size > MAX_OPEN) this.forget(this.fds.keys().next().value!);
    return fd;
  }
}

/** The segment files in a directory (number and size); none when it does not exist. */
export function listSegments(dir: string): { segment: number; bytes: number }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: { segment: number; bytes: number }[] = [];
  for (const name of names) {
    const segment = parseSegmentFileName(name);
    if (segment === undefined) continue;
    try {
      out.push({ segment, bytes: statSync(segmentPath(dir, segment)).size });
    } catch {
      // Deleted meanwhile (compaction by the writer).
    }
  }
  return out.sort((a, b) => a.segment - b.segment);
}

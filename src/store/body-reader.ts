// Reading bodies back: the manifest from the database, each chunk from its segment file (or from
// the database, for a chunk not moved out yet), through a small LRU of decompressed chunks, since
// the bodies of one session share most of their chunks. The result is checked against the body's
// size and sha256: a damaged or missing chunk gives BodyIntegrityError, never wrong bytes.
import { decodeManifest, decompress, sha256 } from './chunked-bodies';
import { DEFAULT_CHUNKING } from './content-chunking';
import { SEGMENT_RECORD_HEADER } from './segment-format';
import { SegmentReadError, type SegmentReader } from './segment-reader';
import type { SqlDatabase } from './sqlite';

export class BodyIntegrityError extends Error {}

/** Decompressed chunks kept, in bytes. */
export const DEFAULT_CHUNK_CACHE_BYTES = 16 * 1024 * 1024;
/**
 * The largest chunk kept: twice a request's largest cut chunk. What the cache is for is the history
 * that the requests of a session resend. An answer (1–8 MB chunks) or a body stored uncut is read
 * once; keeping it pushed out hundreds of those chunks, and it was copied on every read
 * (docs/decisions.md, decision 98).
 */
const CACHED_CHUNK_MAX_BYTES = 2 * DEFAULT_CHUNKING.maxSize;

export class BodyReader {
  /** Chunk id -> decompressed bytes, least recently used first. Chunk ids never change content. */
  private readonly cache = new Map<number, Buffer>();
  private cachedBytes = 0;

  /** `onDamaged` hears of every chunk whose bytes could not be read (the writer writes them again when their content comes again). */
  constructor(private readonly segments: SegmentReader, private readonly onDamaged: (chunkId: number) => void = () => undefined,
    private readonly maxCacheBytes = DEFAULT_CHUNK_CACHE_BYTES) {}

  /** The exact bytes of a body, or undefined when there is no such body; BodyIntegrityError when it cannot be read exactly. */
  read(db: SqlDatabase, bodyId: number): Buffer | undefined {
    const row = db.get('SELECT sha256, size, manifest FROM bodies WHERE id = ?', [bodyId]);
    if (!row) return undefined;
    const ids = decodeManifest(row.manifest as Uint8Array);
    const parts = ids.map((chunkId) => this.chunk(db, bodyId, chunkId));
    const data = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    if (data.length !== Number(row.size) || !sha256(data).equals(row.sha256 as Uint8Array)) {
      throw new BodyIntegrityError(`body ${bodyId}: content does not match its sha256`);
    }
    // A one-chunk body may be the cached buffer itself: callers then get their own copy.
    return parts.length === 1 && this.cache.get(ids[0]) === data ? Buffer.from(data) : data;
  }

  /** Forgets every cached chunk (the database was replaced: ids may mean other chunks now). */
  clear(): void {
    this.cache.clear();
    this.cachedBytes = 0;
  }

  private chunk(db: SqlDatabase, bodyId: number, chunkId: number): Buffer {
    const hit = this.cache.get(chunkId);
    if (hit) {
      this.cache.delete(chunkId);
      this.cache.set(chunkId, hit);
      return hit;
    }
    const c = db.get('SELECT codec, segment, seg_offset, stored_size, data FROM chunks WHERE id = ?', [chunkId]);
    if (!c) throw new BodyIntegrityError(`body ${bodyId}: chunk ${chunkId} is missing`);
    let stored: Uint8Array;
    if (c.data instanceof Uint8Array) stored = c.data;
    else {
      try {
        stored = this.segments.read({ segment: Number(c.segment), offset: Number(c.seg_offset), storedSize: Number(c.stored_size) });
      } catch (err) {
        if (!(err instanceof SegmentReadError)) throw err;
        this.onDamaged(chunkId);
        throw new BodyIntegrityError(`body ${bodyId}: chunk ${chunkId}: ${err.message}`);
      }
    }
    let raw: Buffer;
    try {
      raw = decompress(Number(c.codec), stored);
    } catch (err) {
      throw new BodyIntegrityError(`body ${bodyId}: chunk ${chunkId} does not decompress (${(err as Error).message})`);
    }
    this.remember(chunkId, raw);
    return raw;
  }

  private remember(chunkId: number, raw: Buffer): void {
    if (raw.length > Math.min(this.maxCacheBytes / 4, CACHED_CHUNK_MAX_BYTES)) return;
    // inflate's output, or a small record read into Node's buffer pool, is a view of a larger buffer:
    // keep an exact copy, so the bound holds (a record read alone is its data and a header).
    if (raw.buffer.byteLength > raw.length + SEGMENT_RECORD_HEADER) {
      const exact = Buffer.allocUnsafeSlow(raw.length);
      raw.copy(exact);
      raw = exact;
    }
    this.cache.set(chunkId, raw);
    this.cachedBytes += raw.length;
    while (this.cachedBytes > this.maxCacheBytes) {
      const [oldest, buf] = this.cache.entries().next().value!;
      this.cache.delete(oldest);
      this.cachedBytes -= buf.length;
    }
  }
}

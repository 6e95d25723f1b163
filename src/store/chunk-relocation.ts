// Moving chunk bytes to the current segment, as 'relocate' operations (the rows are repointed in
// the journal, so readers and replays agree): chunks still kept in the database (schema 4 and
// earlier) move out, and the live chunks of a segment that is mostly dead are copied so that the
// segment can be deleted. The old place stays valid until a durable snapshot no longer needs it.
import { BodyBatch, CODEC_RAW, CODEC_RAW_DEFERRED, compress, decodeManifest, UNCUT_CHUNK, type ChunkRelocation, type IdSource, type RecutBody } from './chunked-bodies';
import type { Operation } from './operations';
import type { ChunkLocation } from './segment-format';
import { SEGMENT_HEADER_SIZE } from './segment-format';
import { listSegments, SegmentReadError, type SegmentReader } from './segment-reader';
import { liveSegments, type SegmentStore } from './segment-store';
import type { SqlDatabase } from './sqlite';

/** What relocating needs from the engine (the writer). */
export interface RelocationHost {
  readonly db: SqlDatabase;
  readonly segments: SegmentStore;
  readonly lastLsn: number;
  commit(op: Operation): number;
  openBatch(): void;
}

export type Relocation = ChunkRelocation;
export type Append = (stored: Buffer) => ChunkLocation;

/** Chunks kept in the database with an id above `afterId`, appended to the current segment. */
export function evacuateInlineChunks(db: SqlDatabase, append: Append, afterId: number, limit = 2000): Relocation[] {
  const rows = db.all('SELECT id, data FROM chunks WHERE id > ? AND data IS NOT NULL ORDER BY id LIMIT ?', [afterId, limit]);
  return rows.map((r) => ({ id: Number(r.id), ...append(Buffer.from(r.data as Uint8Array)) }));
}

export interface CompactionPlan {
  /** Segments no chunk refers to. */
  dead: number[];
  /** Segments whose live bytes are below half of their records: worth copying out. */
  sparse: number[];
}

/** Which sealed segments can go. The current segment, and those already on their way out, are left alone. */
export function planCompaction(db: SqlDatabase, files: { segment: number; bytes: number }[], skip: (segment: number) => boolean): CompactionPlan {
  const live = liveSegments(db);
  const plan: CompactionPlan = { dead: [], sparse: [] };
  for (const f of files) {
    if (skip(f.segment)) continue;
    const l = live.get(f.segment) ?? 0;
    if (l === 0) plan.dead.push(f.segment);
    else if (l < (f.bytes - SEGMENT_HEADER_SIZE) / 2) plan.sparse.push(f.segment);
  }
  return plan;
}

/**
 * Copies the live chunks of `segment` to the current one. Every record is checked (crc32) first:
 * a damaged chunk stops the copy (the segment stays, with the error), so nothing bad is copied.
 */
export function copyLiveChunks(db: SqlDatabase, reader: SegmentReader, append: Append, segment: number): Relocation[] {
  const rows = db.all('SELECT id, seg_offset, stored_size FROM chunks WHERE segment = ? ORDER BY seg_offset', [segment]);
  const copies = rows.map((r) => ({ id: Number(r.id), data: reader.read({ segment, offset: Number(r.seg_offset), storedSize: Number(r.stored_size) }) }));
  return copies.map((c) => ({ id: c.id, ...append(c.data) }));
}

/** Moves every chunk kept in the database to the current segment, 2000 per operation. Returns how many moved. */
export function moveChunksOutOfDatabase(host: RelocationHost): number {
  let after = 0;
  let moved = 0;
  for (;;) {
    const chunks = evacuateInlineChunks(host.db, (d) => host.segments.append(d), after);
    if (chunks.length === 0) return moved;
    host.commit({ type: 'relocate', chunks });
    after = chunks[chunks.length - 1].id;
    moved += chunks.length;
  }
}

/**
 * Segments nothing refers to are doomed (deleted after the next durable snapshot), and one whose
 * live chunks take less than half of it is copied out first (one per call: the copy blocks the
 * event loop). A segment with a damaged live chunk is left as it is (`uncompactable`).
 */
export function compactSegments(host: RelocationHost, uncompactable: Set<number>, warn: (m: string) => void): { dead: number; compacted: number } {
  const { segments } = host;
  const skip = (s: number) => s === segments.currentSegment || segments.isDoomed(s) || uncompactable.has(s);
  const plan = planCompaction(host.db, listSegments(segments.dir), skip);
  for (const segment of plan.dead) segments.doom(segment, host.lastLsn);
  const sparse = plan.sparse[0];
  if (sparse === undefined) return { dead: plan.dead.length, compacted: 0 };
  try {
    const chunks = copyLiveChunks(host.db, segments.reader, (d) => segments.append(d), sparse);
    host.commit({ type: 'relocate', chunks });
    segments.doom(sparse, host.lastLsn);
    return { dead: plan.dead.length, compacted: 1 };
  } catch (err) {
    if (!(err instanceof SegmentReadError)) throw err;
    uncompactable.add(sparse);
    warn(`segment ${sparse} is not compacted: ${err.message}`);
    return { dead: plan.dead.length, compacted: 0 };
  }
}

/** Where `compressDeferredChunks` goes on from: chunk ids only grow, so a pass starts past the last one it saw. */
export interface DeferredCursor {
  afterId: number;
}

/**
 * Compresses chunks that were stored raw while capture was behind (CODEC_RAW_DEFERRED), up to
 * `maxRawBytes` of them, as one 'relocate' operation: compressed bytes go to the current segment;
 * a chunk that does not compress keeps its place and becomes plain raw. A body stored uncut is cut
 * into chunks as capture would have cut it, deduplicated against the store, and its uncut chunk
 * goes. The raw copies left behind are dead space that compaction reclaims. Returns how many
 * chunks it looked at (0: none left).
 */
export function compressDeferredChunks(host: RelocationHost, ids: IdSource, cursor: DeferredCursor, maxRawBytes: number): number {
  host.openBatch();
  const rows = host.db.all(`SELECT id, sha256, (${UNCUT_CHUNK}) AS uncut, segment, seg_offset, stored_size FROM chunks WHERE id > ? AND codec = ${CODEC_RAW_DEFERRED}
    AND segment IS NOT NULL ORDER BY id LIMIT 2000`, [cursor.afterId]);
  const chunks: Relocation[] = [];
  const recut: RecutBody[] = [];
  const batch = new BodyBatch(host.db, ids, (stored) => host.segments.append(stored), host.segments.damaged);
  let handled = 0;
  let seen = 0;
  for (const r of rows) {
    if (handled >= maxRawBytes) break;
    seen++;
    const location = { segment: Number(r.segment), offset: Number(r.seg_offset), storedSize: Number(r.stored_size) };
    cursor.afterId = Number(r.id);
    let raw: Buffer;
    try {
      raw = host.segments.reader.read(location);
    } catch (err) {
      // A damaged chunk stays as it is: reading it says so, and new content repairs it.
      if (err instanceof SegmentReadError) continue;
      throw err;
    }
    handled += raw.length;
    const uncutOf = r.uncut ? uncutBodyId(host, Number(r.id), r.sha256 as Uint8Array) : undefined;
    if (uncutOf !== undefined) {
      recut.push(batch.recut(uncutOf, Number(r.id), raw));
      continue;
    }
    const { codec, data } = compress(raw);
    chunks.push(codec === CODEC_RAW ? { id: Number(r.id), ...location, codec } : { id: Number(r.id), ...host.segments.append(data), codec });
  }
  chunks.push(...batch.relocations);
  if (chunks.length > 0 || recut.length > 0) host.commit({ type: 'relocate', chunks, recut });
  return seen;
}

/**
 * The body an uncut chunk holds whole, to be cut: the one with the chunk's hash whose manifest is
 * that chunk alone, unless it is an answer, which is kept whole (ANSWER_CHUNKING) and only compressed.
 */
function uncutBodyId(host: RelocationHost, chunkId: number, hash: Uint8Array): number | undefined {
  const body = host.db.get('SELECT id, manifest FROM bodies WHERE sha256 = ?', [hash]);
  if (!body) return undefined;
  const manifest = decodeManifest(body.manifest as Uint8Array);
  if (manifest.length !== 1 || manifest[0] !== chunkId) return undefined;
  return isAnswerBody(host.db, Number(body.id)) ? undefined : Number(body.id);
}

/** Whether a body is stored as an answer: a response body, packed SSE events, or a server's WebSocket message. */
function isAnswerBody(db: SqlDatabase, bodyId: number): boolean {
  return (db.value('SELECT 1 FROM exchanges WHERE response_body_id = ? LIMIT 1', [bodyId]) ??
    db.value('SELECT 1 FROM exchanges WHERE sse_body_id = ? LIMIT 1', [bodyId]) ??
    db.value("SELECT 1 FROM ws_messages WHERE body_id = ? AND direction = 'server-to-client' LIMIT 1", [bodyId])) !== undefined;
}

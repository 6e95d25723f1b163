// The deduplicated body store. A body is cut into content-defined chunks; each distinct chunk is
// kept once, deflated, addressed by its sha256, and counted by the bodies that list it. A body
// is its sha256, its size and a manifest (the ordered chunk ids). Identical bodies are stored once.
//
// Writing is split in two: `BodyBatch` (writer only) decides ids, compresses new chunks and
// appends them to a segment file, and produces plain data (ids, hashes, locations) that goes into
// a journal operation; `insertBodies` applies that data, and runs the same way live and on replay.
// Reading is body-reader.ts.
import { hash } from 'node:crypto';
import { constants as zlibConstants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { chunkBoundaries, chunkEnd, type ChunkingParameters, DEFAULT_CHUNKING } from './content-chunking';
import type { ChunkLocation } from './segment-format';
import type { SqlDatabase } from './sqlite';

export const CODEC_RAW = 0;
export const CODEC_DEFLATE_RAW = 1;
/**
 * Stored as it came because capture was behind when it was written; compressed later, when
 * capture keeps up (`compressDeferredChunks`). Read as raw (docs/decisions.md, decision 47).
 */
export const CODEC_RAW_DEFERRED = 2;

/**
 * While capture is far behind, a body larger than any cut chunk (and up to this size) is stored as
 * one deferred chunk, uncut: cutting and hashing ~60 chunks per 240 KB was a third of capture's work
 * on a flood. The compression passes cut it later (docs/decisions.md, decision 73).
 */
export const UNCUT_MAX_BYTES = 16 * 1024 * 1024;

/** SQL condition on `chunks` for a chunk holding a whole body stored uncut: deferred, and larger than cutting ever makes a chunk. */
export const UNCUT_CHUNK = `codec = ${CODEC_RAW_DEFERRED} AND raw_size > ${DEFAULT_CHUNKING.maxSize}`;

/**
 * How a body of new content is cut: an answer (a response body, packed SSE events, a server's
 * WebSocket message) is never resent, so 4 KiB chunks deduplicated nothing and cost a row, a hash
 * and a lookup each (~115 of the ~120 chunk rows an exchange added). Up to 1 MiB it is one chunk;
 * beyond, the cuts still fall where the content says, so a pack made again with more events keeps
 * its earlier chunks (docs/decisions.md, decision 84).
 */
export const ANSWER_CHUNKING: ChunkingParameters = { minSize: 1024 * 1024, averageSize: 2 * 1024 * 1024, maxSize: 8 * 1024 * 1024 };

/** What a body is, for how it is cut: a request resends history (cut small, to deduplicate); an answer is new content. */
export type BodyRole = 'request' | 'answer';

/**
 * The first chunks (hex sha256) of the large bodies a writer saw lately. While capture is behind, a
 * body whose first chunk is neither stored nor among these opens with new content: cutting it then
 * would most likely deduplicate nothing, so it is stored uncut for the passes to cut. A resent history opens as
 * its previous request did, and is cut at once (docs/decisions.md, decision 77).
 */
export class RecentLeads {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity = 4096) {}

  /** Whether `key` was seen before; remembers it either way, the oldest forgotten past the capacity. */
  seenBefore(key: string): boolean {
    const had = this.seen.delete(key);
    this.seen.add(key);
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.values().next().value as string);
    return had;
  }
}

/** A chunk new in an operation: where the writer put its stored bytes. */
export interface NewChunk extends Partial<ChunkLocation> {
  id: number;
  sha256: Buffer;
  codec: number;
  rawSize: number;
  /** The stored bytes themselves: only in journals written before segment files (schema 4). */
  data?: Buffer;
}

export interface NewBody {
  id: number;
  sha256: Buffer;
  size: number;
  /** Chunk ids in order, encoded by `encodeManifest`. */
  manifest: Buffer;
  /** The chunks this body introduces (the others exist already). */
  chunks: NewChunk[];
}

export interface IdSource {
  nextBodyId(): number;
  nextChunkId(): number;
}

/** Appends a chunk's stored bytes to the current segment (before the operation is journaled). */
export type ChunkAppender = (stored: Buffer) => ChunkLocation;

/** A chunk's new place (compaction, migration, or its bytes written again after damage, with their codec). */
export type ChunkRelocation = ChunkLocation & { id: number; codec?: number };

/** A body stored uncut, cut later: its new manifest, the chunks that are new, and the uncut chunk it drops. */
export interface RecutBody {
  id: number;
  manifest: Buffer;
  chunks: NewChunk[];
  replaces: number;
}

/** Chunk ids as zigzag-encoded varint deltas: new chunks get consecutive ids, so most take one byte. */
export function encodeManifest(ids: number[]): Buffer {
  const out: number[] = [];
  let prev = 0;
  for (const id of ids) {
    const delta = id - prev;
    prev = id;
    // Zigzag keeps small negative deltas small; arithmetic (not bit ops) for ids beyond 2^31.
    let z = delta >= 0 ? delta * 2 : -delta * 2 - 1;
    while (z >= 0x80) {
      out.push((z % 0x80) | 0x80);
      z = Math.floor(z / 0x80);
    }
    out.push(z);
  }
  return Buffer.from(out);
}

export function decodeManifest(buf: Uint8Array): number[] {
  const ids: number[] = [];
  let prev = 0;
  let i = 0;
  while (i < buf.length) {
    let z = 0;
    let scale = 1;
    let b: number;
    do {
      b = buf[i++];
      z += (b & 0x7f) * scale;
      scale *= 0x80;
    } while (b & 0x80);
    const delta = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    prev += delta;
    ids.push(prev);
  }
  return ids;
}

/** One call, no Hash object: a body is cut into ~60 chunks per 240 KB, and the object cost a fifth of hashing a 4 KiB chunk. */
export function sha256(data: Uint8Array): Buffer {
  return hash('sha256', data, 'buffer');
}

/**
 * Shannon entropy of the byte distribution, in bits per byte. Text and JSON are at 4–5.5, base64
 * at 6 (deflate still saves a quarter), compressed or random bytes near 8.
 */
export function byteEntropy(data: Uint8Array): number {
  // A sample of runs spread over the chunk tells text from base64 from random as well as every
  // byte does, at a tenth of the cost (it was a tenth of capture's CPU on a flood of large bodies).
  const counts = new Uint32Array(256);
  const runs = 64;
  const run = 64;
  let n = 0;
  if (data.length <= runs * run * 2) {
    for (let i = 0; i < data.length; i++) counts[data[i]]++;
    n = data.length;
  } else {
    const stride = Math.floor(data.length / runs);
    for (let r = 0; r < runs; r++) {
      const start = r * stride;
      for (let i = start; i < start + run; i++) counts[data[i]]++;
    }
    n = runs * run;
  }
  let bits = 0;
  for (let i = 0; i < 256; i++) {
    if (counts[i] === 0) continue;
    const p = counts[i] / n;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * An 8 KiB window and a smaller hash: zlib then needs ~96 KiB a call instead of ~268 KiB, below
 * glibc's mmap threshold. Thousands of large short-lived allocations a minute made glibc raise
 * that threshold and keep the freed memory in its heap (RSS ~50 MB higher after 512 MB of
 * traffic, bench/memory-bench.ts); chunks average 4 KiB, so the ratio hardly changes.
 */
// Level 1: on captured JSON twice as fast as level 6 for chunks 8% larger (docs/decisions.md, decision 46);
// deduplication, not the compressor, is what keeps a resent history small.
const DEFLATE_OPTIONS = { level: 1, windowBits: 13, memLevel: 7 };
/** Base64 (images, encrypted reasoning) has about 6 bits per byte: only Huffman coding gains, and it is faster alone. */
const HUFFMAN_ONLY = { ...DEFLATE_OPTIONS, strategy: zlibConstants.Z_HUFFMAN_ONLY };

/**
 * Deflate unless it cannot help. Deflating incompressible bytes (images, bodies whose decoding
 * failed) costs as much as text and saves nothing, so a cheap entropy test skips them.
 */
export function compress(raw: Buffer): { codec: number; data: Buffer } {
  const entropy = raw.length >= 512 ? byteEntropy(raw) : 0;
  if (entropy > 7.5) return { codec: CODEC_RAW, data: Buffer.from(raw) };
  const z = deflateRawSync(raw, entropy > 5.9 ? HUFFMAN_ONLY : DEFLATE_OPTIONS);
  return z.length < raw.length ? { codec: CODEC_DEFLATE_RAW, data: z } : { codec: CODEC_RAW, data: Buffer.from(raw) };
}

export function decompress(codec: number, data: Uint8Array): Buffer {
  // A view, not a copy: `data` is the caller's own (a record just read, or a value sql.js copied out).
  if (codec === CODEC_RAW || codec === CODEC_RAW_DEFERRED) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (codec === CODEC_DEFLATE_RAW) return inflateRawSync(data);
  throw new Error(`unknown chunk codec ${codec}`);
}

/**
 * Prepares the bodies of one operation (writer side): finds existing bodies and chunks, and
 * compresses only what is new. Chunks and bodies new in this batch are remembered, so a body
 * that repeats within the same operation (request = response) is not stored twice.
 */
export class BodyBatch {
  readonly bodies: NewBody[] = [];
  /** Known chunks whose bytes were unreadable and are written again here. */
  readonly relocations: ChunkRelocation[] = [];
  private readonly batchBodies = new Map<string, number>();
  private readonly batchChunks = new Map<string, number>();

  /**
   * `damaged`: ids of chunks whose bytes are known to be unreadable (cut short by a crash, or failing their crc).
   * `deferCompression`: capture is behind: new chunks are stored raw, to be compressed later.
   * `storeUncut`: further behind: large bodies are stored uncut too, to be cut later.
   * `leads`: while compression is deferred, a large body that opens with new content is stored uncut too.
   */
  constructor(private readonly db: SqlDatabase, private readonly ids: IdSource, private readonly appendChunk: ChunkAppender,
    private readonly damaged: Set<number> = new Set(), private readonly chunking: ChunkingParameters = DEFAULT_CHUNKING,
    private readonly deferCompression = false, private readonly storeUncut = false, private readonly leads?: RecentLeads) {}

  /** Returns the id of the body holding exactly `data`, preparing a new one if needed. */
  add(data: Buffer, role: BodyRole = 'request'): number {
    const hash = sha256(data);
    const key = hash.toString('hex');
    const known = this.batchBodies.get(key) ?? this.db.value('SELECT id FROM bodies WHERE sha256 = ?', [hash]);
    if (known !== undefined && known !== null) {
      if (this.damaged.size > 0 && !this.batchBodies.has(key)) this.repair(Number(known), data, role);
      return Number(known);
    }
    // An answer is cut in large chunks (ANSWER_CHUNKING), even while behind: the passes only compress them.
    const { ids, chunks } = role === 'answer' ? this.cut(data, ANSWER_CHUNKING, hash) : this.requestChunks(data, hash);
    const id = this.ids.nextBodyId();
    this.bodies.push({ id, sha256: hash, size: data.length, manifest: encodeManifest(ids), chunks });
    this.batchBodies.set(key, id);
    return id;
  }

  /** A request's chunks: cut small to deduplicate, or, while capture is behind, one uncut chunk for the passes to cut. */
  private requestChunks(data: Buffer, hash: Buffer): { ids: number[]; chunks: NewChunk[] } {
    // Uncut, the body and its one chunk share a hash; no cut chunk can have it, being smaller.
    const large = data.length > this.chunking.maxSize && data.length <= UNCUT_MAX_BYTES;
    // Asked first, even far behind, so that the first chunk is remembered for the resend that follows.
    const newContent = large && this.deferCompression && this.opensWithNewContent(data);
    return large && (this.storeUncut || newContent) ? this.uncut(data, hash) : this.cut(data);
  }

  /** Cuts a body stored uncut (`UNCUT_CHUNK`), found by its hash, into chunks as `add` would have. */
  recut(bodyId: number, uncutChunkId: number, data: Buffer): RecutBody {
    const { ids, chunks } = this.cut(data);
    return { id: bodyId, manifest: encodeManifest(ids), chunks, replaces: uncutChunkId };
  }

  /** Whether the body's first chunk is neither stored nor the first chunk of a recent body (and remembers it). */
  private opensWithNewContent(data: Buffer): boolean {
    if (!this.leads) return false;
    const h = sha256(data.subarray(0, chunkEnd(data, 0, this.chunking)));
    const key = h.toString('hex');
    if (this.leads.seenBefore(key) || this.batchChunks.has(key)) return false;
    return this.db.value('SELECT 1 FROM chunks WHERE sha256 = ?', [h]) === undefined;
  }

  private uncut(data: Buffer, hash: Buffer): { ids: number[]; chunks: NewChunk[] } {
    // An answer's chunk can be this large, and could hold these very bytes.
    const key = hash.toString('hex');
    const known = this.batchChunks.get(key) ?? this.db.value('SELECT id FROM chunks WHERE sha256 = ?', [hash]);
    if (typeof known === 'number') return { ids: [known], chunks: [] };
    const id = this.ids.nextChunkId();
    this.batchChunks.set(key, id);
    return { ids: [id], chunks: [{ id, sha256: hash, codec: CODEC_RAW_DEFERRED, rawSize: data.length, ...this.appendChunk(data) }] };
  }

  /**
   * Content-defined chunks: known ones by id, new ones compressed (or left raw while behind) and
   * appended. `bodyHash` is the hash of the whole of `data`, for a chunk that is all of it.
   */
  private cut(data: Buffer, chunking = this.chunking, bodyHash?: Buffer): { ids: number[]; chunks: NewChunk[] } {
    const ids: number[] = [];
    const chunks: NewChunk[] = [];
    let start = 0;
    for (const end of chunkBoundaries(data, chunking)) {
      const raw = data.subarray(start, end);
      const h = bodyHash && start === 0 && end === data.length ? bodyHash : sha256(raw);
      start = end;
      const hk = h.toString('hex');
      let id = this.batchChunks.get(hk) ?? this.db.value('SELECT id FROM chunks WHERE sha256 = ?', [h]);
      if (id === undefined || id === null) {
        id = this.ids.nextChunkId();
        const { codec, data: stored } = this.deferCompression ? { codec: CODEC_RAW_DEFERRED, data: raw } : compress(raw);
        chunks.push({ id, sha256: h, codec, rawSize: raw.length, ...this.appendChunk(stored) });
        this.batchChunks.set(hk, id);
      } else if (this.damaged.has(Number(id))) {
        this.rewrite(Number(id), raw, hk);
      }
      ids.push(Number(id));
    }
    return { ids, chunks };
  }

  /** An existing body whose chunks include damaged ones: the content came again, so their bytes are written anew. */
  private repair(bodyId: number, data: Buffer, role: BodyRole): void {
    const manifest = this.db.value('SELECT manifest FROM bodies WHERE id = ?', [bodyId]);
    const ids = manifest instanceof Uint8Array ? decodeManifest(manifest) : [];
    if (!ids.some((id) => this.damaged.has(id))) return;
    if (ids.length === 1 && data.length > this.chunking.maxSize) {
      // Uncut, or an answer whole: written again raw, for the passes to cut or compress.
      this.relocations.push({ id: ids[0], codec: CODEC_RAW_DEFERRED, ...this.appendChunk(data) });
      this.damaged.delete(ids[0]);
      return;
    }
    // Cut as it was stored: as its role says, unless it was stored first in the other role.
    const chunkings = role === 'answer' ? [ANSWER_CHUNKING, this.chunking] : [this.chunking, ANSWER_CHUNKING];
    for (const chunking of chunkings) {
      let start = 0;
      for (const end of chunkBoundaries(data, chunking)) {
        const raw = data.subarray(start, end);
        start = end;
        const h = sha256(raw);
        const id = this.db.value('SELECT id FROM chunks WHERE sha256 = ?', [h]);
        if (typeof id === 'number' && this.damaged.has(id)) this.rewrite(id, raw, h.toString('hex'));
      }
      if (!ids.some((id) => this.damaged.has(id))) return;
    }
  }

  private rewrite(id: number, raw: Buffer, hashKey: string): void {
    const { codec, data: stored } = compress(raw);
    this.relocations.push({ id, codec, ...this.appendChunk(stored) });
    this.damaged.delete(id);
    this.batchChunks.set(hashKey, id);
  }
}

/** Applies prepared bodies: new chunks, the body rows, and one reference per distinct chunk. */
export function insertBodies(db: SqlDatabase, bodies: NewBody[]): void {
  for (const body of bodies) {
    db.run('INSERT INTO bodies (id, sha256, size, manifest) VALUES (?, ?, ?, ?)', [body.id, body.sha256, body.size, body.manifest]);
    addReferences(db, body.chunks, body.manifest);
  }
}

/** Applies recut bodies: the new chunks and references, the new manifest, and the uncut chunk released. */
export function applyRecuts(db: SqlDatabase, bodies: RecutBody[]): void {
  for (const body of bodies) {
    addReferences(db, body.chunks, body.manifest);
    db.run('UPDATE bodies SET manifest = ? WHERE id = ?', [body.manifest, body.id]);
    db.run('UPDATE chunks SET refs = refs - 1 WHERE id = ?', [body.replaces]);
    db.run('DELETE FROM chunks WHERE id = ? AND refs <= 0', [body.replaces]);
  }
}

/** Inserts a body's new chunks and counts one reference per distinct chunk of its manifest. */
function addReferences(db: SqlDatabase, chunks: NewChunk[], manifest: Buffer): void {
  // A chunk new in this body starts with its reference from this body: one statement a chunk, not two.
  const fresh = new Set<number>();
  for (const c of chunks) {
    db.run('INSERT INTO chunks (id, sha256, codec, raw_size, refs, segment, seg_offset, stored_size, data) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)',
      [c.id, c.sha256, c.codec, c.rawSize, c.segment ?? null, c.offset ?? null, c.storedSize ?? c.data?.length ?? 0, c.data ?? null]);
    fresh.add(c.id);
  }
  for (const chunkId of new Set(decodeManifest(manifest))) {
    if (!fresh.has(chunkId)) db.run('UPDATE chunks SET refs = refs + 1 WHERE id = ?', [chunkId]);
  }
}

/** Points chunks at new places (their bytes copied by compaction, moved out of the database, or written again). */
export function relocateChunks(db: SqlDatabase, chunks: ChunkRelocation[]): void {
  for (const c of chunks) {
    db.run('UPDATE chunks SET segment = ?, seg_offset = ?, stored_size = ?, codec = COALESCE(?, codec), data = NULL WHERE id = ?',
      [c.segment, c.offset, c.storedSize, c.codec ?? null, c.id]);
  }
}

/**
 * Deletes a body that nothing refers to any more, and the chunks that only it used.
 * Called after a row stops pointing at the body (retention, or a body superseded by an update).
 */
export function releaseBody(db: SqlDatabase, bodyId: number): boolean {
  const used =
    db.value('SELECT 1 FROM exchanges WHERE request_body_id = ? LIMIT 1', [bodyId]) ??
    db.value('SELECT 1 FROM exchanges WHERE response_body_id = ? LIMIT 1', [bodyId]) ??
    db.value('SELECT 1 FROM exchanges WHERE sse_body_id = ? LIMIT 1', [bodyId]) ??
    db.value('SELECT 1 FROM ws_messages WHERE body_id = ? LIMIT 1', [bodyId]);
  if (used !== undefined) return false;
  const manifest = db.value('SELECT manifest FROM bodies WHERE id = ?', [bodyId]);
  if (!(manifest instanceof Uint8Array)) return false;
  db.run('DELETE FROM bodies WHERE id = ?', [bodyId]);
  for (const chunkId of new Set(decodeManifest(manifest))) {
    db.run('UPDATE chunks SET refs = refs - 1 WHERE id = ?', [chunkId]);
    db.run('DELETE FROM chunks WHERE id = ? AND refs <= 0', [chunkId]);
  }
  return true;
}

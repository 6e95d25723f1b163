// What a store holds and takes, for `llm-capture stats`, the benches and the tests: counts and
// sizes read from the database and the segment files, plus the counters the store keeps itself.
import { CODEC_RAW_DEFERRED } from './chunked-bodies';
import { databaseUsedBytes, usedBytes } from './retention';
import type { SnapshotInfo, StoreEngine, StoreRole } from './store-engine';

export interface StoreStats {
  role: StoreRole;
  dataDir: string;
  connections: number;
  exchanges: number;
  sseEvents: number;
  wsMessages: number;
  bodies: number;
  chunks: number;
  /** Sum of the sizes of the distinct bodies (their raw size). */
  bodyBytes: number;
  chunkRawBytes: number;
  /** Raw bytes stored while capture was behind, still to be compressed (and large bodies cut). */
  deferredBytes: number;
  /** Compressed chunk data plus manifests: what the bodies really take. */
  storedBodyBytes: number;
  /** Database file size (in memory, and the snapshot), and the part of it in use. */
  databaseBytes: number;
  databaseUsedBytes: number;
  /** Database pages in use plus the chunk bytes in segment files: what retention's maxBytes limits. */
  usedBytes: number;
  /** Segment files on disk (live chunks and space not compacted yet). */
  segments: number;
  segmentBytes: number;
  /** Body reads that failed (a chunk missing or damaged on disk); each is logged. */
  unreadableBodies: number;
  journalBytes: number;
  lastLsn: number;
  snapshotLsn: number;
  lastSnapshot?: SnapshotInfo;
  /** Sink calls not stored (reader role, or an error; see the log). */
  droppedWrites: number;
  /** Reader: full reloads from the snapshot (normally it follows the journal across rotations without one). */
  reloads: number;
}

/** The store's own counters, which the engine does not know. */
export type StoreCounters = Pick<StoreStats, 'unreadableBodies' | 'droppedWrites'>;

export function readStoreStats(engine: StoreEngine, counters: StoreCounters): StoreStats {
  const db = engine.db;
  const count = (table: string) => Number(db.value(`SELECT COUNT(*) FROM ${table}`));
  const sum = (sql: string) => Number(db.value(sql) ?? 0);
  const disk = engine.segments.usage();
  return {
    role: engine.role,
    dataDir: engine.paths.dir,
    connections: count('connections'),
    exchanges: count('exchanges'),
    sseEvents: count('sse_events') + sum('SELECT COALESCE(SUM(sse_packed_events), 0) FROM exchanges'),
    wsMessages: count('ws_messages'),
    bodies: count('bodies'),
    chunks: count('chunks'),
    bodyBytes: sum('SELECT COALESCE(SUM(size), 0) FROM bodies'),
    chunkRawBytes: sum('SELECT COALESCE(SUM(raw_size), 0) FROM chunks'),
    deferredBytes: sum(`SELECT COALESCE(SUM(raw_size), 0) FROM chunks WHERE codec = ${CODEC_RAW_DEFERRED}`),
    storedBodyBytes: sum('SELECT COALESCE(SUM(stored_size), 0) FROM chunks') + sum('SELECT COALESCE(SUM(LENGTH(manifest)), 0) FROM bodies'),
    databaseBytes: Number(db.value('PRAGMA page_count')) * Number(db.value('PRAGMA page_size')),
    databaseUsedBytes: databaseUsedBytes(db),
    usedBytes: usedBytes(db),
    segments: disk.segments,
    segmentBytes: disk.bytes,
    journalBytes: engine.journalBytes,
    lastLsn: engine.lastLsn,
    snapshotLsn: engine.snapshotLsn,
    lastSnapshot: engine.lastSnapshot,
    reloads: engine.reloads,
    ...counters,
  };
}

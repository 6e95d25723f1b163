// The engine's options, roles and errors: what CaptureStore passes through and re-exports.
import type { LockOwner } from './writer-lock';

export type StoreMode = 'writer' | 'reader' | 'auto';
export type StoreRole = 'writer' | 'reader';
export type StoreLogLevel = 'info' | 'warn' | 'error';
export type StoreLog = (level: StoreLogLevel, message: string) => void;

export interface SnapshotInfo {
  at: number;
  lsn: number;
  bytes: number;
  /** Time the event loop was blocked by the in-memory export. */
  exportMs: number;
  /** Time to write, fsync and rename the file and rotate the journal (off the event loop). */
  writeMs: number;
}

export class StoreLockedError extends Error {
  constructor(readonly owner: LockOwner | undefined) {
    super(owner
      ? `the capture data directory is in use by process ${owner.pid} on ${owner.hostname} (since ${owner.acquiredAt})`
      : 'the capture data directory is locked by another process');
  }
}

export interface EngineTimings {
  /** Longest time a change waits before it is written to the journal and fsync'd. Default 100. */
  flushIntervalMs?: number;
  /** Default 30 000 (stretched for large databases, see snapshotDue). */
  snapshotIntervalMs?: number;
  /** A snapshot is also taken when the journal grows past this (or half the database). Default 64 MiB. */
  snapshotJournalBytes?: number;
  /** How often a reader looks for new data. Default 500. */
  pollIntervalMs?: number;
  /** How often the writer checks that the lock file is still its own. Default 5 000. */
  lockCheckIntervalMs?: number;
  /** A segment emptied by compaction or retention is deleted after the next snapshot, and no sooner than this (readers catch up). Default 5 000. */
  segmentDeleteGraceMs?: number;
}

export interface EngineOptions extends EngineTimings {
  dataDir: string;
  mode?: StoreMode;
  log?: StoreLog;
  wasmPath?: string;
  /** Called once the engine writes (on open, or after a reader took over). */
  onWriter?: () => void;
  /** Called after each batch of commits (about every flushIntervalMs while writing). */
  onBatch?: () => void;
  /** Segment files roll at about this size. Default 64 MiB. */
  segmentBytes?: number;
}

export const ENGINE_DEFAULTS: Required<EngineTimings> = {
  flushIntervalMs: 100,
  snapshotIntervalMs: 30_000,
  snapshotJournalBytes: 64 * 1024 * 1024,
  pollIntervalMs: 500,
  lockCheckIntervalMs: 5_000,
  segmentDeleteGraceMs: 5_000,
};

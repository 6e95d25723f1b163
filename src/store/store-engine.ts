// The persistence engine under CaptureStore: one in-memory sql.js database kept durable by an
// append-only journal and periodic atomic snapshots; one writer per data directory (a lock
// file), any number of readers following the files. It knows Operations, not capture records.
//
// Writer: commit(op) applies the operation and appends it to the journal, which reaches the OS
// within `flushIntervalMs` (a SIGKILL then loses nothing older) and the disk by the fsync that
// follows. Snapshots bound the journal; only their in-memory export runs on the event loop.
// Reader: polls the journal, applies what the writer appended, follows rotations, and reloads
// the snapshot only when it cannot continue. An 'auto' reader becomes the writer when the lock frees up.
// Chunk bytes live in segment files (SegmentStore): appended before the journal record that
// refers to them, fsync'd before the journal is.
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { compactSegments, compressDeferredChunks, moveChunksOutOfDatabase, type DeferredCursor } from './chunk-relocation';
import type { IdSource } from './chunked-bodies';
import { writeSnapshot } from './database-file';
import { createJournalFile, HEADER_SIZE, JournalWriter } from './journal';
import { JournalFollow } from './journal-follow';
import { applyOperation, appliesInOneStatement, encodeOperation, type Operation } from './operations';
import type { ChunkLocation } from './segment-format';
import { SegmentStore } from './segment-store';
import { setMeta } from './schema';
import type { SqlDatabase } from './sqlite';
import { IdCounters, loadForReader, loadForWriter, storePaths, type LoadedState, type StorePaths, type WriterLoad } from './store-loader';
import { ENGINE_DEFAULTS, StoreLockedError, type EngineOptions, type EngineTimings, type SnapshotInfo, type StoreLog, type StoreMode, type StoreRole } from './engine-options';
import { ownerAlive, WriterLock, type LockOwner } from './writer-lock';

export { StoreLockedError } from './engine-options';
export type { EngineOptions, EngineTimings, SnapshotInfo, StoreLog, StoreLogLevel, StoreMode, StoreRole } from './engine-options';

/** Exporting may take at most ~1/EXPORT_DUTY of the time: the snapshot interval stretches with the export time. */
const EXPORT_DUTY = 100;

export class StoreEngine {
  /** Problems met while opening (a database or journal set aside, damage recovered). Also logged as warnings. */
  readonly warnings: string[] = [];
  readonly paths: StorePaths;
  /** Chunk bytes on disk, and the caches that read them. */
  readonly segments: SegmentStore;
  private readonly o: Required<EngineTimings>;
  private readonly log: StoreLog;
  private currentDb: SqlDatabase;
  private dbId: string;
  private lsn: number;
  private snapshotLsnValue: number;
  private countersValue: IdCounters;
  private journal?: JournalWriter;
  private lock?: WriterLock;
  private follow?: JournalFollow;
  private readonly timers: NodeJS.Timeout[] = [];
  private batchTimer?: NodeJS.Timeout;
  private changeTimer?: NodeJS.Timeout;
  private snapshotting?: Promise<SnapshotInfo | undefined>;
  private lastSnapshotValue?: SnapshotInfo;
  private polling?: Promise<void>;
  private polls = 0;
  private reloadCount = 0;
  private closed = false;
  private readonly openedAt = Date.now();
  private readonly listeners = new Set<() => void>();
  /** Segments with a damaged live chunk: compaction leaves them as they are. */
  private readonly uncompactable = new Set<number>();
  private readonly deferredCursor: DeferredCursor = { afterId: 0 };
  /** Writer: where new body and chunk ids come from. */
  readonly ids: IdSource = { nextBodyId: () => this.countersValue.body++, nextChunkId: () => this.countersValue.chunk++ };

  private constructor(private currentRole: StoreRole, private readonly mode: StoreMode, private readonly options: EngineOptions, state: LoadedState) {
    this.o = { ...ENGINE_DEFAULTS };
    for (const k of Object.keys(ENGINE_DEFAULTS) as (keyof EngineTimings)[]) {
      const v = options[k];
      if (typeof v === 'number' && v > 0) this.o[k] = v;
    }
    this.paths = storePaths(options.dataDir);
    this.log = options.log ?? (() => undefined);
    this.segments = new SegmentStore(options.dataDir, (level, m) => this.log(level, m), this.o.segmentDeleteGraceMs);
    this.currentDb = state.db;
    this.dbId = state.dbId;
    this.lsn = state.lastLsn;
    this.snapshotLsnValue = state.snapshotLsn;
    this.countersValue = state.counters;
  }

  static async open(options: EngineOptions): Promise<StoreEngine> {
    const paths = storePaths(options.dataDir);
    await mkdir(paths.dir, { recursive: true });
    const mode = options.mode ?? 'auto';
    if (mode !== 'reader') {
      const attempt = WriterLock.tryAcquire(paths.lock);
      if (attempt.acquired) {
        try {
          const load = await loadForWriter(paths, options.wasmPath, (m) => options.log?.('info', m), attempt.tookOverFrom);
          const engine = new StoreEngine('writer', mode, options, load.state);
          await engine.startWriter(load, attempt.lock);
          return engine;
        } catch (err) {
          attempt.lock.release();
          throw err;
        }
      }
      if (mode === 'writer') throw new StoreLockedError(attempt.owner);
    }
    const load = await loadForReader(paths, options.wasmPath);
    const engine = new StoreEngine('reader', mode, options, load.state);
    engine.follow = new JournalFollow(paths.journal, load.follower);
    for (const w of load.warnings) engine.warn(w);
    engine.every(engine.o.pollIntervalMs, () => void engine.refresh());
    return engine;
  }

  get role(): StoreRole {
    return this.currentRole;
  }

  /** The database now: a reader's reload or a promotion replaces it, so do not keep it. */
  get db(): SqlDatabase {
    return this.currentDb;
  }

  /** Next free ids (the writer allocates from them). */
  get counters(): IdCounters {
    return this.countersValue;
  }

  /** True while this engine may commit. */
  get writable(): boolean {
    return this.currentRole === 'writer' && !!this.journal && !this.closed;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get lastLsn(): number {
    return this.lsn;
  }

  get snapshotLsn(): number {
    return this.snapshotLsnValue;
  }

  get lastSnapshot(): SnapshotInfo | undefined {
    return this.lastSnapshotValue;
  }

  get journalBytes(): number {
    return this.journal?.size ?? 0;
  }

  get reloads(): number {
    return this.reloadCount;
  }

  /** Opens the journal for appending (after a first snapshot if there is none) and starts the writer's timers. */
  private async startWriter(load: WriterLoad, lock: WriterLock): Promise<void> {
    this.lock = lock;
    for (const w of load.warnings) this.warn(w);
    const journalOptions = {
      flushIntervalMs: this.o.flushIntervalMs,
      onError: (err: Error) => this.log('error', `journal write failed: ${err.message}`),
      beforeSync: () => this.segments.sync(),
    };
    if (load.journalEnd === undefined) {
      // A journal always continues a snapshot on disk: write the snapshot first.
      if (load.needSnapshot) await this.writeSnapshotFile();
      await createJournalFile(this.paths.journal, { dbId: this.dbId, baseLsn: this.lsn });
      this.journal = JournalWriter.open(this.paths.journal, this.dbId, HEADER_SIZE, journalOptions);
    } else {
      this.journal = JournalWriter.open(this.paths.journal, this.dbId, load.journalEnd, journalOptions);
      if (load.needSnapshot) this.snapshotSoon();
    }
    this.segments.startWriting(this.currentDb, this.dbId, this.options.segmentBytes, load.warnings.length > 0);
    this.moveChunksOutOfDatabase();
    this.every(Math.min(this.o.snapshotIntervalMs, 5_000), () => {
      if (this.snapshotDue()) this.snapshotSoon();
      this.segments.deleteDoomed(this.snapshotLsnValue);
    });
    this.every(this.o.lockCheckIntervalMs, () => this.checkLock());
    setImmediate(() => this.options.onWriter?.());
  }

  /**
   * A reader becomes the writer if no live process holds the lock any more (its writer closed or
   * died): it reloads from the files as the writer would, then stores what the sink receives.
   * Resolves with whether this engine is the writer now. 'auto' readers try this on their own.
   */
  async becomeWriter(): Promise<boolean> {
    if (this.currentRole === 'writer') return true;
    if (this.closed || this.mode === 'reader') return false;
    const attempt = WriterLock.tryAcquire(this.paths.lock);
    if (!attempt.acquired) return false;
    try {
      const load = await loadForWriter(this.paths, this.options.wasmPath, (m) => this.log('info', m), attempt.tookOverFrom);
      if (this.closed) {
        load.state.db.close();
        attempt.lock.release();
        return false;
      }
      for (const t of this.timers.splice(0)) clearInterval(t);
      this.follow?.close();
      this.follow = undefined;
      this.adopt(load.state);
      this.currentRole = 'writer';
      await this.startWriter(load, attempt.lock);
      this.log('info', 'the previous writer is gone: this store is the writer now');
      this.changed();
      return true;
    } catch (err) {
      attempt.lock.release();
      this.log('error', `could not become the writer: ${(err as Error).message}`);
      return false;
    }
  }

  /** Called (coalesced) after new data arrived: the writer's own commits, or a reader's refresh. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Applies an operation, then journals it (a change that failed to apply is never journaled). Returns the bytes journaled. */
  commit(op: Operation): number {
    if (!this.writable) throw new Error('this capture store does not write');
    const payload = encodeOperation(op);
    // The chunk bytes it refers to reach the OS first; if they cannot, nothing changes.
    this.segments.writePending();
    this.openBatch();
    if (appliesInOneStatement(op)) applyOperation(this.currentDb, op);
    else this.currentDb.atomically(() => applyOperation(this.currentDb, op));
    this.countersValue.bump(op);
    this.lsn++;
    this.journal!.append(this.lsn, payload);
    this.changed();
    return payload.length;
  }

  /** Writer: opens the batch transaction, also for an operation's lookups (alone, each statement rereads SQLite's pages: 12 µs a lookup, not 1). */
  openBatch(): void {
    if (!this.writable) return;
    this.currentDb.begin();
    this.batchTimer ??= setTimeout(() => this.afterBatch(), this.o.flushIntervalMs);
  }

  /** Writer: appends a new chunk's stored bytes to the current segment (its journal record follows). */
  appendChunk(stored: Buffer): ChunkLocation {
    return this.segments.append(stored);
  }

  /** Writer, after retention: deletes or compacts segments with dead space (chunk-relocation.ts); a snapshot follows. */
  compactSegments(): { dead: number; compacted: number } {
    if (!this.writable) return { dead: 0, compacted: 0 };
    const result = compactSegments(this, this.uncompactable, (m) => this.log('warn', m));
    if (result.dead + result.compacted > 0) this.snapshotSoon();
    return result;
  }

  /** Writer: compresses up to `maxRawBytes` of chunks stored raw while capture was behind. Returns how many it looked at (0: none left). */
  compressDeferred(maxRawBytes: number): number {
    return this.writable ? compressDeferredChunks(this, this.ids, this.deferredCursor, maxRawBytes) : 0;
  }

  /** Writer: resolves when everything stored so far is in the journal on disk. Reader: picks up new data now. */
  async flush(): Promise<void> {
    if (this.role === 'reader') return this.refresh();
    this.currentDb.commit();
    await this.journal?.flush();
  }

  /** Writer: writes a snapshot now (and shortens the journal). Resolves with its figures. */
  async snapshot(): Promise<SnapshotInfo | undefined> {
    if (!this.journal) return undefined;
    while (this.snapshotting) await this.snapshotting;
    if (this.lsn === this.snapshotLsnValue && this.lastSnapshotValue) {
      this.segments.deleteDoomed(this.snapshotLsnValue);
      return this.lastSnapshotValue;
    }
    this.snapshotting = this.doSnapshot().finally(() => {
      this.snapshotting = undefined;
    });
    return this.snapshotting;
  }

  /** Reader: applies what the writer appended (or reloads after the writer replaced the files). */
  refresh(): Promise<void> {
    if (this.role !== 'reader' || this.closed) return Promise.resolve();
    this.polling ??= this.pollOnce().catch((err: Error) => this.log('warn', `refresh failed: ${err.message}`)).finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    if (this.changeTimer) clearTimeout(this.changeTimer);
    if (this.polling) await this.polling;
    if (this.journal) {
      try {
        await this.snapshotNow();
      } catch (err) {
        this.log('error', `final snapshot failed (the journal still holds everything): ${(err as Error).message}`);
      }
    }
    try {
      await this.journal?.close();
      await this.segments.stopWriting();
    } finally {
      // A journal that cannot flush (a full disk) must not keep the data directory locked.
      this.segments.abandonWriting();
      this.segments.close();
      this.lock?.release();
      this.follow?.close();
      this.currentDb.close();
    }
  }

  // ---- Internals ---------------------------------------------------------------------------

  private afterBatch(): void {
    this.batchTimer = undefined;
    if (this.closed) return;
    this.currentDb.commit();
    // A large database is expensive to export, and its replay cost grows with the journal:
    // let the journal grow to half the database before a snapshot is forced.
    if (this.journalBytes > Math.max(this.o.snapshotJournalBytes, (this.lastSnapshotValue?.bytes ?? 0) / 2)) this.snapshotSoon();
    this.options.onBatch?.();
  }

  /**
   * Periodic snapshots keep journal replays short, but the export blocks the event loop in
   * proportion to the database size: the interval stretches so exporting takes at most ~1% of the time.
   */
  private snapshotDue(now = Date.now()): boolean {
    if (this.lsn === this.snapshotLsnValue) return false;
    const last = this.lastSnapshotValue ?? { at: this.openedAt, exportMs: 0 };
    return now - last.at >= Math.max(this.o.snapshotIntervalMs, last.exportMs * EXPORT_DUTY);
  }

  private snapshotSoon(): void {
    if (this.closed || this.snapshotting || this.lsn === this.snapshotLsnValue) return;
    void this.snapshot().catch((err: Error) => this.log('error', `snapshot failed (the journal still holds everything): ${err.message}`));
  }

  private async snapshotNow(): Promise<void> {
    while (this.snapshotting) await this.snapshotting.catch(() => undefined);
    if (this.lsn !== this.snapshotLsnValue) await this.snapshot();
  }

  /** Export (the only part on the event loop), write atomically, then start a shorter journal. */
  private async doSnapshot(): Promise<SnapshotInfo> {
    const journal = this.journal!;
    const lsn = this.lsn;
    // Everything captured so far reaches the OS before the export blocks the loop.
    journal.writeNow();
    const t0 = performance.now();
    const bytes = this.exportDatabase();
    const exportMs = performance.now() - t0;
    journal.beginSnapshot();
    try {
      // The snapshot refers to chunks: their bytes are durable before it is.
      await this.segments.sync();
      await writeSnapshot(this.paths.snapshot, bytes, (m) => this.log('warn', m), () => this.assertStillWriter(journal));
      this.assertStillWriter(journal);
      await journal.rotate(lsn);
    } catch (err) {
      journal.abortSnapshot();
      throw err;
    }
    this.snapshotLsnValue = lsn;
    this.lastSnapshotValue = { at: Date.now(), lsn, bytes: bytes.length, exportMs, writeMs: performance.now() - t0 - exportMs };
    this.segments.deleteDoomed(lsn);
    return this.lastSnapshotValue;
  }

  /** Never replace files that another writer owns now (our lock was taken over meanwhile). */
  private assertStillWriter(journal: JournalWriter): void {
    if (this.journal !== journal || !this.lock?.stillOwned()) throw new Error('no longer the writer of this data directory');
  }

  /** The first snapshot of a new or repaired database, before any journal exists. */
  private async writeSnapshotFile(): Promise<void> {
    const bytes = this.exportDatabase();
    await writeSnapshot(this.paths.snapshot, bytes, (m) => this.log('warn', m));
    this.snapshotLsnValue = this.lsn;
  }

  private exportDatabase(): Uint8Array {
    setMeta(this.currentDb, 'last_lsn', this.lsn);
    this.countersValue.save(this.currentDb);
    // SSE rows of streaming exchanges come and go (packed at the end): when the pages they freed
    // are a quarter of the file, give them back, so the file in memory and the snapshot stay small.
    const free = Number(this.currentDb.value('PRAGMA freelist_count'));
    if (free > 64 && free * 4 > Number(this.currentDb.value('PRAGMA page_count'))) this.currentDb.exec('PRAGMA incremental_vacuum');
    return this.currentDb.export();
  }

  /**
   * Chunks still kept in the database (opened at schema 4 or earlier, or a journal of then
   * replayed) move to segment files through journaled relocations; the database is rebuilt
   * without the space they took, and a snapshot follows.
   */
  private moveChunksOutOfDatabase(): void {
    const moved = moveChunksOutOfDatabase(this);
    if (moved === 0) return;
    this.currentDb.commit();
    // Rows that shrank leave their pages mostly empty: rebuild the (now small) database once.
    this.currentDb.exec('VACUUM');
    this.log('info', `moved ${moved} chunks from the database to segment files`);
    this.snapshotSoon();
  }

  /** Cheap pre-check before trying for the lock: is there a lock file whose owner may be alive? */
  private lockHeld(): boolean {
    try {
      const owner = JSON.parse(readFileSync(this.paths.lock, 'utf8')) as LockOwner;
      return ownerAlive(owner);
    } catch {
      return false;
    }
  }

  private checkLock(): void {
    if (!this.lock || this.closed || this.lock.stillOwned()) return;
    // Someone else writes now (for example, our pid looked dead from another host). Writing on
    // would corrupt their files: stop, keep serving what is in memory.
    this.log('error', 'the writer lock was taken over by another process; this store stops writing');
    this.journal?.abandon();
    this.journal = undefined;
    this.segments.abandonWriting();
    this.lock = undefined;
  }

  private async pollOnce(): Promise<void> {
    // An 'auto' reader takes over when the writer has gone (checked about every 2 s).
    if (this.mode === 'auto' && ++this.polls % Math.max(1, Math.round(2000 / this.o.pollIntervalMs)) === 0 && !this.lockHeld()) {
      if (await this.becomeWriter()) return;
    }
    const state: LoadedState = { db: this.currentDb, dbId: this.dbId, snapshotLsn: this.snapshotLsnValue, lastLsn: this.lsn, counters: this.countersValue, replayed: 0 };
    const applied = this.follow?.poll(state) ?? 0;
    this.lsn = state.lastLsn;
    if (applied === 'reload') return this.reload();
    if (applied > 0) this.changed();
  }

  private async reload(): Promise<void> {
    this.reloadCount++;
    const load = await loadForReader(this.paths, this.options.wasmPath);
    if (this.closed) {
      load.state.db.close();
      load.follower?.close();
      return;
    }
    this.follow?.close();
    this.adopt(load.state);
    this.follow = new JournalFollow(this.paths.journal, load.follower);
    for (const w of load.warnings) this.log('warn', w);
    this.changed();
  }

  /** Replaces the in-memory database (reader reload, promotion to writer). */
  private adopt(state: LoadedState): void {
    this.segments.databaseReplaced();
    this.currentDb.close();
    this.currentDb = state.db;
    this.dbId = state.dbId;
    this.lsn = state.lastLsn;
    this.snapshotLsnValue = state.snapshotLsn;
    this.countersValue = state.counters;
  }

  private changed(): void {
    if (this.listeners.size === 0 || this.changeTimer) return;
    this.changeTimer = setTimeout(() => {
      this.changeTimer = undefined;
      for (const l of this.listeners) {
        try {
          l();
        } catch (err) {
          this.log('error', `change listener failed: ${(err as Error).message}`);
        }
      }
    }, 50);
    this.changeTimer.unref();
  }

  private warn(message: string): void {
    this.warnings.push(message);
    this.log('warn', message);
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }
}

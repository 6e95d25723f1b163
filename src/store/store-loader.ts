// Loading a data directory: the snapshot, then the journal records it does not hold yet.
// The writer repairs what it finds (sets a broken snapshot or journal aside, cuts a torn journal
// tail); a reader never touches the files and retries when it catches the writer mid-rotation.
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openCheckedDatabase, readFileIfExists, readSnapshotSum, removeStaleTemps, setAside, timestampSuffix, type SnapshotSum } from './database-file';
import { HEADER_SIZE, JournalFollower, readJournalFile, type JournalRecord } from './journal';
import { applyOperation, decodeOperation, idsUsed, type Operation } from './operations';
import { getMeta, migrate, SCHEMA_VERSION, SchemaTooNewError, setMeta } from './schema';
import { SqlDatabase } from './sqlite';
import type { LockOwner } from './writer-lock';

export interface StorePaths {
  dir: string;
  snapshot: string;
  journal: string;
  lock: string;
}

export function storePaths(dataDir: string): StorePaths {
  return { dir: dataDir, snapshot: join(dataDir, 'capture.sqlite'), journal: join(dataDir, 'capture.journal'), lock: join(dataDir, 'writer.lock') };
}

/** Next free ids. Kept in meta at each snapshot and moved past every id a replayed operation uses, so ids never repeat. */
export class IdCounters {
  connection = 1;
  exchange = 1;
  body = 1;
  chunk = 1;

  static fromDb(db: SqlDatabase): IdCounters {
    const c = new IdCounters();
    const next = (table: string, key: string) => Math.max(Number(getMeta(db, key) ?? 1), Number(db.value(`SELECT COALESCE(MAX(id), 0) + 1 FROM ${table}`)));
    c.connection = next('connections', 'next_connection_id');
    c.exchange = next('exchanges', 'next_exchange_id');
    c.body = next('bodies', 'next_body_id');
    c.chunk = next('chunks', 'next_chunk_id');
    return c;
  }

  bump(op: Operation): void {
    const u = idsUsed(op);
    if (u.connection !== undefined) this.connection = Math.max(this.connection, u.connection + 1);
    if (u.exchange !== undefined) this.exchange = Math.max(this.exchange, u.exchange + 1);
    if (u.body !== undefined) this.body = Math.max(this.body, u.body + 1);
    if (u.chunk !== undefined) this.chunk = Math.max(this.chunk, u.chunk + 1);
  }

  save(db: SqlDatabase): void {
    setMeta(db, 'next_connection_id', this.connection);
    setMeta(db, 'next_exchange_id', this.exchange);
    setMeta(db, 'next_body_id', this.body);
    setMeta(db, 'next_chunk_id', this.chunk);
  }
}

export interface LoadedState {
  db: SqlDatabase;
  dbId: string;
  /** Last LSN held by the snapshot file as loaded. */
  snapshotLsn: number;
  /** Last LSN applied (snapshot + journal). */
  lastLsn: number;
  counters: IdCounters;
  replayed: number;
}

export interface ReplayResult {
  applied: number;
  /** Offset after the last record applied or skipped (records are parsed from HEADER_SIZE). */
  end: number;
  /** Why replay stopped early (a gap in LSNs or a record that does not apply). */
  error?: string;
}

/** Applies, in order, the records with an LSN above the state's; stops at the first gap or failure. */
export function replay(state: LoadedState, records: JournalRecord[], startOffset = HEADER_SIZE): ReplayResult {
  let applied = 0;
  let end = startOffset;
  for (const rec of records) {
    if (rec.lsn <= state.lastLsn) {
      end = rec.end;
      continue;
    }
    if (rec.lsn !== state.lastLsn + 1) return { applied, end, error: `journal record ${rec.lsn} follows ${state.lastLsn} (records are missing)` };
    try {
      const op = decodeOperation(rec.payload);
      state.db.atomically(() => applyOperation(state.db, op));
      state.counters.bump(op);
    } catch (err) {
      return { applied, end, error: `journal record ${rec.lsn} could not be applied: ${(err as Error).message}` };
    }
    state.lastLsn = rec.lsn;
    end = rec.end;
    applied++;
  }
  state.db.commit();
  return { applied, end };
}

async function emptyDatabase(wasmPath: string | undefined): Promise<SqlDatabase> {
  const db = await SqlDatabase.create(wasmPath);
  migrate(db);
  return db;
}

function stateOf(db: SqlDatabase): LoadedState {
  const snapshotLsn = Number(getMeta(db, 'last_lsn') ?? 0);
  return { db, dbId: getMeta(db, 'db_id') ?? '', snapshotLsn, lastLsn: snapshotLsn, counters: IdCounters.fromDb(db), replayed: 0 };
}

export interface WriterLoad {
  state: LoadedState;
  /** Where to go on appending to the existing journal; undefined: start a new journal (after a first snapshot). */
  journalEnd?: number;
  /** True when the files on disk do not yet hold what was loaded (no snapshot, or records replayed). */
  needSnapshot: boolean;
  warnings: string[];
}

/** Loads for the writer, after removing what a crash left half-written; `tookOver`: whose lock it took, said in the log. */
export async function loadForWriter(paths: StorePaths, wasmPath: string | undefined, info: (m: string) => void,
  tookOver?: LockOwner | 'unreadable'): Promise<WriterLoad> {
  if (tookOver) {
    info(tookOver === 'unreadable' ? 'took over an unreadable writer lock'
      : `took over the writer lock of process ${tookOver.pid} on ${tookOver.hostname}, which is no longer running`);
  }
  await removeStaleTemps(paths.dir, ['capture.sqlite', 'capture.sqlite.sum', 'capture.journal']);
  const warnings: string[] = [];
  const [bytes, sum] = await Promise.all([readFileIfExists(paths.snapshot), readSnapshotSum(paths.snapshot)]);
  let db: SqlDatabase | undefined;
  let snapshotOk = false;
  if (bytes) {
    try {
      db = (await openCheckedDatabase(wasmPath, bytes, sum)).db;
      // A snapshot at an older schema version is not what the database now is: write it anew.
      snapshotOk = migrate(db) === SCHEMA_VERSION;
    } catch (err) {
      db?.close();
      db = undefined;
      if (err instanceof SchemaTooNewError) throw err;
      // Never save over it: move it aside first. Its journal only makes sense on top of it.
      const aside = setAside(paths.snapshot, 'unreadable');
      warnings.push(`The capture database could not be loaded (${(err as Error).message}). It was kept as ${aside}; a new, empty database was started.`);
      const j = await readFileIfExists(paths.journal);
      if (j) warnings.push(`Its journal was kept as ${setAside(paths.journal, 'without-database')}.`);
    }
  }
  const state = stateOf(db ?? (await emptyDatabase(wasmPath)));
  const journal = readJournalFile(paths.journal);
  let journalEnd: number | undefined;
  if (journal) {
    const h = journal.header;
    let usable = !!h;
    if (h && h.dbId !== state.dbId) {
      if (!bytes && h.baseLsn === 0) {
        // The database was never snapshotted: the journal holds all of it, so take its identity.
        setMeta(state.db, 'db_id', h.dbId);
        state.db.commit();
        state.dbId = h.dbId;
      } else {
        usable = false;
      }
    }
    if (h && usable && h.baseLsn > state.snapshotLsn) usable = false;
    if (!usable) {
      if (!h && journal.parsed.problem === 'torn') {
        // A crash while the header was being written: nothing was in it.
        rmSync(paths.journal, { force: true });
      } else {
        const aside = setAside(paths.journal, 'mismatched');
        warnings.push(`The journal does not belong to the database snapshot and was kept as ${aside}; its records were not applied.`);
      }
    } else {
      const r = replay(state, journal.parsed.records);
      state.replayed = r.applied;
      journalEnd = r.end;
      if (r.error || journal.parsed.problem === 'corrupt') {
        const copy = join(paths.dir, `capture.journal.broken-${timestampSuffix()}`);
        copyFileSync(paths.journal, copy);
        warnings.push(`The journal is damaged after offset ${r.end} (${r.error ?? 'a record fails its checksum'}); ${r.applied} records were recovered, the rest was kept in ${copy}.`);
      } else if (journal.parsed.problem === 'torn' && journal.size > r.end) {
        info(`discarded an incomplete journal record (${journal.size - r.end} bytes) left by a crash`);
      }
    }
  }
  return { state, journalEnd, needSnapshot: !snapshotOk || state.replayed > 0, warnings };
}

export interface ReaderLoad {
  state: LoadedState;
  follower?: JournalFollower;
  warnings: string[];
}

/**
 * Loads without touching the files. If the journal does not continue the snapshot (the writer is
 * between renaming its snapshot and replacing its journal), tries again a little later.
 */
export async function loadForReader(paths: StorePaths, wasmPath: string | undefined): Promise<ReaderLoad> {
  const warnings: string[] = [];
  for (let attempt = 0; ; attempt++) {
    const [bytes, sum] = await Promise.all([readFileIfExists(paths.snapshot), readSnapshotSum(paths.snapshot)]);
    let db: SqlDatabase;
    try {
      db = bytes ? (await openCheckedDatabase(wasmPath, bytes, sum)).db : await emptyDatabase(wasmPath);
      migrate(db);
    } catch (err) {
      if (err instanceof SchemaTooNewError) throw err;
      if (attempt < 3) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      warnings.push(`The capture database could not be loaded (${(err as Error).message}); showing nothing until the writer replaces it.`);
      db = await emptyDatabase(wasmPath);
    }
    const state = stateOf(db);
    const follower = JournalFollower.open(paths.journal);
    if (follower) {
      const h = follower.header;
      const adopt = !bytes && h.baseLsn === 0;
      const consistent = (h.dbId === state.dbId || adopt) && h.baseLsn <= state.snapshotLsn;
      let r: ReplayResult | undefined;
      if (consistent) {
        if (adopt) state.dbId = h.dbId;
        r = replay(state, follower.readNew().records, 0);
      }
      if (!consistent || r?.error) {
        follower.close();
        db.close();
        if (attempt < 5) {
          await new Promise((res) => setTimeout(res, 100));
          continue;
        }
        warnings.push(`The journal does not continue the database snapshot (${r?.error ?? 'different database'}); showing the snapshot only.`);
        return { state: stateOf(await reopen(wasmPath, bytes, sum)), warnings };
      }
      state.replayed = r?.applied ?? 0;
    }
    return { state, follower, warnings };
  }
}

async function reopen(wasmPath: string | undefined, bytes: Buffer | undefined, sum: SnapshotSum | undefined): Promise<SqlDatabase> {
  try {
    if (bytes) {
      const { db } = await openCheckedDatabase(wasmPath, bytes, sum);
      migrate(db);
      return db;
    }
  } catch {
    // Fall through to an empty database.
  }
  return emptyDatabase(wasmPath);
}

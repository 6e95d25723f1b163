// Retention: which whole exchanges (and connections) to delete, by age and by total size.
// This module chooses; the deletion itself is a journaled 'delete' operation (ctx.remove), so
// readers and replays delete exactly the same rows, and chunk garbage collection happens in
// applyOperation.
import { UNCUT_CHUNK } from './chunked-bodies';
import type { SqlDatabase } from './sqlite';

export interface RetentionSettings {
  /** Delete exchanges that started more than this many days ago. */
  maxAgeDays?: number;
  /** Keep the store at most this large (database pages in use plus chunk bytes in segment files), deleting oldest exchanges first. */
  maxBytes?: number;
}

export interface RetentionResult {
  exchangesDeleted: number;
  connectionsDeleted: number;
  /** Bytes in use (usedBytes) before and after. */
  bytesBefore: number;
  bytesAfter: number;
}

/** Bytes of SQLite pages that hold data (the file minus its free list). */
export function databaseUsedBytes(db: SqlDatabase): number {
  const pages = Number(db.value('PRAGMA page_count'));
  const free = Number(db.value('PRAGMA freelist_count'));
  return (pages - free) * Number(db.value('PRAGMA page_size'));
}

/** What the store takes: database pages in use plus the chunk bytes kept in segment files. */
export function usedBytes(db: SqlDatabase): number {
  return databaseUsedBytes(db) + Number(db.value('SELECT COALESCE(SUM(stored_size), 0) FROM chunks WHERE segment IS NOT NULL'));
}

/**
 * What retention's size limit measures: `usedBytes`, less the bodies stored uncut while capture was
 * behind (up to `maxBytes` of them). Cut, a resent history mostly deduplicates away, so counting it
 * whole would delete older exchanges for bytes that are about to go; the cap keeps the disk within
 * twice the limit through a long flood (docs/decisions.md, decision 73).
 */
export function retainedBytes(db: SqlDatabase, maxBytes: number): number {
  const uncut = Number(db.value(`SELECT COALESCE(SUM(stored_size), 0) FROM chunks WHERE ${UNCUT_CHUNK} AND segment IS NOT NULL`));
  return usedBytes(db) - Math.min(uncut, maxBytes);
}

/** Exchanges older than the cutoff (imported ones: imported before it), oldest first, skipping those still being captured. */
export function expiredByAge(db: SqlDatabase, cutoff: number, live: ReadonlySet<number>, batch = 500): number[] {
  const rows = db.all('SELECT id FROM exchanges WHERE COALESCE(imported_at, started_at) < ? ORDER BY started_at LIMIT ?', [cutoff, batch + live.size]);
  return rows.map((r) => Number(r.id)).filter((id) => !live.has(id)).slice(0, batch);
}

/** The oldest exchanges (by id, which follows capture order), skipping live ones. */
export function oldestExchanges(db: SqlDatabase, count: number, live: ReadonlySet<number>): { ids: number[]; newestStart: number } {
  const rows = db.all('SELECT id, started_at FROM exchanges ORDER BY id LIMIT ?', [count + live.size]);
  const kept = rows.filter((r) => !live.has(Number(r.id))).slice(0, count);
  return { ids: kept.map((r) => Number(r.id)), newestStart: kept.length ? Math.max(...kept.map((r) => Number(r.started_at))) : -Infinity };
}

/**
 * Connections opened before the cutoff that no exchange refers to and that are over (closed, or
 * not among the live ones). Tunnelled connections never have exchanges and go this way.
 */
export function orphanConnections(db: SqlDatabase, cutoff: number, live: ReadonlySet<number>, batch = 1000): number[] {
  const rows = db.all(
    `SELECT id FROM connections c WHERE opened_at < ?
       AND NOT EXISTS (SELECT 1 FROM exchanges e WHERE e.connection_id = c.id)
     ORDER BY id LIMIT ?`,
    [cutoff, batch + live.size],
  );
  return rows.map((r) => Number(r.id)).filter((id) => !live.has(id)).slice(0, batch);
}

export interface RetentionContext {
  /** Exchanges and connections still being captured: never deleted. */
  liveExchanges: ReadonlySet<number>;
  liveConnections: ReadonlySet<number>;
  /** Deletes (through a journaled operation). */
  remove(exchangeIds: number[], connectionIds: number[]): void;
}

/** Deletes exchanges older than maxAgeDays, then the oldest until the database fits maxBytes. */
export function runRetention(db: SqlDatabase, settings: RetentionSettings, now: number, ctx: RetentionContext): RetentionResult {
  const bytesBefore = usedBytes(db);
  const result: RetentionResult = { exchangesDeleted: 0, connectionsDeleted: 0, bytesBefore, bytesAfter: bytesBefore };
  const remove = (exchangeIds: number[], connectionIds: number[]): boolean => {
    if (exchangeIds.length === 0 && connectionIds.length === 0) return false;
    ctx.remove(exchangeIds, connectionIds);
    result.exchangesDeleted += exchangeIds.length;
    result.connectionsDeleted += connectionIds.length;
    return true;
  };
  const { maxAgeDays, maxBytes } = settings;
  if (maxAgeDays !== undefined && maxAgeDays > 0) {
    const cutoff = now - maxAgeDays * 86_400_000;
    while (remove(expiredByAge(db, cutoff, ctx.liveExchanges), [])) { /* batches of 500 */ }
    while (remove([], orphanConnections(db, cutoff, ctx.liveConnections))) { /* batches of 1000 */ }
  }
  if (maxBytes !== undefined && maxBytes > 0 && retainedBytes(db, maxBytes) > maxBytes) {
    // Down to 90%, so that the next few writes do not trigger another pass at once. The batch
    // is sized from the average exchange, since how much a deletion frees is only known after
    // it (chunks shared with newer exchanges stay).
    const target = maxBytes * 0.9;
    for (let used = retainedBytes(db, maxBytes); used > target; used = retainedBytes(db, maxBytes)) {
      const exchanges = Number(db.value('SELECT COUNT(*) FROM exchanges'));
      const batch = Math.max(10, Math.min(2000, Math.ceil(((used - target) / Math.max(used, 1)) * exchanges)));
      const { ids, newestStart } = oldestExchanges(db, batch, ctx.liveExchanges);
      const removedExchanges = remove(ids, []);
      const removedConnections = remove([], orphanConnections(db, ids.length ? newestStart : Infinity, ctx.liveConnections));
      if (!removedExchanges && !removedConnections) break;
    }
  }
  if (result.exchangesDeleted + result.connectionsDeleted > 0) {
    db.commit();
    // Give freed pages back, so the in-memory file and the next snapshot shrink.
    db.exec('PRAGMA incremental_vacuum');
  }
  result.bytesAfter = usedBytes(db);
  return result;
}

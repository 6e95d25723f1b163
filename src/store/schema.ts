// The database schema, as numbered migrations tracked by `PRAGMA user_version`.
// Migration 1 holds what capture records; later ones add to it (5 rebuilds `chunks`), and a database at any
// earlier version is brought up in place when it is opened. Never edit a released migration:
// add a new one. Derived tables (LLM calls, sessions, threads, turns), when they come, are rebuilt
// from exchanges whenever the assembler version changes, so later migrations may drop and recreate them.
import { randomUUID } from 'node:crypto';
import type { SqlDatabase } from './sqlite';

interface Migration {
  version: number;
  /** SQL run inside one transaction together with the user_version bump. */
  sql: string;
}

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

      CREATE TABLE connections (
        id INTEGER PRIMARY KEY,
        opened_at REAL NOT NULL,
        closed_at REAL,
        client_address TEXT NOT NULL,
        client_port INTEGER NOT NULL,
        label TEXT,
        target_host TEXT NOT NULL,
        target_port INTEGER NOT NULL,
        mode TEXT NOT NULL,
        tls_outcome TEXT,
        tls_detail TEXT,
        bytes_from_client INTEGER,
        bytes_to_client INTEGER,
        error TEXT
      );

      -- Bodies are referenced by id; their metadata (wire size, encoding, …) is per exchange,
      -- because one deduplicated body can arrive with different encodings.
      CREATE TABLE exchanges (
        id INTEGER PRIMARY KEY,
        connection_id INTEGER NOT NULL,
        started_at REAL NOT NULL,
        ended_at REAL,
        method TEXT NOT NULL,
        url TEXT NOT NULL,
        http_version TEXT NOT NULL,
        kind TEXT NOT NULL,
        status_code INTEGER,
        status_message TEXT,
        request_headers TEXT NOT NULL,
        response_headers TEXT,
        request_body_id INTEGER,
        request_body_meta TEXT,
        response_body_id INTEGER,
        response_body_meta TEXT,
        request_ended_at REAL,
        response_started_at REAL,
        outcome TEXT,
        errors TEXT NOT NULL
      );
      CREATE INDEX exchanges_connection ON exchanges(connection_id);
      CREATE INDEX exchanges_started ON exchanges(started_at);
      CREATE INDEX exchanges_request_body ON exchanges(request_body_id) WHERE request_body_id IS NOT NULL;
      CREATE INDEX exchanges_response_body ON exchanges(response_body_id) WHERE response_body_id IS NOT NULL;

      CREATE TABLE sse_events (
        exchange_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        time REAL NOT NULL,
        event TEXT,
        event_id TEXT,
        data TEXT NOT NULL,
        PRIMARY KEY (exchange_id, seq)
      ) WITHOUT ROWID;

      -- Small payloads are kept inline (data); large ones (a Codex response.create resends the
      -- whole history) go to the deduplicated body store (body_id).
      CREATE TABLE ws_messages (
        exchange_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        time REAL NOT NULL,
        direction TEXT NOT NULL,
        opcode TEXT NOT NULL,
        size INTEGER NOT NULL,
        data BLOB,
        body_id INTEGER,
        PRIMARY KEY (exchange_id, seq)
      ) WITHOUT ROWID;
      CREATE INDEX ws_messages_body ON ws_messages(body_id) WHERE body_id IS NOT NULL;

      -- A body is an ordered list of chunks (manifest: varint-encoded chunk ids).
      CREATE TABLE bodies (
        id INTEGER PRIMARY KEY,
        sha256 BLOB NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        manifest BLOB NOT NULL
      );

      -- refs: how many bodies list this chunk (each body counted once).
      CREATE TABLE chunks (
        id INTEGER PRIMARY KEY,
        sha256 BLOB NOT NULL UNIQUE,
        codec INTEGER NOT NULL,
        raw_size INTEGER NOT NULL,
        data BLOB NOT NULL,
        refs INTEGER NOT NULL
      );
    `,
  },
  {
    // The SSE `retry` field (reconnection time in ms) that capture records since the previous event.
    version: 2,
    sql: 'ALTER TABLE sse_events ADD COLUMN retry INTEGER;',
  },
  {
    // The proxy's own answer to a CONNECT it refused (a tunnel it could not open).
    version: 3,
    sql: 'ALTER TABLE connections ADD COLUMN connect_status INTEGER;',
  },
  {
    // When an exchange was imported from HAR: retention by age counts from then (an imported
    // year-old HAR must not be deleted the moment it is imported).
    version: 4,
    sql: 'ALTER TABLE exchanges ADD COLUMN imported_at REAL;',
  },
  {
    // Chunk bytes move to segment files (segment-format.ts): a chunk row keeps where they are.
    // `data` stays, nullable, for chunks not moved yet (a writer moves them right after loading;
    // a reader keeps them in its in-memory copy). An ended exchange's SSE events are packed into
    // one body (sse-packing.ts) instead of one row each.
    version: 5,
    sql: `
      CREATE TABLE chunks_v5 (
        id INTEGER PRIMARY KEY,
        sha256 BLOB NOT NULL UNIQUE,
        codec INTEGER NOT NULL,
        raw_size INTEGER NOT NULL,
        refs INTEGER NOT NULL,
        segment INTEGER,
        seg_offset INTEGER,
        stored_size INTEGER NOT NULL,
        data BLOB
      );
      INSERT INTO chunks_v5 (id, sha256, codec, raw_size, refs, stored_size, data)
        SELECT id, sha256, codec, raw_size, refs, LENGTH(data), data FROM chunks;
      DROP TABLE chunks;
      ALTER TABLE chunks_v5 RENAME TO chunks;
      CREATE INDEX chunks_segment ON chunks(segment) WHERE segment IS NOT NULL;
      ALTER TABLE exchanges ADD COLUMN sse_body_id INTEGER;
      ALTER TABLE exchanges ADD COLUMN sse_packed_events INTEGER;
      CREATE INDEX exchanges_sse_body ON exchanges(sse_body_id) WHERE sse_body_id IS NOT NULL;
    `,
  },
  {
    // An SSE pack may hold only the events' times, their text being the response body's
    // (sse-packing.ts, decision 88). No table changes: the version keeps a build that would misread
    // such a pack from opening the store.
    version: 6,
    sql: 'SELECT 1;',
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export class SchemaTooNewError extends Error {
  constructor(readonly found: number) {
    super(`the capture database has schema version ${found}, newer than this version of LLM Capture knows (${SCHEMA_VERSION}); it is left untouched`);
  }
}

/** Brings the database to SCHEMA_VERSION. Returns the version it had before. */
export function migrate(db: SqlDatabase): number {
  db.commit();
  const before = Number(db.value('PRAGMA user_version') ?? 0);
  if (before > SCHEMA_VERSION) throw new SchemaTooNewError(before);
  if (before === 0) {
    // Both only take effect while the file has no tables.
    // 16 KiB pages: compressed text chunks (~2 KB) fill 4 KiB pages only half (one row per page);
    // at 16 KiB the file is ~1.17x the stored chunk bytes for text, ~1.23x for incompressible data.
    db.exec('PRAGMA page_size=16384');
    // Lets the pages that retention frees be given back (PRAGMA incremental_vacuum).
    db.exec('PRAGMA auto_vacuum=INCREMENTAL');
  }
  for (const m of MIGRATIONS) {
    if (m.version <= before) continue;
    db.exec('BEGIN');
    try {
      db.exec(m.sql);
      if (m.version === 1) {
        db.run('INSERT INTO meta (key, value) VALUES (?, ?)', ['db_id', randomUUID()]);
      }
      db.exec(`PRAGMA user_version=${m.version}`);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  }
  return before;
}

export function getMeta(db: SqlDatabase, key: string): string | undefined {
  const v = db.value('SELECT value FROM meta WHERE key = ?', [key]);
  return v === undefined || v === null ? undefined : String(v);
}

export function setMeta(db: SqlDatabase, key: string, value: string | number): void {
  db.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', [key, String(value)]);
}

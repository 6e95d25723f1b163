// The unit of change: every write to the database is an operation, applied the same way live,
// when a journal is replayed on load, and by readers following the journal. Operations carry
// explicit ids (chosen by the writer), so applying them never depends on SQLite's id choice.
//
// Encoding: u8 version | u32 JSON length | JSON | binary section. Buffers inside the operation
// are replaced in the JSON by {"$b":[offset,length]} into the binary section.
import type { ConnectionRecord, SseEventRecord, WsMessageRecord, ExchangeRecord, StoredBody } from '../capture/records';
import { applyRecuts, insertBodies, relocateChunks, releaseBody, type ChunkRelocation, type NewBody, type RecutBody } from './chunked-bodies';
import type { SqlDatabase } from './sqlite';

/** A body as an exchange row keeps it: the reference plus what was known about it on the wire. */
export interface BodyRef extends Omit<StoredBody, 'data'> {
  bodyId: number;
  size: number;
}

export interface ExchangeRow extends Omit<ExchangeRecord, 'requestBody' | 'responseBody'> {
  requestBody?: BodyRef;
  responseBody?: BodyRef;
}

/** A WebSocket message row: the payload in the body store (`bodyId`); `data` inline only in rows written before schema 5. */
export interface WsRow extends Omit<WsMessageRecord, 'data'> {
  data?: Buffer;
  bodyId?: number;
}

/** An exchange's SSE events packed into one body (sse-packing.ts): its rows go. */
export interface SsePack {
  bodyId: number;
  /** How many events the body holds (for stats). */
  events: number;
}

/** Operations that store bodies may also repoint damaged chunks whose content came again (`relocations`). */
export type Operation =
  | { type: 'connection'; row: ConnectionRecord }
  | { type: 'exchange'; row: ExchangeRow; bodies: NewBody[]; pack?: SsePack; relocations?: ChunkRelocation[] }
  | { type: 'sse'; exchangeId: number; events: SseEventRecord[]; bodies?: NewBody[]; pack?: SsePack; relocations?: ChunkRelocation[] }
  | { type: 'ws'; row: WsRow; bodies: NewBody[]; relocations?: ChunkRelocation[] }
  | { type: 'delete'; exchangeIds: number[]; connectionIds: number[] }
  /**
   * Chunks moved or compressed, and bodies stored uncut while capture was behind, cut now. `recut`
   * is optional, so a version that does not know it leaves those bodies uncut, which still reads.
   */
  | { type: 'relocate'; chunks: ChunkRelocation[]; recut?: RecutBody[] };

const FORMAT_VERSION = 1;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function extractBuffers(value: unknown, blobs: Buffer[], offset: { n: number }): Json {
  if (Buffer.isBuffer(value)) {
    blobs.push(value);
    const ref = { $b: [offset.n, value.length] };
    offset.n += value.length;
    return ref;
  }
  if (Array.isArray(value)) return value.map((v) => extractBuffers(v, blobs, offset));
  if (value && typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) out[k] = extractBuffers(v, blobs, offset);
    }
    return out;
  }
  return value as Json;
}

/**
 * Whether an operation can hold no Buffer: only new bodies carry them (hashes, manifests). Such an
 * operation is JSON as it is: the walk that looks for Buffers copied every object first, and
 * operations of SSE events, the most frequent while answers stream, never have any.
 */
type BufferFields<T> = { [K in keyof T]-?: NonNullable<T[K]> extends Buffer ? K : never }[keyof T];
/** `true` while what `bufferFree` passes as it is has no Buffer field (checked when compiling). */
type RowsHoldNoBuffer = [BufferFields<ExchangeRow>, BufferFields<BodyRef>, BufferFields<ConnectionRecord>, BufferFields<SseEventRecord>, BufferFields<SsePack>] extends
  [never, never, never, never, never] ? true : false;

function bufferFree(op: Operation): boolean {
  // Stops compiling once one of those records gets a Buffer field: it would then need the walk.
  const rowsHoldNoBuffer: RowsHoldNoBuffer = true;
  if (!rowsHoldNoBuffer) return false;
  switch (op.type) {
    case 'connection':
    case 'delete':
      return true;
    case 'exchange':
    case 'sse':
      return (op.bodies?.length ?? 0) === 0;
    default:
      return false;
  }
}

export function encodeOperation(op: Operation): Buffer {
  const blobs: Buffer[] = [];
  const json = Buffer.from(JSON.stringify(bufferFree(op) ? op : extractBuffers(op, blobs, { n: 0 })));
  const head = Buffer.allocUnsafe(5);
  head.writeUInt8(FORMAT_VERSION, 0);
  head.writeUInt32LE(json.length, 1);
  return Buffer.concat([head, json, ...blobs]);
}

export function decodeOperation(payload: Buffer): Operation {
  const version = payload.readUInt8(0);
  if (version !== FORMAT_VERSION) throw new Error(`unknown operation format ${version}`);
  const jsonLength = payload.readUInt32LE(1);
  const binary = payload.subarray(5 + jsonLength);
  return JSON.parse(payload.subarray(5, 5 + jsonLength).toString('utf8'), (_key, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value) && '$b' in value) {
      const [off, len] = (value as { $b: [number, number] }).$b;
      return binary.subarray(off, off + len);
    }
    return value;
  }) as Operation;
}

const n = (v: number | undefined): number | null => (v === undefined ? null : v);
const s = (v: string | undefined): string | null => (v === undefined ? null : v);
const bodyMeta = (b: BodyRef | undefined): string | null => {
  if (!b) return null;
  const { bodyId: _id, ...meta } = b;
  return JSON.stringify(meta);
};

function applyConnection(db: SqlDatabase, c: ConnectionRecord): void {
  db.run(
    `INSERT INTO connections (id, opened_at, closed_at, client_address, client_port, label, target_host, target_port, mode,
       tls_outcome, tls_detail, bytes_from_client, bytes_to_client, error, connect_status)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET opened_at = excluded.opened_at, closed_at = excluded.closed_at,
       client_address = excluded.client_address, client_port = excluded.client_port, label = excluded.label,
       target_host = excluded.target_host, target_port = excluded.target_port, mode = excluded.mode,
       tls_outcome = excluded.tls_outcome, tls_detail = excluded.tls_detail, bytes_from_client = excluded.bytes_from_client,
       bytes_to_client = excluded.bytes_to_client, error = excluded.error, connect_status = excluded.connect_status`,
    [c.id, c.openedAt, n(c.closedAt), c.clientAddress, c.clientPort, s(c.label), c.targetHost, c.targetPort, c.mode,
      s(c.tlsOutcome), s(c.tlsDetail), n(c.bytesFromClient), n(c.bytesToClient), s(c.error), n(c.connectStatus)],
  );
}

function applyExchange(db: SqlDatabase, e: ExchangeRow, bodies: NewBody[], pack?: SsePack): void {
  insertBodies(db, bodies);
  const old = db.get('SELECT request_body_id, response_body_id FROM exchanges WHERE id = ?', [e.id]);
  db.run(
    `INSERT INTO exchanges (id, connection_id, started_at, ended_at, method, url, http_version, kind, status_code, status_message,
       request_headers, response_headers, request_body_id, request_body_meta, response_body_id, response_body_meta,
       request_ended_at, response_started_at, outcome, errors, imported_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET connection_id = excluded.connection_id, started_at = excluded.started_at,
       ended_at = excluded.ended_at, method = excluded.method, url = excluded.url, http_version = excluded.http_version,
       kind = excluded.kind, status_code = excluded.status_code, status_message = excluded.status_message,
       request_headers = excluded.request_headers, response_headers = excluded.response_headers,
       request_body_id = excluded.request_body_id, request_body_meta = excluded.request_body_meta,
       response_body_id = excluded.response_body_id, response_body_meta = excluded.response_body_meta,
       request_ended_at = excluded.request_ended_at, response_started_at = excluded.response_started_at,
       outcome = excluded.outcome, errors = excluded.errors, imported_at = excluded.imported_at`,
    [e.id, e.connectionId, e.startedAt, n(e.endedAt), e.method, e.url, e.httpVersion, e.kind, n(e.statusCode), s(e.statusMessage),
      JSON.stringify(e.requestHeaders), e.responseHeaders ? JSON.stringify(e.responseHeaders) : null,
      n(e.requestBody?.bodyId), bodyMeta(e.requestBody), n(e.responseBody?.bodyId), bodyMeta(e.responseBody),
      n(e.requestEndedAt), n(e.responseStartedAt), s(e.outcome), JSON.stringify(e.errors), n(e.importedAt)],
  );
  // A body replaced by a newer version of the record may now be unused.
  for (const previous of [old?.request_body_id, old?.response_body_id]) {
    if (typeof previous === 'number' && previous !== e.requestBody?.bodyId && previous !== e.responseBody?.bodyId) releaseBody(db, previous);
  }
  if (pack) applyPack(db, e.id, pack);
}

/** Points the exchange at its packed events and deletes their rows (the body holds them all). */
function applyPack(db: SqlDatabase, exchangeId: number, pack: SsePack): void {
  const old = db.value('SELECT sse_body_id FROM exchanges WHERE id = ?', [exchangeId]);
  db.run('UPDATE exchanges SET sse_body_id = ?, sse_packed_events = ? WHERE id = ?', [pack.bodyId, pack.events, exchangeId]);
  db.run('DELETE FROM sse_events WHERE exchange_id = ?', [exchangeId]);
  if (typeof old === 'number' && old !== pack.bodyId) releaseBody(db, old);
}

function applySse(db: SqlDatabase, exchangeId: number, events: SseEventRecord[], bodies: NewBody[] = [], pack?: SsePack): void {
  insertBodies(db, bodies);
  if (pack) return applyPack(db, exchangeId, pack);
  for (const ev of events) {
    db.run('INSERT OR REPLACE INTO sse_events (exchange_id, seq, time, event, event_id, data, retry) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [exchangeId, ev.seq, ev.time, s(ev.event), s(ev.id), ev.data, n(ev.retry)]);
  }
}

function applyWs(db: SqlDatabase, w: WsRow, bodies: NewBody[]): void {
  insertBodies(db, bodies);
  const old = db.value('SELECT body_id FROM ws_messages WHERE exchange_id = ? AND seq = ?', [w.exchangeId, w.seq]);
  db.run('INSERT OR REPLACE INTO ws_messages (exchange_id, seq, time, direction, opcode, size, data, body_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    [w.exchangeId, w.seq, w.time, w.direction, w.opcode, w.size, w.data ?? null, n(w.bodyId)]);
  if (typeof old === 'number' && old !== w.bodyId) releaseBody(db, old);
}

/** Deletes whole exchanges (with their messages and events), then the bodies and chunks nothing uses any more. */
function applyDelete(db: SqlDatabase, exchangeIds: number[], connectionIds: number[]): void {
  const released = new Set<number>();
  for (const id of exchangeIds) {
    const row = db.get('SELECT request_body_id, response_body_id, sse_body_id FROM exchanges WHERE id = ?', [id]);
    for (const b of [row?.request_body_id, row?.response_body_id, row?.sse_body_id]) if (typeof b === 'number') released.add(b);
    for (const ws of db.all('SELECT DISTINCT body_id FROM ws_messages WHERE exchange_id = ? AND body_id IS NOT NULL', [id])) {
      released.add(Number(ws.body_id));
    }
    db.run('DELETE FROM ws_messages WHERE exchange_id = ?', [id]);
    db.run('DELETE FROM sse_events WHERE exchange_id = ?', [id]);
    db.run('DELETE FROM exchanges WHERE id = ?', [id]);
  }
  for (const bodyId of released) releaseBody(db, bodyId);
  for (const id of connectionIds) db.run('DELETE FROM connections WHERE id = ?', [id]);
}

/**
 * Whether applying `op` is one SQL statement, which SQLite applies whole or not at all by itself:
 * one SSE event (how an answer streams, an event every few tens of ms) or a connection. Such an
 * operation needs no savepoint around it (docs/decisions.md, decision 93).
 */
export function appliesInOneStatement(op: Operation): boolean {
  if (op.type === 'connection') return true;
  return op.type === 'sse' && op.events.length === 1 && !op.bodies?.length && !op.pack && !op.relocations?.length;
}

export function applyOperation(db: SqlDatabase, op: Operation): void {
  if ((op.type === 'exchange' || op.type === 'sse' || op.type === 'ws') && op.relocations) relocateChunks(db, op.relocations);
  switch (op.type) {
    case 'connection': return applyConnection(db, op.row);
    case 'exchange': return applyExchange(db, op.row, op.bodies, op.pack);
    case 'sse': return applySse(db, op.exchangeId, op.events, op.bodies, op.pack);
    case 'ws': return applyWs(db, op.row, op.bodies);
    case 'delete': return applyDelete(db, op.exchangeIds, op.connectionIds);
    case 'relocate':
      relocateChunks(db, op.chunks);
      return applyRecuts(db, op.recut ?? []);
  }
}

/** The highest ids an operation uses, so id counters move past them after a replay. */
export function idsUsed(op: Operation): { connection?: number; exchange?: number; body?: number; chunk?: number } {
  // A recut body already has its id: counting it moves no counter.
  const bodies: (NewBody | RecutBody)[] = op.type === 'exchange' || op.type === 'ws' ? op.bodies
    : op.type === 'sse' ? op.bodies ?? [] : op.type === 'relocate' ? op.recut ?? [] : [];
  const body = bodies.length ? Math.max(...bodies.map((b) => b.id)) : undefined;
  const chunkIds = bodies.flatMap((b) => b.chunks.map((c) => c.id));
  const chunk = chunkIds.length ? Math.max(...chunkIds) : undefined;
  switch (op.type) {
    case 'connection': return { connection: op.row.id };
    case 'exchange': return { exchange: op.row.id, connection: op.row.connectionId, body, chunk };
    case 'ws': return { exchange: op.row.exchangeId, body, chunk };
    case 'sse': return { exchange: op.exchangeId, body, chunk };
    case 'relocate': return { body, chunk };
    case 'delete': return {};
  }
}

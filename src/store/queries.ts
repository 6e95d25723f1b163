// Paged reads for everything a UI lists. Lists are newest first with an id cursor (ids grow with
// time and never change, unlike timestamps, which can tie); messages and events are in sequence
// order with a sequence cursor. Bodies are fetched separately, by reference.
import type { ConnectionRecord, ExchangeRecord, SseEventRecord, WsMessageRecord, StoredBody } from '../capture/records';
import { BodyIntegrityError, type BodyReader } from './body-reader';
import type { BodyRef, ExchangeRow } from './operations';
import type { Row, SqlDatabase, SqlValue } from './sqlite';
import { mergeEvents, sseEventFromRow, type PackedEventsCache } from './sse-packing';

export interface Page<T> {
  items: T[];
  /** Pass as `before` (lists) or `after` (messages, events) for the next page; absent on the last page. */
  next?: number;
}

export interface ListOptions {
  /** At most this many items (default 50, at most 1000). */
  limit?: number;
  /** Only items with an id below this cursor (the `next` of the previous page). */
  before?: number;
}

export interface ExchangeListOptions extends ListOptions {
  connectionId?: number;
}

export interface SequenceOptions {
  limit?: number;
  /** Only items with a sequence number above this cursor. */
  after?: number;
}

export interface WsListOptions extends SequenceOptions {
  /** False: leave out payloads kept in the body store (`data` is then empty; fetch them with getBody(bodyId)). Default true. */
  includeData?: boolean;
}

/** An exchange without body bytes: bodies are described and referenced by id. */
export type ExchangeSummary = ExchangeRow;

export interface StoredWsMessage extends WsMessageRecord {
  /** Set when the payload is kept in the body store. */
  bodyId?: number;
}

/** How queries reach body bytes (segment files, through a cache). */
export interface BodyAccess {
  bodies: BodyReader;
  packed: PackedEventsCache;
  /** WebSocket payloads up to this size come with `includeData: false` too (they were kept inline before schema 5). */
  inlineWsBytes: number;
  /** A body that cannot be read exactly: logged and counted by the store. */
  unreadable(err: BodyIntegrityError): void;
}

/** A body's bytes, or undefined (with `unreadable` told) when it is damaged or missing on disk. */
export function readBodySafely(db: SqlDatabase, access: BodyAccess, bodyId: number): { data?: Buffer; problem?: string } {
  try {
    return { data: access.bodies.read(db, bodyId) };
  } catch (err) {
    if (!(err instanceof BodyIntegrityError)) throw err;
    access.unreadable(err);
    return { problem: err.message };
  }
}

function clampLimit(limit: number | undefined): number {
  return Math.max(1, Math.min(1000, Math.floor(limit ?? 50)));
}

const opt = <T>(v: SqlValue, f: (v: SqlValue) => T): T | undefined => (v === null || v === undefined ? undefined : f(v));
const num = (v: SqlValue): number => Number(v);
const str = (v: SqlValue): string => String(v);

function withoutUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function connectionFromRow(r: Row): ConnectionRecord {
  return withoutUndefined({
    id: num(r.id),
    clientAddress: str(r.client_address),
    clientPort: num(r.client_port),
    label: opt(r.label, str),
    targetHost: str(r.target_host),
    targetPort: num(r.target_port),
    mode: str(r.mode) as ConnectionRecord['mode'],
    tlsOutcome: opt(r.tls_outcome, str),
    tlsDetail: opt(r.tls_detail, str),
    openedAt: num(r.opened_at),
    closedAt: opt(r.closed_at, num),
    bytesFromClient: opt(r.bytes_from_client, num),
    bytesToClient: opt(r.bytes_to_client, num),
    error: opt(r.error, str),
    connectStatus: opt(r.connect_status, num),
  });
}

function bodyRef(id: SqlValue, meta: SqlValue): BodyRef | undefined {
  if (id === null || meta === null) return undefined;
  return { bodyId: num(id), ...(JSON.parse(str(meta)) as Omit<BodyRef, 'bodyId'>) };
}

export function exchangeFromRow(r: Row): ExchangeSummary {
  return withoutUndefined({
    id: num(r.id),
    connectionId: num(r.connection_id),
    method: str(r.method),
    url: str(r.url),
    httpVersion: str(r.http_version),
    kind: str(r.kind) as ExchangeRecord['kind'],
    statusCode: opt(r.status_code, num),
    statusMessage: opt(r.status_message, str),
    requestHeaders: JSON.parse(str(r.request_headers)) as [string, string][],
    responseHeaders: opt(r.response_headers, (v) => JSON.parse(str(v)) as [string, string][]),
    requestBody: bodyRef(r.request_body_id, r.request_body_meta),
    responseBody: bodyRef(r.response_body_id, r.response_body_meta),
    startedAt: num(r.started_at),
    requestEndedAt: opt(r.request_ended_at, num),
    responseStartedAt: opt(r.response_started_at, num),
    endedAt: opt(r.ended_at, num),
    outcome: opt(r.outcome, str) as ExchangeRecord['outcome'],
    errors: JSON.parse(str(r.errors)) as string[],
    importedAt: opt(r.imported_at, num),
  });
}

/** The first `limit` rows, and the cursor to the next page when the query found more (it asks for `limit + 1`). */
function pageOf<T>(rows: Row[], limit: number, map: (r: Row) => T, id: (r: Row) => number): Page<T> {
  const more = rows.length > limit;
  const items = rows.slice(0, limit);
  return more ? { items: items.map(map), next: id(items[items.length - 1]) } : { items: items.map(map) };
}

export function listConnections(db: SqlDatabase, o: ListOptions = {}): Page<ConnectionRecord> {
  const limit = clampLimit(o.limit);
  const rows = o.before === undefined
    ? db.all('SELECT * FROM connections ORDER BY id DESC LIMIT ?', [limit + 1])
    : db.all('SELECT * FROM connections WHERE id < ? ORDER BY id DESC LIMIT ?', [o.before, limit + 1]);
  return pageOf(rows, limit, connectionFromRow, (r) => num(r.id));
}

export function getConnection(db: SqlDatabase, id: number): ConnectionRecord | undefined {
  const r = db.get('SELECT * FROM connections WHERE id = ?', [id]);
  return r && connectionFromRow(r);
}

export function listExchanges(db: SqlDatabase, o: ExchangeListOptions = {}): Page<ExchangeSummary> {
  const limit = clampLimit(o.limit);
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (o.before !== undefined) {
    where.push('id < ?');
    params.push(o.before);
  }
  if (o.connectionId !== undefined) {
    where.push('connection_id = ?');
    params.push(o.connectionId);
  }
  const sql = `SELECT * FROM exchanges ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
  return pageOf(db.all(sql, [...params, limit + 1]), limit, exchangeFromRow, (r) => num(r.id));
}

/**
 * Exchanges with an id above `after`, oldest first, at most `limit` of them: what a follower of the
 * store has not seen yet. Paging newest-first down to the last one seen read and decoded a page of
 * 200 old rows on every pass, even with nothing new (docs/decisions.md, decision 96).
 */
export function listExchangesAfter(db: SqlDatabase, after: number, limit: number): Page<ExchangeSummary> {
  const n = clampLimit(limit);
  return pageOf(db.all('SELECT * FROM exchanges WHERE id > ? ORDER BY id ASC LIMIT ?', [after, n + 1]), n, exchangeFromRow, (r) => num(r.id));
}

export function countExchangesAfter(db: SqlDatabase, after: number): number {
  return num(db.get('SELECT COUNT(*) AS n FROM exchanges WHERE id > ?', [after])?.n ?? 0);
}

export function getExchangeSummary(db: SqlDatabase, id: number): ExchangeSummary | undefined {
  const r = db.get('SELECT * FROM exchanges WHERE id = ?', [id]);
  return r && exchangeFromRow(r);
}

/**
 * Of `ids`, those stored and not ended yet, in one query per 500 ids. A follower of live exchanges
 * (the CLI's call feed) asks this on every pass instead of reading each open exchange's whole row:
 * with 1,000 streams open those reads took most of the capturing thread, capture fell behind, and
 * the proxy recorded new exchanges without their bodies (docs/decisions.md, decision 38).
 */
export function openExchangeIds(db: SqlDatabase, ids: readonly number[]): Set<number> {
  const open = new Set<number>();
  for (let i = 0; i < ids.length; i += 500) {
    const part = ids.slice(i, i + 500);
    const rows = db.all(`SELECT id FROM exchanges WHERE ended_at IS NULL AND id IN (${part.map(() => '?').join(',')})`, part);
    for (const r of rows) open.add(Number(r.id));
  }
  return open;
}

/** A body that cannot be read back exactly (missing, or damaged on disk) comes back empty with the reason in `error`, so the exchange still shows. */
function fullBody(db: SqlDatabase, access: BodyAccess, ref: BodyRef | undefined): StoredBody | undefined {
  if (!ref) return undefined;
  const { bodyId, size: _size, ...meta } = ref;
  const { data, problem } = readBodySafely(db, access, bodyId);
  if (!data) return withoutUndefined({ ...meta, data: Buffer.alloc(0), error: [meta.error, problem ?? `body ${bodyId} is missing`].filter(Boolean).join('; ') });
  return withoutUndefined({ ...meta, data });
}

/** The exchange as capture recorded it, with the exact bytes of its bodies. */
export function getExchange(db: SqlDatabase, access: BodyAccess, id: number): ExchangeRecord | undefined {
  const summary = getExchangeSummary(db, id);
  if (!summary) return undefined;
  const { requestBody, responseBody, ...rest } = summary;
  const record: ExchangeRecord = { ...rest };
  const req = fullBody(db, access, requestBody);
  const res = fullBody(db, access, responseBody);
  if (req) record.requestBody = req;
  if (res) record.responseBody = res;
  return record;
}

/** Rows while the exchange streams, one packed body after it ended (and rows for events that came later): paged alike. */
export function listSseEvents(db: SqlDatabase, access: BodyAccess, exchangeId: number, o: SequenceOptions = {}): Page<SseEventRecord> {
  const limit = clampLimit(o.limit);
  const after = o.after ?? -1;
  const rows = db.all('SELECT seq, time, event, event_id, data, retry FROM sse_events WHERE exchange_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    [exchangeId, after, limit + 1]).map(sseEventFromRow);
  let packed: SseEventRecord[] = [];
  try {
    packed = access.packed.events(db, exchangeId);
  } catch (err) {
    if (!(err instanceof BodyIntegrityError)) throw err;
    access.unreadable(err);
  }
  let from = 0;
  while (from < packed.length && packed[from].seq <= after) from++;
  const merged = from < packed.length ? mergeEvents(packed.slice(from, from + limit + 1), rows).slice(0, limit + 1) : rows;
  const items = merged.slice(0, limit);
  return merged.length > limit ? { items, next: items[items.length - 1].seq } : { items };
}

export function listWsMessages(db: SqlDatabase, access: BodyAccess, exchangeId: number, o: WsListOptions = {}): Page<StoredWsMessage> {
  const limit = clampLimit(o.limit);
  const rows = db.all(`SELECT w.*, b.size AS body_size FROM ws_messages w LEFT JOIN bodies b ON b.id = w.body_id
    WHERE w.exchange_id = ? AND w.seq > ? ORDER BY w.seq LIMIT ?`, [exchangeId, o.after ?? -1, limit + 1]);
  const includeData = o.includeData ?? true;
  const items = rows.slice(0, limit).map((r): StoredWsMessage => {
    const bodyId = opt(r.body_id, num);
    let data: Buffer = Buffer.alloc(0);
    if (r.data instanceof Uint8Array) data = Buffer.from(r.data);
    else if (bodyId !== undefined && (includeData || num(r.body_size) <= access.inlineWsBytes)) data = readBodySafely(db, access, bodyId).data ?? data;
    const m: StoredWsMessage = {
      exchangeId, seq: num(r.seq), time: num(r.time),
      direction: str(r.direction) as WsMessageRecord['direction'], opcode: str(r.opcode) as WsMessageRecord['opcode'],
      data, size: num(r.size),
    };
    if (bodyId !== undefined) m.bodyId = bodyId;
    return m;
  });
  return rows.length > limit ? { items, next: items[items.length - 1].seq } : { items };
}

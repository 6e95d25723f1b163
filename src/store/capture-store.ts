// The capture store: what capture records (connections, exchanges, SSE events, WebSocket
// messages) kept durably: a sql.js database as the index, deduplicated body bytes in segment
// files; paged queries and retention. Persistence (journal, snapshots, segments, writer lock,
// readers) is StoreEngine's job.
//
//   const store = await CaptureStore.open({ dataDir, mode: 'auto' });
//   store.exchangeUpdated(record);              // CaptureSink: synchronous, never throws
//   store.listExchanges({ limit: 50 });          // newest first; pass `next` as `before`
//   await store.close();
//
// Capture numbers its records per proxy run; the store gives them its own ids (CaptureIdMap),
// so everything read back carries the store's ids.
import type { CaptureSink, ConnectionRecord, ExchangeRecord, SseEventRecord, StoredBody, WsMessageRecord } from '../capture/records';
import type { BodyIntegrityError } from './body-reader';
import { CaptureIdMap, type BodyMemo, type ExchangeEntry } from './capture-ids';
import { BodyBatch, RecentLeads, type ChunkRelocation } from './chunked-bodies';
import { CompressionPacer } from './compression-pacer';
import type { BodyRef, ExchangeRow, Operation, SsePack, WsRow } from './operations';
import * as q from './queries';
import { runRetention, usedBytes, type RetentionResult, type RetentionSettings } from './retention';
import { eventsToPack, packSseEvents } from './sse-packing';
import { readStoreStats, type StoreStats } from './store-stats';
import { StoreEngine, type EngineTimings, type SnapshotInfo, type StoreLog, type StoreMode, type StoreRole } from './store-engine';

export { StoreLockedError } from './store-engine';
export type { SnapshotInfo, StoreLog, StoreLogLevel, StoreMode, StoreRole } from './store-engine';
export type { StoreStats } from './store-stats';

/** Used when no retention is given: the in-memory database must stay bounded. Pass `{}` for none. */
export const DEFAULT_RETENTION: Readonly<RetentionSettings> = { maxAgeDays: 30, maxBytes: 512 * 1024 * 1024 };

export interface CaptureStoreOptions extends EngineTimings {
  dataDir: string;
  /** 'auto' (default): the writer if no live process holds the lock, else a reader that takes over when it can. */
  mode?: StoreMode;
  /** Default DEFAULT_RETENTION. */
  retention?: RetentionSettings;
  log?: StoreLog;
  /** Path of sql-wasm.wasm (a bundle ships its own copy); default: the one in node_modules. */
  wasmPath?: string;
  /** Default 60 000 (and whenever 2% of maxBytes was written since the last pass). */
  retentionIntervalMs?: number;
  /** WebSocket payloads up to this size come with `listWsMessages(…, { includeData: false })` too. Default 1024. */
  inlineWsBytes?: number;
  /** Segment files (chunk bytes) roll at about this size. Default 64 MiB. */
  segmentBytes?: number;
}

/** The relocations of a batch as an operation field, left out when there are none. */
const relocations = (batch: BodyBatch): { relocations?: ChunkRelocation[] } => (batch.relocations.length > 0 ? { relocations: batch.relocations } : {});

/** While an exchange is in progress, a changing body is stored at most this often. */
const BODY_UPDATE_INTERVAL_MS = 1000;
/** An SSE event with more data than this is packed at once, with its exchange's rows, instead of becoming a row. */
const SSE_ROW_MAX_CHARS = 64 * 1024;
/** Rows of one exchange holding this much data (and as much as its pack) are packed before the exchange ends. */
const SSE_ROWS_PACK_CHARS = 1024 * 1024;
/** The first retention pass after a writer starts waits this long (docs/decisions.md, decision 53). */
const FIRST_RETENTION_DELAY_MS = 2000;

export class CaptureStore implements CaptureSink {
  private engine!: StoreEngine;
  private readonly log: StoreLog;
  private retention: RetentionSettings;
  private readonly retentionIntervalMs: number;
  private readonly inlineWsBytes: number;
  private readonly ids: CaptureIdMap;
  private retentionTimer?: NodeJS.Timeout;
  private readonly pacer: CompressionPacer;
  private readonly leads = new RecentLeads();
  private bytesSinceRetention = 0;
  /** What retention's last pass measured (usedBytes); undefined before the first. */
  private usedAtRetention?: number;
  private dropped = 0;
  private unreadable = 0;
  private readerWriteWarned = false;
  private access!: q.BodyAccess;

  private constructor(options: CaptureStoreOptions) {
    this.log = options.log ?? (() => undefined);
    this.retention = options.retention ?? { ...DEFAULT_RETENTION };
    this.retentionIntervalMs = options.retentionIntervalMs ?? 60_000;
    this.inlineWsBytes = options.inlineWsBytes ?? 1024;
    this.pacer = new CompressionPacer({ compressDeferred: (max) => this.engine.compressDeferred(max) },
      (err) => this.log('error', `compressing chunks stored raw failed: ${(err as Error).message}`));
    this.ids = new CaptureIdMap({ connection: () => this.engine.counters.connection++, exchange: () => this.engine.counters.exchange++ });
  }

  static async open(options: CaptureStoreOptions): Promise<CaptureStore> {
    const store = new CaptureStore(options);
    store.engine = await StoreEngine.open({ ...options, onWriter: () => store.writerStarted(), onBatch: () => store.afterBatch() });
    const { bodies, packed } = store.engine.segments;
    store.access = { bodies, packed, inlineWsBytes: store.inlineWsBytes, unreadable: (err) => store.bodyUnreadable(err) };
    return store;
  }

  /** 'writer' stores what the sink receives; 'reader' only follows the files. */
  get role(): StoreRole {
    return this.engine.role;
  }

  /** Problems met while opening (a database or journal set aside, damage recovered). Also logged as warnings. */
  get warnings(): readonly string[] {
    return this.engine.warnings;
  }

  /**
   * How old the event that capture is recording now is. While capture is behind, new chunks are
   * stored raw and compressed once it keeps up (compression-pacer.ts).
   */
  noteCaptureLag(ms: number): void {
    if (this.engine.writable) this.pacer.noteLag(ms);
  }

  // ---- CaptureSink -------------------------------------------------------------------------

  connectionUpdated(record: ConnectionRecord): void {
    if (!this.writable()) return;
    try {
      const entry = this.ids.connection(record.id, record.openedAt);
      const row: ConnectionRecord = { ...record, id: entry.dbId };
      const json = JSON.stringify(row);
      if (json === entry.lastRow) return;
      this.commit({ type: 'connection', row });
      entry.lastRow = json;
      if (record.closedAt !== undefined) this.ids.markConnectionClosed(entry);
    } catch (err) {
      this.writeFailed('connection', err);
    }
  }

  exchangeStarted(exchangeId: number, startedAt: number): void {
    if (this.writable()) this.ids.exchange(exchangeId, startedAt);
  }

  exchangeUpdated(record: ExchangeRecord): void {
    if (!this.writable()) return;
    try {
      const entry = this.ids.exchange(record.id, record.startedAt);
      const connection = this.ids.connection(record.connectionId);
      const batch = this.bodyBatch();
      const memos: Partial<Record<'request' | 'response', BodyMemo>> = {};
      const { requestBody, responseBody, ...rest } = record;
      const row: ExchangeRow = { ...rest, id: entry.dbId, connectionId: connection.dbId };
      const final = record.endedAt !== undefined;
      if (requestBody) row.requestBody = this.bodyRef(entry, 'request', requestBody, final, batch, memos);
      if (responseBody) row.responseBody = this.bodyRef(entry, 'response', responseBody, final, batch, memos);
      const json = JSON.stringify(row);
      // The end of an exchange packs its SSE events into one body, in the same operation; when its
      // response body gives them back, the pack holds only their times (decision 88).
      const whole = responseBody?.decoded && !responseBody.truncated ? responseBody.data : undefined;
      const pack = final && entry.endedSeenAt === undefined ? this.packSse(entry.dbId, batch, entry.sseRows, [], whole) : undefined;
      if (json !== entry.lastRow || batch.bodies.length > 0 || batch.relocations.length > 0 || pack) {
        this.commit({ type: 'exchange', row, bodies: batch.bodies, pack, ...relocations(batch) });
        entry.lastRow = json;
        Object.assign(entry, memos);
      }
      if (record.endedAt !== undefined) this.ids.markExchangeEnded(entry);
    } catch (err) {
      this.writeFailed('exchange', err);
    }
  }

  sseEvents(exchangeId: number, events: SseEventRecord[]): void {
    if (!this.writable() || events.length === 0) return;
    try {
      // Rows; events that come after the exchange ended (a HAR import sends them then) are packed by the next retention pass.
      const entry = this.ids.exchange(exchangeId);
      const chars = events.reduce((n, e) => n + e.data.length, 0);
      entry.sseRowChars = (entry.sseRowChars ?? 0) + chars;
      // Large data never becomes a row: sql.js copies a bound string into wasm memory character by
      // character (a 4 MB line took ~160 ms), and that memory never shrinks. The
      // events are packed now with the rows before them; packing again only once the rows hold as
      // much as the pack keeps the repacking linear (docs/decisions.md, decision 74).
      const live = entry.endedSeenAt === undefined;
      if (events.some((e) => e.data.length > SSE_ROW_MAX_CHARS) || entry.sseRowChars > Math.max(SSE_ROWS_PACK_CHARS, entry.ssePackedChars ?? 0)) {
        const batch = this.bodyBatch();
        const pack = this.packSse(entry.dbId, batch, live ? entry.sseRows ?? [] : undefined, events);
        this.commit({ type: 'sse', exchangeId: entry.dbId, events: [], bodies: batch.bodies, pack, ...relocations(batch) });
        // The new pack holds the old one, the rows and these events. Near enough for the rule above: a seq
        // written twice counts twice, and packs made at the end or by retention are not counted.
        entry.ssePackedChars = (entry.ssePackedChars ?? 0) + entry.sseRowChars;
        entry.sseRowChars = 0;
        if (live) entry.sseRows = [];
        return;
      }
      this.commit({ type: 'sse', exchangeId: entry.dbId, events });
      if (live) (entry.sseRows ??= []).push(...events);
    } catch (err) {
      this.writeFailed('sse events', err);
    }
  }

  wsMessage(record: WsMessageRecord): void {
    if (!this.writable()) return;
    try {
      const { data, ...rest } = record;
      const row: WsRow = { ...rest, exchangeId: this.ids.exchange(record.exchangeId).dbId };
      const batch = this.bodyBatch();
      row.bodyId = batch.add(data, record.direction === 'server-to-client' ? 'answer' : 'request');
      this.commit({ type: 'ws', row, bodies: batch.bodies, ...relocations(batch) });
    } catch (err) {
      this.writeFailed('websocket message', err);
    }
  }

  // ---- Queries ---------------------------------------------------------------------------

  listConnections(options?: q.ListOptions): q.Page<ConnectionRecord> {
    return q.listConnections(this.engine.db, options);
  }

  getConnection(id: number): ConnectionRecord | undefined {
    return q.getConnection(this.engine.db, id);
  }

  /** Newest first, without body bytes (bodies are referenced by id). */
  listExchanges(options?: q.ExchangeListOptions): q.Page<q.ExchangeSummary> {
    return q.listExchanges(this.engine.db, options);
  }

  /** Exchanges after the id `after`, oldest first (a follower's new ones); pass `next` as `after` for more. */
  listExchangesAfter(after: number, limit: number): q.Page<q.ExchangeSummary> {
    return q.listExchangesAfter(this.engine.db, after, limit);
  }

  countExchangesAfter(after: number): number {
    return q.countExchangesAfter(this.engine.db, after);
  }

  getExchangeSummary(id: number): q.ExchangeSummary | undefined {
    return q.getExchangeSummary(this.engine.db, id);
  }

  /** Of `ids`, those still stored and not ended: one cheap query instead of a summary each. */
  openExchangeIds(ids: readonly number[]): Set<number> {
    return q.openExchangeIds(this.engine.db, ids);
  }

  /** The record with the exact bytes of its bodies. Ids are the store's (see storedExchangeId). */
  getExchange(id: number): ExchangeRecord | undefined {
    return q.getExchange(this.engine.db, this.access, id);
  }

  listWsMessages(exchangeId: number, options?: q.WsListOptions): q.Page<q.StoredWsMessage> {
    return q.listWsMessages(this.engine.db, this.access, exchangeId, options);
  }

  listSseEvents(exchangeId: number, options?: q.SequenceOptions): q.Page<SseEventRecord> {
    return q.listSseEvents(this.engine.db, this.access, exchangeId, options);
  }

  /** Exact bytes of a body by reference (BodyRef.bodyId, StoredWsMessage.bodyId); undefined (and a warning logged) when it cannot be read exactly. */
  getBody(bodyId: number): Buffer | undefined {
    return q.readBodySafely(this.engine.db, this.access, bodyId).data;
  }

  /** The store's id for an exchange that capture numbered `captureId` (while its capture is recent). */
  storedExchangeId(captureId: number): number | undefined {
    return this.ids.storeExchangeId(captureId);
  }

  storedConnectionId(captureId: number): number | undefined {
    return this.ids.storeConnectionId(captureId);
  }

  /** Called (coalesced) after new data arrived: the writer's own writes, or a reader's refresh. */
  onChange(listener: () => void): () => void {
    return this.engine.onChange(listener);
  }

  stats(): StoreStats {
    return readStoreStats(this.engine, { unreadableBodies: this.unreadable, droppedWrites: this.dropped });
  }

  // ---- Durability, retention, lifecycle ----------------------------------------------------

  /** Writer: resolves when everything stored so far is in the journal on disk. Reader: picks up new data now. */
  flush(): Promise<void> {
    return this.engine.flush();
  }

  /** Writer: writes a snapshot now (and shortens the journal). Resolves with its figures. */
  snapshot(): Promise<SnapshotInfo | undefined> {
    return this.engine.snapshot();
  }

  /** Reader: applies what the writer appended now instead of at the next poll. */
  refresh(): Promise<void> {
    return this.engine.refresh();
  }

  /** Reader: becomes the writer if no live process holds the lock. Resolves with whether it is the writer now. */
  becomeWriter(): Promise<boolean> {
    return this.engine.becomeWriter();
  }

  setRetention(settings: RetentionSettings): void {
    this.retention = settings;
    this.retentionSafely();
  }

  /** Deletes exchanges older than maxAgeDays, then the oldest until the database fits maxBytes. Writer only. */
  applyRetention(now = Date.now()): RetentionResult {
    if (!this.engine.writable) {
      const bytes = usedBytes(this.engine.db);
      return { exchangesDeleted: 0, connectionsDeleted: 0, bytesBefore: bytes, bytesAfter: bytes };
    }
    this.bytesSinceRetention = 0;
    this.ids.prune();
    this.packLateSseEvents();
    const result = runRetention(this.engine.db, this.retention, now, {
      liveExchanges: this.ids.liveExchangeIds(),
      liveConnections: this.ids.liveConnectionIds(),
      remove: (exchangeIds, connectionIds) => {
        this.commit({ type: 'delete', exchangeIds, connectionIds });
        this.ids.forgetExchanges(new Set(exchangeIds));
        this.ids.forgetConnections(new Set(connectionIds));
      },
    });
    // Chunks that went with deleted exchanges leave dead space in the segment files (one sparse segment is copied out per pass).
    this.engine.compactSegments();
    this.usedAtRetention = result.bytesAfter;
    return result;
  }

  async close(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.pacer.close();
    await this.engine.close();
  }

  // ---- Internals ---------------------------------------------------------------------------

  private writable(): boolean {
    if (this.engine.writable) return true;
    this.dropped++;
    if (!this.readerWriteWarned) {
      this.readerWriteWarned = true;
      this.log('warn', this.engine.isClosed ? 'capture store is closed; records are dropped' : 'this capture store is read-only (another process writes); records are dropped');
    }
    return false;
  }

  private bodyUnreadable(err: BodyIntegrityError): void {
    this.unreadable++;
    this.log('warn', `a body could not be read: ${err.message}`);
  }

  private writeFailed(what: string, err: unknown): void {
    this.dropped++;
    this.log('error', `could not store ${what}: ${(err as Error).message}`);
  }

  private commit(op: Operation): void {
    const bytes = this.engine.commit(op);
    if (op.type === 'delete' || op.type === 'relocate') return;
    // Chunk bytes go to segment files, not the journal: they count all the same.
    const bodies = op.type === 'connection' ? [] : op.bodies ?? [];
    this.bytesSinceRetention += bytes + bodies.reduce((a, b) => a + b.chunks.reduce((c, k) => c + (k.storedSize ?? 0), 0), 0);
  }

  private bodyBatch(): BodyBatch {
    this.engine.openBatch();
    return new BodyBatch(this.engine.db, this.engine.ids, (stored) => this.engine.appendChunk(stored), this.engine.segments.damaged, undefined,
      this.pacer.deferring, this.pacer.farBehind, this.leads);
  }

  /**
   * SSE rows of ended exchanges (events that came after the end: a HAR import sends them then)
   * are packed once capture can send no more about them (its id mapping is gone), a batch per retention pass.
   */
  private packLateSseEvents(): void {
    const live = this.ids.knownExchangeIds();
    const rows = this.engine.db.all(`SELECT DISTINCT s.exchange_id AS id FROM sse_events s JOIN exchanges e ON e.id = s.exchange_id
      WHERE e.ended_at IS NOT NULL LIMIT 200`);
    for (const id of rows.map((r) => Number(r.id)).filter((x) => !live.has(x))) {
      try {
        const batch = this.bodyBatch();
        const pack = this.packSse(id, batch);
        if (pack) this.commit({ type: 'sse', exchangeId: id, events: [], bodies: batch.bodies, pack, ...relocations(batch) });
      } catch (err) {
        this.writeFailed(`packed sse events of exchange ${id}`, err);
      }
    }
  }

  /**
   * Packs an exchange's SSE events (rows, with any packed before, then `extra`) into one body of
   * `batch`; undefined when there is nothing new to pack. `rows`: its rows as this writer wrote
   * them, when it knows them all. `responseBody`: the exchange's stored response body, whole and
   * decoded, when the pack may hold only the events' times (decision 88).
   */
  private packSse(exchangeId: number, batch: BodyBatch, rows?: SseEventRecord[], extra: SseEventRecord[] = [], responseBody?: Buffer): SsePack | undefined {
    const db = this.engine.db;
    const noRows = rows ? rows.length === 0 : db.value('SELECT 1 FROM sse_events WHERE exchange_id = ? LIMIT 1', [exchangeId]) === undefined;
    if (noRows && extra.length === 0) return undefined;
    const events = eventsToPack(db, this.engine.segments.packed, exchangeId, extra, rows);
    return { bodyId: batch.add(packSseEvents(events, responseBody), 'answer'), events: events.length };
  }

  /**
   * The reference for a body of an exchange update. The same Buffer as last time is not hashed
   * again. A body that keeps changing while the exchange is in progress (a response captured as
   * it streams) is stored at most once a second, and always in the final record: storing every
   * version would hash and chunk a growing body over and over.
   */
  private bodyRef(entry: ExchangeEntry, slot: 'request' | 'response', body: StoredBody, final: boolean, batch: BodyBatch, memos: Partial<Record<'request' | 'response', BodyMemo>>): BodyRef {
    const memo = entry[slot];
    if (memo && (memo.data === body.data || (!final && Date.now() - memo.storedAt < BODY_UPDATE_INTERVAL_MS))) return memo.ref;
    const { data, ...meta } = body;
    const ref: BodyRef = { ...meta, bodyId: batch.add(data, slot === 'response' ? 'answer' : 'request'), size: data.length };
    memos[slot] = { data, ref, storedAt: Date.now() };
    return ref;
  }

  private writerStarted(): void {
    if (!this.retentionTimer) {
      this.retentionTimer = setInterval(() => this.retentionSafely(), this.retentionIntervalMs);
      this.retentionTimer.unref();
    }
    // Not at once: measuring the store scans every chunk (~30-200 ms at 5,000 calls), and Start
    // Capture waits on this thread for the proxy's answer meanwhile.
    setTimeout(() => this.retentionSafely(), FIRST_RETENTION_DELAY_MS).unref();
    // Chunks a previous writer stored raw and could not compress before it stopped.
    this.pacer.schedule();
  }

  /**
   * Retention also runs when about 2% of maxBytes was written since its last pass and what was
   * written may have taken the store past maxBytes, so the database does not overshoot much.
   * Measuring the store scans every chunk: what was written since (deduplicated chunks counted as
   * new) bounds it from above, so most batches need no pass.
   */
  private afterBatch(): void {
    const max = this.retention.maxBytes;
    if (!max || this.bytesSinceRetention <= Math.max(max / 50, 256 * 1024)) return;
    if (this.usedAtRetention !== undefined && this.usedAtRetention + this.bytesSinceRetention <= max) return;
    this.retentionSafely();
  }

  private retentionSafely(): void {
    if (!this.engine?.writable) return;
    try {
      const r = this.applyRetention();
      if (r.exchangesDeleted + r.connectionsDeleted > 0) {
        this.log('info', `retention deleted ${r.exchangesDeleted} exchanges and ${r.connectionsDeleted} connections (${r.bytesBefore} -> ${r.bytesAfter} bytes)`);
      }
    } catch (err) {
      this.log('error', `retention failed: ${(err as Error).message}`);
    }
  }
}

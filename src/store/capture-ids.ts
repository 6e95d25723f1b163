// Capture numbers connections and exchanges per proxy run, so its ids repeat after a restart
// (and after Stop/Start in one process). The store gives every connection and exchange its own
// id, which never repeats in a data directory, and remembers which capture id maps to which
// while the capture is live. An id seen again with another start time is a new record.
import type { BodyRef } from './operations';
import type { SseEventRecord } from '../capture/records';

export interface BodyMemo {
  /** The Buffer last stored for this slot: the same object again means the same bytes, no hashing. */
  data: Buffer;
  /** The reference stored with it, and when (Date.now()). */
  ref: BodyRef;
  storedAt: number;
}

export interface ExchangeEntry {
  dbId: number;
  startedAt?: number;
  /** Date.now() of the last call about it: an exchange silent for long is not live any more. */
  touchedAt: number;
  /** Time (ms, Date.now) the final record was seen; entries are forgotten a while after. */
  endedSeenAt?: number;
  /** The row last written, to skip updates that change nothing. */
  lastRow?: string;
  request?: BodyMemo;
  response?: BodyMemo;
  /** Characters of SSE data in rows since the events were last packed, and how many the pack holds. */
  sseRowChars?: number;
  ssePackedChars?: number;
  /**
   * The events written as rows since the last pack, in order, while the exchange runs: packing
   * takes them from here instead of reading thousands of rows back. A new entry has a new
   * database id, so no row of it predates the list.
   */
  sseRows?: SseEventRecord[];
}

interface ConnectionEntry {
  dbId: number;
  openedAt?: number;
  touchedAt: number;
  closedSeenAt?: number;
  lastRow?: string;
}

/** How long a finished record's mapping is kept for late calls (SSE events or messages after the end). */
const KEEP_FINISHED_MS = 5 * 60_000;
/** A record with no call for this long is treated as abandoned (its capture never sent the end). */
const ABANDONED_MS = 60 * 60_000;

export class CaptureIdMap {
  private readonly exchanges = new Map<number, ExchangeEntry>();
  private readonly connections = new Map<number, ConnectionEntry>();

  constructor(private readonly allocate: { connection(): number; exchange(): number }) {}

  connection(captureId: number, openedAt?: number): ConnectionEntry {
    let e = this.connections.get(captureId);
    if (!e || (openedAt !== undefined && e.openedAt !== undefined && e.openedAt !== openedAt)) {
      e = { dbId: this.allocate.connection(), openedAt, touchedAt: Date.now() };
      this.connections.set(captureId, e);
    } else {
      e.openedAt ??= openedAt;
      e.touchedAt = Date.now();
    }
    return e;
  }

  exchange(captureId: number, startedAt?: number): ExchangeEntry {
    let e = this.exchanges.get(captureId);
    if (!e || (startedAt !== undefined && e.startedAt !== undefined && e.startedAt !== startedAt)) {
      e = { dbId: this.allocate.exchange(), startedAt, touchedAt: Date.now() };
      this.exchanges.set(captureId, e);
    } else {
      e.startedAt ??= startedAt;
      e.touchedAt = Date.now();
    }
    return e;
  }

  markConnectionClosed(entry: ConnectionEntry): void {
    entry.closedSeenAt ??= Date.now();
  }

  /** The body memos go at once: they hold whole bodies, and a late update can hash again. */
  markExchangeEnded(entry: ExchangeEntry): void {
    entry.endedSeenAt ??= Date.now();
    entry.request = undefined;
    entry.response = undefined;
    entry.sseRows = undefined;
  }

  /** Store ids of exchanges still being captured: retention leaves them alone. */
  liveExchangeIds(now = Date.now()): Set<number> {
    const ids = new Set<number>();
    for (const e of this.exchanges.values()) if (e.endedSeenAt === undefined && now - e.touchedAt < ABANDONED_MS) ids.add(e.dbId);
    return ids;
  }

  liveConnectionIds(now = Date.now()): Set<number> {
    const ids = new Set<number>();
    for (const e of this.connections.values()) if (e.closedSeenAt === undefined && now - e.touchedAt < ABANDONED_MS) ids.add(e.dbId);
    return ids;
  }

  /** Store ids of every exchange capture may still send calls about (live, or finished recently). */
  knownExchangeIds(): Set<number> {
    return new Set([...this.exchanges.values()].map((e) => e.dbId));
  }

  storeExchangeId(captureId: number): number | undefined {
    return this.exchanges.get(captureId)?.dbId;
  }

  storeConnectionId(captureId: number): number | undefined {
    return this.connections.get(captureId)?.dbId;
  }

  /** Forgets records that retention deleted, so a late update recreates them instead of pointing at freed bodies. */
  forgetExchanges(dbIds: ReadonlySet<number>): void {
    for (const [k, e] of this.exchanges) if (dbIds.has(e.dbId)) this.exchanges.delete(k);
  }

  forgetConnections(dbIds: ReadonlySet<number>): void {
    for (const [k, e] of this.connections) if (dbIds.has(e.dbId)) this.connections.delete(k);
  }

  /** Drops mappings of records that finished long ago, so memory stays bounded in a long session. */
  prune(now = Date.now()): void {
    const stale = (finishedAt: number | undefined, touchedAt: number) =>
      (finishedAt !== undefined && now - finishedAt > KEEP_FINISHED_MS) || now - touchedAt > ABANDONED_MS;
    for (const [k, e] of this.exchanges) if (stale(e.endedSeenAt, e.touchedAt)) this.exchanges.delete(k);
    for (const [k, e] of this.connections) if (stale(e.closedSeenAt, e.touchedAt)) this.connections.delete(k);
  }
}

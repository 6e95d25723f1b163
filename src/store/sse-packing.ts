// An ended exchange's SSE events, packed into one content-addressed body instead of one database
// row each. While the exchange streams, its events are rows (the UI follows them live); the
// operation that records its end packs them and deletes the rows. Events that arrive later (a
// HAR import sends them after the exchange) are packed together with the ones before.
//
// Encoding: JSON lines, one event per line: [seq, time, event, id, retry, data] (null when absent).
// JSON escapes newlines inside data, and numbers round-trip exactly.
import type { SseEventRecord } from '../capture/records';
import type { BodyReader } from './body-reader';
import type { Row, SqlDatabase } from './sqlite';

type PackedLine = [number, number, string | null, string | null, number | null, string];

export function encodeSseEvents(events: readonly SseEventRecord[]): Buffer {
  const lines = events.map((e) => JSON.stringify([e.seq, e.time, e.event ?? null, e.id ?? null, e.retry ?? null, e.data] satisfies PackedLine));
  return Buffer.from(lines.join('\n'));
}

export function decodeSseEvents(packed: Buffer): SseEventRecord[] {
  if (packed.length === 0) return [];
  return packed.toString('utf8').split('\n').map((line) => {
    const [seq, time, event, id, retry, data] = JSON.parse(line) as PackedLine;
    const e: SseEventRecord = { seq, time, data };
    if (event !== null) e.event = event;
    if (id !== null) e.id = id;
    if (retry !== null) e.retry = retry;
    return e;
  }).sort((a, b) => a.seq - b.seq);
}

export function sseEventFromRow(r: Row): SseEventRecord {
  const e: SseEventRecord = { seq: Number(r.seq), time: Number(r.time), data: String(r.data) };
  if (r.event !== null && r.event !== undefined) e.event = String(r.event);
  if (r.event_id !== null && r.event_id !== undefined) e.id = String(r.event_id);
  if (r.retry !== null && r.retry !== undefined) e.retry = Number(r.retry);
  return e;
}

/** Rows override packed events with the same seq (as an INSERT OR REPLACE of the row would have). */
export function mergeEvents(packed: readonly SseEventRecord[], rows: readonly SseEventRecord[]): SseEventRecord[] {
  if (rows.length === 0) return [...packed];
  const bySeq = new Map<number, SseEventRecord>();
  for (const e of packed) bySeq.set(e.seq, e);
  for (const e of rows) bySeq.set(e.seq, e);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** Decoded packed events of one body, remembered: a UI pages through one exchange's events at a time. */
export class PackedEventsCache {
  private last?: { bodyId: number; events: SseEventRecord[] };

  constructor(private readonly bodies: BodyReader) {}

  /** The packed events of an exchange ([] when none); BodyIntegrityError when its body cannot be read. */
  events(db: SqlDatabase, exchangeId: number): SseEventRecord[] {
    const bodyId = db.value('SELECT sse_body_id FROM exchanges WHERE id = ?', [exchangeId]);
    if (typeof bodyId !== 'number') return [];
    if (this.last?.bodyId === bodyId) return this.last.events;
    const data = this.bodies.read(db, bodyId);
    const events = data ? decodeSseEvents(data) : [];
    this.last = { bodyId, events };
    return events;
  }

  clear(): void {
    this.last = undefined;
  }
}

/**
 * Everything stored for an exchange (packed and rows), to pack anew with `extra` (writer side).
 * `knownRows`: its rows as the writer wrote them, in order, when it knows them all: reading
 * thousands of rows back through sql.js was a seventh of capture's work on streamed answers.
 */
export function eventsToPack(db: SqlDatabase, packed: PackedEventsCache, exchangeId: number, extra: readonly SseEventRecord[] = [],
  knownRows?: readonly SseEventRecord[]): SseEventRecord[] {
  const rows = knownRows ?? db.all('SELECT seq, time, event, event_id, data, retry FROM sse_events WHERE exchange_id = ? ORDER BY seq', [exchangeId]).map(sseEventFromRow);
  // Later rows of the same seq win, as INSERT OR REPLACE made them.
  return mergeEvents(mergeEvents(packed.events(db, exchangeId), rows), extra);
}

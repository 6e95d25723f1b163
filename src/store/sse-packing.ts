// An ended exchange's SSE events, packed into one content-addressed body instead of one database
// row each. While the exchange streams, its events are rows (the UI follows them live); the
// operation that records its end packs them and deletes the rows. Events that arrive later (a
// HAR import sends them after the exchange) are packed together with the ones before.
//
// Encoding: JSON lines, one event per line: [seq, time, event, id, retry, data] (null when absent).
// JSON escapes newlines inside data, and numbers round-trip exactly.
//
// The events' text is the response body's: when parsing the stored response body gives back
// exactly the events recorded (nearly always), the pack holds only when each came, and the
// events are read by parsing the body again (docs/decisions.md, decision 88). Its first line is
// TIMES_ONLY; then one line per event: [seq, time].
import type { SseEventRecord } from '../capture/records';
import { sseEventRecord, SseStream } from '../capture/sse-stream';
import { BodyIntegrityError, type BodyReader } from './body-reader';
import type { Row, SqlDatabase } from './sqlite';

type PackedLine = [number, number, string | null, string | null, number | null, string];
type TimedLine = [number, number];

const TIMES_ONLY = '{"events":"in the response body"}';
/**
 * Larger bodies keep whole packs: the check parses the body on the writer's thread, and every read
 * parses it again (0.75 ms for 480 KB; a 100 MB stream would hold the thread ~150 ms each time).
 */
const TIMES_ONLY_MAX_BODY_BYTES = 8 * 1024 * 1024;
const TIMES_ONLY_BYTES = Buffer.from(TIMES_ONLY);

export function encodeSseEvents(events: readonly SseEventRecord[]): Buffer {
  const lines = events.map((e) => JSON.stringify([e.seq, e.time, e.event ?? null, e.id ?? null, e.retry ?? null, e.data] satisfies PackedLine));
  return Buffer.from(lines.join('\n'));
}

/**
 * The pack of `events`: only when each came, if `responseBody` (the one stored, decoded and whole)
 * parses into exactly these events, in order; else the events whole.
 */
export function packSseEvents(events: readonly SseEventRecord[], responseBody?: Buffer): Buffer {
  if (!responseBody || responseBody.length > TIMES_ONLY_MAX_BODY_BYTES || !sameEvents(parseSseBody(responseBody), events)) return encodeSseEvents(events);
  const lines = events.map((e) => JSON.stringify([e.seq, e.time] satisfies TimedLine));
  return Buffer.from([TIMES_ONLY, ...lines].join('\n'));
}

/** Whether a pack holds only the events' times (their text is the response body's). */
export function isTimesOnly(packed: Buffer): boolean {
  return packed.subarray(0, TIMES_ONLY_BYTES.length).equals(TIMES_ONLY_BYTES) && (packed.length === TIMES_ONLY_BYTES.length || packed[TIMES_ONLY_BYTES.length] === 0x0a);
}

/** The events of a pack; a pack of times only reads their text from `responseBody()`. */
export function decodeSseEvents(packed: Buffer, responseBody?: () => Buffer | undefined): SseEventRecord[] {
  if (packed.length === 0) return [];
  if (isTimesOnly(packed)) return timedEvents(packed, responseBody?.());
  return packed.toString('utf8').split('\n').map((line) => {
    const [seq, time, event, id, retry, data] = JSON.parse(line) as PackedLine;
    const e: SseEventRecord = { seq, time, data };
    if (event !== null) e.event = event;
    if (id !== null) e.id = id;
    if (retry !== null) e.retry = retry;
    return e;
  }).sort((a, b) => a.seq - b.seq);
}

function timedEvents(packed: Buffer, body: Buffer | undefined): SseEventRecord[] {
  const times = packed.toString('utf8').split('\n').slice(1).map((line) => JSON.parse(line) as TimedLine);
  // Damage, as a chunk that cannot be read is: the listing says so and goes on (queries.ts).
  if (!body) throw new BodyIntegrityError('the SSE events are stored in the response body, which is missing');
  const parsed = parseSseBody(body);
  // Checked when packed, and a body's bytes are addressed by their hash: a count that differs means damage.
  if (parsed.length !== times.length) throw new BodyIntegrityError(`the response body gives ${parsed.length} SSE events, not the ${times.length} stored with it`);
  // In seq order, as the pack was checked to be when it was made.
  return parsed.map((e, i) => sseEventRecord(e, times[i][0], times[i][1]));
}

function parseSseBody(body: Buffer): ReturnType<SseStream['push']> {
  const stream = new SseStream();
  const events = stream.push(body);
  stream.end();
  return events;
}

function sameEvents(parsed: ReturnType<SseStream['push']>, events: readonly SseEventRecord[]): boolean {
  if (parsed.length !== events.length) return false;
  for (let i = 0; i < events.length; i++) {
    const a = parsed[i];
    const b = events[i];
    if (a.data !== b.data || a.event !== b.event || a.id !== b.id || a.retry !== b.retry) return false;
    // Read back in seq order: the times are stored in that order.
    if (i > 0 && events[i - 1].seq >= b.seq) return false;
  }
  return true;
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

/** Decoded packed events of one exchange, remembered: a UI pages through one exchange's events at a time. */
export class PackedEventsCache {
  private last?: { exchangeId: number; bodyId: number; events: SseEventRecord[] };

  constructor(private readonly bodies: BodyReader) {}

  /** The packed events of an exchange ([] when none); BodyIntegrityError when its body cannot be read. */
  events(db: SqlDatabase, exchangeId: number): SseEventRecord[] {
    const bodyId = db.value('SELECT sse_body_id FROM exchanges WHERE id = ?', [exchangeId]);
    if (typeof bodyId !== 'number') return [];
    // Keyed by the exchange too: a pack of times only can be the same body for two exchanges.
    if (this.last?.bodyId === bodyId && this.last.exchangeId === exchangeId) return this.last.events;
    const data = this.bodies.read(db, bodyId);
    const responseBody = () => {
      const id = db.value('SELECT response_body_id FROM exchanges WHERE id = ?', [exchangeId]);
      return typeof id === 'number' ? this.bodies.read(db, id) ?? undefined : undefined;
    };
    const events = data ? decodeSseEvents(data, responseBody) : [];
    this.last = { exchangeId, bodyId, events };
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

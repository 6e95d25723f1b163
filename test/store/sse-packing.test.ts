// SSE events are rows while their exchange streams and one packed body once it ended (the rows
// go in the same operation): listSseEvents pages exactly alike in both states, for the writer,
// a reader following the journal, and after a reopen; events that come after the end are added.
// When the stored response body parses into the same events, the pack holds only their times
// (decision 88).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CaptureStore } from '../../src/store';
import type { SseEventRecord } from '../../src/capture/records';
import { BodyIntegrityError } from '../../src/store/body-reader';
import { decodeSseEvents, encodeSseEvents, isTimesOnly, packSseEvents } from '../../src/store/sse-packing';
import { connection, exchange, tempDir, T0 } from './fixtures/records';

const events: SseEventRecord[] = Array.from({ length: 40 }, (_, i) => {
  const e: SseEventRecord = { seq: i, time: T0 + 100 + i * 0.125, data: i % 5 === 0 ? `line one\nline "two" ${i} — ü\r\n` : `{"i":${i}}` };
  if (i % 2) e.event = 'content_block_delta';
  if (i === 7) e.id = 'e7';
  if (i % 13 === 0) e.retry = 1000 + i;
  return e;
});

/** Every page a UI could ask for: several limits, from the start and from the middle. */
function pages(store: CaptureStore, id: number): unknown[] {
  const out: unknown[] = [];
  for (const limit of [1, 3, 10, 1000]) {
    for (const start of [undefined, -1, 0, 5, 38, 39, 100]) {
      let after = start;
      for (let n = 0; n < 50; n++) {
        const page = store.listSseEvents(id, { limit, after });
        out.push(page);
        if (page.next === undefined) break;
        after = page.next;
      }
    }
  }
  return out;
}

/** Events whose text an event stream can carry (no CR in data), and that stream as a server sends it. */
const streamed: SseEventRecord[] = Array.from({ length: 60 }, (_, i) => {
  const e: SseEventRecord = { seq: i, time: T0 + 100 + i * 0.25, data: i % 6 === 0 ? `line one\nline "two" ${i} — ü` : `{"type":"content_block_delta","delta":{"text":"part ${i} ${'x'.repeat(i * 7)}"}}` };
  e.event = i % 6 === 0 ? 'message' : 'content_block_delta';
  if (i === 9) e.id = 'e9';
  if (i === 13) e.retry = 3000;
  return e;
});

function wire(list: readonly SseEventRecord[]): Buffer {
  const blocks = list.map((e) => [
    ...(e.event !== undefined ? [`event: ${e.event}`] : []),
    ...(e.id !== undefined ? [`id: ${e.id}`] : []),
    ...(e.retry !== undefined ? [`retry: ${e.retry}`] : []),
    ...e.data.split('\n').map((line) => `data: ${line}`),
  ].join('\r\n'));
  return Buffer.from(`: a comment the server sent\r\n${blocks.join('\r\n\r\n')}\r\n\r\n`);
}

function answer(data: Buffer, truncated = false) {
  return { data, wireSize: data.length, encoding: '', decoded: true, truncated };
}

/** The stored pack of an exchange (its bytes), read as the store reads it. */
function storedPack(store: CaptureStore, id: number): Buffer {
  const engine = (store as unknown as { engine: { db: { value(q: string, p: unknown[]): unknown }; segments: { bodies: { read(db: unknown, id: number): Buffer } } } }).engine;
  const bodyId = engine.db.value('SELECT sse_body_id FROM exchanges WHERE id = ?', [id]) as number;
  return engine.segments.bodies.read(engine.db, bodyId);
}

const rows = (store: CaptureStore) => (store as unknown as { engine: { db: { value(q: string): unknown } } }).engine.db.value('SELECT COUNT(*) FROM sse_events');

describe('packed SSE events', { timeout: 60_000 }, () => {
  test('the encoding keeps every field, newlines in data included', () => {
    assert.deepEqual(decodeSseEvents(encodeSseEvents(events)), events);
    assert.deepEqual(decodeSseEvents(encodeSseEvents([])), []);
  });

  test('a pack holds only the times when the response body gives the events back, and the whole events when it does not', () => {
    const body = wire(streamed);
    const timesOnly = packSseEvents(streamed, body);
    assert.ok(isTimesOnly(timesOnly));
    const whole = encodeSseEvents(streamed);
    assert.ok(timesOnly.length * 4 < whole.length, `${timesOnly.length} bytes against ${whole.length}`);
    assert.deepEqual(decodeSseEvents(timesOnly, () => body), streamed);
    // Damage, as an unreadable chunk is: the listing reports it and goes on.
    assert.throws(() => decodeSseEvents(timesOnly, () => undefined), (e) => e instanceof BodyIntegrityError && /stored in the response body, which is missing/.test(e.message));
    assert.throws(() => decodeSseEvents(timesOnly, () => wire(streamed.slice(1))), (e) => e instanceof BodyIntegrityError && /gives 59 SSE events, not the 60/.test(e.message));
    // Not given back exactly: the events are packed whole.
    for (const [why, other] of [
      ['a CR inside data, which a stream cannot carry', events],
      ['an event the body does not hold', [...streamed, { seq: 60, time: T0 + 200, data: 'not in the body' }]],
      ['another text', streamed.map((e, i) => (i === 30 ? { ...e, data: `${e.data} (redacted differently)` } : e))],
    ] as const) {
      const packed = packSseEvents(other, why === 'a CR inside data, which a stream cannot carry' ? wire(events) : body);
      assert.ok(!isTimesOnly(packed), why);
      assert.deepEqual(decodeSseEvents(packed), other, why);
    }
    assert.ok(!isTimesOnly(packSseEvents(streamed)), 'no body: whole');
    // A very large stream keeps its whole pack: reading it would parse the body each time.
    const big = Array.from({ length: 9 }, (_, i): SseEventRecord => ({ seq: i, time: T0 + i, data: String(i).repeat(1024 * 1024) }));
    assert.ok(!isTimesOnly(packSseEvents(big, wire(big))));
  });

  test('a captured stream is stored once: the pack made at its end holds its times, read back with the body, also by a reader and after a reopen', async () => {
    const tmp = tempDir();
    try {
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      store.connectionUpdated(connection(1));
      store.connectionUpdated(connection(2));
      const body = wire(streamed);
      const heads = [exchange(1, 1, { kind: 'sse', statusCode: 200 }), exchange(2, 2, { kind: 'sse', statusCode: 200 })];
      for (const head of heads) {
        store.exchangeUpdated(head);
        for (let i = 0; i < streamed.length; i += 9) store.sseEvents(head.id, streamed.slice(i, i + 9));
      }
      // The first ends whole; the second's body was cut at the size limit, so its events are packed whole.
      store.exchangeUpdated({ ...heads[0]!, endedAt: T0 + 500, outcome: 'complete', responseBody: answer(body) });
      store.exchangeUpdated({ ...heads[1]!, endedAt: T0 + 500, outcome: 'complete', responseBody: answer(body.subarray(0, 2000), true) });
      const [whole, cut] = [store.storedExchangeId(1)!, store.storedExchangeId(2)!];
      assert.ok(isTimesOnly(storedPack(store, whole)));
      assert.ok(!isTimesOnly(storedPack(store, cut)));
      for (const id of [whole, cut]) assert.deepEqual(store.listSseEvents(id, { limit: 1000 }).items, streamed);
      assert.equal(rows(store), 0);
      await store.flush();
      const reader = await CaptureStore.open({ dataDir: tmp.dir, mode: 'reader' });
      for (const id of [whole, cut]) assert.deepEqual(reader.listSseEvents(id, { limit: 1000 }).items, streamed);
      assert.deepEqual(reader.listSseEvents(whole, { limit: 5, after: 20 }).items, streamed.slice(21, 26));
      await reader.close();
      // Late events are packed, by the next retention pass, with the ones the body gives back.
      const late: SseEventRecord[] = [{ seq: 60, time: T0 + 600, data: 'late' }];
      store.sseEvents(1, late);
      await store.close();
      const again = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      again.applyRetention();
      assert.equal(rows(again), 0);
      assert.ok(!isTimesOnly(storedPack(again, whole)));
      assert.deepEqual(again.listSseEvents(whole, { limit: 1000 }).items, [...streamed, ...late]);
      await again.close();
    } finally {
      tmp.cleanup();
    }
  });

  test('pages are the same while the exchange streams (rows) and after it ended (one body)', async () => {
    const tmp = tempDir();
    try {
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      store.connectionUpdated(connection(1));
      const head = exchange(1, 1, { kind: 'sse', statusCode: 200 });
      store.exchangeUpdated(head);
      for (let i = 0; i < events.length; i += 7) store.sseEvents(1, events.slice(i, i + 7));
      const id = store.storedExchangeId(1)!;
      const streaming = pages(store, id);
      assert.deepEqual(store.listSseEvents(id, { limit: 1000 }).items, events);
      assert.equal(rows(store), 40);

      store.exchangeUpdated({ ...head, endedAt: T0 + 500, outcome: 'complete' });
      assert.equal(rows(store), 0, 'the rows went with the end');
      assert.equal(store.stats().sseEvents, 40);
      assert.deepEqual(pages(store, id), streaming);

      await store.flush();
      const reader = await CaptureStore.open({ dataDir: tmp.dir, mode: 'reader' });
      assert.deepEqual(pages(reader, id), streaming);
      // Late events (after the end) are stored too, and listed in order with the packed ones.
      const late: SseEventRecord[] = [{ seq: 40, time: T0 + 600, data: 'late' }, { seq: 41, time: T0 + 601, event: 'ping', data: '' }];
      store.sseEvents(1, late);
      assert.deepEqual(store.listSseEvents(id, { limit: 1000 }).items, [...events, ...late]);
      assert.deepEqual(store.listSseEvents(id, { limit: 2, after: 39 }).items, late);
      await store.flush();
      await reader.refresh();
      assert.deepEqual(reader.listSseEvents(id, { limit: 1000 }).items, [...events, ...late]);
      await reader.close();
      await store.close();

      const again = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      assert.deepEqual(again.listSseEvents(id, { limit: 1000 }).items, [...events, ...late]);
      // The late rows are packed once capture can send nothing more about the exchange (here: a new process).
      again.applyRetention();
      assert.equal(rows(again), 0);
      assert.equal(again.stats().sseEvents, 42);
      assert.deepEqual(again.listSseEvents(id, { limit: 1000 }).items, [...events, ...late]);
      assert.deepEqual(again.listSseEvents(id, { limit: 2, after: 38 }), { items: [events[39], late[0]], next: 40 });
      assert.deepEqual(again.listSseEvents(id, { limit: 3, after: 38 }), { items: [events[39], ...late] });
      await again.close();
    } finally {
      tmp.cleanup();
    }
  });

  test('a seq repeated inside one burst of rows keeps its later event, in rows and after a reopen', async () => {
    const tmp = tempDir();
    try {
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      store.connectionUpdated(connection(1));
      store.exchangeUpdated(exchange(1, 1, { kind: 'sse', statusCode: 200 }));
      const id = store.storedExchangeId(1)!;
      const burst: SseEventRecord[] = Array.from({ length: 70 }, (_, i) => ({ seq: i, time: T0 + i, data: `{"i":${i}}` }));
      burst[40] = { seq: 3, time: T0 + 40, data: 'seq 3 again' };
      store.sseEvents(1, burst);
      const expected = burst.filter((_, i) => i !== 3 && i !== 40).concat([burst[40]]).sort((a, b) => a.seq - b.seq);
      assert.equal(rows(store), 69);
      assert.deepEqual(store.listSseEvents(id, { limit: 1000 }).items, expected);
      await store.close();
      const again = await CaptureStore.open({ dataDir: tmp.dir, mode: 'reader' });
      assert.deepEqual(again.listSseEvents(id, { limit: 1000 }).items, expected);
      await again.close();
    } finally {
      tmp.cleanup();
    }
  });

  test('a large event is packed at once with the rows before it, never a row; many medium ones are packed as they add up', async () => {
    const tmp = tempDir();
    try {
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      const reader = await CaptureStore.open({ dataDir: tmp.dir, mode: 'reader' });
      store.connectionUpdated(connection(1));
      const head = exchange(1, 1, { kind: 'sse', statusCode: 200 });
      store.exchangeUpdated(head);
      const id = store.storedExchangeId(1)!;
      const sent: SseEventRecord[] = [];
      const send = (batch: SseEventRecord[]) => {
        sent.push(...batch);
        store.sseEvents(1, batch);
      };
      send(events.slice(0, 5));
      assert.equal(rows(store), 5);
      // One 4 MB line: it and the five rows before it go to a packed body in one operation.
      send([{ seq: 5, time: T0 + 200, event: 'message_start', data: `{"text":"${'y'.repeat(4 * 1024 * 1024)}"}` }]);
      assert.equal(rows(store), 0);
      send([{ seq: 6, time: T0 + 201, data: 'small after' }]);
      // A row written again with the same seq replaces it, in rows and in the pack made at the end.
      store.sseEvents(1, [{ seq: 6, time: T0 + 202, data: 'small after, again' }]);
      sent[sent.length - 1] = { seq: 6, time: T0 + 202, data: 'small after, again' };
      assert.equal(rows(store), 1);
      assert.deepEqual(store.listSseEvents(id, { limit: 1000 }).items, sent);
      // 40 KB events, each a row, until the rows hold as much as the pack (4 MB): then they are packed too.
      for (let seq = 7; seq < 7 + 120; seq++) send([{ seq, time: T0 + 300 + seq, data: `"${String(seq).repeat(40_000 / String(seq).length)}"` }]);
      assert.ok(Number(rows(store)) < 120, `${rows(store)} rows left`);
      assert.deepEqual(store.listSseEvents(id, { limit: 1000 }).items, sent);
      await store.flush();
      await reader.refresh();
      assert.deepEqual(reader.listSseEvents(id, { limit: 1000 }).items, sent);

      store.exchangeUpdated({ ...head, endedAt: T0 + 900, outcome: 'complete' });
      assert.equal(rows(store), 0);
      assert.equal(store.stats().sseEvents, sent.length);
      assert.deepEqual(store.listSseEvents(id, { limit: 1000 }).items, sent);
      await store.flush();
      await reader.refresh();
      assert.deepEqual(reader.listSseEvents(id, { limit: 1000 }).items, sent);
      await reader.close();
      await store.close();
    } finally {
      tmp.cleanup();
    }
  });
});

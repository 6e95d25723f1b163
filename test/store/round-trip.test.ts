// Records written through the CaptureSink come back identical: bodies byte-exact (binary,
// empty, large), headers with case and order, SSE events (id, retry) and WebSocket messages in order, with
// paging; the same after a reopen (snapshot) and for a reader following the journal.
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, describe, test } from 'node:test';
import { CaptureStore } from '../../src/store';
import type { ExchangeRecord, SseEventRecord, WsMessageRecord } from '../../src/capture/records';
import { body, connection, exchange, randomBytesSeeded, tempDir, T0 } from './fixtures/records';

describe('store round trip', { timeout: 60_000 }, () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  const binary = randomBytesSeeded(7, 300_000);
  const gz = gzipSync(Buffer.from('{"hello":"world"}'.repeat(1000)));
  const records: ExchangeRecord[] = [
    exchange(1, 1, {
      statusCode: 200, statusMessage: 'OK', kind: 'sse',
      requestBody: body('{"model":"claude","messages":[]}'),
      responseHeaders: [['Content-Type', 'text/event-stream'], ['X-Request-Id', 'req_1'], ['x-request-id', 'dup-name-kept']],
      responseBody: body('event: ping\ndata: {}\n\n'),
      requestEndedAt: T0 + 11, responseStartedAt: T0 + 12.5, endedAt: T0 + 20, outcome: 'complete',
    }),
    exchange(2, 1, { method: 'PUT', requestBody: body(binary, { encoding: '', decoded: true }), statusCode: 201, endedAt: T0 + 100, outcome: 'complete' }),
    exchange(3, 1, {
      requestBody: body(Buffer.alloc(0)),
      responseBody: body(gz, { encoding: 'br', decoded: false, wireSize: gz.length, error: 'brotli: bad header' }),
      statusCode: 502, outcome: 'upstream-error', errors: ['upstream reset', 'decode failed'], endedAt: T0 + 200,
    }),
    exchange(4, 2, { kind: 'websocket', method: 'GET', url: 'wss://chatgpt.com/backend-api/codex/responses', statusCode: 101, responseHeaders: [['Upgrade', 'websocket']] }),
    exchange(5, 2, { requestBody: body(Buffer.from('x'.repeat(5000)), { truncated: true, wireSize: 999_999 }) }),
  ];
  const sse: SseEventRecord[] = Array.from({ length: 7 }, (_, i) => ({ seq: i, time: T0 + 13 + i, event: i % 2 ? 'content_block_delta' : undefined, id: i === 3 ? 'e3' : undefined, data: `{"i":${i}}`, retry: i === 3 ? 2500 : undefined }))
    .map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as unknown as SseEventRecord);
  const ws: WsMessageRecord[] = [
    { exchangeId: 4, seq: 0, time: 1, direction: 'client-to-server', opcode: 'text', data: Buffer.from('{"type":"response.create"}'), size: 26 },
    { exchangeId: 4, seq: 1, time: 2, direction: 'server-to-client', opcode: 'binary', data: randomBytesSeeded(9, 50_000), size: 50_000 },
    { exchangeId: 4, seq: 2, time: 3, direction: 'server-to-client', opcode: 'ping', data: Buffer.alloc(0), size: 0 },
    { exchangeId: 4, seq: 3, time: 4, direction: 'client-to-server', opcode: 'close', data: Buffer.from('1000 bye'), size: 8 },
  ];

  /** What the store gives back: the same record under the store's ids. */
  function expected(store: CaptureStore, r: ExchangeRecord): ExchangeRecord {
    return { ...r, id: store.storedExchangeId(r.id)!, connectionId: store.storedConnectionId(r.connectionId)! };
  }

  function write(store: CaptureStore): void {
    store.connectionUpdated(connection(1));
    store.connectionUpdated(connection(2, { label: 'terminal 2', targetHost: 'chatgpt.com' }));
    for (const r of records) {
      // As capture does: the head first, then the final record.
      const { requestBody: _a, responseBody: _b, endedAt: _c, ...head } = r;
      store.exchangeUpdated(head);
      store.exchangeUpdated(r);
    }
    store.sseEvents(1, sse.slice(0, 3));
    store.sseEvents(1, sse.slice(3));
    for (const m of ws) store.wsMessage(m);
    store.connectionUpdated(connection(1, { closedAt: T0 + 1000, bytesFromClient: 1234, bytesToClient: 5678 }));
  }

  function verify(store: CaptureStore, ids: Map<number, number>): void {
    for (const r of records) {
      const got = store.getExchange(ids.get(r.id)!);
      assert.ok(got, `exchange ${r.id}`);
      assert.deepEqual(got, { ...r, id: ids.get(r.id), connectionId: got.connectionId });
    }
    assert.ok(store.getExchange(ids.get(2)!)!.requestBody!.data.equals(binary));
    // Paging newest first, cursor = next.
    const seen: number[] = [];
    let before: number | undefined;
    for (;;) {
      const page = store.listExchanges({ limit: 2, before });
      seen.push(...page.items.map((e) => e.id));
      if (page.next === undefined) break;
      before = page.next;
    }
    assert.deepEqual(seen, [...records].reverse().map((r) => ids.get(r.id)));
    const summary = store.listExchanges({ limit: 10 }).items.find((e) => e.id === ids.get(2))!;
    assert.equal(summary.requestBody?.size, binary.length);
    assert.deepEqual(store.getBody(summary.requestBody!.bodyId), binary);
    // SSE events in order, paged.
    const e1 = store.listSseEvents(ids.get(1)!, { limit: 4 });
    assert.equal(e1.items.length, 4);
    const e2 = store.listSseEvents(ids.get(1)!, { limit: 4, after: e1.next });
    assert.deepEqual([...e1.items, ...e2.items], sse);
    assert.equal(e2.next, undefined);
    // WebSocket messages: inline and deduplicated payloads alike.
    const wsPage = store.listWsMessages(ids.get(4)!, { limit: 10 });
    assert.deepEqual(wsPage.items.map(({ bodyId: _b, ...m }) => m), ws.map((m) => ({ ...m, exchangeId: ids.get(4) })));
    const lean = store.listWsMessages(ids.get(4)!, { includeData: false });
    assert.equal(lean.items[1].data.length, 0);
    assert.deepEqual(store.getBody(lean.items[1].bodyId!), ws[1].data);
    // Connections.
    const conns = store.listConnections({ limit: 1 });
    assert.equal(conns.items.length, 1);
    const all = [...conns.items, ...store.listConnections({ before: conns.next }).items];
    assert.equal(all.length, 2);
    const c1 = all.find((c) => c.clientPort === 50001)!;
    assert.deepEqual(c1, { ...connection(1, { closedAt: T0 + 1000, bytesFromClient: 1234, bytesToClient: 5678 }), id: c1.id });
  }

  test('written records read back identical, also after reopening and from a reader', async () => {
    const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer' });
    assert.equal(store.role, 'writer');
    write(store);
    const ids = new Map(records.map((r) => [r.id, store.storedExchangeId(r.id)!]));
    assert.deepEqual(store.getExchange(ids.get(1)!), expected(store, records[0]));
    verify(store, ids);

    // A reader in the same process: the lock is held, so 'auto' opens read-only, from snapshot + journal.
    await store.flush();
    const reader = await CaptureStore.open({ dataDir: tmp.dir, mode: 'auto', pollIntervalMs: 50 });
    assert.equal(reader.role, 'reader');
    verify(reader, ids);
    // Writes to a reader are dropped, never stored.
    reader.exchangeUpdated(exchange(99, 1));
    assert.equal(reader.stats().droppedWrites, 1);
    await reader.close();

    await store.close();
    const again = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer' });
    verify(again, ids);
    assert.deepEqual(again.warnings, []);
    // New records after a restart get new ids even though capture numbers from 1 again.
    again.connectionUpdated(connection(1, { openedAt: T0 + 1_000_000 }));
    again.exchangeUpdated(exchange(1, 1, { startedAt: T0 + 1_000_000 }));
    const newId = again.storedExchangeId(1)!;
    assert.ok(!ids.has(newId) && ![...ids.values()].includes(newId));
    assert.equal(again.stats().exchanges, records.length + 1);
    await again.close();
  });

  test('an SSE event that cannot be stored is dropped whole and never journaled; the next ones are kept', async () => {
    const t = tempDir();
    try {
      const store = await CaptureStore.open({ dataDir: t.dir, mode: 'writer' });
      store.connectionUpdated(connection(1));
      store.exchangeUpdated(exchange(1, 1));
      store.sseEvents(1, [{ seq: 0, time: T0 + 1, data: 'a' }]);
      // A row without a time breaks a NOT NULL constraint: the one statement that applies it fails.
      store.sseEvents(1, [{ seq: 1, time: null as unknown as number, data: 'b' }]);
      store.sseEvents(1, [{ seq: 2, time: T0 + 3, data: 'c' }]);
      assert.equal(store.stats().droppedWrites, 1);
      const id = store.storedExchangeId(1)!;
      assert.deepEqual(store.listSseEvents(id).items.map((e) => e.data), ['a', 'c']);
      // A reader replays the journal: it holds the same.
      await store.flush();
      const reader = await CaptureStore.open({ dataDir: t.dir, mode: 'auto' });
      assert.equal(reader.role, 'reader');
      assert.deepEqual(reader.listSseEvents(id).items.map((e) => e.data), ['a', 'c']);
      await reader.close();
      await store.close();
    } finally {
      t.cleanup();
    }
  });

  test('repeated updates with the same body buffer store it once', async () => {
    const t = tempDir();
    try {
      const store = await CaptureStore.open({ dataDir: t.dir, mode: 'writer' });
      const big = body(randomBytesSeeded(3, 100_000));
      for (let i = 0; i < 5; i++) store.exchangeUpdated(exchange(1, 1, { requestBody: big, statusCode: i === 4 ? 200 : undefined }));
      // A response body that grows while streaming: in-progress versions are stored at most once
      // a second, the final one always; superseded versions are garbage-collected.
      for (let i = 1; i <= 5; i++) {
        store.exchangeUpdated(exchange(1, 1, { requestBody: big, responseBody: body(randomBytesSeeded(4, 20_000 * i)), endedAt: i === 5 ? T0 + 50 : undefined }));
        if (i === 1) assert.equal(store.getExchangeSummary(store.storedExchangeId(1)!)!.responseBody!.size, 20_000);
        if (i === 4) assert.equal(store.getExchangeSummary(store.storedExchangeId(1)!)!.responseBody!.size, 20_000, 'not stored again within a second');
      }
      const s = store.stats();
      assert.equal(s.bodies, 2);
      assert.ok(s.chunkRawBytes <= 100_000 + 100_000 + 40_000, `chunks hold ${s.chunkRawBytes} raw bytes`);
      assert.deepEqual(store.getExchange(store.storedExchangeId(1)!)!.responseBody!.data, randomBytesSeeded(4, 100_000));
      await store.close();
    } finally {
      t.cleanup();
    }
  });

  test('a body damaged in storage comes back empty with the reason, the rest of the exchange intact', async () => {
    const t = tempDir();
    try {
      const store = await CaptureStore.open({ dataDir: t.dir, mode: 'writer' });
      store.exchangeUpdated(exchange(1, 1, { requestBody: body('x'.repeat(10_000)), responseBody: body('fine'), endedAt: T0 + 5 }));
      // Damage one stored chunk behind the store's back.
      const db = (store as unknown as { engine: { db: { run(sql: string, p?: unknown[]): void } } }).engine.db;
      db.run("UPDATE chunks SET data = X'00010203' WHERE id = (SELECT MIN(id) FROM chunks)");
      const got = store.getExchange(store.storedExchangeId(1)!)!;
      assert.equal(got.requestBody!.data.length, 0);
      assert.match(got.requestBody!.error!, /body \d+: chunk \d+/);
      assert.equal(got.responseBody!.data.toString(), 'fine');
      await store.close();
    } finally {
      t.cleanup();
    }
  });
});

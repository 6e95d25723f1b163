// Retention by age and by size deletes whole exchanges (with their SSE events and WebSocket
// messages) and the chunks nothing uses any more, keeps chunks still shared with surviving
// exchanges, leaves exchanges still being captured alone, and reaches readers and replays.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { CaptureStore } from '../../src/store';
import { chunkBoundaries } from '../../src/store/content-chunking';
import type { ExchangeRecord } from '../../src/capture/records';
import { body, connection, exchange, randomBytesSeeded, tempDir, T0 } from './fixtures/records';

const DAY = 86_400_000;

/** Distinct chunks that the given bodies need: what the store must hold after garbage collection. */
function distinctChunks(bodies: Buffer[]): number {
  const seen = new Set<string>();
  for (const b of new Set(bodies)) {
    let start = 0;
    for (const end of chunkBoundaries(b)) {
      seen.add(createHash('sha256').update(b.subarray(start, end)).digest('hex'));
      start = end;
    }
  }
  return seen.size;
}

function allBodies(records: ExchangeRecord[]): Buffer[] {
  const unique = new Map<string, Buffer>();
  for (const r of records) for (const b of [r.requestBody, r.responseBody]) if (b) unique.set(b.data.toString('base64'), b.data);
  return [...unique.values()];
}

describe('retention', { timeout: 60_000 }, () => {
  test('by age: an imported exchange counts its age from its import, not from when it happened', async () => {
    const tmp = tempDir();
    try {
      const now = Date.now();
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      store.connectionUpdated(connection(1, { openedAt: now - 400 * DAY, closedAt: now - 400 * DAY + 1000 }));
      // A year-old HAR imported yesterday, and a capture as old as it that was never imported.
      store.exchangeUpdated(exchange(1, 1, { startedAt: now - 400 * DAY, endedAt: now - 400 * DAY + 5, importedAt: now - DAY }));
      store.exchangeUpdated(exchange(2, 1, { startedAt: now - 400 * DAY + 10, endedAt: now - 400 * DAY + 15 }));
      await store.flush();
      store.setRetention({ maxAgeDays: 30 });
      store.applyRetention(now);
      const kept = store.getExchange(store.storedExchangeId(1)!);
      assert.equal(kept?.importedAt, now - DAY, 'the imported exchange stays, with its import time');
      assert.equal(store.getExchange(store.storedExchangeId(2) ?? -1), undefined, 'the old capture goes');
      store.applyRetention(now + 30 * DAY);
      assert.equal(store.getExchange(store.storedExchangeId(1) ?? -1), undefined, '30 days after its import it goes too');
      await store.close();
    } finally {
      tmp.cleanup();
    }
  });

  test('by age: whole old exchanges go, shared chunks stay, readers and replays agree', async () => {
    const tmp = tempDir();
    try {
      const now = Date.now();
      const shared = randomBytesSeeded(1, 40_000);
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      store.connectionUpdated(connection(1, { openedAt: now - 10 * DAY, closedAt: now - 10 * DAY + 1000 }));
      store.connectionUpdated(connection(2, { openedAt: now - DAY }));
      store.connectionUpdated(connection(3, { openedAt: now - 9 * DAY, closedAt: now - 9 * DAY, mode: 'tunnel', targetHost: 'github.com' }));
      const old: ExchangeRecord[] = [];
      const recent: ExchangeRecord[] = [];
      for (let i = 1; i <= 40; i++) {
        // Old bodies: half unique, half the shared prefix + a unique tail (chunks shared with recent ones).
        const data = i % 2 ? randomBytesSeeded(100 + i, 30_000) : Buffer.concat([shared, randomBytesSeeded(200 + i, 5_000)]);
        old.push(exchange(i, 1, { startedAt: now - 10 * DAY + i, endedAt: now - 10 * DAY + i + 5, requestBody: body(data), responseBody: body(`old ${i}`) }));
      }
      for (let i = 41; i <= 80; i++) {
        const data = Buffer.concat([shared, randomBytesSeeded(300 + i, 5_000)]);
        recent.push(exchange(i, 2, { startedAt: now - DAY + i, endedAt: now - DAY + i + 5, requestBody: body(data), responseBody: body(`old ${i - 40}`) }));
      }
      // One old exchange was never finished: it is still being captured, so retention leaves it.
      const live = exchange(81, 1, { startedAt: now - 10 * DAY, requestBody: body('still streaming') });
      for (const r of [...old, ...recent, live]) store.exchangeUpdated(r);
      store.sseEvents(1, [{ seq: 0, time: now - 10 * DAY, data: 'x' }]);
      store.wsMessage({ exchangeId: 2, seq: 0, time: now - 10 * DAY, direction: 'client-to-server', opcode: 'binary', data: randomBytesSeeded(5, 9000), size: 9000 });
      await store.flush();
      const reader = await CaptureStore.open({ dataDir: tmp.dir, mode: 'reader', pollIntervalMs: 100 });
      const before = store.stats();
      assert.equal(before.chunks, distinctChunks([...allBodies([...old, ...recent, live]), randomBytesSeeded(5, 9000)]));

      store.setRetention({ maxAgeDays: 7 });
      const r = store.applyRetention(now);
      assert.equal(r.exchangesDeleted, 0, 'setRetention already applied it');
      const after = store.stats();
      assert.equal(after.exchanges, 41);
      assert.equal(after.sseEvents, 0);
      assert.equal(after.wsMessages, 0);
      assert.equal(after.connections, 2, 'the old closed connection with no exchange left, and the old tunnel, are gone');
      assert.ok(store.getConnection(store.storedConnectionId(1)!), 'connection 1 stays: the live exchange uses it');
      assert.equal(after.chunks, distinctChunks(allBodies([...recent, live])));
      assert.ok(after.chunks < before.chunks);
      assert.equal(after.bodies, allBodies([...recent, live]).length);
      for (const rec of [...recent, live]) {
        const got = store.getExchange(store.storedExchangeId(rec.id)!)!;
        assert.ok(got.requestBody!.data.equals(rec.requestBody!.data));
        assert.ok(got.responseBody === rec.responseBody || got.responseBody!.data.equals(rec.responseBody!.data));
      }
      for (const rec of old) assert.equal(store.getExchange(store.storedExchangeId(rec.id) ?? -1), undefined);

      // The reader applies the same deletion from the journal.
      await store.flush();
      await reader.refresh();
      assert.deepEqual({ ...reader.stats(), role: 'writer', journalBytes: 0, lastSnapshot: undefined, usedBytes: 0, databaseBytes: 0, snapshotLsn: 0, reloads: 0 },
        { ...after, journalBytes: 0, lastSnapshot: undefined, usedBytes: 0, databaseBytes: 0, snapshotLsn: 0, reloads: 0 });
      await reader.close();
      await store.close();
      const again = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer' });
      assert.equal(again.stats().exchanges, 41);
      assert.equal(again.stats().chunks, after.chunks);
      await again.close();
    } finally {
      tmp.cleanup();
    }
  });

  test('by size: the oldest exchanges go until the database fits, newest kept intact', async () => {
    const tmp = tempDir();
    try {
      const maxBytes = 2 * 1024 * 1024;
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: { maxBytes } });
      store.connectionUpdated(connection(1));
      const records: ExchangeRecord[] = [];
      for (let i = 1; i <= 200; i++) {
        const rec = exchange(i, 1, { endedAt: T0 + i, requestBody: body(randomBytesSeeded(i, 50_000)) });
        records.push(rec);
        store.exchangeUpdated(rec);
      }
      assert.ok(store.stats().usedBytes > 4 * maxBytes);
      const r = store.applyRetention();
      const s = store.stats();
      assert.ok(r.exchangesDeleted > 100, `deleted ${r.exchangesDeleted}`);
      assert.ok(s.usedBytes <= maxBytes, `${s.usedBytes} bytes used`);
      assert.ok(s.databaseBytes <= maxBytes * 1.1, `incremental vacuum shrank the file to ${s.databaseBytes}`);
      const kept = records.slice(r.exchangesDeleted);
      assert.equal(s.exchanges, kept.length);
      assert.equal(s.chunks, distinctChunks(kept.map((k) => k.requestBody!.data)));
      for (const rec of kept) assert.ok(store.getExchange(store.storedExchangeId(rec.id)!)!.requestBody!.data.equals(rec.requestBody!.data));
      await store.close();
    } finally {
      tmp.cleanup();
    }
  });

  test('by size: bodies stored uncut while capture was behind do not push older exchanges out before they are cut', async () => {
    const tmp = tempDir();
    try {
      const maxBytes = 1024 * 1024;
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: { maxBytes } });
      store.connectionUpdated(connection(1));
      // An agent resends a growing 67 KB history: cut, the 15 requests take about one history; uncut, 1 MB.
      const history = randomBytesSeeded(7, 50_000).toString('base64');
      const records = Array.from({ length: 15 }, (_, i) => exchange(i + 1, 1, { endedAt: T0 + i, requestBody: body(`${history}${' turn'.repeat(i)}`) }));
      store.exchangeUpdated(records[0]);
      store.noteCaptureLag(5_000);
      for (const rec of records.slice(1)) store.exchangeUpdated(rec);
      assert.ok(store.stats().usedBytes > maxBytes, `${store.stats().usedBytes} bytes used while uncut`);
      const r = store.applyRetention();
      assert.equal(r.exchangesDeleted, 0, 'nothing deleted for bytes that cutting takes away');
      // Once capture keeps up, the passes cut them; the store fits without deleting anything.
      for (let i = 0; i < 200 && store.stats().deferredBytes > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(store.stats().deferredBytes, 0);
      assert.ok(store.stats().usedBytes < maxBytes, `${store.stats().usedBytes} bytes used once cut`);
      assert.equal(store.applyRetention().exchangesDeleted, 0);
      assert.ok(store.getExchange(store.storedExchangeId(1)!)!.requestBody!.data.equals(records[0].requestBody!.data));
      await store.close();
    } finally {
      tmp.cleanup();
    }
  });
});

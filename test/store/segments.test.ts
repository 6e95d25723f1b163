// Chunk bytes live in segment files: bodies larger than a segment come back byte for byte (from
// the writer, a reader and after a reopen); a segment cut short by a crash, or a chunk whose bytes
// were damaged, makes only the bodies that use it unreadable, with the reason, never a crash or
// wrong bytes; the database keeps no body bytes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CaptureStore } from '../../src/store';
import { body, connection, exchange, randomBytesSeeded, tempDir, T0 } from './fixtures/records';
import { syntheticSession } from './fixtures/synthetic-session';

const segmentFiles = (dir: string) => readdirSync(dir).filter((f) => /^capture\.sqlite\.\d+\.seg$/.test(f)).sort();

function ids(store: CaptureStore, captureIds: number[]): number[] {
  return captureIds.map((c) => store.storedExchangeId(c)!);
}

/** Reads `rows` straight from the store's database (test-only access to a private). */
function sql(store: CaptureStore, query: string): Record<string, unknown>[] {
  return (store as unknown as { engine: { db: { all(q: string): Record<string, unknown>[] } } }).engine.db.all(query);
}

describe('segment files', { timeout: 60_000 }, () => {
  test('bodies larger than a segment round-trip, from the writer, a reader and after a reopen', async () => {
    const tmp = tempDir();
    try {
      const big = randomBytesSeeded(1, 1_500_000);
      const text = syntheticSession({ requests: 40, seed: 3 })[39];
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {}, segmentBytes: 256 * 1024 });
      store.connectionUpdated(connection(1));
      store.exchangeUpdated(exchange(1, 1, { requestBody: body(big), responseBody: body(text), endedAt: T0 + 50 }));
      store.exchangeUpdated(exchange(2, 1, { requestBody: body(Buffer.alloc(0)), responseBody: body('small'), endedAt: T0 + 60 }));
      const [a, b] = ids(store, [1, 2]);
      const check = (s: CaptureStore, where: string) => {
        const x = s.getExchange(a)!;
        assert.ok(x.requestBody!.data.equals(big), `${where}: big body`);
        assert.ok(x.responseBody!.data.equals(text), `${where}: text body`);
        assert.equal(s.getExchange(b)!.requestBody!.data.length, 0);
        assert.equal(s.getBody(s.getExchangeSummary(b)!.responseBody!.bodyId)!.toString(), 'small');
      };
      check(store, 'writer');
      assert.ok(segmentFiles(tmp.dir).length >= 6, `segments: ${segmentFiles(tmp.dir).join(', ')}`);
      for (const f of segmentFiles(tmp.dir)) assert.ok(statSync(join(tmp.dir, f)).size <= 256 * 1024, f);
      // The database holds locations, not bytes.
      assert.deepEqual(sql(store, 'SELECT COUNT(*) AS n FROM chunks WHERE data IS NOT NULL OR segment IS NULL'), [{ n: 0 }]);
      const s = store.stats();
      assert.ok(s.segmentBytes >= s.storedBodyBytes && s.databaseBytes < 400 * 1024, JSON.stringify(s));

      await store.flush();
      const reader = await CaptureStore.open({ dataDir: tmp.dir, mode: 'auto' });
      assert.equal(reader.role, 'reader');
      check(reader, 'reader');
      await reader.close();
      await store.close();
      const again = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {}, segmentBytes: 256 * 1024 });
      assert.deepEqual(again.warnings, []);
      check(again, 'reopened');
      await again.close();
    } finally {
      tmp.cleanup();
    }
  });

  test('a body read back is its reader\'s own: changing it changes nothing read later', async () => {
    const tmp = tempDir();
    try {
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      store.connectionUpdated(connection(1));
      // One small chunk (kept by the reader's cache), an answer of one large chunk (not kept), and a
      // request of many chunks (some kept).
      const small = Buffer.from('a short request');
      const answer = randomBytesSeeded(2, 300_000);
      const history = Buffer.from(syntheticSession({ requests: 20, seed: 5 })[19]);
      store.exchangeUpdated(exchange(1, 1, { requestBody: body(small), responseBody: body(answer), endedAt: T0 + 50 }));
      store.exchangeUpdated(exchange(2, 1, { requestBody: body(history), responseBody: body('ok'), endedAt: T0 + 60 }));
      await store.flush();
      for (const s of [store, await CaptureStore.open({ dataDir: tmp.dir, mode: 'auto' })]) {
        const [a, b] = ids(store, [1, 2]).map((id) => s.getExchangeSummary(id)!);
        for (const [bodyId, expected] of [[a.requestBody!.bodyId, small], [a.responseBody!.bodyId, answer], [b.requestBody!.bodyId, history]] as const) {
          // Twice: the first reading fills the cache, the second may come from it.
          for (let i = 0; i < 2; i++) {
            const read = s.getBody(bodyId)!;
            assert.ok(read.equals(expected));
            read.fill(0x21);
          }
          assert.ok(s.getBody(bodyId)!.equals(expected), `body ${bodyId} read again after the bytes read were changed`);
        }
        if (s !== store) await s.close();
      }
      await store.close();
    } finally {
      tmp.cleanup();
    }
  });

  test('an operation of more chunk records than one writev takes (1,024 buffers) is written whole, in order', async () => {
    const tmp = tempDir();
    try {
      // ~2,000 chunks of ~4 KiB: each record is two buffers (header, data), written by several writev calls.
      const big = randomBytesSeeded(7, 8 * 1024 * 1024);
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      store.connectionUpdated(connection(1));
      store.exchangeUpdated(exchange(1, 1, { requestBody: body(big), endedAt: T0 + 50 }));
      const [id] = ids(store, [1]);
      assert.ok(Number(sql(store, 'SELECT COUNT(*) AS n FROM chunks')[0].n) > 1024);
      assert.ok(store.getExchange(id)!.requestBody!.data.equals(big), 'from the writer');
      await store.close();
      const again = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      assert.deepEqual(again.warnings, []);
      assert.ok(again.getExchange(id)!.requestBody!.data.equals(big), 'after a reopen');
      await again.close();
    } finally {
      tmp.cleanup();
    }
  });

  test('a segment cut short by a crash: the bodies it held are unreadable with the reason, the others intact, writing goes on; the content captured again repairs them', async () => {
    const tmp = tempDir();
    try {
      const bodies = [1, 2, 3].map((i) => randomBytesSeeded(10 + i, 60_000));
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      store.connectionUpdated(connection(1));
      bodies.forEach((data, i) => store.exchangeUpdated(exchange(i + 1, 1, { requestBody: body(data), endedAt: T0 + i })));
      const stored = ids(store, [1, 2, 3]);
      await store.close();
      // The last ~20 KB never reached the disk (a power cut after the journal, before the segment).
      const [file] = segmentFiles(tmp.dir);
      const path = join(tmp.dir, file);
      truncateSync(path, statSync(path).size - 20_000);

      const warned: string[] = [];
      const again = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {}, log: (level, m) => level === 'warn' && warned.push(m) });
      assert.deepEqual(again.warnings, []);
      assert.ok(again.getExchange(stored[0])!.requestBody!.data.equals(bodies[0]));
      assert.ok(again.getExchange(stored[1])!.requestBody!.data.equals(bodies[1]));
      const broken = again.getExchange(stored[2])!;
      assert.equal(broken.requestBody!.data.length, 0);
      assert.match(broken.requestBody!.error!, /body \d+: chunk \d+: capture\.sqlite\.000001\.seg at \d+: the record is cut short/);
      assert.equal(again.getBody(again.getExchangeSummary(stored[2])!.requestBody!.bodyId), undefined);
      assert.equal(again.stats().unreadableBodies, 2);
      assert.match(warned[0], /\d+ chunks are missing from the segment files/);
      assert.equal(warned.length, 3, warned.join('\n'));
      // New bodies go to a new segment: the damaged one is never appended to.
      const fresh = randomBytesSeeded(99, 50_000);
      again.exchangeUpdated(exchange(4, 1, { requestBody: body(fresh), endedAt: T0 + 9 }));
      assert.ok(again.getExchange(again.storedExchangeId(4)!)!.requestBody!.data.equals(fresh));
      assert.equal(segmentFiles(tmp.dir).length, 2);
      // The lost content comes again (an agent resends its history): the missing chunks are written anew.
      again.exchangeUpdated(exchange(5, 1, { requestBody: body(bodies[2]), endedAt: T0 + 10 }));
      assert.ok(again.getExchange(stored[2])!.requestBody!.data.equals(bodies[2]), 'repaired');
      await again.close();
      const third = await CaptureStore.open({ dataDir: tmp.dir, mode: 'reader' });
      assert.ok(third.getExchange(stored[2])!.requestBody!.data.equals(bodies[2]), 'repaired, after a reopen');
      assert.ok(third.getExchange(stored[0])!.requestBody!.data.equals(bodies[0]));
      await third.close();
    } finally {
      tmp.cleanup();
    }
  });

  test('a body stored uncut (capture behind) and cut short by a crash is written again uncut when it comes again, then cut', async () => {
    const tmp = tempDir();
    try {
      const bodies = [1, 2, 3].map((i) => randomBytesSeeded(30 + i, 60_000));
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      store.connectionUpdated(connection(1));
      store.noteCaptureLag(5_000);
      bodies.forEach((data, i) => store.exchangeUpdated(exchange(i + 1, 1, { requestBody: body(data), endedAt: T0 + i })));
      const stored = ids(store, [1, 2, 3]);
      assert.equal(store.stats().chunks, 3, 'one uncut chunk per body');
      await store.close();
      const [file] = segmentFiles(tmp.dir);
      truncateSync(join(tmp.dir, file), statSync(join(tmp.dir, file)).size - 20_000);

      const again = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      assert.equal(again.getExchange(stored[2])!.requestBody!.data.length, 0);
      again.exchangeUpdated(exchange(4, 1, { requestBody: body(bodies[2]), endedAt: T0 + 10 }));
      assert.ok(again.getExchange(stored[2])!.requestBody!.data.equals(bodies[2]), 'repaired');
      await again.close();
      // The next writer's passes cut every body, the repaired one too.
      const third = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      for (let i = 0; i < 200 && third.stats().deferredBytes > 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(third.stats().deferredBytes, 0);
      assert.ok(third.stats().chunks > 3, `${third.stats().chunks} chunks after cutting`);
      stored.forEach((id, i) => assert.ok(third.getExchange(id)!.requestBody!.data.equals(bodies[i]), `body ${i} after cutting`));
      await third.close();
    } finally {
      tmp.cleanup();
    }
  });

  test('a chunk whose bytes fail their crc32: that body is unreadable with a clear error, the others still read', async () => {
    const tmp = tempDir();
    try {
      const bodies = [1, 2, 3].map((i) => randomBytesSeeded(20 + i, 40_000));
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      store.connectionUpdated(connection(1));
      bodies.forEach((data, i) => store.exchangeUpdated(exchange(i + 1, 1, { requestBody: body(data), endedAt: T0 + i })));
      const stored = ids(store, [1, 2, 3]);
      const [middle] = sql(store, `SELECT seg_offset, stored_size FROM chunks ORDER BY seg_offset LIMIT 1 OFFSET ${Math.floor(Number(sql(store, 'SELECT COUNT(*) AS n FROM chunks')[0].n) / 2)}`);
      await store.close();
      const path = join(tmp.dir, segmentFiles(tmp.dir)[0]);
      const bytes = readFileSync(path);
      bytes[Number(middle.seg_offset) + 8 + 100] ^= 0x55;
      writeFileSync(path, bytes);

      const reader = await CaptureStore.open({ dataDir: tmp.dir, mode: 'reader' });
      const got = stored.map((id) => reader.getExchange(id)!.requestBody!);
      assert.equal(got.filter((b) => b.data.length === 0).length, 1);
      const bad = got.findIndex((b) => b.data.length === 0);
      assert.match(got[bad].error!, /fails its crc32/);
      for (let i = 0; i < 3; i++) if (i !== bad) assert.ok(got[i].data.equals(bodies[i]), `body ${i}`);
      assert.equal(reader.stats().unreadableBodies, 1);
      await reader.close();
    } finally {
      tmp.cleanup();
    }
  });
});

// Retention and segment files: chunks that nothing uses any more leave dead space; a segment with
// no live chunk is deleted, one whose live chunks take less than half of it is copied out, and
// files go only after the next durable snapshot and a grace period (readers catch up). Live bodies stay byte-identical for the writer,
// a reader following it, and after a reopen.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CaptureStore } from '../../src/store';
import type { ExchangeRecord } from '../../src/capture/records';
import { body, connection, exchange, randomBytesSeeded, tempDir } from './fixtures/records';

const DAY = 86_400_000;
const segmentFiles = (dir: string) => readdirSync(dir).filter((f) => /^capture\.sqlite\.\d+\.seg$/.test(f)).sort();

describe('segment compaction', { timeout: 60_000 }, () => {
  test('after retention, dead segments are deleted and sparse ones compacted; live bodies stay identical', async () => {
    const tmp = tempDir();
    try {
      const now = Date.now();
      const options = { dataDir: tmp.dir, mode: 'writer' as const, retention: {}, segmentBytes: 128 * 1024, segmentDeleteGraceMs: 4000 };
      const store = await CaptureStore.open(options);
      store.connectionUpdated(connection(1, { openedAt: now - 10 * DAY }));
      const old: ExchangeRecord[] = [];
      const kept: ExchangeRecord[] = [];
      // First only old exchanges (segments that die whole), then old and recent mixed (segments
      // that keep about a quarter of their bytes).
      for (let i = 1; i <= 60; i++) {
        const recent = i > 20 && i % 2 === 0;
        const rec = exchange(i, 1, {
          startedAt: recent ? now - DAY + i : now - 10 * DAY + i,
          endedAt: recent ? now - DAY + i + 5 : now - 10 * DAY + i + 5,
          requestBody: body(randomBytesSeeded(1000 + i, recent ? 10_000 : 30_000)),
        });
        (recent ? kept : old).push(rec);
        store.exchangeUpdated(rec);
      }
      await store.flush();
      const reader = await CaptureStore.open({ dataDir: tmp.dir, mode: 'reader', pollIntervalMs: 100 });
      const before = segmentFiles(tmp.dir);
      const bytesBefore = store.stats().segmentBytes;
      assert.ok(before.length >= 10, before.join(', '));

      store.setRetention({ maxAgeDays: 7 });
      // Each pass copies out one sparse segment.
      for (let i = 0; i < 20; i++) store.applyRetention(now);
      assert.equal(store.stats().exchanges, kept.length);
      const storeIds = new Map(kept.map((rec) => [rec.id, store.storedExchangeId(rec.id)!]));
      const check = (s: CaptureStore, where: string) => {
        for (const rec of kept) assert.ok(s.getExchange(storeIds.get(rec.id)!)?.requestBody?.data.equals(rec.requestBody!.data) ?? false, `${where}: exchange ${rec.id}`);
      };
      check(store, 'before the snapshot');
      // Nothing is deleted before a durable snapshot no longer needs it, nor within the grace period.
      for (const f of before) assert.ok(existsSync(join(tmp.dir, f)), `${f} still there`);
      await store.snapshot();
      for (const f of before) assert.ok(existsSync(join(tmp.dir, f)), `${f} still there during the grace period`);
      await new Promise((r) => setTimeout(r, 4100));
      await store.snapshot();
      const after = segmentFiles(tmp.dir);
      const s = store.stats();
      assert.ok(after.length < before.length / 2, `${before.length} segments before, ${after.length} after: ${after.join(', ')}`);
      assert.ok(!after.includes(before[0]) && !after.includes(before[1]), 'the segments of old exchanges only are gone');
      assert.ok(s.segmentBytes < bytesBefore / 2.5, `${s.segmentBytes} bytes in segments, ${bytesBefore} before`);
      assert.ok(s.segmentBytes < s.storedBodyBytes * 2, `${s.segmentBytes} on disk for ${s.storedBodyBytes} live`);
      check(store, 'after compaction');

      // A reader follows the relocations (it may have held descriptors of deleted files).
      await store.flush();
      await reader.refresh();
      check(reader, 'reader');
      await reader.close();
      await store.close();
      const again = await CaptureStore.open(options);
      assert.deepEqual(again.warnings, []);
      check(again, 'reopened');
      assert.deepEqual(segmentFiles(tmp.dir), after);
      await again.close();
    } finally {
      tmp.cleanup();
    }
  });
});

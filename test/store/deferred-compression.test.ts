// While capture runs behind the traffic, new chunks are stored raw; once it keeps up, they are
// compressed in small passes, and bodies read the same before, during and after, for the writer,
// a reader following it, and a writer that opens chunks a previous one left raw
// (docs/decisions.md, decision 47).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CaptureStore } from '../../src/store';
import type { ExchangeRecord } from '../../src/capture/records';
import { body, connection, exchange, randomBytesSeeded, tempDir } from './fixtures/records';

/** Text that deflates well, different for each seed (so no chunk is shared). */
function jsonText(seed: number, bytes: number): Buffer {
  const parts: string[] = [];
  for (let i = 0, length = 0; length < bytes; i++) {
    const part = `{"role":"user","turn":${seed * 100_000 + i},"content":"message ${i} of ${seed}"},`;
    parts.push(part);
    length += part.length;
  }
  return Buffer.from(`[${parts.join('')}{}]`);
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('compression deferred while capture is behind', { timeout: 60_000 }, () => {
  test('chunks are stored raw while behind, compressed once capture keeps up; bodies stay identical', async () => {
    const tmp = tempDir();
    try {
      const options = { dataDir: tmp.dir, mode: 'writer' as const, retention: {} };
      const store = await CaptureStore.open(options);
      const reader = await CaptureStore.open({ dataDir: tmp.dir, mode: 'reader', pollIntervalMs: 100 });
      store.connectionUpdated(connection(1));
      const records: ExchangeRecord[] = [];
      store.noteCaptureLag(5_000);
      for (let i = 1; i <= 8; i++) {
        const rec = exchange(i, 1, { requestBody: body(jsonText(i, 64 * 1024)), responseBody: body(randomBytesSeeded(i, 16 * 1024)) });
        records.push(rec);
        store.exchangeUpdated(rec);
      }
      const raw = records.reduce((n, r) => n + r.requestBody!.data.length + r.responseBody!.data.length, 0);
      const ids = new Map(records.map((r) => [r.id, store.storedExchangeId(r.id)!]));
      const check = (s: CaptureStore, where: string) => {
        for (const rec of records) {
          const stored = s.getExchange(ids.get(rec.id)!);
          assert.ok(stored?.requestBody?.data.equals(rec.requestBody!.data), `${where}: request of exchange ${rec.id}`);
          assert.ok(stored?.responseBody?.data.equals(rec.responseBody!.data), `${where}: response of exchange ${rec.id}`);
        }
      };
      // Stored as they came (manifests add a little).
      assert.ok(store.stats().storedBodyBytes >= raw, `${store.stats().storedBodyBytes} stored for ${raw} raw`);
      check(store, 'writer, raw');
      await store.flush();
      await reader.refresh();
      check(reader, 'reader, raw');

      // Capture keeps up again: passes compress the text (the random bytes do not compress, and stay raw).
      await until('the text is compressed', () => store.stats().storedBodyBytes < raw / 2);
      check(store, 'writer, compressed');
      await store.flush();
      await reader.refresh();
      check(reader, 'reader, compressed');
      await reader.close();
      await store.close();
      const again = await CaptureStore.open(options);
      assert.deepEqual(again.warnings, []);
      check(again, 'reopened');
      await again.close();
    } finally {
      tmp.cleanup();
    }
  });

  test('a writer compresses the chunks that the previous one left raw when it stopped', async () => {
    const tmp = tempDir();
    try {
      const options = { dataDir: tmp.dir, mode: 'writer' as const, retention: {} };
      const first = await CaptureStore.open(options);
      first.connectionUpdated(connection(1));
      // Built first: the lag below defers compression for 2 s, which a slow build could outlast.
      const rec = exchange(1, 1, { requestBody: body(jsonText(1, 256 * 1024)) });
      first.noteCaptureLag(5_000);
      first.exchangeUpdated(rec);
      const id = first.storedExchangeId(rec.id)!;
      // Read before the second writer opens: its first pass may run before open() returns.
      assert.ok(first.stats().storedBodyBytes >= rec.requestBody!.data.length, 'left raw');
      await first.close();
      const second = await CaptureStore.open(options);
      await until('the body is compressed', () => second.stats().storedBodyBytes < rec.requestBody!.data.length / 2);
      assert.ok(second.getExchange(id)?.requestBody?.data.equals(rec.requestBody!.data));
      await second.close();
    } finally {
      tmp.cleanup();
    }
  });
});

// While capture runs behind the traffic, new chunks are stored raw; once it keeps up, they are
// compressed in small passes, and bodies read the same before, during and after, for the writer,
// a reader following it, and a writer that opens chunks a previous one left raw
// (docs/decisions.md, decision 47). Large bodies stored while behind go in uncut and are cut by the
// same passes, deduplicating as if cut at once (decision 73); while behind but not far, only those
// that open with new content do (decision 77).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CaptureStore } from '../../src/store';
import type { ExchangeRecord } from '../../src/capture/records';
import { body, connection, exchange, history, randomBytesSeeded, tempDir } from './fixtures/records';
import { checkReopened } from './fixtures/reopen';

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

type Check = (store: CaptureStore, where: string) => void;

/** The writer, then a reader following its journal, read every body back. */
async function checkBoth(store: CaptureStore, reader: CaptureStore, check: Check, state: string): Promise<void> {
  check(store, `writer, ${state}`);
  await store.flush();
  await reader.refresh();
  check(reader, `reader, ${state}`);
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
      await checkBoth(store, reader, check, 'raw');

      // Capture keeps up again: passes compress the text (the random bytes do not compress, and stay raw).
      await until('the text is compressed', () => store.stats().storedBodyBytes < raw / 2);
      await checkBoth(store, reader, check, 'compressed');
      await checkReopened(options, check, reader, store);
    } finally {
      tmp.cleanup();
    }
  });

  test('large bodies stored uncut while behind are cut once capture keeps up, and resent histories deduplicate', async () => {
    const tmp = tempDir();
    try {
      const options = { dataDir: tmp.dir, mode: 'writer' as const, retention: {} };
      const store = await CaptureStore.open(options);
      const reader = await CaptureStore.open({ dataDir: tmp.dir, mode: 'reader', pollIntervalMs: 100 });
      store.connectionUpdated(connection(1));
      // Each request resends the history and adds two turns, as an agent does; one repeats exactly.
      const requests = [500, 502, 504, 504, 506].map(history);
      const records = requests.map((data, i) => exchange(i + 1, 1, { requestBody: body(data), responseBody: body(`answer ${i}`) }));
      store.noteCaptureLag(5_000);
      for (const rec of records) store.exchangeUpdated(rec);
      const distinct = new Set(requests.map((r) => r.toString())).size;
      const uncut = store.stats();
      // One chunk per distinct large body while behind (and one per small answer).
      assert.equal(uncut.chunks, distinct + records.length, 'large bodies stored uncut');
      const resentBytes = [...new Set(requests.map((r) => r.toString()))].reduce((n, r) => n + r.length, 0);
      assert.ok(uncut.chunkRawBytes >= resentBytes, 'nothing deduplicated while uncut');
      const ids = records.map((r) => store.storedExchangeId(r.id)!);
      const check = (s: CaptureStore, where: string) => records.forEach((rec, i) => {
        const stored = s.getExchange(ids[i]);
        assert.ok(stored?.requestBody?.data.equals(rec.requestBody!.data), `${where}: request of exchange ${rec.id}`);
        assert.ok(stored?.responseBody?.data.equals(rec.responseBody!.data), `${where}: response of exchange ${rec.id}`);
      });
      await checkBoth(store, reader, check, 'uncut');

      // Once capture keeps up, the passes cut them: the shared history is kept once.
      const largest = requests[requests.length - 1].length;
      await until('the bodies are cut and deduplicated', () => store.stats().chunkRawBytes < largest * 1.5);
      const cut = store.stats();
      assert.ok(cut.chunks > uncut.chunks, `${cut.chunks} chunks after cutting, ${uncut.chunks} before`);
      assert.ok(cut.storedBodyBytes < largest / 2, `${cut.storedBodyBytes} bytes stored for a ${largest}-byte history`);
      await checkBoth(store, reader, check, 'cut');
      assert.equal(reader.stats().chunks, cut.chunks, 'the reader applied the same cuts');

      // Content stored after the cut reuses the cut chunks.
      const next = exchange(9, 1, { requestBody: body(history(508)) });
      store.exchangeUpdated(next);
      assert.ok(store.stats().chunkRawBytes < largest * 1.6, 'a later request deduplicates against cut bodies');
      await checkReopened(options, check, reader, store);
    } finally {
      tmp.cleanup();
    }
  });

  test('behind but not far: a body that opens with new content goes in uncut, a resend of it is cut at once', async () => {
    const tmp = tempDir();
    try {
      const options = { dataDir: tmp.dir, mode: 'writer' as const, retention: {} };
      const store = await CaptureStore.open(options);
      store.connectionUpdated(connection(1));
      // Past the lag at which compression is deferred, short of the one at which every large body goes uncut.
      store.noteCaptureLag(200);
      const unique = randomBytesSeeded(11, 200_000);
      const requests = [500, 502, 504].map(history);
      const records = [unique, ...requests].map((data, i) => exchange(i + 1, 1, { requestBody: body(data) }));
      store.exchangeUpdated(records[0]);
      store.exchangeUpdated(records[1]);
      // Two bodies never seen: one uncut chunk each.
      assert.equal(store.stats().chunks, 2, 'new content stored uncut');
      store.exchangeUpdated(records[2]);
      const afterResend = store.stats();
      // The resend opens as the request before it did: cut now, into many chunks.
      assert.ok(afterResend.chunks > 10, `${afterResend.chunks} chunks after the resend`);
      store.exchangeUpdated(records[3]);
      const third = store.stats();
      // The next resend shares all but its last chunks with the one cut before it.
      assert.ok(third.chunkRawBytes - afterResend.chunkRawBytes < requests[2].length / 4,
        `the third request added ${third.chunkRawBytes - afterResend.chunkRawBytes} bytes of chunks`);
      const ids = records.map((r) => store.storedExchangeId(r.id)!);
      const check = (s: CaptureStore, where: string) => records.forEach((rec, i) => {
        assert.ok(s.getExchange(ids[i])?.requestBody?.data.equals(rec.requestBody!.data), `${where}: request of exchange ${rec.id}`);
      });
      check(store, 'behind');
      // Once capture keeps up, the passes cut the uncut ones: the first history deduplicates too.
      await until('the uncut bodies are cut', () => store.stats().chunks > third.chunks + 40);
      check(store, 'cut');
      await checkReopened(options, check, store);
    } finally {
      tmp.cleanup();
    }
  });

  test('a history stored uncut while far behind is remembered: once capture is only behind, its resend is cut', async () => {
    const tmp = tempDir();
    try {
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      store.connectionUpdated(connection(1));
      store.noteCaptureLag(5_000);
      store.exchangeUpdated(exchange(1, 1, { requestBody: body(history(500)) }));
      assert.equal(store.stats().chunks, 1, 'far behind: uncut');
      // Far behind lasts 2 s after the lag that set it: ended here, as 2 s of lower lag would end it.
      (store as unknown as { pacer: { uncutUntil: number } }).pacer.uncutUntil = 0;
      store.noteCaptureLag(200);
      store.exchangeUpdated(exchange(2, 1, { requestBody: body(history(502)) }));
      assert.ok(store.stats().chunks > 10, `the resend is cut: ${store.stats().chunks} chunks`);
      await store.close();
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

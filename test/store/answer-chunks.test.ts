// Answers (response bodies, packed SSE events, a server's WebSocket messages) are new content:
// they are stored in large chunks, one up to 1 MiB, while a resent history is still cut small
// and deduplicated (docs/decisions.md, decision 84). What is read back is the same bytes, from the
// writer, a reader following it and after a reopen; while capture is behind, an answer is stored
// whole and raw, and the passes compress it without cutting it.
import assert from 'node:assert/strict';
import { statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { ExchangeRecord, SseEventRecord } from '../../src/capture/records';
import { CaptureStore } from '../../src/store';
import { body, connection, exchange, history, randomBytesSeeded, T0, tempDir } from './fixtures/records';
import { checkReopened } from './fixtures/reopen';

/** An answer's text: compressible, and different for each seed. */
function answerText(seed: number, bytes: number): Buffer {
  const parts: string[] = [];
  for (let i = 0, length = 0; length < bytes; i++) {
    const part = `data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"word ${seed}.${i} "}}\n\n`;
    parts.push(part);
    length += part.length;
  }
  return Buffer.from(parts.join(''));
}

function events(seed: number, count: number): SseEventRecord[] {
  return Array.from({ length: count }, (_, i) => ({ seq: i, time: T0 + seed * 1000 + i, event: 'content_block_delta', data: `{"text":"word ${seed}.${i} ${'x'.repeat(200)}"}` }));
}

async function settled(store: CaptureStore, what: string): Promise<void> {
  for (let i = 0; i < 400 && store.stats().deferredBytes > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(store.stats().deferredBytes, 0, what);
}

describe('answers in large chunks', { timeout: 60_000 }, () => {
  test('an answer is one chunk and its packed events another; a resent history is cut small and deduplicates', async () => {
    const tmp = tempDir();
    try {
      const options = { dataDir: tmp.dir, mode: 'writer' as const, retention: {} };
      const store = await CaptureStore.open(options);
      const reader = await CaptureStore.open({ dataDir: tmp.dir, mode: 'reader', pollIntervalMs: 100 });
      store.connectionUpdated(connection(1));
      const records: ExchangeRecord[] = [];
      const chunksAfter: number[] = [];
      for (let i = 1; i <= 6; i++) {
        const rec = exchange(i, 1, { requestBody: body(history(400 + 2 * i)), responseBody: body(answerText(i, 300_000)), endedAt: T0 + i * 10 + 5 });
        store.exchangeUpdated({ ...rec, endedAt: undefined, responseBody: undefined });
        store.sseEvents(i, events(i, 200));
        store.exchangeUpdated(rec);
        records.push(rec);
        chunksAfter.push(store.stats().chunks);
      }
      // After the first, each exchange adds its history's last few small chunks, its answer and its pack.
      for (let i = 1; i < chunksAfter.length; i++) {
        const added = chunksAfter[i] - chunksAfter[i - 1];
        assert.ok(added >= 3 && added <= 6, `exchange ${i + 1} added ${added} chunks`);
      }
      const stats = store.stats();
      assert.equal(stats.sseEvents, 6 * 200, 'every event packed');
      const answers = records.reduce((n, r) => n + r.responseBody!.data.length, 0);
      assert.ok(stats.storedBodyBytes < answers / 4, `${stats.storedBodyBytes} bytes stored for ${answers} bytes of answers and their events`);
      // A server's WebSocket message is an answer too; the client's is cut.
      store.wsMessage({ exchangeId: 1, seq: 0, time: T0 + 100, direction: 'server-to-client', opcode: 'text', data: answerText(50, 200_000), size: 200_000 });
      assert.equal(store.stats().chunks, stats.chunks + 1, 'a server message: one chunk');
      store.wsMessage({ exchangeId: 1, seq: 1, time: T0 + 101, direction: 'client-to-server', opcode: 'text', data: answerText(51, 200_000), size: 200_000 });
      assert.ok(store.stats().chunks > stats.chunks + 10, 'a client message: cut');

      const ids = records.map((r) => store.storedExchangeId(r.id)!);
      const check = (s: CaptureStore, where: string) => records.forEach((rec, i) => {
        const stored = s.getExchange(ids[i]);
        assert.ok(stored?.requestBody?.data.equals(rec.requestBody!.data), `${where}: request ${rec.id}`);
        assert.ok(stored?.responseBody?.data.equals(rec.responseBody!.data), `${where}: answer ${rec.id}`);
        assert.deepEqual(s.listSseEvents(ids[i], { limit: 1000 }).items.map((e) => e.data), events(rec.id, 200).map((e) => e.data), `${where}: events of ${rec.id}`);
      });
      check(store, 'writer');
      await store.flush();
      await reader.refresh();
      check(reader, 'reader');
      assert.deepEqual(reader.listWsMessages(ids[0]).items.map((m) => m.size), [200_000, 200_000]);
      await checkReopened(options, check, reader, store);
    } finally {
      tmp.cleanup();
    }
  });

  test('an answer over 1 MiB is cut in large pieces where its content says: a longer answer that opens the same keeps them', async () => {
    const tmp = tempDir();
    try {
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      store.connectionUpdated(connection(1));
      // Encrypted reasoning, say: base64, where cuts fall as often as anywhere.
      const long = Buffer.from(randomBytesSeeded(7, 4.5 * 1024 * 1024).toString('base64'));
      store.exchangeUpdated(exchange(1, 1, { requestBody: body('{"n":1}'), responseBody: body(long), endedAt: T0 + 20 }));
      const first = store.stats().chunks - 1;
      assert.ok(first >= 2 && first <= 6, `${first} chunks for a 6 MiB answer`);
      const longer = Buffer.concat([long, Buffer.from(randomBytesSeeded(8, 1024 * 1024).toString('base64'))]);
      store.exchangeUpdated(exchange(2, 1, { requestBody: body('{"n":2}'), responseBody: body(longer), endedAt: T0 + 30 }));
      const added = store.stats().chunks - 1 - first - 1;
      assert.ok(added <= 2, `the longer answer added ${added} chunks`);
      assert.ok(store.getExchange(store.storedExchangeId(2)!)!.responseBody!.data.equals(longer));
      assert.ok(store.getExchange(store.storedExchangeId(1)!)!.responseBody!.data.equals(long));
      await store.close();
    } finally {
      tmp.cleanup();
    }
  });

  test('while capture is behind, an answer is stored whole and raw; the passes compress it and cut only the history', async () => {
    const tmp = tempDir();
    try {
      const options = { dataDir: tmp.dir, mode: 'writer' as const, retention: {} };
      const store = await CaptureStore.open(options);
      store.connectionUpdated(connection(1));
      store.noteCaptureLag(5_000);
      const answers = [1, 2, 3].map((i) => answerText(i, 200_000));
      const records = answers.map((a, i) => exchange(i + 1, 1, { requestBody: body(history(500 + 2 * i)), responseBody: body(a), endedAt: T0 + i * 10 + 5 }));
      for (const rec of records) store.exchangeUpdated(rec);
      const behind = store.stats();
      assert.equal(behind.chunks, 6, 'one uncut history and one whole answer an exchange');
      assert.ok(behind.deferredBytes > 600_000, 'stored raw');
      await settled(store, 'the passes compressed every chunk');
      const after = store.stats();
      const answerBytes = answers.reduce((n, a) => n + a.length, 0);
      // The histories are cut (and share their chunks); the answers are compressed, still one chunk each.
      assert.ok(after.chunks > behind.chunks, `${after.chunks} chunks after the passes`);
      assert.ok(after.storedBodyBytes < answerBytes / 4, `${after.storedBodyBytes} bytes stored`);
      const stillWhole = after.chunks - (await cutHistoryChunks(records));
      assert.equal(stillWhole, 3, 'each answer is still one chunk');
      const ids = records.map((r) => store.storedExchangeId(r.id)!);
      records.forEach((rec, i) => assert.ok(store.getExchange(ids[i])!.responseBody!.data.equals(rec.responseBody!.data), `answer ${i + 1}`));
      await checkReopened(options, (again) => records.forEach((rec, i) => assert.ok(again.getExchange(ids[i])!.responseBody!.data.equals(rec.responseBody!.data), `answer ${i + 1}, reopened`)), store);
    } finally {
      tmp.cleanup();
    }
  });

  test('an answer whose bytes a crash cut short is written again when the same answer comes again', async () => {
    const tmp = tempDir();
    try {
      const answers = [1, 2].map((i) => randomBytesSeeded(60 + i, 300_000));
      const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      store.connectionUpdated(connection(1));
      answers.forEach((a, i) => store.exchangeUpdated(exchange(i + 1, 1, { requestBody: body(`{"n":${i}}`), responseBody: body(a), endedAt: T0 + i })));
      const stored = [1, 2].map((i) => store.storedExchangeId(i)!);
      await store.close();
      const segment = join(tmp.dir, 'capture.sqlite.000001.seg');
      truncateSync(segment, statSync(segment).size - 20_000);

      const again = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
      assert.ok(again.getExchange(stored[0])!.responseBody!.data.equals(answers[0]));
      assert.match(again.getExchange(stored[1])!.responseBody!.error!, /the record is cut short/);
      again.exchangeUpdated(exchange(3, 1, { requestBody: body('{"n":9}'), responseBody: body(answers[1]), endedAt: T0 + 9 }));
      assert.ok(again.getExchange(stored[1])!.responseBody!.data.equals(answers[1]), 'repaired');
      await again.close();
    } finally {
      tmp.cleanup();
    }
  });
});

/** How many chunks the histories of `records` take when cut at once, in a store of their own. */
async function cutHistoryChunks(records: ExchangeRecord[]): Promise<number> {
  const tmp = tempDir();
  try {
    const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
    store.connectionUpdated(connection(1));
    for (const r of records) store.exchangeUpdated({ ...r, responseBody: undefined });
    const n = store.stats().chunks;
    await store.close();
    return n;
  } finally {
    tmp.cleanup();
  }
}

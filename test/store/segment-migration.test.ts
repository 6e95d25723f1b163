// A data directory written at schema 4 (chunk bytes inside the database, operations in the
// journal carrying them) opens with every record intact. The writer moves the chunk bytes to
// segment files (journaled, so a crash midway is harmless) and rewrites the snapshot at schema 5
// without them; a reader migrates only its in-memory copy and writes nothing.
// The fixtures were written by the schema-4 code (fixtures/make-schema-v4.ts): a snapshot of 7
// exchanges (SSE events, WebSocket messages inline and as a body) and a journal of 3 more.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, test } from 'node:test';
import { CaptureStore, SCHEMA_VERSION } from '../../src/store';
import { SqlDatabase } from '../../src/store/sqlite';
import { randomBytesSeeded, tempDir } from './fixtures/records';

const fixture = (name: string) => gunzipSync(readFileSync(join(__dirname, 'fixtures', name)));
const V4_SNAPSHOT = fixture('capture-schema-v4.sqlite.gz');
const V4_JOURNAL = fixture('capture-schema-v4.journal.gz');
const text = (n: number) => Buffer.from(Array.from({ length: 300 + n * 40 }, (_, i) => `{"turn":${i},"text":"lorem ipsum ${i % 17}"},`).join(''));

async function fileInfo(file: string): Promise<{ version: number; inlineChunks: number }> {
  const db = await SqlDatabase.create(undefined, readFileSync(file));
  try {
    const version = Number(db.value('PRAGMA user_version'));
    return { version, inlineChunks: Number(db.value('SELECT COUNT(*) FROM chunks WHERE data IS NOT NULL')) };
  } finally {
    db.close();
  }
}

/** Everything a store gives back, by URL. */
function view(store: CaptureStore): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const s of store.listExchanges({ limit: 1000 }).items) {
    const { id: _i, connectionId: _c, ...record } = store.getExchange(s.id)!;
    const sse = store.listSseEvents(s.id, { limit: 1000 }).items;
    const ws = store.listWsMessages(s.id, { limit: 1000 }).items.map(({ exchangeId: _e, bodyId: _b, ...m }) => m);
    out.set(s.url, { record, sse, ws });
  }
  return out;
}

describe('opening a store created at schema version 4', { timeout: 60_000 }, () => {
  let tmp: ReturnType<typeof tempDir>;
  const open: CaptureStore[] = [];
  const start = (): void => {
    tmp = tempDir();
    writeFileSync(join(tmp.dir, 'capture.sqlite'), V4_SNAPSHOT);
    writeFileSync(join(tmp.dir, 'capture.journal'), V4_JOURNAL);
  };
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    tmp.cleanup();
  });

  test('a reader reads everything from its migrated in-memory copy and changes no file', async () => {
    start();
    assert.equal((await fileInfo(join(tmp.dir, 'capture.sqlite'))).version, 4);
    const reader = await CaptureStore.open({ dataDir: tmp.dir, mode: 'reader', retention: {} });
    open.push(reader);
    const v = view(reader);
    assert.equal(v.size, 10);
    assert.ok(readFileSync(join(tmp.dir, 'capture.sqlite')).equals(V4_SNAPSHOT));
    assert.ok(readFileSync(join(tmp.dir, 'capture.journal')).equals(V4_JOURNAL));
    assert.deepEqual(readdirSync(tmp.dir).sort(), ['capture.journal', 'capture.sqlite']);
  });

  test('a writer moves the chunk bytes to segment files; every record reads back the same, also after a reopen', async () => {
    start();
    const before = await fileInfo(join(tmp.dir, 'capture.sqlite'));
    assert.equal(before.version, 4);
    assert.ok(before.inlineChunks > 20, `${before.inlineChunks} chunks in the schema-4 file`);
    const reader = await CaptureStore.open({ dataDir: tmp.dir, mode: 'reader', retention: {} });
    const expected = view(reader);
    await reader.close();

    const logged: string[] = [];
    const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {}, log: (_l, m) => logged.push(m) });
    open.push(store);
    assert.deepEqual(store.warnings, []);
    assert.ok(logged.some((m) => /moved \d+ chunks from the database to segment files/.test(m)), logged.join('\n'));
    assert.deepEqual(view(store), expected);
    await store.snapshot();
    const after = await fileInfo(join(tmp.dir, 'capture.sqlite'));
    assert.deepEqual(after, { version: SCHEMA_VERSION, inlineChunks: 0 });
    const s = store.stats();
    assert.equal(s.exchanges, 10);
    assert.ok(s.segments >= 1 && s.segmentBytes > s.storedBodyBytes * 0.9, JSON.stringify(s));
    assert.ok(s.databaseBytes <= V4_SNAPSHOT.length, `database ${s.databaseBytes} bytes, schema-4 file ${V4_SNAPSHOT.length}`);

    // The bodies are the ones the schema-4 code was given.
    const byUrl = new Map(store.listExchanges({ limit: 100 }).items.map((e) => [e.url, e.id]));
    for (let i = 1; i <= 10; i++) {
      const got = store.getExchange(byUrl.get(`https://api.anthropic.com/v1/messages?n=${i}`)!)!;
      if (i !== 7) assert.ok(got.requestBody!.data.equals(text(i)), `request ${i}`);
      if (i >= 8) assert.ok(got.responseBody!.data.equals(randomBytesSeeded(i, 4_000)), `response ${i} (from the journal)`);
    }
    const ws = store.listWsMessages(byUrl.get('https://api.anthropic.com/v1/messages?n=7')!).items;
    assert.ok(ws[1].data.equals(randomBytesSeeded(77, 3000)));

    // New writes on the migrated store, then a reopen: the same again.
    store.exchangeUpdated({ id: 100, connectionId: 1, method: 'POST', url: 'https://api.anthropic.com/after', httpVersion: '1.1', kind: 'http', requestHeaders: [], startedAt: Date.now(), errors: [], requestBody: { data: text(1), wireSize: 1, encoding: '', decoded: true, truncated: false } });
    const whole = view(store);
    await store.close();
    open.pop();
    const again = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
    open.push(again);
    assert.deepEqual(again.warnings, []);
    assert.deepEqual(view(again), whole);
  });
});

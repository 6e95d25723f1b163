// A data directory written by an earlier version of LLM Capture opens with its records intact and
// is brought up to the current schema in place: the writer rewrites the file at the new version
// and from then on keeps what the old schema had no column for (an SSE event's `retry`); a reader
// migrates only its in-memory copy and never writes the file.
// The fixture `capture-schema-v1.sqlite.gz` is a snapshot written by the schema-1 code (one
// connection, one SSE exchange with two events; the first carried `retry: 3000`, which schema 1 dropped).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, test } from 'node:test';
import { CaptureStore, SCHEMA_VERSION } from '../../src/store';
import { SqlDatabase } from '../../src/store/sqlite';
import { tempDir } from './fixtures/records';

const V1_SNAPSHOT = gunzipSync(readFileSync(join(__dirname, 'fixtures', 'capture-schema-v1.sqlite.gz')));

async function userVersion(file: string): Promise<number> {
  const db = await SqlDatabase.create(undefined, readFileSync(file));
  try {
    return Number(db.value('PRAGMA user_version'));
  } finally {
    db.close();
  }
}

describe('opening a store created at schema version 1', { timeout: 60_000 }, () => {
  let tmp: ReturnType<typeof tempDir>;
  let dbFile: string;
  const open: CaptureStore[] = [];
  const start = (): void => {
    tmp = tempDir();
    dbFile = join(tmp.dir, 'capture.sqlite');
    writeFileSync(dbFile, V1_SNAPSHOT);
  };
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    tmp.cleanup();
  });

  test('the fixture really is at version 1, older than the code', async () => {
    start();
    assert.equal(await userVersion(dbFile), 1);
    assert.ok(SCHEMA_VERSION > 1);
  });

  test('a writer keeps the old records, upgrades the file in place, and stores retry from then on', async () => {
    start();
    const store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
    open.push(store);
    assert.deepEqual(store.warnings, []);
    assert.equal(await userVersion(dbFile), SCHEMA_VERSION, 'the file on disk is upgraded when the writer opens it');

    const [old] = store.listExchanges({ limit: 10 }).items;
    assert.equal(old.url, 'https://api.anthropic.com/v1/messages');
    assert.equal(store.getExchange(old.id)!.responseBody!.data.toString().startsWith('retry: 3000\n'), true);
    const events = store.listSseEvents(old.id).items;
    assert.deepEqual(events.map((e) => [e.event, e.id, e.retry]), [['message_start', 'e0', undefined], ['message_stop', undefined, undefined]]);

    // A new capture (capture ids start again at 1 in a new proxy run) on the upgraded database.
    const startedAt = old.startedAt + 60_000;
    store.connectionUpdated({ ...store.getConnection(old.connectionId)!, id: 1, openedAt: startedAt });
    store.exchangeUpdated({ ...store.getExchange(old.id)!, id: 1, connectionId: 1, startedAt, endedAt: startedAt + 10 });
    store.sseEvents(1, [
      { seq: 0, time: startedAt + 2, event: 'message_start', data: '{}', retry: 1500 },
      { seq: 1, time: startedAt + 3, event: 'message_stop', data: '{}' },
    ]);
    const fresh = store.storedExchangeId(1)!;
    assert.notEqual(fresh, old.id);
    assert.deepEqual(store.listSseEvents(fresh).items.map((e) => e.retry), [1500, undefined]);
    await store.close();
    open.pop();

    const again = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
    open.push(again);
    assert.deepEqual(again.listSseEvents(fresh).items.map((e) => e.retry), [1500, undefined]);
    assert.deepEqual(again.listSseEvents(old.id).items.map((e) => e.retry), [undefined, undefined]);
  });

  test('a reader migrates its own copy and leaves the old file as it was', async () => {
    start();
    const reader = await CaptureStore.open({ dataDir: tmp.dir, mode: 'reader', retention: {} });
    open.push(reader);
    assert.equal(reader.role, 'reader');
    const [old] = reader.listExchanges({ limit: 10 }).items;
    assert.deepEqual(reader.listSseEvents(old.id).items.map((e) => e.event), ['message_start', 'message_stop']);
    assert.ok(readFileSync(dbFile).equals(V1_SNAPSHOT));
  });
});

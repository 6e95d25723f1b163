// The activity log reads the store page by page: `log --limit N` gives the newest N entries
// however large N is (the store hands out at most 1,000 a page), and a tunnel older than the
// newest thousand intercepted connections is still found.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { activity } from '../../src/app/activity';
import { CaptureStore } from '../../src/store';
import { connection, exchange, tempDir } from '../store/fixtures/records';

describe('activity log paging', () => {
  const tmp = tempDir('llmc-activity-');
  let store: CaptureStore;
  const T = Date.now() - 3_600_000;

  before(async () => {
    store = await CaptureStore.open({ dataDir: tmp.dir, mode: 'writer', retention: {} });
    store.connectionUpdated(connection(1, { openedAt: T, closedAt: T + 1, mode: 'tunnel', targetHost: 'github.com' }));
    for (let i = 2; i <= 1501; i++) {
      store.connectionUpdated(connection(i, { openedAt: T + i }));
      store.exchangeUpdated(exchange(i, i, { startedAt: T + i, endedAt: T + i + 1 }));
    }
    await store.flush();
  });

  after(async () => {
    await store.close();
    tmp.cleanup();
  });

  test('more than a page of entries, newest first', () => {
    const entries = activity(store, 1200);
    assert.equal(entries.length, 1200);
    assert.deepEqual(entries.slice(0, 2).map((e) => e.key), [`x${store.storedExchangeId(1501)}`, `x${store.storedExchangeId(1500)}`]);
  });

  test('the oldest tunnel, behind 1,500 newer connections', () => {
    const entries = activity(store, 5000);
    assert.equal(entries.length, 1501);
    assert.equal(entries[entries.length - 1].kind, 'tunnel');
    assert.equal(entries[entries.length - 1].url, 'github.com:443');
  });
});
